"""Credential claims to a taxonomy credential id, a comparable number and a state.

License numbers are compared between a listing's claim and the board's record, so both go
through :func:`normalize_license_number`: labels ("Lic #", "No.", and the license's title written
before its number, "LMT #12345") off, every separator (space, dash, dot, slash) out, letters
upper-cased. Letters are part of the number and stay: Florida's ``MA`` prefix, Texas's ``MT``.
"MA 12345", "ma-12345" and "MA12345" all become "MA12345". The other ways one number is written
(leading zeros, the issuer's letters left off, the state before it) are matched by
:mod:`indexer.normalize.credentials_numbers`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crawler.items import ClaimedCredential
from indexer.normalize.flags import Flag, Normalized
from indexer.normalize.states import state_code
from indexer.normalize.terms import normalize_terms
from indexer.taxonomy import Taxonomy, load_taxonomy

# A license's title written before its number is a label too ("LMT #12345", "LMBT 12345");
# claims and records lose it alike. "MT" is not one: it is Texas's and Colorado's prefix.
_LABEL = re.compile(
    r"^\s*(?:(?:license|licence|lic|number|num|no|nbr|id|lmt|lmbt|lmp|rmt|cmt|camtc)\b\.?|#|:)\s*",
    re.I,
)
_SEPARATORS = re.compile(r"[^0-9A-Za-z]+")
_NPI = re.compile(r"[0-9]{10}")  # ASCII digits only, matched whole
_NPI_PREFIX_SUM = 24  # 8, 0, 8, 4, 0 of the prefix 80840, every second doubled, in Luhn's sum
_DOUBLED = {str(d): (2 * d) // 10 + (2 * d) % 10 for d in range(10)}  # a doubled digit's digits
# Florida licenses establishments with MM numbers; a therapist's own license is MA.
_FLORIDA_ESTABLISHMENT = re.compile(r"^MM\d")


@dataclass(frozen=True, slots=True)
class NormalizedCredential:
    """A claimed credential: its taxonomy id and kind (None if unknown), number and state."""

    credential_id: str | None
    kind: str | None
    number: str | None
    state: str | None
    name_raw: str


def normalize_license_number(raw: str | None) -> str | None:
    """Return a license or certificate number in the one form claims and registries share.

    None when nothing with a digit is left.
    """
    if raw is None:
        return None
    if raw.isascii() and raw.isalnum():
        # Already one word ("MT012345"): no label or separator to take off (a label needs a
        # word boundary after it), the common case of a registry's own records.
        number = raw.upper()
        return number if not number.isalpha() else None
    text = raw
    while (stripped := _LABEL.sub("", text, count=1)) != text:
        text = stripped
    number = _SEPARATORS.sub("", text).upper()
    return number if any(ch.isdigit() for ch in number) else None


def npi_is_valid(npi: str) -> bool:
    """Return True for a ten-digit NPI whose check digit is right (Luhn, with prefix 80840)."""
    if not _NPI.fullmatch(npi):
        return False
    # The prefix's digits add 24 whatever the NPI; every second digit from the right is doubled.
    total = _NPI_PREFIX_SUM
    for position, digit in enumerate(reversed(npi)):
        total += _DOUBLED[digit] if position % 2 else int(digit)
    return total % 10 == 0


def normalize_npi(raw: str | None, *, field: str = "npi") -> Normalized[str]:
    """Return a valid NPI as ten digits, or None with an ``invalid_npi`` flag."""
    if raw is None or not raw.strip():
        return Normalized(None)
    npi = _SEPARATORS.sub("", raw)
    if not npi_is_valid(npi):
        return Normalized(None, (Flag(field, "invalid_npi", raw),))
    return Normalized(npi)


def normalize_credential(  # noqa: C901 - one branch per flag the docstring lists
    claim: ClaimedCredential, *, field: str = "credentials", taxonomy: Taxonomy | None = None
) -> Normalized[NormalizedCredential]:
    """Return the credential a listing claims, in taxonomy ids and comparable form.

    Flags: ``unknown_credential`` (the taxonomy knows no such title; the claim is kept with
    ``credential_id`` None), ``several_credentials`` (one claim names more than one; the first
    is kept), ``unknown_state``, ``state_mismatch`` (a title only one state issues, claimed in
    another), ``invalid_number``, ``invalid_npi`` and ``establishment_license`` (a Florida MM
    number, which licenses a business, claimed as a therapist's license). A title issued by one
    state only (LMBT: North Carolina) supplies the state when the claim gives none.
    """
    taxonomy = taxonomy or load_taxonomy()
    flags: list[Flag] = []
    matched = normalize_terms("credential", claim.name_raw, field=field, taxonomy=taxonomy)
    ids = matched.value.ids if matched.value else ()
    if not ids and claim.alternate_name_raw:
        # A long name the taxonomy does not know may come with the short form it does ("BCTMB").
        matched = normalize_terms(
            "credential", claim.alternate_name_raw, field=field, taxonomy=taxonomy
        )
        ids = matched.value.ids if matched.value else ()
    credential_id = ids[0] if ids else None
    if credential_id is None:
        flags.append(Flag(field, "unknown_credential", claim.name_raw))
    elif len(ids) > 1:
        flags.append(Flag(field, "several_credentials", claim.name_raw, f"kept {credential_id}"))
    term = taxonomy.terms["credential"].get(credential_id) if credential_id else None

    state = state_code(claim.state)
    if claim.state and state is None:
        flags.append(Flag(f"{field}.state", "unknown_state", claim.state))
    if term and term.states:
        if state is None and not claim.state and len(term.states) == 1:
            state = term.states[0]
        elif state is not None and state not in term.states:
            flags.append(
                Flag(
                    f"{field}.state",
                    "state_mismatch",
                    claim.state,
                    f"{credential_id} is issued in {', '.join(term.states)}",
                )
            )

    number = None
    if claim.number and claim.number.strip():
        if credential_id == "npi":
            number = normalize_npi(claim.number, field=f"{field}.number").value
            if number is None:
                flags.append(Flag(f"{field}.number", "invalid_npi", claim.number))
        else:
            number = normalize_license_number(claim.number)
            if number is None:
                flags.append(Flag(f"{field}.number", "invalid_number", claim.number))
        if number and state == "FL" and _FLORIDA_ESTABLISHMENT.match(number):
            flags.append(Flag(f"{field}.number", "establishment_license", claim.number))

    value = NormalizedCredential(
        credential_id=credential_id,
        kind=term.kind if term else None,
        number=number,
        state=state,
        name_raw=claim.name_raw,
    )
    return Normalized(value, tuple(flags))
