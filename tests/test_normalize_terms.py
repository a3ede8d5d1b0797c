"""Modality, condition and credential phrases to taxonomy ids; unknown ones kept and flagged."""

from __future__ import annotations

import pytest

from indexer.normalize.terms import normalize_terms, split_terms


def _ids(vocabulary: str, raws: str | list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    match = normalize_terms(vocabulary, raws).value
    return match.ids, match.unknown


@pytest.mark.parametrize(
    ("raw", "ids"),
    [
        (
            "NMT, trigger-point & deep tissue",
            ("neuromuscular_therapy", "trigger_point_therapy", "deep_tissue"),
        ),
        ("Neuromuscular Therapy (NMT)", ("neuromuscular_therapy",)),
        ("Swedish/Relaxation", ("swedish_massage",)),
        ("Stretching and Mobilization, PNF", ("stretching_mobilization", "pnf_stretching")),
        (
            "Myofascial Release; Cranio-Sacral | MLD",
            ("myofascial_release", "craniosacral", "lymphatic_drainage"),
        ),
        ("Trigger Pt. Therapy", ("trigger_point_therapy",)),
        ("Swedish + Hot Stones", ("swedish_massage", "hot_stone")),
        ("NMT - St. John Method", ("neuromuscular_therapy",)),
    ],
)
def test_lists_in_one_string_resolve_to_ids(raw: str, ids: tuple[str, ...]) -> None:
    assert _ids("modality", raw) == (ids, ())


def test_several_strings_and_repeats_give_each_id_once_in_order() -> None:
    assert _ids("modality", ["Deep Tissue Massage", "NMT", "deep tissue", "Neuro-Muscular"]) == (
        ("deep_tissue", "neuromuscular_therapy"),
        (),
    )


def test_unknown_terms_are_kept_and_flagged() -> None:
    result = normalize_terms("modality", ["aromatherapy, hot stones", "Reiki"])
    assert result.value.ids == ("hot_stone",)
    assert result.value.unknown == ("aromatherapy", "Reiki")
    assert [(f.field, f.reason, f.raw) for f in result.flags] == [
        ("modalities", "unknown_term", "aromatherapy"),
        ("modalities", "unknown_term", "Reiki"),
    ]


def test_a_known_phrase_inside_unknown_words_is_used_and_the_piece_flagged() -> None:
    result = normalize_terms("modality", "NMT for athletes")
    assert result.value.ids == ("neuromuscular_therapy",)
    assert [(f.reason, f.raw) for f in result.flags] == [("partial_term", "NMT for athletes")]


def test_conditions() -> None:
    assert _ids("condition", ["Sciatica; TMJ", "stiff neck and neck pain", "knee pain"]) == (
        ("sciatica", "tmj", "neck_pain"),
        ("knee pain",),
    )


def test_credentials() -> None:
    assert _ids("credential", "Board Certified (BCTMB)") == (("bctmb",), ())
    assert _ids("credential", "LMT, BCTMB, AMTA Member") == (("lmt", "bctmb", "amta_member"), ())
    assert _ids("credential", "Licensed Massage Therapist (LMT)") == (("lmt",), ())


def test_split_keeps_hyphenated_words_whole() -> None:
    assert [piece for piece, _ in split_terms("trigger-point, Myo-fascial Release")] == [
        "trigger-point",
        "Myo-fascial Release",
    ]


def test_nothing_given() -> None:
    assert normalize_terms("modality", []).value.ids == ()
    assert normalize_terms("modality", ["", "  "]).flags == ()


def test_a_term_with_only_filler_words_left_is_not_flagged() -> None:
    for raw in ("Neuro-muscular Tx", "trigger point sessions", "NMT therapy"):
        result = normalize_terms("modality", raw)
        assert result.value is not None and result.value.ids, raw
        assert result.flags == (), raw


def test_leftover_words_are_reported_but_do_not_put_a_profile_up_for_review() -> None:
    (flag,) = normalize_terms("modality", "NMT for athletes").flags
    assert flag.reason == "partial_term" and not flag.needs_review
