"""Credential verification: a claimed credential against the issuer's own records.

Every claim gets one status:

- ``verified``: found at the issuer, active, on the date the issuer's record was fetched;
- ``expired`` (lapsed, past its expiry date) or ``inactive`` (suspended, revoked, retired);
- ``not_found``: the issuer's registry was crawled and has no such credential for this person
  (including a license number that belongs to somebody else) — a red flag;
- ``unverifiable``: there is nothing to check the claim against, and its reason says why in
  words: no public register exists (an association membership, a seminar program's
  certificate), the issuer's register is not crawled (a state whose board tdir does not read),
  the crawled register does not publish that credential (the certification registry lists
  board certification, not the legacy titles it replaced), or the claim names no state.

Registries are matched by number first, written any of the ways one number is written
(:mod:`indexer.normalize.credentials_numbers`: the issuer's letters or the state before it, or
neither, leading zeros kept or dropped); a claim without a number is matched by the holder's name
within the issuer (and state), and only when exactly one record fits. A license title only one
state issues (LMBT: North Carolina) names its state when the claim does not; a numbered claim
naming no state is looked up at every crawled board, and found only where its number belongs to
this holder at exactly one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from rapidfuzz import fuzz

from crawler.items import CredentialRecord
from indexer.normalize.credentials import normalize_license_number, normalize_npi
from indexer.normalize.credentials_numbers import number_key, same_number
from indexer.normalize.dates import parse_date
from indexer.normalize.names import parse_person_name
from indexer.normalize.states import state_code
from indexer.taxonomy import Taxonomy, fold, load_taxonomy

VerificationStatus = Literal["verified", "expired", "inactive", "not_found", "unverifiable"]
IssuerStatus = Literal["active", "expired", "inactive", "unknown"]

# How issuers write a credential's standing, folded; anything else is "unknown".
_STATUS_WORDS: dict[str, IssuerStatus] = {
    "a": "active",
    "active": "active",
    "clear": "active",
    "current": "active",
    "clear active": "active",
    "active in good standing": "active",
    "valid": "active",
    "expired": "expired",
    "lapsed": "expired",
    "delinquent": "expired",
    "null and void": "expired",
    "expired lapsed": "expired",
    "suspended": "inactive",
    "revoked": "inactive",
    "inactive": "inactive",
    "retired": "inactive",
    "surrendered": "inactive",
    "probation": "active",
    "deactivated": "inactive",
    "d": "inactive",
    "board certified": "active",
    "certified": "active",
    "nationally certified": "active",
    "certification expired": "expired",
}
NAME_MATCH_MIN = 88  # rapidfuzz ratio of folded "first last" keys for the same holder
# Kinds of credential no issuer publishes a register of, and what the profile says of them.
_NO_PUBLIC_REGISTER = {
    "membership": "an association membership: no public register of members to check it against",
    "specialty_certificate": (
        "a training program's certificate: no public register of holders to check it against"
    ),
}

# Where a claim is looked up: (kind of register, state or credential id).
Scope = tuple[str, str | None]


@dataclass(frozen=True, slots=True)
class IssuerRecord:
    """A credential as its issuer publishes it, normalised for matching."""

    record_id: str
    source: str
    url: str
    fetched_on: date
    issuer_kind: str
    issuer: str
    credential_id: str | None
    state: str | None
    number: str | None
    holder_key: str | None
    status: IssuerStatus
    expires: date | None
    # The day the issuer's data describes, when it says (a license file's own date) and that is
    # before the day it was fetched; the expiry is judged against it.
    data_as_of: date | None = None

    @property
    def as_of(self) -> date:
        """The day this record speaks for: its data's own date when it gives an earlier one
        than the fetch (a license file generated before it was downloaded)."""
        return min(self.data_as_of or self.fetched_on, self.fetched_on)

    def standing(self, today: date) -> VerificationStatus:
        """What this record says of a claim it matches, on ``today``.

        The issuer's word on an inactive or expired credential wins. A printed expiry date that
        has passed — by the day the data describes, or by today — is never "verified", whatever
        status word the record shows beside it: an "Active" next to a past date is the record
        of the day it was published, and a renewal since would show in a newer one.
        """
        if self.status == "inactive":
            return "inactive"
        if self.status == "expired":
            return "expired"
        if self.expires and self.expires < max(self.as_of, today):
            return "expired"
        return "verified"


@dataclass(frozen=True, slots=True)
class Claim:
    """A credential a therapist's listings claim (merged across listings)."""

    credential_id: str
    kind: str
    state: str | None
    number: str | None


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome for one claim."""

    status: VerificationStatus
    checked_on: str | None  # ISO date the issuer's record was fetched
    issuer: str | None
    record_url: str | None
    reason: str


def issuer_status(raw: str | None) -> IssuerStatus:
    """Map an issuer's way of writing standing onto active / expired / inactive / unknown."""
    return _STATUS_WORDS.get(fold(raw or ""), "unknown")


def to_issuer_record(record: CredentialRecord, taxonomy: Taxonomy) -> IssuerRecord:
    """Normalise one registry record."""
    fetched_on = datetime.fromisoformat(record.provenance.fetched_at).date()
    if record.issuer_kind == "npi_registry":
        credential_id: str | None = "npi"
        number = normalize_npi(record.npi or record.number).value
    else:
        credential_id = taxonomy.lookup("credential", record.credential_raw)
        number = normalize_license_number(record.number)
    parsed = parse_person_name(record.name_raw, taxonomy=taxonomy).value
    expires = None
    if record.expires_raw:
        parsed_date = parse_date(
            record.expires_raw, reference=fetched_on, allow_future=True, field="expires"
        ).value
        expires = parsed_date.value if parsed_date else None
    return IssuerRecord(
        record_id=record.id,
        source=record.provenance.source,
        url=record.provenance.url,
        fetched_on=fetched_on,
        issuer_kind=record.issuer_kind,
        issuer=record.issuer,
        credential_id=credential_id,
        state=state_code(record.state),
        number=number,
        holder_key=parsed.name.key if parsed else None,
        status=issuer_status(record.status_raw),
        expires=expires,
        data_as_of=_iso_day(record.extras.get("data_as_of")),
    )


def _iso_day(raw: object) -> date | None:
    """An ISO date the crawler recorded, or None when there is none (or it is not one)."""
    if not isinstance(raw, str):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


class Registry:
    """Every issuer record crawled, indexed for verification."""

    def __init__(
        self,
        records: Iterable[IssuerRecord],
        taxonomy: Taxonomy | None = None,
        *,
        today: date | None = None,
    ) -> None:
        # The day claims are judged on (default: this day): a credential past its expiry date
        # is not verified.
        self.today = today or date.today()
        # By the value of the number's digits (leading zeros off), so every way of writing a
        # number finds its record; same_number then decides on the letters.
        self.by_number: dict[tuple[str, str | None, str], list[IssuerRecord]] = defaultdict(list)
        self.by_holder: dict[tuple[str, str | None, str], list[IssuerRecord]] = defaultdict(list)
        self.board_states: set[str] = set()
        self.certifications: set[str | None] = set()  # credential ids the registry publishes
        self.has_npi_registry = False
        self.taxonomy = taxonomy or load_taxonomy()
        self._certification_checks: dict[str, tuple[list[Scope], str] | Verification] = {}
        by_number, by_holder, scope_of = self.by_number, self.by_holder, self._scope
        for record in records:
            scope = scope_of(record)
            if scope is None:
                continue
            kind, qualifier = scope
            if record.number:
                by_number[(kind, qualifier, number_key(record.number))].append(record)
            if record.holder_key:
                by_holder[(kind, qualifier, record.holder_key)].append(record)

    @property
    def has_certification_registry(self) -> bool:
        """Whether any record of the certification registry was crawled."""
        return bool(self.certifications)

    def _scope(self, record: IssuerRecord) -> Scope | None:
        if record.issuer_kind == "state_board" and record.state:
            self.board_states.add(record.state)
            return ("state_license", record.state)
        if record.issuer_kind == "certification_registry":
            self.certifications.add(record.credential_id)
            return ("board_certification", record.credential_id)
        if record.issuer_kind == "npi_registry":
            self.has_npi_registry = True
            return ("npi", None)
        return None

    def _issuer_of(self, claim: Claim) -> tuple[list[Scope], str] | Verification:
        """Where a claim is checked (its scopes) and the issuer's name in words; or why it
        cannot be checked."""
        if claim.kind == "state_license":
            state = claim.state or self._only_state(claim.credential_id)
            if state is None:
                return _unverifiable("the claim names no state")
            if state not in self.board_states:
                return _unverifiable(f"no {state} license board is crawled")
            return [("state_license", state)], f"{state} license board"
        if claim.kind == "board_certification":
            return self._certification_scopes(claim.credential_id)
        if claim.credential_id == "npi":
            if not self.has_npi_registry:
                return _unverifiable("the NPI registry is not crawled")
            return [("npi", None)], "NPI registry"
        return _unverifiable(
            _NO_PUBLIC_REGISTER.get(claim.kind, "no registry of this issuer is crawled")
        )

    def _only_state(self, credential_id: str) -> str | None:
        """The state a license title names by itself: the one state that issues it."""
        term = self.taxonomy.terms["credential"].get(credential_id)
        return term.states[0] if term is not None and len(term.states) == 1 else None

    def _certification_scopes(self, credential_id: str) -> tuple[list[Scope], str] | Verification:
        """The certification registry's records of this credential (and of any credential the
        taxonomy could not name, which may be it), or why it cannot be checked there."""
        known = self._certification_checks.get(credential_id)
        if known is None:
            known = self._certification_checks[credential_id] = self._certification_check(
                credential_id
            )
        return known

    def _certification_check(self, credential_id: str) -> tuple[list[Scope], str] | Verification:
        if not self.certifications:
            return _unverifiable("the certification registry is not crawled")
        published = [c for c in (credential_id, None) if c in self.certifications]
        if not published:
            # A title the registry does not list (NCTMB, replaced by board certification): its
            # absence there says nothing of the holder.
            listed = ", ".join(sorted(c.upper() for c in self.certifications if c))
            return _unverifiable(
                f"the certification registry publishes no {credential_id.upper()} records"
                + (f" (it lists {listed})" if listed else "")
            )
        return [("board_certification", c) for c in published], "certification registry"

    def verify(self, claim: Claim, holder_keys: set[str]) -> Verification:
        """Return the status of one claim of a therapist known by these name keys."""
        if (
            claim.kind == "state_license"
            and claim.number
            and claim.state is None
            and self._only_state(claim.credential_id) is None
        ):
            return self._stateless_license(claim.number, holder_keys)
        issuer = self._issuer_of(claim)
        if isinstance(issuer, Verification):
            return issuer
        scopes, issuer_name = issuer
        if claim.number:
            found = self._numbered(scopes, claim.number)
            if not found:
                return _not_found(f"the {issuer_name} has no number {claim.number}")
            mine = [r for r in found if _same_holder(r.holder_key, holder_keys)]
            if not mine:
                return _not_found(
                    f"number {claim.number} at the {issuer_name} belongs to another holder"
                )
            return _outcome(_newest(mine), f"found by number at the {issuer_name}", self.today)
        found = [
            r
            for scope in scopes
            for key in holder_keys
            for r in self.by_holder.get((*scope, key), ())
        ]
        distinct = {r.number or r.record_id for r in found}
        if not found:
            return _not_found(f"the {issuer_name} lists nobody by this name")
        if len(distinct) > 1:
            return _unverifiable(f"several holders of this name at the {issuer_name}")
        return _outcome(_newest(found), f"matched by name at the {issuer_name}", self.today)

    def _numbered(self, scopes: list[Scope], number: str) -> list[IssuerRecord]:
        """The records of these scopes whose number is ``number``, however either is written."""
        key = number_key(number)
        return [
            record
            for kind, qualifier in scopes
            for record in self.by_number.get((kind, qualifier, key), ())
            if record.number == number
            or same_number(
                number, record.number or "", qualifier if kind == "state_license" else None
            )
        ]

    def _stateless_license(self, number: str, holder_keys: set[str]) -> Verification:
        """A license number claimed without its state: this holder's at exactly one crawled
        board, or unverifiable (boards not crawled may have issued it; another holder's number
        elsewhere says nothing)."""
        mine = [
            r
            for state in sorted(self.board_states)
            for r in self._numbered([("state_license", state)], number)
            if _same_holder(r.holder_key, holder_keys)
        ]
        states = sorted({r.state for r in mine if r.state})
        if len(states) != 1:
            return _unverifiable(
                "the claim names no state"
                + (f", and its number is this holder's in {', '.join(states)}" if states else "")
            )
        return _outcome(
            _newest(mine),
            f"found by number at the {states[0]} license board (the claim names no state)",
            self.today,
        )


def _same_holder(record_key: str | None, holder_keys: set[str]) -> bool:
    if record_key is None:
        return False
    # The exact key first: the usual case, without a string comparison per key.
    return record_key in holder_keys or any(
        fuzz.ratio(record_key, key) >= NAME_MATCH_MIN for key in holder_keys
    )


def _newest(records: list[IssuerRecord]) -> IssuerRecord:
    return max(records, key=lambda r: (r.fetched_on, r.record_id))


def _outcome(record: IssuerRecord, how: str, today: date) -> Verification:
    status = record.standing(today)
    if status == "expired" and record.status == "active" and record.expires:
        how += f"; listed as active, but its expiry date, {record.expires.isoformat()}, has passed"
    return Verification(
        status=status,
        # The day the issuer's data speaks for, so a verification from an older file says so.
        checked_on=record.as_of.isoformat(),
        issuer=record.issuer,
        record_url=record.url,
        reason=how,
    )


def _unverifiable(reason: str) -> Verification:
    return Verification("unverifiable", None, None, None, reason)


def _not_found(reason: str) -> Verification:
    return Verification("not_found", None, None, None, reason)
