"""The records' feed form: to_dict is dataclasses.asdict, and from_dict its inverse."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.items import (
    ClaimedCredential,
    CredentialRecord,
    Listing,
    PostalAddress,
    PracticeLocation,
    Provenance,
    Rating,
    Review,
    from_dict,
    to_dict,
)

text = st.text(max_size=12)
maybe_text = st.none() | text
json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
extras = st.dictionaries(text, json_value, max_size=4)
provenance = st.builds(Provenance, text, text, text, text)
address = st.builds(PostalAddress, maybe_text, maybe_text, maybe_text, maybe_text, maybe_text)
rating = st.builds(
    Rating, text, st.none() | st.floats(0, 10), st.floats(1, 10), st.floats(0, 1), st.none()
)
listing = st.builds(
    Listing,
    id=text,
    provenance=provenance,
    source_ref=text,
    name_raw=text,
    address=st.none() | address,
    latitude=st.none() | st.floats(-90, 90),
    other_locations=st.lists(st.builds(PracticeLocation, st.none() | address), max_size=2),
    modalities_raw=st.lists(text, max_size=3),
    credentials=st.lists(st.builds(ClaimedCredential, text, maybe_text), max_size=2),
    aggregate_rating=st.none() | rating,
    extras=extras,
)
review = st.builds(
    Review,
    text,
    provenance,
    text,
    maybe_text,
    st.none() | rating,
    maybe_text,
    maybe_text,
    extras=extras,
)
credential = st.builds(
    CredentialRecord,
    text,
    provenance,
    st.sampled_from(["state_board", "certification_registry", "npi_registry"]),
    text,
    text,
    maybe_text,
    text,
    address=st.none() | address,
    extras=extras,
)


@settings(max_examples=200)
@given(st.one_of(listing, review, credential))
def test_the_feed_form_is_asdict_and_reads_back(record: Any) -> None:
    data = to_dict(record)
    assert data == dataclasses.asdict(record)
    # The form is what the feed writes: it survives JSON, and from_dict rebuilds the record.
    assert json.loads(json.dumps(data)) == json.loads(json.dumps(dataclasses.asdict(record)))
    assert from_dict(json.loads(json.dumps(data))) == from_dict(
        json.loads(json.dumps(dataclasses.asdict(record)))
    )


def test_the_feed_form_shares_nothing_mutable_with_the_record() -> None:
    record = Listing(
        id="x",
        provenance=Provenance("s", "u", "t", "h"),
        source_ref="u",
        name_raw="Ann",
        modalities_raw=["NMT"],
        extras={"hours": {"mon": ["9-5"]}},
    )
    data = to_dict(record)
    data["modalities_raw"].append("Swedish")
    data["extras"]["hours"]["mon"].append("late")
    assert record.modalities_raw == ["NMT"]
    assert record.extras == {"hours": {"mon": ["9-5"]}}
