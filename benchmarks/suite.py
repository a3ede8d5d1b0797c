"""The benchmark suite: every stage of the pipeline beside its raw baseline, in one table.

    .venv/bin/python -m benchmarks all                  # the sizes the README quotes
    .venv/bin/python -m benchmarks all --quick          # small sizes: a few minutes
    .venv/bin/python -m benchmarks all --only extraction "cli search" --json var/bench/suite.json

Each stage is a module of this package with a function ``run(quick) -> StageResult`` (some
modules hold two stages, under two function names); the module's own command line runs the
same function with sizes of its own choosing. Every stage checks that its baseline (code of
this package, written by hand with nothing of tdir in it) gives the same results as tdir before
anything is timed, then times the two in alternation, in the same process tree, and quotes
medians.

The suite runs each stage in a process of its own (``python -m benchmarks stage NAME``), so
that one stage's memory is not the next one's, and prints one table: the medians of tdir and of
the baseline, their ratio (tdir's time per unit of work over the baseline's: above 1, tdir is
slower), the sizes, and the peak resident memory the stage reports (each stage says whose: its
own process, or the child process that ran tdir's side). A stage whose module is not there
(yet) is shown as "not available"; a stage that fails is shown as failed, with its error, and
the others still run.

Stages that need Elasticsearch use ``TDIR_ES_URL`` if set, else one local node the suite starts
for all of them (as the tests provision theirs, ``tests/support/elasticsearch_node.py``).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import importlib
import importlib.util
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from benchmarks.measure import run_child


@dataclass(frozen=True)
class StageResult:
    """One stage's figures, beside its raw baseline, as a row of the suite's table.

    ``tdir`` and ``baseline`` are the medians as printed, units included ("2.31 ms/page");
    ``ratio`` is tdir's cost over the baseline's (above 1: tdir is slower), ``None`` where the
    stage has no baseline; ``sizes`` says what was measured ("300 pages, 7 rounds");
    ``peak_rss_mb`` is the peak resident set of the process (or processes) that did the work,
    ``None`` where not measured; ``notes`` says how (which processes, CPU or wall time, ...).
    """

    stage: str
    tdir: str
    baseline: str
    ratio: float | None
    sizes: str
    peak_rss_mb: float | None
    notes: str = ""


@dataclass(frozen=True)
class Stage:
    """A stage of the suite: where its ``run(quick) -> StageResult`` function is."""

    name: str
    module: str
    function: str = "run"
    needs_elasticsearch: bool = False


# In the order of a listing's path: fetched, extracted, built into profiles, written, searched.
STAGES = (
    Stage("crawl", "benchmarks.crawl"),
    Stage("extraction", "benchmarks.extraction"),
    Stage("nppes file", "benchmarks.nppes_file"),
    Stage("index build", "benchmarks.build"),
    Stage("index write sqlite", "benchmarks.index_write", "run_sqlite"),
    Stage("index write es", "benchmarks.index_write", "run_elasticsearch", True),
    Stage("search sqlite", "benchmarks.search_latency"),
    Stage("search es", "benchmarks.search_elasticsearch", needs_elasticsearch=True),
    Stage("cli search", "benchmarks.cli_latency"),
)

Status = Literal["ok", "not available", "failed"]


@dataclass(frozen=True)
class Row:
    """What the suite got from one stage: its result, or why there is none."""

    stage: str
    status: Status
    result: StageResult | None = None
    reason: str = ""

    def as_json(self) -> dict[str, Any]:
        figures = dataclasses.asdict(self.result) if self.result else {}
        return {"stage": self.stage, "status": self.status, "reason": self.reason, **figures}


def stage_named(name: str) -> Stage:
    """The stage of this name (case, hyphens and underscores aside); a clear error if none."""
    wanted = " ".join(name.lower().replace("-", " ").replace("_", " ").split())
    for stage in STAGES:
        if stage.name == wanted:
            return stage
    known = ", ".join(repr(s.name) for s in STAGES)
    raise ValueError(f"no benchmark stage {name!r}; the stages are {known}")


def available(stage: Stage) -> str | None:
    """Why the stage cannot run here (its module is not there), or None."""
    if importlib.util.find_spec(stage.module) is None:
        return f"not available: {stage.module.replace('.', '/')}.py does not exist"
    return None


def run_here(stage: Stage, quick: bool) -> StageResult:
    """Run one stage in this process."""
    function = getattr(importlib.import_module(stage.module), stage.function, None)
    if function is None:
        raise ValueError(f"{stage.module} has no {stage.function}(quick) for the suite")
    result = function(quick)
    if not isinstance(result, StageResult):
        raise TypeError(f"{stage.module}.{stage.function} returned {type(result).__name__}")
    return result


def run_in_child(stage: Stage, quick: bool, env: dict[str, str]) -> Row:
    """Run one stage in a process of its own; its row of the table."""
    with tempfile.TemporaryDirectory(prefix="tdir-suite-") as scratch:
        out = Path(scratch) / "result.json"
        command = [sys.executable, "-m", "benchmarks", "stage", stage.module, stage.function]
        command += ["--result", str(out)]
        command += ["--quick"] if quick else []
        child = run_child(command, env=env, capture=False, check=False)
        saved = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
        if saved.get("error"):
            return Row(stage.name, "failed", reason=saved["error"])
        if child.returncode != 0 or "result" not in saved:
            reason = f"the stage's process exited with {child.returncode} and no result"
            return Row(stage.name, "failed", reason=reason)
    result = StageResult(**saved["result"])
    if result.peak_rss_mb is None:  # the stage did not say: its whole process's
        note = f"peak RSS: the stage's process ({child.peak_rss_mb:.0f} MB)"
        notes = "; ".join(n for n in (result.notes, note) if n)
        result = dataclasses.replace(result, peak_rss_mb=child.peak_rss_mb, notes=notes)
    return Row(stage.name, "ok", result)


def stage_main(module: str, function: str, quick: bool, result_path: Path) -> int:
    """The entry point of a stage's process: run it, write its result (or error) as JSON."""
    stage = Stage(f"{module}.{function}", module, function)
    try:
        result = run_here(stage, quick)
    except (Exception, SystemExit) as error:
        result_path.write_text(json.dumps({"error": _reason(error)}), encoding="utf-8")
        raise
    result_path.write_text(json.dumps({"result": dataclasses.asdict(result)}), encoding="utf-8")
    return 0


def _reason(error: BaseException) -> str:
    """An error in one line: its first line, and its last where it ends in a cause (a failed
    child's message ends with the last line of that child's error output)."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    return lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1]}"


@contextlib.contextmanager
def elasticsearch_for(stages: Sequence[Stage]) -> Iterator[str | None]:
    """``TDIR_ES_URL``, else a local node while the suite runs, if any stage needs one."""
    if not any(stage.needs_elasticsearch for stage in stages):
        yield None
        return
    from benchmarks.index_throughput import elasticsearch_url

    with elasticsearch_url() as url:
        yield url


def run_suite(stages: Sequence[Stage], quick: bool) -> list[Row]:
    """Every stage, one after the other, each in its own process; their rows."""
    rows: list[Row] = []
    runnable = [s for s in stages if available(s) is None]
    with contextlib.ExitStack() as stack:
        env = dict(os.environ)
        try:
            url = stack.enter_context(elasticsearch_for(runnable))
        except Exception as error:  # no node: the stages that need one fail, the rest run
            url, node_error = None, f"no Elasticsearch: {error}".splitlines()[0]
        else:
            node_error = ""
        if url:
            env["TDIR_ES_URL"] = url
        for stage in stages:
            why_not = available(stage)
            if why_not:
                rows.append(Row(stage.name, "not available", reason=why_not))
            elif stage.needs_elasticsearch and node_error:
                rows.append(Row(stage.name, "failed", reason=node_error))
            else:
                print(f"== {stage.name}", flush=True)
                rows.append(run_in_child(stage, quick, env))
    return rows


# -- the table --------------------------------------------------------------------------------

COLUMNS = ("stage", "tdir", "baseline", "ratio", "sizes", "peak RSS")


def table_cells(row: Row) -> tuple[str, ...]:
    result = row.result
    if result is None:
        return (row.stage, row.reason if row.status == "not available" else f"failed: {row.reason}")
    ratio = "—" if result.ratio is None else f"{result.ratio:.2f}"
    rss = "—" if result.peak_rss_mb is None else f"{result.peak_rss_mb:,.0f} MB"
    return (row.stage, result.tdir, result.baseline, ratio, result.sizes, rss)


def format_table(rows: Sequence[Row]) -> str:
    """The rows as one Markdown table, padded to line up, then each stage's notes."""
    cells = [COLUMNS, *(table_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in cells if i < len(line)) for i in range(len(COLUMNS))]
    lines = []
    for number, line in enumerate(cells):
        padded = [line[i] if i < len(line) else "" for i in range(len(COLUMNS))]
        lines.append(
            "| " + " | ".join(c.ljust(w) for c, w in zip(padded, widths, strict=True)) + " |"
        )
        if number == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    lines.append("")
    lines.append(
        "ratio: tdir's median time per unit of work / the baseline's (above 1: tdir is slower)."
    )
    for row in rows:
        if row.result and row.result.notes:
            lines.append(f"- {row.stage}: {row.result.notes}")
    return "\n".join(lines)


def print_results(*results: StageResult) -> None:
    """A module's own command line: its stage's row(s), as the suite's table shows them."""
    print()
    print(format_table([Row(result.stage, "ok", result) for result in results]))


def main(argv: list[str] | None = None) -> int:
    """``all``: the suite; ``stage``: one stage, as the suite runs it in a process of its own."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    suite = commands.add_parser("all", help="run every stage (or --only some) and print a table")
    suite.add_argument("--quick", action="store_true", help="small sizes: a few minutes")
    suite.add_argument("--only", nargs="+", metavar="STAGE", help="these stages only")
    suite.add_argument("--json", type=Path, metavar="PATH", help="also write the rows as JSON")
    one = commands.add_parser("stage", help="run one stage and write its result as JSON")
    one.add_argument("module", help="e.g. benchmarks.extraction")
    one.add_argument("function", help="its run(quick) -> StageResult function, e.g. run")
    one.add_argument("--quick", action="store_true")
    one.add_argument("--result", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "stage":
        return stage_main(args.module, args.function, args.quick, args.result)
    try:
        stages = [stage_named(name) for name in args.only] if args.only else list(STAGES)
    except ValueError as error:
        parser.error(str(error))
    started = datetime.datetime.now().astimezone()
    load_before = os.getloadavg()
    rows = run_suite(stages, args.quick)
    load_after = os.getloadavg()
    heading = (
        f"tdir benchmark suite ({'quick' if args.quick else 'full'} sizes), "
        f"{started:%Y-%m-%d %H:%M}, {os.cpu_count()} cores, load average "
        f"{load_before[0]:.1f} at the start, {load_after[0]:.1f} at the end"
    )
    print()
    print(heading)
    print()
    print(format_table(rows))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "quick": args.quick,
            "started": started.isoformat(timespec="seconds"),
            "cpu_count": os.cpu_count(),
            "load_average": [round(load_before[0], 2), round(load_after[0], 2)],
            "stages": [row.as_json() for row in rows],
        }
        args.json.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    return 1 if any(row.status == "failed" for row in rows) else 0
