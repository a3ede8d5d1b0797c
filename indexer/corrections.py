"""Therapists' requests: a listing removed from the directory, a field corrected.

Both are recorded (who asked, who recorded it, when) in ``<TDIR_HOME>/corrections.sqlite3`` and
applied to every later build, until an admin lifts them.

A profile's id comes from its listings' ids, and changes when entity resolution regroups them,
so a request is keyed on everything that identified the profile when it was made: its id, its
listing ids, and its strong keys (the NPI number and the state license numbers it claimed, unless
the issuer said it has no such credential, as a number belonging to somebody else would then
hide the wrong person). At build time any profile sharing one of those keys is matched: a
suppressed therapist stays out of the index across every recrawl, even when a new listing of
theirs joins the cluster and gives the profile a new id.

A suppressed profile is not written to the index at all: it cannot be found, and none of its
data can be shown. A corrected field replaces the crawled value; the profile lists its
``corrections`` and the field's provenance says ``correction``.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from indexer.normalize.phones import normalize_phone
from indexer.profile import Profile
from indexer.taxonomy import FIELD_VOCABULARY, Taxonomy, UnknownTermError
from tdir.sqlite import connect, immediate_transaction

CORRECTION_SOURCE = "correction"  # the provenance source of a corrected field
TEXT_FIELDS = ("name", "practice_name", "bio", "website")
LIST_FIELDS = ("phones", "modalities", "conditions")
CORRECTABLE = (*TEXT_FIELDS, *LIST_FIELDS)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS suppressions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    profile_id TEXT NOT NULL,
    keys TEXT NOT NULL,
    reason TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    lifted_by TEXT,
    lifted_at TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS one_suppression
    ON suppressions (profile_id) WHERE lifted_at IS NULL;
CREATE TABLE IF NOT EXISTS corrections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    profile_id TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    keys TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    lifted_by TEXT,
    lifted_at TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS one_correction
    ON corrections (profile_id, field) WHERE lifted_at IS NULL;
"""


class CorrectionError(ValueError):
    """A request cannot be recorded or lifted as asked; the message names the profile or field."""


@dataclass(frozen=True)
class Suppression:
    """A profile removed from the directory at its therapist's request."""

    id: int
    profile_id: str
    keys: frozenset[str]
    reason: str
    requested_by: str
    requested_at: str
    lifted_by: str | None = None
    lifted_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data (keys sorted) for JSON."""
        return {**asdict(self), "keys": sorted(self.keys)}


@dataclass(frozen=True)
class Correction:
    """A field of a profile whose crawled value is replaced."""

    id: int
    profile_id: str
    field: str
    value: Any
    keys: frozenset[str]
    requested_by: str
    requested_at: str
    lifted_by: str | None = None
    lifted_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data (keys sorted) for JSON."""
        return {**asdict(self), "keys": sorted(self.keys)}


def profile_keys(profile: Profile) -> frozenset[str]:
    """What identifies a profile across rebuilds: ``profile:<id>``, ``listing:<id>`` for each of
    its listings, ``npi:<number>`` and ``license:<state>:<number>`` for each claimed NPI and
    state license the issuer did not deny."""
    keys = {f"profile:{profile.id}"}
    keys.update(f"listing:{listing.id}" for listing in profile.listings)
    for credential in profile.credentials:
        number = credential.number
        if not number or credential.status == "not_found":
            continue
        if credential.type == "npi":
            keys.add(f"npi:{number}")
        elif credential.kind == "state_license" and credential.state:
            keys.add(f"license:{credential.state}:{number}")
    return frozenset(keys)


# The longest correction a field takes: a therapist's own bio runs to a few paragraphs.
MAX_VALUE_CHARS = {"bio": 5_000, "*": 500}
MAX_REASON_CHARS = 2_000


def parse_value(field: str, raw: str, taxonomy: Taxonomy) -> Any:
    """The value a correction of ``field`` puts in the profile, from an admin's text.

    ``name`` must not be empty; an empty ``practice_name``, ``bio`` or ``website`` removes it;
    ``phones``, ``modalities`` and ``conditions`` are comma-separated lists (empty: none), phones
    normalised to E.164 and terms to the taxonomy's ids. CorrectionError names what is wrong.
    """
    text = raw.strip()
    if field not in CORRECTABLE:
        raise CorrectionError(
            f"field {field!r} cannot be corrected; one of: {', '.join(CORRECTABLE)}"
        )
    limit = MAX_VALUE_CHARS.get(field, MAX_VALUE_CHARS["*"])
    if len(text) > limit:
        raise CorrectionError(f"{field}: {len(text):,} characters; at most {limit:,}")
    if field == "name":
        if not text:
            raise CorrectionError("name: a profile cannot be left without a name")
        return text
    if field in ("practice_name", "bio"):
        return text or None
    if field == "website":
        return _website(text)
    items = [item.strip() for item in text.replace(";", ",").split(",") if item.strip()]
    if field == "phones":
        return _phones(items)
    vocabulary = FIELD_VOCABULARY[field]
    try:
        return list(dict.fromkeys(taxonomy.resolve(vocabulary, item) for item in items))
    except UnknownTermError as exc:
        raise CorrectionError(f"{field}: {exc}") from None


def _website(text: str) -> str | None:
    if not text:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CorrectionError(f"website: {text!r} is not an http(s) URL")
    return text


def _phones(items: list[str]) -> list[str]:
    phones: list[str] = []
    for item in items:
        phone = normalize_phone(item).value
        if phone is None:
            raise CorrectionError(f"phones: {item!r} is not a valid phone number")
        if phone.e164 not in phones:
            phones.append(phone.e164)
    return phones


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class CorrectionBook:
    """The recorded requests of one data directory; each method is one short transaction."""

    def __init__(self, home: Path) -> None:
        self.path = corrections_path(home)

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = connect(self.path)
        conn.row_factory = sqlite3.Row
        try:
            conn.executescript(_SCHEMA)
            with immediate_transaction(conn):
                yield conn
        finally:
            conn.close()

    # -- recording ---------------------------------------------------------------------------

    def suppress(self, profile: Profile, *, by: str, reason: str) -> Suppression:
        """Remove the profile (and any later profile sharing its keys) from the directory."""
        if not reason.strip():
            raise CorrectionError("say why the listing is removed (--reason)")
        if len(reason) > MAX_REASON_CHARS:
            raise CorrectionError(f"reason: at most {MAX_REASON_CHARS:,} characters")
        keys = profile_keys(profile)
        with self._write() as conn:
            try:
                cursor = conn.execute(
                    "INSERT INTO suppressions (profile_id, keys, reason, requested_by,"
                    " requested_at) VALUES (?, ?, ?, ?, ?)",
                    (profile.id, json.dumps(sorted(keys)), reason.strip(), by, _now()),
                )
            except sqlite3.IntegrityError:
                raise CorrectionError(f"profile {profile.id} is already suppressed") from None
            row = conn.execute(
                "SELECT * FROM suppressions WHERE id = ?", (cursor.lastrowid,)
            ).fetchone()
        return _suppression(row)

    def unsuppress(self, profile_id: str, *, by: str) -> Suppression:
        """Lift the profile's suppression; CorrectionError if it has none."""
        row = self._lift(
            "suppressions",
            {"profile_id": profile_id},
            by,
            f"profile {profile_id} is not suppressed",
        )
        return _suppression(row)

    def correct(self, profile: Profile, field: str, value: Any, *, by: str) -> Correction:
        """Replace a field of the profile (``value`` as :func:`parse_value` returns it); a
        correction of the same field made earlier is lifted by this one."""
        if field not in CORRECTABLE:
            raise CorrectionError(
                f"field {field!r} cannot be corrected; one of: {', '.join(CORRECTABLE)}"
            )
        keys = profile_keys(profile)
        now = _now()
        with self._write() as conn:
            conn.execute(
                "UPDATE corrections SET lifted_by = ?, lifted_at = ?"
                " WHERE profile_id = ? AND field = ? AND lifted_at IS NULL",
                (by, now, profile.id, field),
            )
            cursor = conn.execute(
                "INSERT INTO corrections (profile_id, field, value, keys, requested_by,"
                " requested_at) VALUES (?, ?, ?, ?, ?, ?)",
                (profile.id, field, json.dumps(value), json.dumps(sorted(keys)), by, now),
            )
            row = conn.execute(
                "SELECT * FROM corrections WHERE id = ?", (cursor.lastrowid,)
            ).fetchone()
        return _correction(row)

    def uncorrect(self, profile_id: str, field: str, *, by: str) -> Correction:
        """Lift the correction of one field of the profile; CorrectionError if there is none."""
        row = self._lift(
            "corrections",
            {"profile_id": profile_id, "field": field},
            by,
            f"profile {profile_id} has no correction of {field!r}",
        )
        return _correction(row)

    def _lift(self, table: str, match: dict[str, str], by: str, missing: str) -> sqlite3.Row:
        """Mark the request in force in ``table`` matching ``match`` lifted by ``by``; return
        its row as lifted. CorrectionError(``missing``) if none is in force."""
        where = " AND ".join(f"{column} = ?" for column in match)
        with self._write() as conn:
            row = conn.execute(
                f"SELECT id FROM {table} WHERE {where} AND lifted_at IS NULL",
                tuple(match.values()),
            ).fetchone()
            if row is None:
                raise CorrectionError(missing)
            conn.execute(
                f"UPDATE {table} SET lifted_by = ?, lifted_at = ? WHERE id = ?",
                (by, _now(), row["id"]),
            )
            return conn.execute(f"SELECT * FROM {table} WHERE id = ?", (row["id"],)).fetchone()

    # -- reading -----------------------------------------------------------------------------

    def suppressions(self, *, include_lifted: bool = False) -> list[Suppression]:
        """Suppressions, oldest first: those in force, or every one ever recorded."""
        return [_suppression(r) for r in self._rows("suppressions", include_lifted)]

    def corrections(self, *, include_lifted: bool = False) -> list[Correction]:
        """Corrections, oldest first: those in force, or every one ever recorded."""
        return [_correction(r) for r in self._rows("corrections", include_lifted)]

    def _rows(self, table: str, include_lifted: bool) -> list[sqlite3.Row]:
        if not self.path.exists():
            return []  # nothing recorded yet: reading creates no file
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30.0)
        conn.row_factory = sqlite3.Row
        try:
            where = "" if include_lifted else " WHERE lifted_at IS NULL"
            return conn.execute(f"SELECT * FROM {table}{where} ORDER BY id").fetchall()
        except sqlite3.OperationalError:
            return []  # the file exists but no request was ever recorded in it
        finally:
            conn.close()

    def curation(self) -> Curation:
        """What a build applies: the suppressions and corrections in force now."""
        return Curation(self.suppressions(), self.corrections())


def corrections_path(home: Path) -> Path:
    """Where a data directory's requests are recorded."""
    return home / "corrections.sqlite3"


class Curation:
    """The suppressions and corrections in force, matched to profiles by their keys."""

    def __init__(self, suppressions: Iterable[Suppression], corrections: Iterable[Correction]):
        self._suppressed: dict[str, Suppression] = {}
        for suppression in suppressions:
            for key in suppression.keys:
                self._suppressed.setdefault(key, suppression)
        self._corrections: dict[str, list[Correction]] = {}
        for correction in corrections:
            for key in correction.keys:
                self._corrections.setdefault(key, []).append(correction)

    @classmethod
    def load(cls, home: Path) -> Curation:
        """The requests in force in a data directory (none if none was ever recorded)."""
        return CorrectionBook(home).curation()

    def suppression_of(self, profile: Profile) -> Suppression | None:
        """The suppression a profile falls under, if any."""
        for key in sorted(profile_keys(profile)):
            if key in self._suppressed:
                return self._suppressed[key]
        return None

    def apply(self, profile: Profile) -> Profile:
        """The profile with the corrections matching it put in (the same object if none do).

        Where two corrections of one field match (two profiles since merged), the latest wins.
        """
        if not self._corrections:
            return profile
        matched: dict[int, Correction] = {}
        for key in profile_keys(profile):
            for correction in self._corrections.get(key, ()):
                matched[correction.id] = correction
        if not matched:
            return profile
        by_field: dict[str, Correction] = {}
        for correction in sorted(matched.values(), key=lambda c: (c.requested_at, c.id)):
            by_field[correction.field] = correction
        provenance = dict(profile.provenance)
        values: dict[str, Any] = {}
        for field, correction in by_field.items():
            value = correction.value
            values[field] = tuple(value) if field in LIST_FIELDS else value
            provenance[field] = [
                {
                    "source": CORRECTION_SOURCE,
                    "url": None,
                    "last_seen": correction.requested_at,
                    "by": correction.requested_by,
                }
            ]
        return replace(
            profile,
            **values,
            provenance=provenance,
            corrections=tuple(
                {"field": c.field, "value": c.value, "by": c.requested_by, "at": c.requested_at}
                for _, c in sorted(by_field.items())
            ),
        )


def _suppression(row: sqlite3.Row) -> Suppression:
    data = dict(row)
    return Suppression(**{**data, "keys": frozenset(json.loads(data["keys"]))})


def _correction(row: sqlite3.Row) -> Correction:
    data = dict(row)
    return Correction(
        **{**data, "keys": frozenset(json.loads(data["keys"])), "value": json.loads(data["value"])}
    )
