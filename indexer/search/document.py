"""The searchable projection of a served profile, shared by both backends.

A profile (the record the indexer serves) carries much more than search needs. This module
derives, in one place, what both backends index: folded text, points, canonical ids expanded
through the taxonomy, verification flags and the rating sort key. Backends never interpret a
profile themselves, so they cannot drift apart.

It reads the typed :class:`~indexer.profile.Profile`: one point per merged practice location
(never a second, approximate point for one office), the "verified" flag from
``Profile.verification.license_verified`` (an active state license its board confirms, nothing
else), the combined rating and its count.

It also makes what both backends store of a profile (``stored_form``, ``stored_json``): the form
``Profile.to_dict`` gives, built from the dataclasses' declared field types at a fraction of the
cost of ``dataclasses.asdict`` (which inspects and deep-copies every value), since an index write
makes it for every profile. An :class:`IndexEntry` holds both a document and the stored JSON, so
that an index build can make them on its workers and the writer only writes them.
"""

from __future__ import annotations

import dataclasses
import json
import operator
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from indexer.geo import GeoPoint
from indexer.profile import Profile
from indexer.taxonomy import Taxonomy, fold, fold_text

VERIFIED = "verified"
# What an issuer's own record says against a claim: a credential lapsed, withdrawn or unknown to
# the issuer is no credential to find a therapist by.
REFUTED = frozenset({"expired", "inactive", "not_found"})
LAYOUT_VERSION = 3
"""Version of what the backends store per profile. A backend holding an index written with an
older layout says so (``outdated``) and the next index write rebuilds it rather than mixing
documents of two layouts."""
NO_RATING_SORT_KEY = -1.0  # below every real rating, so unrated profiles sort last


@dataclass(frozen=True, slots=True)
class SearchDocument:
    """The fields of one profile that the search backends index."""

    id: str
    name: str
    practice_name: str
    body: str
    points: tuple[GeoPoint, ...]
    states: tuple[str, ...]
    modalities: tuple[str, ...]
    conditions: tuple[str, ...]
    credentials: tuple[str, ...]
    verified_credentials: tuple[str, ...]
    license_verified: bool
    rating: float | None
    rating_sort: float
    review_count: int
    active: bool
    flags: tuple[str, ...]
    alias_ids: tuple[str, ...]

    def facet_values(self) -> dict[str, tuple[str, ...]]:
        """Return the facet fields' values, keyed by facet name."""
        return {
            "modality": self.modalities,
            "condition": self.conditions,
            "credential": self.credentials,
            "verified_credential": self.verified_credentials,
            "state": self.states,
            "verified": ("true" if self.license_verified else "false",),
            "flag": self.flags,
            "alias_id": self.alias_ids,
        }


def to_search_document(profile: Profile, taxonomy: Taxonomy) -> SearchDocument:
    """Project a profile onto its searchable fields."""
    if not profile.id:
        raise ValueError("profile has no id")
    locations = profile.locations
    cities = " ".join(loc.city or "" for loc in locations)
    terms = _terms(taxonomy, tuple(profile.modalities), tuple(profile.conditions))
    rating = profile.rating.combined
    return SearchDocument(
        id=profile.id,
        name=fold(profile.name or ""),
        practice_name=fold(profile.practice_name or ""),
        body=fold_text(" ".join([profile.bio or "", cities, terms.modality_labels])),
        points=tuple(loc.point for loc in locations),
        states=tuple(sorted({loc.state.upper() for loc in locations if loc.state})),
        modalities=terms.modalities,
        conditions=terms.conditions,
        credentials=tuple(sorted({c.type for c in profile.credentials if c.status not in REFUTED})),
        verified_credentials=tuple(
            sorted({c.type for c in profile.credentials if c.status == VERIFIED})
        ),
        license_verified=profile.verification.license_verified,
        rating=None if rating is None else float(rating),
        rating_sort=NO_RATING_SORT_KEY if rating is None else float(rating),
        review_count=profile.rating.review_count,
        active=profile.active,
        flags=tuple(
            kind
            for kind, flagged in (
                ("credential", profile.credential_flags),
                ("data", profile.data_flags),
            )
            if flagged
        ),
        alias_ids=tuple(sorted(set(profile.alias_ids) - {profile.id})),
    )


@dataclass(frozen=True, slots=True)
class _Terms:
    """What a list of declared modalities and conditions indexes as, through the taxonomy."""

    taxonomy: Taxonomy
    modality_labels: str
    modalities: tuple[str, ...]
    conditions: tuple[str, ...]


# Worked out once per combination a profile declares (most are shared by many profiles). An
# entry holds its taxonomy, so no other taxonomy can come to have that id while it is kept.
_TERMS: dict[tuple[int, tuple[str, ...], tuple[str, ...]], _Terms] = {}
_TERMS_KEPT = 10_000


def _terms(taxonomy: Taxonomy, modalities: tuple[str, ...], conditions: tuple[str, ...]) -> _Terms:
    key = (id(taxonomy), modalities, conditions)
    terms = _TERMS.get(key)
    if terms is None or terms.taxonomy is not taxonomy:
        if len(_TERMS) >= _TERMS_KEPT:
            _TERMS.clear()
        terms = _TERMS[key] = _Terms(
            taxonomy,
            " ".join(taxonomy.label("modality", m) for m in modalities),
            tuple(taxonomy.expand_modalities(modalities)),
            tuple(taxonomy.conditions_for(modalities, conditions)),
        )
    return terms


# -- the stored form ---------------------------------------------------------------------------

NOTHING: frozenset[str] = frozenset()
_ATOMS = (str, int, float, bool, type(None))
# The JSON text both backends store: compact, non-ASCII characters as they are (as
# ``json.dumps(..., ensure_ascii=False, separators=(",", ":"))`` writes it). The stored form
# holds no cycles, so the encoder need not look for them.
encode_json: Callable[[Any], str] = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), check_circular=False
).encode

Form = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """A profile as the backends write it: its search document and its stored JSON."""

    document: SearchDocument
    stored: str

    @property
    def id(self) -> str:
        return self.document.id

    def profile(self) -> Profile:
        """The profile back from its stored JSON (as a backend's ``get`` reads it)."""
        return Profile.from_dict(json.loads(self.stored))


def index_entry(profile: Profile | IndexEntry, taxonomy: Taxonomy) -> IndexEntry:
    """What a backend writes of a profile (an entry already made is taken as it is)."""
    if isinstance(profile, IndexEntry):
        return profile
    return IndexEntry(to_search_document(profile, taxonomy), stored_json(profile))


def stored_form(profile: Profile, leave_out: frozenset[str] = NOTHING) -> dict[str, Any]:
    """The stored form of a profile, JSON-equal to ``profile.to_dict()``, less every key in
    ``leave_out`` wherever it occurs (a field of a nested record or a key of a nested mapping).

    Values the form shares with the profile (tuples of strings, numbers) are immutable; mappings
    and nested records are copied."""
    form: dict[str, Any] = _record_form(Profile, leave_out)(profile)
    return form


def stored_json(profile: Profile) -> str:
    """The JSON text of a profile's stored form, as the backends store it."""
    return encode_json(stored_form(profile))


_RECORD_FORMS: dict[tuple[type[Any], frozenset[str]], Form] = {}


def _record_form(cls: type[Any], leave_out: frozenset[str]) -> Form:
    """How to make the stored form of a record of this dataclass (made once per class)."""
    form = _RECORD_FORMS.get((cls, leave_out))
    if form is None:
        form = _RECORD_FORMS[cls, leave_out] = _make_record_form(cls, leave_out)
    return form


def _make_record_form(cls: type[Any], leave_out: frozenset[str]) -> Form:
    """The stored form of a record: its fields in declared order, each converted as its declared
    type says (immutable scalars and tuples of them as they are)."""
    try:
        hints = typing.get_type_hints(cls)
    except NameError:  # a type the module cannot resolve: every field is converted generically
        hints = {}
    names = tuple(f.name for f in dataclasses.fields(cls) if f.name not in leave_out)
    nested = tuple(
        (name, convert)
        for name in names
        if (convert := _value_form(hints.get(name, Any), leave_out)) is not None
    )
    values = operator.attrgetter(*names) if len(names) > 1 else None

    def form(record: Any) -> dict[str, Any]:
        if values is None:
            out = {name: getattr(record, name) for name in names}
        else:
            out = dict(zip(names, values(record), strict=False))  # one value per name
        for name, convert in nested:
            # Replacing a key's value keeps its place: the fields stay in declared order.
            out[name] = convert(out[name])
        return out

    return form


def _value_form(hint: Any, leave_out: frozenset[str]) -> Form | None:
    """How to convert a value of this declared type; None when it is stored as it is."""
    if _immutable(hint):
        return None
    if isinstance(hint, type) and _is_record(hint):
        return _record_form(hint, leave_out)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (tuple, list) and (len(args) == 1 or args[1:] == (Ellipsis,)):
        item = _value_form(args[0], leave_out)
        if item is None:
            return list
        return lambda items: list(map(item, items))
    if origin is dict and len(args) == 2:
        value = _value_form(args[1], leave_out)
        if value is None:
            return lambda mapping: {k: v for k, v in mapping.items() if k not in leave_out}
        if args[1] is Any:  # mostly scalars: those are taken as they are, without a call
            return lambda mapping: {
                k: v if type(v) in _ATOMS else _plain(v, leave_out)
                for k, v in mapping.items()
                if k not in leave_out
            }
        return lambda mapping: {k: value(v) for k, v in mapping.items() if k not in leave_out}
    return lambda value: _plain(value, leave_out)


def _immutable(hint: Any) -> bool:
    """Whether a declared type holds only immutable JSON scalars (or tuples of them)."""
    if hint in _ATOMS:
        return True
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return True
    if origin in (typing.Union, types.UnionType, tuple):
        return all(arg is Ellipsis or _immutable(arg) for arg in typing.get_args(hint))
    return False


def _plain(value: Any, leave_out: frozenset[str]) -> Any:
    """The stored form of a value of no declared shape (mappings, lists, records within)."""
    kind = type(value)
    if kind in _ATOMS:
        return value
    if isinstance(value, dict):
        return {k: _plain(v, leave_out) for k, v in value.items() if k not in leave_out}
    if isinstance(value, list | tuple):
        return [_plain(v, leave_out) for v in value]
    if _is_record(kind):
        return _record_form(kind, leave_out)(value)
    return value


def _is_record(cls: type[Any]) -> bool:
    return dataclasses.is_dataclass(cls)
