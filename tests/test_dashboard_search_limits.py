"""Search words longer than a search takes, through ``AppTest``: typed in the box or read from
a link, they are cut after the last whole word that fits, and the box and the URL hold the same
words, so a reload reads back exactly what was searched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dashboard.search_state import MAX_TEXT, clip_words
from indexer.search import QueryError, SearchQuery
from tests.e2e.apptest import SEARCH, open_page, point_app_at, shown
from tests.e2e.dashboard_world import ZIP, profiles

WORDS = [f"word{n:03d}" for n in range(100)]
LONG = " ".join(WORDS)  # 100 words of 7 letters: 799 characters
# 62 words and 61 spaces are 495 characters; a 63rd word would make 503.
KEPT = " ".join(WORDS[:62])
CUT_NOTICE = (
    "The search words had more than 500 characters: cut after the last whole word that fits."
)


@pytest.fixture
def directory(
    sqlite_backend: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Any:
    sqlite_backend.rebuild(profiles())
    point_app_at(sqlite_backend, tmp_path, monkeypatch, request)
    return sqlite_backend


def warnings(at: Any) -> list[str]:
    return [shown(w.value) for w in at.warning]


def test_the_limit_is_the_one_a_search_query_takes() -> None:
    SearchQuery(text="x" * MAX_TEXT)
    with pytest.raises(QueryError, match="longer than 500"):
        SearchQuery(text="x" * (MAX_TEXT + 1))


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (LONG, KEPT),
        ("ab " * 166 + "cd", "ab " * 166 + "cd"),  # 500 characters: nothing to cut
        ("a" * 499 + " bc", "a" * 499),  # the space falls right at the limit
        ("a" * 600, "a" * 500),  # one word longer than the limit has no end to cut at
    ],
)
def test_words_are_cut_after_the_last_whole_word(text: str, kept: str) -> None:
    assert clip_words(text, 500) == kept
    assert clip_words(kept, 500) == kept  # what was cut reads back unchanged


def test_long_typed_words_are_cut_at_a_word_in_the_box_and_the_url(directory: Any) -> None:
    at = open_page(SEARCH, {"near": ZIP})
    at.text_input(key="s_text").input(LONG).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.text_input(key="s_text").value == KEPT
    assert at.query_params["q"] == KEPT
    assert CUT_NOTICE in warnings(at)

    # A reload of that URL searches for the same words, and has nothing to cut.
    again = open_page(SEARCH, {"near": ZIP, "q": at.query_params["q"]})
    assert again.text_input(key="s_text").value == KEPT
    assert again.query_params["q"] == KEPT
    assert not any("500 characters" in w for w in warnings(again))


def test_a_link_with_long_words_is_cut_the_same_way(directory: Any) -> None:
    at = open_page(SEARCH, {"near": ZIP, "q": LONG})
    assert at.text_input(key="s_text").value == KEPT
    assert at.query_params["q"] == KEPT
    notice = next(w for w in warnings(at) if w.startswith("Some parts of this link"))
    assert CUT_NOTICE in notice
