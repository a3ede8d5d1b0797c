"""Both backends take a stream of profiles as it comes: a profile given twice keeps its last
version, whether the stream is an upsert or a rebuild."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from indexer.profile import Profile
from indexer.search import SearchQuery


@pytest.fixture(params=["sqlite", "elasticsearch"])
def backend(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(f"{request.param}_backend")


@pytest.mark.parametrize("how", ["upsert", "rebuild"])
def test_a_profile_given_twice_keeps_its_last_version(
    backend: Any, contract_data: dict[str, Any], how: str
) -> None:
    profiles: list[Profile] = contract_data["profiles"]
    first, second = profiles[0], profiles[1]
    renamed = replace(first, name="Renamed Therapist")
    stream = iter([first, second, *profiles[2:], renamed])  # a generator, read once
    written = getattr(backend, how)(stream)
    assert written == len(profiles) + 1
    assert backend.get(first.id).name == "Renamed Therapist"
    assert backend.get(second.id).name == second.name
    assert backend.count() == len(profiles)
    found = backend.search(SearchQuery(text="Renamed Therapist", page_size=5))
    assert found.ids[:1] == [first.id]
