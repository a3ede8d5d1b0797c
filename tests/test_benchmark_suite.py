"""The benchmark suite: one stage run end to end through ``python -m benchmarks all``, its
table and its JSON; stages it cannot run; and the child-process measurements it relies on."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from benchmarks.measure import ChildFailed, alternate, run_child
from benchmarks.suite import Row, Stage, StageResult, format_table, run_suite

ROOT = Path(__file__).resolve().parents[1]
FIELDS = {"stage", "status", "reason", "tdir", "baseline", "ratio", "sizes", "peak_rss_mb", "notes"}


def _suite(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", "all", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.system  # serves a demo web and runs the stage in a process of its own
def test_one_stage_gives_its_row_and_json(tmp_path: Path) -> None:
    out = tmp_path / "suite.json"
    done = _suite("--quick", "--only", "extraction", "--json", str(out))
    assert done.returncode == 0, done.stderr

    rows = [line for line in done.stdout.splitlines() if line.startswith("| extraction ")]
    assert len(rows) == 1, done.stdout
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    stage, tdir, baseline, ratio, sizes, rss = cells
    assert stage == "extraction"
    assert re.fullmatch(r"\d+\.\d+ ms/page", tdir) and re.fullmatch(r"\d+\.\d+ ms/page", baseline)
    assert float(ratio) > 0
    assert re.fullmatch(r"\d+ pages \(100 therapists\), 3 rounds", sizes)
    assert re.fullmatch(r"[\d,]+ MB", rss)

    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["quick"] is True
    [row] = document["stages"]
    assert set(row) == FIELDS
    assert (row["stage"], row["status"]) == ("extraction", "ok")
    assert row["ratio"] > 0 and f"{row['ratio']:.2f}" == ratio
    assert row["peak_rss_mb"] > 0 and row["tdir"] == tdir


def test_an_unknown_stage_is_named() -> None:
    done = _suite("--quick", "--only", "extraction", "indexing")
    assert done.returncode == 2
    assert "no benchmark stage 'indexing'" in done.stderr
    assert "'extraction'" in done.stderr  # the stages there are


def test_a_stage_without_its_module_is_not_available() -> None:
    missing = Stage("index build", "benchmarks.no_such_stage")
    [row] = run_suite([missing], quick=True)
    assert (row.status, row.result) == ("not available", None)
    table = format_table([row])
    assert "| index build | not available: benchmarks/no_such_stage.py does not exist |" in table


def test_a_failing_stage_is_shown_failed_and_the_next_still_runs() -> None:
    # benchmarks.measure is a module without the function the stage names.
    broken = Stage("broken", "benchmarks.measure", "run_missing")
    missing = Stage("later", "benchmarks.no_such_stage")
    rows = run_suite([broken, missing], quick=True)
    assert [(r.stage, r.status) for r in rows] == [("broken", "failed"), ("later", "not available")]
    assert "benchmarks.measure has no run_missing(quick)" in rows[0].reason


def test_the_table_quotes_each_result() -> None:
    result = StageResult("extraction", "1.00 ms/page", "0.25 ms/page", 4.0, "9 pages", 51.2, "n")
    table = format_table([Row("extraction", "ok", result)]).splitlines()
    assert table[0].split("|")[1:-1] == [
        " stage      ",
        " tdir         ",
        " baseline     ",
        " ratio ",
        " sizes   ",
        " peak RSS ",
    ]
    assert table[2] == "| extraction | 1.00 ms/page | 0.25 ms/page | 4.00  | 9 pages | 51 MB    |"
    assert "- extraction: n" in table


def test_a_child_s_peak_memory_is_its_own() -> None:
    # This process holds 200 MB; a child started from it reports its own peak, not this one's.
    held = bytearray(200 * 2**20)
    held[:: 2**12] = b"\x01" * len(held[:: 2**12])
    small = run_child([sys.executable, "-c", "print('hello')"])
    big = run_child(
        [sys.executable, "-c", "b = bytearray(120 * 2**20); b[::4096] = b'1' * len(b[::4096])"]
    )
    assert small.stdout == "hello\n" and small.peak_rss_mb < 60
    assert 120 < big.peak_rss_mb < 200
    assert big.cpu_s > 0 and big.wall_s >= big.cpu_s * 0.5
    del held


def test_a_failing_child_says_why() -> None:
    with pytest.raises(ChildFailed, match=r"exited with 3:\nno input file"):
        run_child(
            [
                sys.executable,
                "-c",
                "import sys; print('no input file', file=sys.stderr); sys.exit(3)",
            ]
        )


def test_sides_alternate_which_goes_first() -> None:
    calls: list[str] = []

    def side(name: str, value: int) -> Callable[[], int]:
        def call() -> int:
            calls.append(name)
            return value

        return call

    results = alternate({"a": side("a", 1), "b": side("b", 2)}, 3)
    assert calls == ["a", "b", "b", "a", "a", "b"]
    assert results == {"a": [1, 1, 1], "b": [2, 2, 2]}
