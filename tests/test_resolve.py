"""Entity resolution rules on hand-made listings."""

from __future__ import annotations

from dataclasses import replace

from indexer.resolve import ListingKeys, generation, match_reason, resolve

JANE = ListingKeys(
    id="a1",
    source="atlas",
    name_key="jane doe",
    last_name="doe",
    full_name="jane a doe",
    phone="+15125550100",
    zip5="78704",
    city_key="austin tx",
    street_key="1200 s congress|200|78704",
    lat=30.25,
    lon=-97.75,
    npi=None,
)


def test_same_name_and_phone_is_one_therapist() -> None:
    other = replace(JANE, id="g1", source="guild", street_key=None, lat=None, lon=None, zip5=None)
    assert match_reason(JANE, other) == "same name + phone"


def test_a_shared_practice_phone_does_not_merge_colleagues() -> None:
    colleague = replace(
        JANE, id="g2", name_key="maria garcia", last_name="garcia", full_name="maria garcia"
    )
    assert match_reason(JANE, colleague) is None


def test_a_name_alone_is_not_enough() -> None:
    namesake = replace(
        JANE,
        id="p1",
        phone=None,
        zip5="10001",
        city_key="new york ny",
        street_key=None,
        lat=40.7,
        lon=-74.0,
    )
    assert match_reason(JANE, namesake) is None


def test_a_moved_therapist_is_joined_by_phone() -> None:
    moved = replace(JANE, id="p2", street_key="9 oak st||78745", zip5="78745", lat=30.2, lon=-97.8)
    clusters = resolve([JANE, moved])
    assert [c.listing_ids for c in clusters] == [["a1", "p2"]]
    assert clusters[0].evidence[0]["reason"] == "same name + phone"


def test_same_npi_joins_listings_with_nothing_else_in_common() -> None:
    a = replace(JANE, npi="1234567893")
    b = replace(
        JANE,
        id="n1",
        phone=None,
        zip5=None,
        city_key=None,
        street_key=None,
        lat=None,
        lon=None,
        npi="1234567893",
        full_name="jane doe",
    )
    assert [c.listing_ids for c in resolve([a, b])] == [["a1", "n1"]]


def test_different_npis_are_never_merged() -> None:
    a = replace(JANE, npi="1234567893")
    b = replace(JANE, id="z9", npi="1245319599")
    assert len(resolve([a, b])) == 2


def test_different_license_numbers_in_one_state_are_never_merged() -> None:
    a = replace(JANE, licenses=frozenset({("TX", "MT111")}))
    b = replace(JANE, id="z8", licenses=frozenset({("TX", "MT222")}))
    c = replace(JANE, id="z7", licenses=frozenset({("FL", "MA333")}))
    clusters = resolve([a, b, c])
    assert ["a1", "z7"] in [cl.listing_ids for cl in clusters]
    assert ["z8"] in [cl.listing_ids for cl in clusters]


def test_nickname_and_middle_initial_still_agree() -> None:
    bob = replace(JANE, id="b1", name_key="robert smith", last_name="smith", full_name="bob smith")
    robert = replace(
        bob,
        id="b2",
        full_name="robert j smith",
        zip5=None,
        city_key=None,
        lat=None,
        lon=None,
        street_key=None,
    )
    assert match_reason(bob, robert) == "same name + phone"


def test_senior_and_junior_at_one_practice_stay_two_therapists() -> None:
    senior = replace(JANE, id="a1", generation="sr")
    junior = replace(JANE, id="g1", source="guild", generation="jr")
    assert match_reason(senior, junior) is not None  # everything else agrees
    assert [c.listing_ids for c in resolve([senior, junior])] == [["a1"], ["g1"]]


def test_a_listing_without_the_suffix_joins_the_one_with_it() -> None:
    junior = replace(JANE, id="a1", generation="jr")
    plain = replace(JANE, id="g1", source="guild")
    same = replace(JANE, id="p1", source="pages", generation="jr")
    assert [c.listing_ids for c in resolve([junior, plain, same])] == [["a1", "g1", "p1"]]


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
