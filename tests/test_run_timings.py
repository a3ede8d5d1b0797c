"""The dashboard's run timings: one line per run when asked for, nothing otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dashboard.run_timings import TIMINGS_ENV, timed_run


def test_each_run_is_one_line_even_when_it_ends_in_an_exception(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "timings.jsonl"
    monkeypatch.setenv(TIMINGS_ENV, str(log))
    with timed_run("/"):
        sum(range(10_000))
    with pytest.raises(RuntimeError), timed_run("/profile"):
        raise RuntimeError("a rerun stops the script like this")
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["page"] for line in lines] == ["/", "/profile"]
    assert all(0 <= line["seconds"] < 60 for line in lines)


def test_nothing_is_written_unless_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TIMINGS_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    with timed_run("/"):
        pass
    assert list(tmp_path.iterdir()) == []
