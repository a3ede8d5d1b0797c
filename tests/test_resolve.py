"""Entity resolution on hand-made listings, weighed among a background population.

The linkage model estimates its parameters from the listings it is given, so each case is
resolved together with a few hundred synthetic therapists (with their own duplicates): the
model sees a realistic population, and the case's listings are judged as they would be in a
real build.
"""

from __future__ import annotations

import random
from dataclasses import replace
from itertools import combinations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.synthetic_listings import synthetic_listings
from indexer.comparisons import Licenses, compare_first, compare_last, compare_licenses
from indexer.resolve import ListingKeys, Resolution, generation, resolve, weigh

BACKGROUND, BACKGROUND_TRUTH = synthetic_listings(300, seed=11)

JANE = ListingKeys(
    id="case-a1",
    source="atlas",
    name_key="jane doe",
    last_name="doe",
    full_name="jane a doe",
    first_name="jane",
    phone="+15125550100",
    zip5="78704",
    city_key="austin tx",
    street_key="1200 s congress|200|78704",
    lat=30.25,
    lon=-97.75,
    npi=None,
)


def _resolve(*case: ListingKeys) -> Resolution:
    return resolve([*BACKGROUND, *case])


def _together(resolution: Resolution, *ids: str) -> bool:
    return any(set(ids) <= set(c.listing_ids) for c in resolution.clusters)


def _apart(resolution: Resolution, a: str, b: str) -> bool:
    return not _together(resolution, a, b)


def _evidence(resolution: Resolution, listing_id: str) -> list[dict[str, str]]:
    return next(c.evidence for c in resolution.clusters if listing_id in c.listing_ids)


def _elsewhere(item: ListingKeys, **changes: object) -> ListingKeys:
    """The same person listed at another office of the city with another phone."""
    return replace(
        item,
        phone="+15125559876",
        street_key="9 oak st||78745",
        zip5="78745",
        lat=30.21,
        lon=-97.80,
        **changes,
    )


def test_same_name_and_phone_is_one_therapist() -> None:
    other = replace(JANE, id="case-g1", source="guild", street_key=None, lat=None, lon=None)
    resolution = _resolve(JANE, other)
    assert _together(resolution, "case-a1", "case-g1")
    evidence = _evidence(resolution, "case-a1")
    assert evidence[0]["reason"].startswith("weighed evidence: first name same, surname same")
    assert "phone same" in evidence[0]["fields"]
    assert float(evidence[0]["match_weight"]) > 0


def test_a_shared_practice_phone_does_not_merge_colleagues() -> None:
    colleague = replace(
        JANE,
        id="case-g2",
        name_key="maria garcia",
        last_name="garcia",
        first_name="maria",
        full_name="maria garcia",
    )
    spouse = replace(JANE, id="case-g3", name_key="john doe", first_name="john")
    resolution = _resolve(JANE, colleague, spouse)
    assert _apart(resolution, "case-a1", "case-g2")
    assert _apart(resolution, "case-a1", "case-g3")


def test_a_license_number_bridges_a_married_name_at_a_new_office() -> None:
    licensed = replace(JANE, licenses=frozenset({("TX", "MT48213")}))
    married = _elsewhere(
        licensed, id="case-p1", name_key="jane smith", last_name="smith", full_name="jane smith"
    )
    resolution = _resolve(licensed, married)
    assert _together(resolution, "case-a1", "case-p1")
    evidence = _evidence(resolution, "case-a1")[0]
    assert evidence["reason"] == "same license number and state"
    assert "license same number and state (TX 48213)" in evidence["fields"]
    assert "surname different (-" in evidence["fields"]


def test_a_license_number_without_its_state_bridges_when_the_name_agrees() -> None:
    licensed = replace(JANE, licenses=frozenset({("TX", "48213")}))
    stateless = _elsewhere(JANE, id="case-p2", unstated_licenses=frozenset({"TX48213"}))
    resolution = _resolve(licensed, stateless)
    assert _together(resolution, "case-a1", "case-p2")
    assert _evidence(resolution, "case-a1")[0]["reason"] == "same license number (state not given)"


def test_a_stateless_number_does_not_join_a_stranger_elsewhere() -> None:
    licensed = replace(JANE, licenses=frozenset({("TX", "48213")}))
    stranger = replace(
        _elsewhere(JANE, id="case-p3", unstated_licenses=frozenset({"48213"})),
        name_key="omar haddad",
        first_name="omar",
        last_name="haddad",
        full_name="omar haddad",
        city_key="seattle wa",
        zip5="98101",
        street_key="1 pike st||98101",
        lat=47.6,
        lon=-122.3,
    )
    assert _apart(_resolve(licensed, stranger), "case-a1", "case-p3")


def test_a_one_letter_surname_typo_with_the_same_phone_and_address_is_one_therapist() -> None:
    typo = replace(
        JANE, id="case-g4", name_key="jane dooe", last_name="dooe", full_name="jane dooe"
    )
    assert compare_last("doe", "dooe") == 1
    assert _together(_resolve(JANE, typo), "case-a1", "case-g4")


def test_nicknames_come_from_the_dataset_and_the_fields_own_groups() -> None:
    assert compare_first("peggy", "margaret") == 1  # the nicknames package
    assert compare_first("sasha", "alexandra") == 1  # person_names.yaml short forms
    assert compare_first("christine", "christopher") == 4  # both Chris, not each other
    peggy = replace(JANE, first_name="margaret", name_key="margaret doe")
    nickname = replace(JANE, id="case-g5", first_name="peggy", name_key="margaret doe")
    assert _together(_resolve(peggy, nickname), "case-a1", "case-g5")


def test_namesakes_in_one_city_with_different_offices_and_licenses_stay_two() -> None:
    first = replace(JANE, licenses=frozenset({("TX", "111111")}))
    second = _elsewhere(JANE, id="case-n2", licenses=frozenset({("TX", "222222")}))
    # An unlicensed listing at the first one's office joins her and cannot glue them together.
    unlicensed = replace(JANE, id="case-n3", source="pages")
    resolution = _resolve(first, second, unlicensed)
    assert _together(resolution, "case-a1", "case-n3")
    assert _apart(resolution, "case-a1", "case-n2")


def test_a_common_name_in_one_city_is_weaker_evidence_than_a_rare_one() -> None:
    common = [
        replace(
            _elsewhere(JANE, id=f"case-c{n}"),
            phone=f"+1512555{n:04d}",
            street_key=f"{n} elm st||78745",
            lat=None,
            lon=None,
        )
        for n in range(12)
    ]
    rare = [
        replace(
            c,
            id=f"case-r{n}",
            first_name="xiomara",
            last_name="quizhpe",
            name_key="xiomara quizhpe",
            full_name="xiomara quizhpe",
        )
        for n, c in enumerate(common[:2])
    ]
    resolution = _resolve(*common, *rare)
    assert not any(_together(resolution, a.id, b.id) for a, b in combinations(common, 2))
    common_terms = weigh(resolution.model, common[0], common[1])
    rare_terms = weigh(resolution.model, rare[0], rare[1])
    # The pairs differ only in how many listings share their names.
    assert [(t.field, t.level) for t in common_terms] == [(t.field, t.level) for t in rare_terms]
    assert sum(t.weight for t in rare_terms) >= sum(t.weight for t in common_terms) + 4
    surname = next(t for t in rare_terms if t.field == "surname")
    assert surname.value == "quizhpe"


def test_senior_and_junior_at_one_practice_stay_two_therapists() -> None:
    senior = replace(JANE, generation="sr")
    junior = replace(JANE, id="case-g1", source="guild", generation="jr")
    assert _apart(_resolve(senior, junior), "case-a1", "case-g1")


def test_a_listing_without_the_suffix_joins_the_one_with_it() -> None:
    junior = replace(JANE, generation="jr")
    plain = replace(JANE, id="case-g1", source="guild")
    same = replace(JANE, id="case-p1", source="pages", generation="jr")
    assert _together(_resolve(junior, plain, same), "case-a1", "case-g1", "case-p1")


def test_different_npis_are_never_merged() -> None:
    a = replace(JANE, npi="1234567893")
    b = replace(JANE, id="case-z9", npi="1245319599")
    assert _apart(_resolve(a, b), "case-a1", "case-z9")


def test_same_npi_joins_listings_with_nothing_else_in_common() -> None:
    a = replace(JANE, npi="1234567893")
    b = replace(
        JANE,
        id="case-n1",
        phone=None,
        zip5=None,
        city_key=None,
        street_key=None,
        lat=None,
        lon=None,
        npi="1234567893",
        first_name="janet",
        name_key="janet roe",
        last_name="roe",
    )
    assert _together(_resolve(a, b), "case-a1", "case-n1")


def test_different_license_numbers_in_one_state_are_never_merged() -> None:
    a = replace(JANE, licenses=frozenset({("TX", "MT111")}))
    b = replace(JANE, id="case-z8", licenses=frozenset({("TX", "MT222")}))
    c = replace(JANE, id="case-z7", licenses=frozenset({("FL", "MA333")}))
    resolution = _resolve(a, b, c)
    assert _together(resolution, "case-a1", "case-z7")
    assert _apart(resolution, "case-a1", "case-z8")


def test_license_comparison_levels() -> None:
    tx = Licenses(frozenset({("TX", "48213")}), frozenset())
    assert compare_licenses(tx, tx) == 0
    assert compare_licenses(tx, Licenses(frozenset(), frozenset({"TX48213"}))) == 1
    assert compare_licenses(tx, Licenses(frozenset({("TX", "9")}), frozenset())) == 2
    assert compare_licenses(tx, Licenses(frozenset({("FL", "9")}), frozenset())) is None
    # One license, written with the board's prefix, a state prefix or bare digits.
    prefixed = Licenses(frozenset({("TX", "MT48213")}), frozenset())
    assert compare_licenses(tx, prefixed) == 0
    assert compare_licenses(prefixed, Licenses(frozenset(), frozenset({"48213"}))) == 1


def test_the_model_is_estimated_from_the_data() -> None:
    model = _resolve().model
    rows = {(r["field"], r["level"]): r for r in model.describe()}
    # Agreement is evidence for, disagreement against, on every field.
    for name in ("first name", "surname", "phone", "NPI"):
        assert rows[(name, "same")]["weight"] > 0 > rows[(name, "different")]["weight"]
    assert 0 < model.prior < 0.01
    other = resolve(synthetic_listings(300, seed=12)[0]).model
    assert other.m != model.m  # another population, other estimates


def test_background_population_is_resolved_well() -> None:
    """The synthetic population's own truth: pairwise F1 of the background alone."""
    resolution = _resolve()
    predicted = {i: c.listing_ids[0] for c in resolution.clusters for i in c.listing_ids}
    ids = sorted(BACKGROUND_TRUTH)
    true_pairs = {
        (a, b) for a, b in combinations(ids, 2) if BACKGROUND_TRUTH[a] == BACKGROUND_TRUTH[b]
    }
    found = {(a, b) for a, b in combinations(ids, 2) if predicted[a] == predicted[b]}
    correct = len(true_pairs & found)
    precision, recall = correct / len(found), correct / len(true_pairs)
    assert precision >= 0.99 and recall >= 0.95, (precision, recall)


def _signature(resolution: Resolution) -> list[tuple[tuple[str, ...], tuple[tuple[str, str], ...]]]:
    return [
        (
            tuple(c.listing_ids),
            tuple(sorted((e["listings"], e["match_weight"]) for e in c.evidence)),
        )
        for c in resolution.clusters
    ]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=2**32 - 1), st.integers(min_value=0, max_value=50))
def test_resolution_does_not_depend_on_the_order_of_listings_or_sources(
    shuffle_seed: int, population_seed: int
) -> None:
    listings, _ = synthetic_listings(120, seed=population_seed)
    expected = _signature(resolve(listings))
    shuffled = listings[:]
    random.Random(shuffle_seed).shuffle(shuffled)
    assert _signature(resolve(shuffled)) == expected
    by_source = sorted(listings, key=lambda k: (k.source != "pages", k.source, k.id))
    assert _signature(resolve(by_source)) == expected


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=200))
def test_no_cluster_holds_two_licenses_of_one_state_two_npis_or_two_generations(seed: int) -> None:
    listings, _ = synthetic_listings(150, seed=seed)
    rng = random.Random(seed)
    # Collisions on purpose: strangers given someone's name, phone and address.
    listings = listings + [
        replace(
            rng.choice(listings),
            id=f"clash-{n}",
            licenses=frozenset({("TX", f"X{n}")}),
            npi=None,
            generation=rng.choice((None, "jr", "sr")),
        )
        for n in range(30)
    ]
    by_id = {k.id: k for k in listings}
    for cluster in resolve(listings).clusters:
        members = [by_id[i] for i in cluster.listing_ids]
        stated: dict[str, set[str]] = {}
        for item in members:
            for state, number in item.licenses:
                stated.setdefault(state, set()).add(number)
        assert all(len(numbers) == 1 for numbers in stated.values()), cluster
        assert len({k.npi for k in members if k.npi}) <= 1, cluster
        assert len({k.generation for k in members if k.generation}) <= 1, cluster


def test_generational_suffixes_are_read_in_one_spelling() -> None:
    assert [generation(s) for s in ("Jr.", "Junior", "JNR", "Sr", "III", "", None)] == [
        "jr",
        "jr",
        "jr",
        "sr",
        "iii",
        None,
        None,
    ]


def test_names_parsed_from_listings_carry_their_generation() -> None:
    from indexer.normalize.names import parse_person_name

    parsed = parse_person_name("Robert L. Smith Jr., LMT").value
    assert parsed is not None and generation(parsed.name.suffix) == "jr"
    plain = parse_person_name("Robert Smith, LMT").value
    assert plain is not None and generation(plain.name.suffix) is None
