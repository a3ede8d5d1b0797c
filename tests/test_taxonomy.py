"""The vocabulary file: synonyms, hierarchy, conditions and their integrity checks."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indexer.taxonomy import Taxonomy, UnknownTermError, fold, load_taxonomy


@pytest.mark.parametrize(
    "spelling",
    ["NMT", "nmt", "Neuro-Muscular Therapy", "neuromuscular technique", "neuro muscular", "NMT."],
)
def test_spellings_of_nmt_resolve_to_one_id(spelling: str) -> None:
    assert load_taxonomy().resolve("modality", spelling) == "neuromuscular_therapy"


def test_fold_removes_case_accents_and_punctuation() -> None:
    assert fold("  Cranio-Sacral  Thérapie!! ") == "cranio sacral therapie"


def test_unknown_word_raises() -> None:
    with pytest.raises(UnknownTermError, match="unknown modality 'aromatherapy juggling'"):
        load_taxonomy().resolve("modality", "aromatherapy juggling")


def test_nmt_covers_trigger_points_and_ischemic_compression() -> None:
    expanded = load_taxonomy().expand_modalities(["neuromuscular_therapy"])
    assert {"trigger_point_therapy", "ischemic_compression"} <= set(expanded)


def test_conditions_follow_from_modalities() -> None:
    taxonomy = load_taxonomy()
    assert "sciatica" in taxonomy.conditions_for(["trigger_point_therapy"])
    assert "sciatica" not in taxonomy.conditions_for(["swedish_massage"])
    assert "tmj" in taxonomy.conditions_for(["swedish_massage"], declared=["tmj"])


def test_every_condition_is_addressed_by_some_modality() -> None:
    taxonomy = load_taxonomy()
    for term in taxonomy.terms["condition"].values():
        assert term.addressed_by, term.id


def test_state_license_titles_are_known() -> None:
    taxonomy = load_taxonomy()
    for title, state in [("LMT", None), ("LMBT", "NC"), ("LMP", "WA"), ("RMT", None)]:
        term = taxonomy.term("credential", taxonomy.resolve("credential", title))
        assert term.kind == "state_license"
        if state:
            assert state in term.states


def test_a_spelling_owned_by_two_terms_is_refused() -> None:
    data = {
        "modalities": {
            "a": {"label": "A", "synonyms": ["shared"]},
            "b": {"label": "B", "synonyms": ["Shared"]},
        }
    }
    with pytest.raises(ValueError, match="belongs to both"):
        Taxonomy.from_mapping(data)


def test_a_dangling_reference_is_refused() -> None:
    data = {"modalities": {"a": {"label": "A", "covers": ["nope"]}}}
    with pytest.raises(ValueError, match="unknown modalities"):
        Taxonomy.from_mapping(data)


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
def test_fold_takes_its_ascii_shortcut_to_the_same_answer(text: str) -> None:
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    assert fold(text) == re.sub(r"[\W_]+", " ", bare.casefold()).strip()
