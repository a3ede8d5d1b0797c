"""The search contract: the same cases, the same expected answers, on every backend.

The data set (tests/data/contract_profiles.json) is small enough to check by hand; the expected
ids below were worked out from it, not produced by running the code. The search point P is at
30.25, -97.75 (Austin, TX). Relevant facts, distances from P:
  p01 2 km N, NMT, 4.8 (120), LMT+BCTMB verified
  p02 5 km E, trigger point, 4.5 (40), LMT verified
  p03 9.95 km N, deep tissue+sports, 4.9 (8), LMT expired
  p04 10.05 km N, swedish+prenatal, 4.2 (200), LMT verified
  p05 30 km S, myofascial, no rating, LMT not found
  p06 Dallas, NMT+craniosacral, 4.7 (60), LMT+BCTMB verified
  p07 Denver CO, reflexology, 3.9 (15), RMT verified
  p08 Seattle WA, lymphatic, 4.6 (33), LMP verified
  p09 3 km W, INACTIVE, 5.0 (3)
  p10 6 km S, PNF+postural, 4.5 (40), LMT verified
  p11 15 km W and Dallas, NMT, 4.0 (10), LMT unverifiable
  p12 no location, deep tissue, 4.4 (12), no credentials
Flags: credential p05 and p09 (inactive); data p11 and p12.
Alias ids: p06 "t-linda-before-merge"; p09 "t-daniel-before"; p01 and p02 both
"t-shared-before-split".

Best match near a place (no text) ranks by (rating / 5) x 0.5 ** ((distance / 16.09 km) ** 2),
unrated as 4.0, no location 0, ties by rating, reviews, id. Near E, 3.5 km east of P:
  p01 4.03 km, 4.8: 0.96 x 0.957 = 0.919    p02 1.5 km, 4.5: 0.90 x 0.994 = 0.895
  p10 6.95 km, 4.5: 0.90 x 0.879 = 0.791    p03 10.55 km, 4.9: 0.98 x 0.742 = 0.727
  p04 10.64 km, 4.2: 0.84 x 0.738 = 0.620   p11 18.5 km, 4.0: 0.80 x 0.400 = 0.320
  p05 30.2 km, unrated: 0.80 x 0.087 = 0.070
  p06 p07 p08 (hundreds of km: 0) and p12 (no location: 0), by rating: p06 p08 p12 p07.
So rating beats a small lead in distance (p01 over the nearer p02) and not a large one (p03).
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import pytest

from indexer.geo import GeoPoint
from indexer.profile import Profile, Rating
from indexer.search import QueryError, SearchQuery
from tests.support.waiting import wait_until

P = GeoPoint(30.25, -97.75)
E = GeoPoint(30.25, -97.7136)  # 3.5 km east of P
ALL_ACTIVE_BY_RATING = ["p03", "p01", "p06", "p08", "p02", "p10", "p12", "p04", "p11", "p07", "p05"]


@pytest.fixture
def loaded(backend: Any, contract_data: dict[str, Any]) -> Any:
    backend.rebuild(contract_data["profiles"])
    return backend


def ids(backend: Any, **query: Any) -> list[str]:
    return backend.search(SearchQuery(page_size=100, **query)).ids


def test_everything_active_is_found_and_inactive_is_not(loaded: Any) -> None:
    result = loaded.search(SearchQuery(page_size=100, sort="rating"))
    assert result.ids == ALL_ACTIVE_BY_RATING
    assert result.total == 11
    assert "p09" not in result.ids
    assert loaded.get("p09").name == "Daniel Kim"  # stored, just not searchable
    assert loaded.count() == 12


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        (("credential",), ["p05"]),  # p09 is flagged too, but inactive
        (("data",), ["p12", "p11"]),
        (("credential", "data"), ["p12", "p11", "p05"]),
        ((), ALL_ACTIVE_BY_RATING),
    ],
)
def test_flagged_filter(loaded: Any, kinds: tuple[str, ...], expected: list[str]) -> None:
    assert ids(loaded, flagged=kinds, sort="rating") == expected


def test_flagged_filter_combines_with_others(loaded: Any) -> None:
    assert ids(loaded, flagged="data", state="TX", sort="rating") == ["p11"]
    assert loaded.search(SearchQuery(flagged="credential")).total == 1


def test_a_profile_answers_to_its_alias_ids(loaded: Any) -> None:
    assert loaded.get("t-linda-before-merge").id == "p06"
    assert loaded.get("t-daniel-before").id == "p09"  # inactive, still fetchable
    # Two profiles claiming one old id (a therapist split in two): the smallest id answers.
    assert loaded.get("t-shared-before-split").id == "p01"
    assert loaded.get("t-nobody") is None
    assert loaded.get("p06").id == "p06"


def test_radius_edge_just_inside_and_just_outside(loaded: Any) -> None:
    found = ids(loaded, near=P, radius_km=10, sort="distance")
    assert found == ["p01", "p02", "p10", "p03"]  # p03 at 9.95 km in, p04 at 10.05 km out


def test_radius_in_miles_converts(loaded: Any) -> None:
    from indexer.search import parse_radius

    # 10 miles = 16.09 km: p04 (10.05 km) and p11 (15 km) come in, p05 (30 km) stays out.
    found = ids(loaded, near=P, radius_km=parse_radius("10mi"), sort="distance")
    assert found == ["p01", "p02", "p10", "p03", "p04", "p11"]


def test_distance_sort_and_reported_distances(loaded: Any) -> None:
    result = loaded.search(SearchQuery(near=P, sort="distance", page_size=100))
    assert result.ids == ["p01", "p02", "p10", "p03", "p04", "p11", "p05", "p06", "p07", "p08"]
    distances = {h.id: h.distance_km for h in result.hits}
    assert distances["p01"] == pytest.approx(2.0, abs=0.001)
    assert distances["p03"] == pytest.approx(9.95, abs=0.001)
    assert distances["p04"] == pytest.approx(10.05, abs=0.001)
    assert distances["p11"] == pytest.approx(15.0, abs=0.01)  # nearest of its two locations
    assert "p12" not in result.ids  # no location, no place in a distance order


def test_distance_is_reported_whatever_the_sort(loaded: Any) -> None:
    result = loaded.search(SearchQuery(near=P, radius_km=10, sort="rating"))
    assert result.ids == ["p03", "p01", "p02", "p10"]
    assert all(h.distance_km is not None and h.distance_km <= 10 for h in result.hits)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"modalities": ["neuromuscular_therapy"]}, ["p01", "p06", "p11"]),
        # NMT covers trigger point work, so NMT therapists come with the trigger point ones.
        ({"modalities": ["trigger point"]}, ["p01", "p06", "p02", "p11"]),
        # Sciatica is addressed by NMT and trigger point therapy.
        ({"conditions": ["sciatica"]}, ["p01", "p06", "p02", "p11"]),
        ({"conditions": ["fibromyalgia"]}, ["p08", "p05"]),
        ({"credentials": ["BCTMB"]}, ["p01", "p06"]),
        ({"verified_only": True}, ["p01", "p06", "p08", "p02", "p10", "p04", "p07"]),
        ({"credentials": ["lmt"], "verified_only": True}, ["p01", "p06", "p02", "p10", "p04"]),
        ({"state": "co"}, ["p07"]),
        ({"min_rating": 4.6}, ["p03", "p01", "p06", "p08"]),
        ({"min_reviews": 50}, ["p01", "p06", "p04"]),
        ({"text": "garcia"}, ["p02"]),
        ({"text": "MULLER"}, ["p11"]),  # accents folded: Müller
        ({"text": "jane doe"}, ["p01"]),
        ({"text": "nobody-by-this-name"}, []),
    ],
)
def test_each_filter_alone(loaded: Any, query: dict[str, Any], expected: list[str]) -> None:
    assert ids(loaded, sort="rating", **query) == expected


def test_filters_combine(loaded: Any) -> None:
    assert ids(loaded, sort="rating", modalities=["nmt"], state="TX", verified_only=True) == [
        "p01",
        "p06",
    ]
    assert ids(loaded, near=P, radius_km=12, conditions=["sciatica"], min_reviews=20) == [
        "p01",
        "p02",
    ]
    assert ids(loaded, near=P, radius_km=10, min_rating=4.7, sort="distance") == ["p01", "p03"]


@pytest.mark.parametrize("spelling", ["NMT", "neuro-muscular", "Neuromuscular Technique", "nmt"])
def test_synonyms_resolve_to_one_modality(loaded: Any, spelling: str) -> None:
    assert ids(loaded, sort="rating", modalities=[spelling]) == ["p01", "p06", "p11"]
    # The same words typed as free text mean the same modality.
    assert ids(loaded, sort="rating", text=spelling) == ["p01", "p06", "p11"]


def test_text_mixes_vocabulary_and_words(loaded: Any) -> None:
    assert ids(loaded, text="NMT dallas", sort="rating") == ["p06", "p11"]
    assert ids(loaded, text="sciatica garcia") == ["p02"]


def test_text_naming_a_technique_filters_by_taxonomy_and_scores_by_text(loaded: Any) -> None:
    # The taxonomy decides who matches (NMT covers trigger point work); the words score: only
    # p02 writes "trigger point", so it leads, and the others follow by id with score 0.
    result = loaded.search(SearchQuery(text="trigger point"))
    assert result.ids == ["p02", "p01", "p06", "p11"]
    assert [h.score for h in result.hits] == [1.0, 0.0, 0.0, 0.0]


def test_a_synonym_scores_through_the_label_it_stands_for(loaded: Any) -> None:
    # "NMT" is in nobody's text, but its label "neuromuscular therapy" is, twice in p01's.
    result = loaded.search(SearchQuery(text="NMT"))
    assert result.ids[0] == "p01"
    assert sorted(result.ids) == ["p01", "p06", "p11"]
    assert all(0 < h.score <= 1 for h in result.hits)


def test_words_beside_a_technique_stay_required(loaded: Any) -> None:
    assert ids(loaded, text="trigger point garcia") == ["p02"]
    assert ids(loaded, text="trigger point doe") == ["p01"]  # through NMT
    assert ids(loaded, text="trigger point nobody") == []


@pytest.mark.parametrize("sort", ["relevance", "rating", "distance"])
def test_text_scores_are_on_one_zero_to_one_scale(loaded: Any, sort: str) -> None:
    full = loaded.search(SearchQuery(text="massage", near=P, sort=sort, page_size=100))
    scores = [h.score for h in full.hits]
    assert len(scores) >= 4
    assert all(s is not None and 0 <= s <= 1 for s in scores)
    assert max(scores) == 1.0
    if sort == "relevance":
        assert scores == sorted(scores, reverse=True)
    # Scored against the best of the whole match set, not of the page.
    first = loaded.search(SearchQuery(text="massage", near=P, sort=sort, page_size=2))
    second = loaded.search(
        SearchQuery(text="massage", near=P, sort=sort, page_size=2, cursor=first.next_cursor)
    )
    assert [h.score for h in second.hits] == pytest.approx(scores[2:4])


def test_without_text_there_is_no_text_score(loaded: Any) -> None:
    assert all(h.score is None for h in loaded.search(SearchQuery(near=P)).hits)
    assert all(h.score is None for h in loaded.search(SearchQuery(state="TX")).hits)


def test_best_match_near_a_place_blends_rating_and_distance(loaded: Any) -> None:
    assert ids(loaded, near=E) == [
        "p01",
        "p02",
        "p10",
        "p03",
        "p04",
        "p11",
        "p05",
        "p06",
        "p08",
        "p12",
        "p07",
    ]
    assert ids(loaded, near=E, radius_km=11, modalities=["trigger point"]) == ["p01", "p02"]
    # Neither the distance order nor the rating order.
    assert ids(loaded, near=E, radius_km=11) == ["p01", "p02", "p10", "p03", "p04"]
    assert ids(loaded, near=E, radius_km=11, sort="distance") == ["p02", "p01", "p10", "p03", "p04"]
    assert ids(loaded, near=E, radius_km=11, sort="rating") == ["p03", "p01", "p02", "p10", "p04"]


def test_best_match_without_a_place_is_the_rating_order(loaded: Any) -> None:
    assert ids(loaded) == ALL_ACTIVE_BY_RATING


def test_relevance_ranks_name_matches_first(loaded: Any) -> None:
    # "park" is p06's surname and in its practice name; no other profile mentions it.
    result = loaded.search(SearchQuery(text="park neuromuscular clinic"))
    assert result.ids[0] == "p06"


def test_facets_count_the_matching_profiles(loaded: Any) -> None:
    result = loaded.search(SearchQuery(near=P, radius_km=10))  # p01 p02 p03 p10
    assert result.facet_counts("modality") == {
        "trigger_point_therapy": 2,  # p01 through NMT, p02
        "ischemic_compression": 2,  # covered by trigger point therapy
        "postural_analysis": 2,  # p01 through NMT, p10
        "neuromuscular_therapy": 1,
        "deep_tissue": 1,
        "sports_massage": 1,
        "pnf_stretching": 1,
    }
    # p03's license expired: no credential to find it by.
    assert result.facet_counts("credential") == {"lmt": 3, "bctmb": 1, "cnmt": 1}
    assert result.facet_counts("verified") == {"true": 3, "false": 1}
    assert result.facet_counts("state") == {"TX": 4}
    assert result.facet_counts("condition")["sports_injury"] == 2  # p03 declared, p10 via PNF
    assert [f.value for f in result.facets["modality"]][:3] == [
        "ischemic_compression",
        "postural_analysis",
        "trigger_point_therapy",
    ]  # by count, then by value


@pytest.mark.parametrize("sort", ["rating", "reviews", "distance", "relevance"])
def test_pagination_has_no_duplicates_or_gaps(loaded: Any, sort: str) -> None:
    full = loaded.search(SearchQuery(near=P, sort=sort, page_size=100)).ids
    pages: list[str] = []
    cursor = None
    for _ in range(10):
        page = loaded.search(SearchQuery(near=P, sort=sort, page_size=3, cursor=cursor))
        pages += page.ids
        assert page.total == len(full)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == full
    assert len(set(pages)) == len(pages)


def test_reviews_sort_breaks_ties_by_rating_then_id(loaded: Any) -> None:
    assert ids(loaded, sort="reviews") == [
        "p04",
        "p01",
        "p06",
        "p02",
        "p10",
        "p08",
        "p07",
        "p12",
        "p11",
        "p03",
        "p05",
    ]


def test_cursor_from_another_search_is_refused(loaded: Any) -> None:
    first = loaded.search(SearchQuery(sort="rating", page_size=2))
    assert first.next_cursor
    with pytest.raises(QueryError) as err:
        SearchQuery(sort="reviews", page_size=2, cursor=first.next_cursor)
    assert err.value.field == "cursor"


def test_upsert_replaces_and_delete_removes(loaded: Any) -> None:
    changed = replace(loaded.get("p07"), rating=Rating(combined=5.0, review_count=500))
    assert loaded.upsert([changed]) == 1
    assert ids(loaded, sort="reviews")[0] == "p07"
    assert loaded.count() == 12
    assert loaded.delete(["p01", "no-such-id"]) == 1
    assert loaded.get("p01") is None
    assert "p01" not in ids(loaded, sort="rating")
    assert ids(loaded, modalities=["nmt"], sort="rating") == ["p06", "p11"]
    assert loaded.count() == 11


def test_rebuild_replaces_everything(loaded: Any, contract_data: dict[str, Any]) -> None:
    subset = [p for p in contract_data["profiles"] if p.id in {"p02", "p07"}]
    assert loaded.rebuild(subset) == 2
    assert ids(loaded, sort="rating") == ["p02", "p07"]
    assert loaded.get("p01") is None


def test_searches_during_a_rebuild_see_old_or_new_never_a_mix(
    loaded: Any, contract_data: dict[str, Any]
) -> None:
    new_profiles = [replace(p, id=f"n{p.id}") for p in contract_data["profiles"][:5]]
    seen: list[tuple[int, frozenset[str]]] = []

    def profiles_between_searches() -> Any:
        # The rebuild gets each profile only once another search has answered, so searches
        # come before it and between its steps, however fast or slow either runs.
        for profile in new_profiles:
            searched = len(seen)
            wait_until(
                lambda searched=searched: len(seen) > searched,
                timeout=120,
                message="a search to answer during the rebuild",
            )
            yield profile

    failed: list[BaseException] = []

    def rebuild() -> None:
        try:
            loaded.rebuild(profiles_between_searches())
        except BaseException as exc:
            failed.append(exc)

    worker = threading.Thread(target=rebuild, daemon=True)
    worker.start()
    while worker.is_alive():
        result = loaded.search(SearchQuery(page_size=100, sort="rating"))
        seen.append((result.total, frozenset(result.ids)))
    worker.join()
    assert not failed, failed
    old = frozenset(ALL_ACTIVE_BY_RATING)
    new = frozenset(p.id for p in new_profiles)
    assert len(seen) >= 5
    assert all(ids_ in (old, new) for _, ids_ in seen), "a search saw a half-built index"
    assert seen[0][1] == old
    final = loaded.search(SearchQuery(page_size=100))
    assert frozenset(final.ids) == new


def test_failed_rebuild_keeps_the_old_index(loaded: Any, contract_data: dict[str, Any]) -> None:
    def broken() -> Any:
        yield contract_data["profiles"][0]
        yield Profile(id="", name="a profile without an id")

    with pytest.raises(ValueError, match="no id"):
        loaded.rebuild(broken())
    assert ids(loaded, sort="rating") == ALL_ACTIVE_BY_RATING


def test_a_credential_its_issuer_says_lapsed_or_never_issued_finds_nobody(loaded: Any) -> None:
    # p03 claims an LMT its board lists as expired, p05 one the board does not know.
    found = set(loaded.search(SearchQuery(credentials=["lmt"])).ids)
    assert found and not found & {"p03", "p05"}
    assert "p03" in loaded.search(SearchQuery(text="")).ids
