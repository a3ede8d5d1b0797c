"""Therapists' names: parts, credentials kept out of the name, and the matching key."""

from __future__ import annotations

import string
from importlib import resources

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from nameparser import HumanName

from indexer.normalize.names import _constants, name_parts, parse_person_name
from indexer.taxonomy import fold, load_taxonomy


def _parts(raw: str) -> tuple[str, str, str, str]:
    name = parse_person_name(raw).value.name
    return name.first, name.middle, name.last, name.suffix


def _letters(raw: str) -> list[tuple[str, str | None]]:
    return [(c.raw, c.credential_id) for c in parse_person_name(raw).value.credentials]


@pytest.mark.parametrize(
    ("raw", "parts"),
    [
        ("Jane A. Doe, LMT", ("Jane", "A.", "Doe", "")),
        ("Doe, Jane", ("Jane", "", "Doe", "")),
        ("Jane Doe NMT", ("Jane", "", "Doe", "")),
        ("Dr. John Q. Public Jr., LMBT, BCTMB", ("John", "Q.", "Public", "Jr.")),
        ("JANE DOE", ("Jane", "", "Doe", "")),
        ("Doe, Jane A., LMT", ("Jane", "A.", "Doe", "")),
        ("Mary-Kate O'Neil LMP", ("Mary-Kate", "", "O'Neil", "")),
        ("jane mcdonald, l.m.t.", ("Jane", "", "McDonald", "")),
        ("Jane Doe, Licensed Massage Therapist", ("Jane", "", "Doe", "")),
    ],
)
def test_name_parts_leave_credentials_out(raw: str, parts: tuple[str, str, str, str]) -> None:
    assert _parts(raw) == parts


def test_the_same_therapist_written_three_ways_shares_one_key() -> None:
    keys = {
        parse_person_name(raw).value.name.key
        for raw in ("Jane A. Doe, LMT", "Doe, Jane", "Jane Doe NMT", "JANE DOE")
    }
    assert keys == {"jane doe"}


def test_credentials_after_the_name_come_back_raw_and_resolved() -> None:
    assert _letters("Dr. John Q. Public Jr., LMBT, BCTMB") == [("LMBT", "lmbt"), ("BCTMB", "bctmb")]
    assert _letters("Jane Doe, LMT, BCTMB, CNMT") == [
        ("LMT", "lmt"),
        ("BCTMB", "bctmb"),
        ("CNMT", "cnmt"),
    ]
    assert _letters("jane doe, l.m.t.") == [("l.m.t.", "lmt")]
    assert _letters("Jane Doe, Licensed Massage Therapist") == [
        ("Licensed Massage Therapist", "lmt")
    ]


def test_nmt_after_a_name_is_the_neuromuscular_certificate() -> None:
    result = parse_person_name("Jane Doe NMT")
    assert [(c.raw, c.credential_id) for c in result.value.credentials] == [("NMT", "cnmt")]
    assert result.flags == ()


def test_letters_the_taxonomy_does_not_know_are_kept_and_flagged() -> None:
    result = parse_person_name("Jane Doe, LMT, XYZQ")
    assert [(c.raw, c.credential_id) for c in result.value.credentials] == [
        ("LMT", "lmt"),
        ("XYZQ", None),
    ]
    assert [(f.field, f.reason, f.raw) for f in result.flags] == [
        ("name.credentials", "unknown_credential", "XYZQ")
    ]


def test_display_drops_title_and_credentials_but_keeps_generation() -> None:
    name = parse_person_name("Dr. John Q. Public Jr., LMBT, BCTMB").value.name
    assert name.display == "John Q. Public Jr."
    assert name.title == "Dr."
    assert parse_person_name('Robert "Bob" Smith iii').value.name.display == "Robert Smith III"


@pytest.mark.parametrize(
    ("nickname", "formal"),
    [("Bob Smith", "Robert Smith"), ("Liz Doe", "Elizabeth Doe"), ("Kate Roe", "Katherine Roe")],
)
def test_nicknames_share_the_formal_names_key(nickname: str, formal: str) -> None:
    assert parse_person_name(nickname).value.name.key == parse_person_name(formal).value.name.key


def test_key_ignores_punctuation_and_spacing_in_last_names() -> None:
    assert parse_person_name("Mary O'Neil").value.name.key == "mary oneil"
    assert parse_person_name("Mary ONeil").value.name.key == "mary oneil"
    assert parse_person_name("Jose de la Cruz").value.name.key == "jose delacruz"


def test_ambiguous_short_forms_are_not_merged() -> None:
    assert parse_person_name("Chris Doe").value.name.key == "chris doe"
    assert parse_person_name("Christopher Doe").value.name.key == "christopher doe"


def test_surname_that_looks_like_a_degree_stays_a_surname() -> None:
    assert _parts("Jane Ma") == ("Jane", "", "Ma", "")


def test_practice_names_are_not_people() -> None:
    result = parse_person_name("Austin Massage Center")
    assert result.value is None
    assert [f.reason for f in result.flags] == ["not_a_person"]


def test_a_lone_first_name_is_kept_but_flagged_and_has_no_key() -> None:
    result = parse_person_name("Jane")
    assert result.value.name.first == "Jane"
    assert result.value.name.key is None
    assert [f.reason for f in result.flags] == ["incomplete_name"]


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_missing_name_is_flagged(raw: str | None) -> None:
    result = parse_person_name(raw)
    assert result.value is None
    assert [f.reason for f in result.flags] == ["missing_name"]


def test_every_nickname_belongs_to_one_group() -> None:
    text = resources.files("indexer").joinpath("data/person_names.yaml").read_text("utf-8")
    seen: list[str] = [fold(n) for group in yaml.safe_load(text)["nicknames"] for n in group]
    assert len(seen) == len(set(seen))


# -- plain names read without nameparser's pipeline agree with nameparser ------------------------

_RESERVED = ["Van", "Von", "De", "Del", "La", "Dr", "Mr", "Sir", "King", "Jr", "Sr", "Iii", "Iv"]
_RESERVED += ["Phd", "And", "Of", "Abu", "Abdul", "Dos", "Esq", "Lmt", "Rn", "Ma", "Md", "Jd"]
_RESERVED += ["Bem", "St", "E", "Y", "Mac"]
_NAME_WORD = st.one_of(
    st.from_regex(r"[A-Z][a-z]{1,9}", fullmatch=True),
    st.from_regex(r"(Mc|Mac|O)[A-Z][a-z]{2,6}", fullmatch=True),
    st.from_regex(r"[A-Z][a-z]{1,6}-[A-Z][a-z]{1,6}", fullmatch=True),
    # Words nameparser gives a role (titles, suffixes, prefixes, conjunctions), capitalised.
    st.sampled_from(_RESERVED),
    st.builds(lambda w: f"{w}-Smith", st.sampled_from(_RESERVED)),
)
_INITIAL = st.builds(
    lambda c, dot: c + dot, st.sampled_from(string.ascii_uppercase), st.sampled_from([".", ""])
)


@st.composite
def _listed_name(draw: st.DrawFn) -> str:
    first, last = draw(_NAME_WORD), draw(_NAME_WORD)
    middle = draw(st.one_of(st.none(), _NAME_WORD, _INITIAL))
    more = draw(st.lists(_NAME_WORD, max_size=2))
    if draw(st.booleans()):
        return ", ".join([last, " ".join(p for p in (first, middle, *more) if p)])
    return " ".join(p for p in (first, middle, last, *more) if p)


@settings(max_examples=1500, deadline=None)
@given(text=_listed_name())
def test_listed_names_split_as_nameparser_splits_them(text: str) -> None:
    constants = _constants(load_taxonomy())
    parsed = HumanName(text, constants=constants)
    suffixes = [token for piece in parsed.suffix_list for token in piece.split()]
    parsed.capitalize()
    expected = (parsed.title, parsed.first, parsed.middle, parsed.last, suffixes)
    assert name_parts(text, constants) == expected


def test_a_repeated_name_is_parsed_once() -> None:
    first = parse_person_name("Rosalind Featherstonehaugh-Quill, LMT")
    assert parse_person_name("Rosalind Featherstonehaugh-Quill, LMT") is first
    assert parse_person_name("Rosalind Featherstonehaugh-Quill, LMT", field="holder") is not first


def test_a_practice_name_is_noted_but_puts_nobody_up_for_review() -> None:
    # Every Yelp and Google listing is a business's: nothing for an admin to correct.
    [flag] = parse_person_name("Emily Trevino Massage Therapy").flags
    assert flag.reason == "not_a_person" and not flag.needs_review
    [flag] = parse_person_name("").flags
    assert flag.needs_review
