"""Therapists' names as listings write them, split into parts with the credentials taken out.

"Jane A. Doe, LMT", "Doe, Jane", "Jane Doe NMT" and "JANE DOE" are one person; the letters after
a name (LMT, BCTMB, NMT...) are credentials the listing claims, returned apart from the name and
resolved against the taxonomy where it knows them. ``key`` is a coarse matching key for entity
resolution: folded first and last name, with the first name's formal form from the nickname
groups of ``data/person_names.yaml`` (Bob and Robert share a key).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

import yaml
from nameparser import HumanName
from nameparser.config import Constants

from indexer.normalize.flags import Flag, Normalized
from indexer.taxonomy import Taxonomy, fold, load_taxonomy

# Generational suffixes stay with the name; every other suffix is a post-nominal credential.
_GENERATIONAL = frozenset({"jr", "sr", "jnr", "snr", "junior", "senior", "ii", "iii", "iv", "v"})
_ACRONYM = re.compile(r"^(?:[A-Z]\.?){2,7}(?:-[A-Z]+)?$")


@dataclass(frozen=True, slots=True)
class PersonName:
    """A person's name in parts, a display form and a matching key (None without a last name)."""

    first: str
    middle: str
    last: str
    suffix: str
    display: str
    key: str | None
    title: str = ""


@dataclass(frozen=True, slots=True)
class PostNominal:
    """Letters found after a name as written, and the taxonomy credential id if it knows them."""

    raw: str
    credential_id: str | None


@dataclass(frozen=True, slots=True)
class ParsedName:
    """A name and the credentials written after it."""

    name: PersonName
    credentials: tuple[PostNominal, ...]


@dataclass(frozen=True)
class _NameData:
    formal: dict[str, str]
    short_forms: dict[str, frozenset[str]]  # a folded given name -> names it may stand for
    post_nominals: frozenset[str]
    business_words: frozenset[str]


@cache
def _name_data() -> _NameData:
    text = resources.files("indexer").joinpath("data/person_names.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    formal: dict[str, str] = {}
    for group in data["nicknames"]:
        canonical = fold(group[0])
        for name in group:
            owner = formal.setdefault(fold(name), canonical)
            if owner != canonical:
                raise ValueError(f"person_names: {name!r} is in two groups: {owner}, {canonical}")
    short_forms: dict[str, set[str]] = {}
    for short, *formal_names in data["short_forms"]:
        for name in formal_names:
            short_forms.setdefault(fold(short), set()).add(fold(name))
            short_forms.setdefault(fold(name), set()).add(fold(short))
    return _NameData(
        formal=formal,
        short_forms={name: frozenset(names) for name, names in short_forms.items()},
        post_nominals=frozenset(_bare(word) for word in data["post_nominals"]),
        business_words=frozenset(fold(word) for word in data["business_words"]),
    )


# Keyed by id; the taxonomy is kept in the value so its id cannot be reused while cached.
_CONSTANTS: dict[int, tuple[Taxonomy, Constants]] = {}


def _constants(taxonomy: Taxonomy) -> Constants:
    cached = _CONSTANTS.get(id(taxonomy))
    if cached is None:
        # A private instance: adding this field's letters must not change nameparser for others.
        constants = Constants()
        constants.suffix_acronyms.add(*_post_nominal_tokens(taxonomy))
        cached = _CONSTANTS[id(taxonomy)] = (taxonomy, constants)
    return cached[1]


def _post_nominal_tokens(taxonomy: Taxonomy) -> frozenset[str]:
    """Return the post-nominal letters (lower case, no dots) this field uses."""
    tokens = set(_name_data().post_nominals)
    for term in taxonomy.terms["credential"].values():
        for spelling in (term.id, *term.synonyms):
            if _ACRONYM.match(spelling):
                tokens.add(_bare(spelling))
    return frozenset(tokens)


def _bare(token: str) -> str:
    return token.replace(".", "").replace("-", "").lower()


def formal_first_name(first: str) -> str:
    """Return the folded formal given name a nickname stands for ("Bob" -> "robert")."""
    folded = fold(first)
    return _name_data().formal.get(folded, folded)


def short_form_names(first: str) -> frozenset[str]:
    """The formal names an ambiguous short form stands for, or the short forms of a formal name.

    Not transitive: Christine and Christopher both answer to Chris, not to each other.
    """
    return _name_data().short_forms.get(first, frozenset())


def name_key(first: str, last: str) -> str | None:
    """Return the matching key of a name: formal first name and last name, folded.

    Spaces and punctuation inside each part are dropped ("O'Neil" and "ONeil" agree, "de la Cruz"
    and "Delacruz" too). None without a last name, which is too weak a key to match on.
    """
    last_key = fold(last).replace(" ", "")
    if not last_key:
        return None
    first_key = formal_first_name(first).replace(" ", "") if first else ""
    return f"{first_key} {last_key}".strip()


def parse_person_name(
    raw: str | None, *, field: str = "name", taxonomy: Taxonomy | None = None
) -> Normalized[ParsedName]:
    """Split a listed name into parts and the credentials written after it.

    Flags: ``missing_name`` (nothing given), ``not_a_person`` (a practice name such as "Austin
    Massage Center"; no value), ``incomplete_name`` (no first or no last name; the value is kept)
    and ``unknown_credential`` for post-nominal letters the taxonomy does not know (they are
    still returned, with ``credential_id`` None).
    """
    taxonomy = taxonomy or load_taxonomy()
    _constants(taxonomy)  # registers the taxonomy under its id
    # The same names come back from every source a therapist is listed on and from the issuers'
    # records; the answer is immutable, so each distinct name is parsed once.
    return _parse_person_name(raw, field, id(taxonomy))


@lru_cache(maxsize=200_000)
def _parse_person_name(raw: str | None, field: str, taxonomy_id: int) -> Normalized[ParsedName]:
    taxonomy = _CONSTANTS[taxonomy_id][0]
    if raw is None or not raw.strip():
        return Normalized(None, (Flag(field, "missing_name", raw),))
    name_text, trailing = _split_trailing_credentials(raw, taxonomy)
    data = _name_data()
    if data.business_words.intersection(fold(name_text).split()):
        return Normalized(None, (Flag(field, "not_a_person", raw),))

    title, first, middle, last, suffixes = name_parts(name_text, _constants(taxonomy))
    generational = [s for s in suffixes if _bare(s) in _GENERATIONAL]
    letters = [s.rstrip(",") for s in suffixes if _bare(s) not in _GENERATIONAL] + trailing
    suffix = " ".join(_capitalised_suffix(s) for s in generational)
    display = " ".join(part for part in (first, middle, last, suffix) if part)
    name = PersonName(
        first=first,
        middle=middle,
        last=last,
        suffix=suffix,
        display=display,
        key=name_key(first, last),
        title=title,
    )
    flags: list[Flag] = []
    if not first or not last:
        flags.append(Flag(field, "incomplete_name", raw, "needs a first and a last name"))
    credentials = []
    for letter in letters:
        credential_id = taxonomy.lookup("credential", letter)
        credentials.append(PostNominal(letter, credential_id))
        if credential_id is None:
            flags.append(Flag(f"{field}.credentials", "unknown_credential", letter))
    return Normalized(ParsedName(name, tuple(credentials)), tuple(flags))


def name_parts(text: str, constants: Constants) -> tuple[str, str, str, str, list[str]]:
    """Title, first, middle and last name and the suffixes of a name, as nameparser splits it.

    The shapes most listings write — "First [Middle|M.] Last" and "Last, First [Middle|M.]" in
    mixed case, none of whose words nameparser reserves (a title, suffix, prefix such as "van",
    or conjunction) — are split here, without nameparser's pipeline (a millisecond a name).
    tests/test_normalize_names.py checks the two agree on every name split here.
    """
    plain = _PLAIN_NAME.match(text) or _LAST_FIRST.match(text)
    if plain and not any(_reserved(word, constants) for word in _WORD_SPLIT.split(text)):
        return "", plain["first"], plain["middle"] or "", plain["last"], []
    parsed = HumanName(text, constants=constants)
    # Before capitalising: credentials keep the letters the source wrote.
    suffixes = [token for piece in parsed.suffix_list for token in piece.split()]
    parsed.capitalize()
    return parsed.title, parsed.first, parsed.middle, parsed.last, suffixes


_WORD = r"[A-Z][a-z]+(?:[A-Z][a-z]+)?(?:-[A-Z][a-z]+(?:[A-Z][a-z]+)?)?"
_MIDDLE = rf"(?:{_WORD}|[A-Z]\.)"
_PLAIN_NAME = re.compile(rf"^(?P<first>{_WORD}) (?:(?P<middle>{_MIDDLE}) )?(?P<last>{_WORD})$")
_LAST_FIRST = re.compile(rf"^(?P<last>{_WORD}), (?P<first>{_WORD})(?: (?P<middle>{_MIDDLE}))?$")
_WORD_SPLIT = re.compile(r"[ ,-]+")


def _reserved(text: str, constants: Constants) -> bool:
    """Whether nameparser gives the word a role (with or without an initial's period)."""
    word = text.lower()
    groups = (
        constants.titles,
        constants.first_name_titles,
        constants.suffix_acronyms,
        constants.suffix_acronyms_ambiguous,
        constants.suffix_not_acronyms,
        constants.prefixes,
        constants.non_first_name_prefixes,
        constants.bound_first_names,
        constants.conjunctions,
    )
    return any(form in group for form in {word, word.rstrip(".")} for group in groups)


def _split_trailing_credentials(raw: str, taxonomy: Taxonomy) -> tuple[str, list[str]]:
    """Take comma-separated credential phrases off the end ("Jane Doe, Board Certified").

    nameparser knows single acronyms; whole phrases such as "Licensed Massage Therapist" are
    taken off here so their words never become name parts.
    """
    pieces = [piece.strip() for piece in raw.split(",")]
    trailing: list[str] = []
    while len(pieces) > 1 and taxonomy.lookup("credential", pieces[-1]) is not None:
        trailing.insert(0, pieces.pop())
    return ", ".join(pieces), trailing


def _capitalised_suffix(suffix: str) -> str:
    bare = suffix.rstrip(",")
    return bare.upper() if _bare(bare) in {"ii", "iii", "iv", "v"} else bare
