"""The stored form of a profile, built field by field, is exactly ``Profile.to_dict()``: what
both backends store and what the content hash is taken over."""

from __future__ import annotations

import json
from typing import Any

import pytest

from benchmarks.search_latency import Population
from indexer.build import EXPLANATION_KEYS, FRESHNESS_KEYS
from indexer.profile import Profile
from indexer.search.document import stored_form, stored_json
from indexer.taxonomy import load_taxonomy


def _profiles(contract_data: dict[str, Any]) -> list[Profile]:
    synthetic = Population(load_taxonomy(), seed=7).profiles(300)
    return [*contract_data["profiles"], *synthetic]


def _without(value: Any, keys: frozenset[str]) -> Any:
    if isinstance(value, dict):
        return {k: _without(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list | tuple):
        return [_without(v, keys) for v in value]
    return value


def test_the_stored_json_is_to_dicts_json_byte_for_byte(contract_data: dict[str, Any]) -> None:
    for profile in _profiles(contract_data):
        expected = json.dumps(profile.to_dict(), ensure_ascii=False, separators=(",", ":"))
        assert stored_json(profile) == expected, profile.id
        # It reads back as the same profile.
        assert Profile.from_dict(json.loads(stored_json(profile))) == profile


@pytest.mark.parametrize("leave_out", [FRESHNESS_KEYS | EXPLANATION_KEYS, frozenset({"id"})])
def test_leaving_keys_out_removes_them_wherever_they_are(
    contract_data: dict[str, Any], leave_out: frozenset[str]
) -> None:
    for profile in _profiles(contract_data):
        form = json.loads(json.dumps(stored_form(profile, leave_out=leave_out)))
        assert form == _without(json.loads(json.dumps(profile.to_dict())), leave_out)


def test_the_form_shares_nothing_mutable_with_the_profile(contract_data: dict[str, Any]) -> None:
    profile = contract_data["profiles"][0]
    before = json.dumps(profile.to_dict(), sort_keys=True)
    form = stored_form(profile)
    for value in form.values():
        if isinstance(value, dict):
            value["tampered"] = True
        elif isinstance(value, list):
            value.append("tampered")
    assert json.dumps(profile.to_dict(), sort_keys=True) == before
