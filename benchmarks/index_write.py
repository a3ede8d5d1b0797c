"""Benchmark: index writes, beside raw bulk loads of the very same content.

For N synthetic profiles (``benchmarks.search_latency.Population``; 20,000 by default, 2,000
with ``--quick``) it times, per backend, two ways of filling a fresh index:

- **tdir**: ``indexer.build.write_index(..., rebuild=True)``, what ``tdir index --rebuild`` runs
  (content hashes, the backend's ``rebuild``, the saved index state), into a fresh SQLite file or
  a fresh Elasticsearch alias;
- **raw**: the rows or documents tdir stored, read back out of a tdir-built index, loaded by
  plain library calls. SQLite: every table's rows (the same columns, the same serialized JSON),
  ``executemany`` per table in one transaction, into a fresh file with the same schema and the
  same connection settings as tdir's. Elasticsearch: the same ``_source`` documents through
  ``elasticsearch.helpers.parallel_bulk`` into a fresh index with the same mapping, loaded the
  way tdir loads one (no refreshes and no replicas while loading), with the helper's own chunk
  size and threads (500 documents, 4 threads), then refreshed.

Each tdir write starts as one in a ``tdir index`` process does, with nothing folded yet (the
folding cache emptied). Before anything is timed, the raw load's result is checked against
tdir's: every SQLite table holds the same rows; the Elasticsearch index the same number of
documents and the same ``_source`` for a sample of them. Then the two alternate for ``--rounds``
rounds (which goes first alternates too), and it prints the medians: documents per second, their
ratio (tdir / raw), the index's size, and the process's peak RSS::

    .venv/bin/python -m benchmarks.index_write                     # 20,000 profiles, both
    .venv/bin/python -m benchmarks.index_write --quick --backends sqlite
    .venv/bin/python -m benchmarks.index_write --cprofile          # where tdir's write goes

Elasticsearch: ``TDIR_ES_URL`` if set, else a node provisioned as the tests do.
``run_sqlite(quick)`` and ``run_elasticsearch(quick)`` are the benchmark suite's stages
(``python -m benchmarks all``): 20,000 profiles, or 2,000 with ``quick``.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import pstats
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch, helpers

from benchmarks.index_throughput import elasticsearch_url
from benchmarks.measure import alternate, peak_rss_mb
from benchmarks.search_latency import Population
from benchmarks.suite import StageResult, print_results
from indexer.build import write_index
from indexer.profile import Profile
from indexer.search.elasticsearch_backend import ElasticsearchBackend
from indexer.search.sqlite_backend import SqliteBackend
from indexer.state import IndexState
from indexer.taxonomy import Taxonomy, fold, load_taxonomy
from tdir.sqlite import connect

SAMPLE = 200  # documents whose _source is compared between tdir's index and the raw one
QUICK_PROFILES, FULL_PROFILES = 2_000, 20_000
ROUNDS = 5


@dataclass
class Stage:
    """One backend's two ways of writing the same index, and what they produced."""

    name: str
    tdir: Callable[[], float]  # seconds of one write
    raw: Callable[[], float]
    size: Callable[[], int]  # bytes of the last index tdir wrote


# -- SQLite ----------------------------------------------------------------------------------


class SqliteLoad:
    """The tdir write and the raw load into fresh SQLite files under ``root``."""

    def __init__(self, root: Path, profiles: dict[str, Profile], taxonomy: Taxonomy) -> None:
        self.root = root
        self.profiles = profiles
        self.taxonomy = taxonomy
        self.last_tdir: Path | None = None
        reference = self._fresh("reference")
        self._write(reference)
        self.schema, self.user_version, self.tables = _sqlite_content(reference)

    def _fresh(self, label: str) -> Path:
        directory = self.root / f"{label}-{uuid.uuid4().hex[:8]}"
        directory.mkdir(parents=True)
        return directory / "index.sqlite3"

    def _write(self, path: Path) -> float:
        backend = SqliteBackend(path, self.taxonomy)
        state = IndexState(path.with_name("state.json"))
        try:
            fold.cache_clear()  # as in a `tdir index` process, nothing folded yet
            started = time.perf_counter()
            write_index(backend, self.profiles.values(), state, rebuild=True)
            return time.perf_counter() - started
        finally:
            backend.close()

    def tdir(self) -> float:
        path = self._fresh("tdir")
        seconds = self._write(path)
        if self.last_tdir is not None:
            shutil.rmtree(self.last_tdir.parent)
        self.last_tdir = path
        return seconds

    def raw(self, *, keep: bool = False) -> float:
        """Load every table's rows with ``executemany`` in one transaction; return seconds."""
        path = self._fresh("raw")
        conn = _sqlite_connection(path)
        for statement in self.schema:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {self.user_version}")
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        for table, (columns, rows) in self.tables.items():
            marks = ", ".join("?" * len(columns))
            conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        conn.execute("COMMIT")
        seconds = time.perf_counter() - started
        conn.close()
        if keep:
            self.check(path)
        shutil.rmtree(path.parent)
        return seconds

    def check(self, raw: Path) -> None:
        """The raw load holds what tdir wrote: every table's rows, and the storage version."""
        schema, user_version, tables = _sqlite_content(raw)
        if (schema, user_version) != (self.schema, self.user_version):
            raise SystemExit("sqlite: the raw load's schema differs from tdir's")
        for table, (columns, rows) in self.tables.items():
            theirs = tables[table]
            if theirs[0] != columns or sorted(theirs[1], key=repr) != sorted(rows, key=repr):
                raise SystemExit(f"sqlite: table {table} differs between tdir and the raw load")

    def size(self) -> int:
        assert self.last_tdir is not None
        return sum(p.stat().st_size for p in self.last_tdir.parent.glob("index.sqlite3*"))


def _sqlite_connection(path: Path) -> sqlite3.Connection:
    """A connection set up as the backend sets up its own (WAL, synchronous=NORMAL, cache)."""
    conn = connect(path)
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute("PRAGMA cache_size=-65536")
    return conn


def _sqlite_content(
    path: Path,
) -> tuple[list[str], int, dict[str, tuple[list[str], list[tuple[Any, ...]]]]]:
    """The schema statements (full-text shadow tables left to their virtual table), the storage
    version, and every table's columns and rows, each table in the order tdir writes it (by
    ``rid``, profile after profile)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    entries = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"
    ).fetchall()
    virtual = [name for kind, name, sql in entries if sql.upper().startswith("CREATE VIRTUAL")]
    schema, tables = [], {}
    for kind, name, sql in entries:
        if any(name.startswith(f"{v}_") for v in virtual):
            continue  # a shadow table: its virtual table creates it
        schema.append(sql)
        if kind != "table":
            continue
        if name in virtual:
            columns = ["rowid", *(row[1] for row in conn.execute(f"PRAGMA table_info({name})"))]
        else:
            columns = [row[1] for row in conn.execute(f"PRAGMA table_info({name})")]
        order = " ORDER BY rid" if "rid" in columns else ""
        rows = conn.execute(f"SELECT {', '.join(columns)} FROM {name}{order}").fetchall()
        tables[name] = (columns, rows)
    user_version = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.close()
    return schema, user_version, tables


# -- Elasticsearch ---------------------------------------------------------------------------


class ElasticsearchLoad:
    """The tdir write and the raw ``parallel_bulk`` load into fresh indices of one cluster."""

    def __init__(
        self, url: str, root: Path, profiles: dict[str, Profile], taxonomy: Taxonomy
    ) -> None:
        self.client = Elasticsearch(url, request_timeout=300)
        self.root = root
        self.profiles = profiles
        self.taxonomy = taxonomy
        self.prefix = f"tdir-bench-write-{uuid.uuid4().hex[:6]}"
        self.rounds = 0
        self.last_tdir: str | None = None
        self.backend = self._backend()
        self._write(self.backend)
        index = self._concrete(self.backend.alias)
        self.mapping = self.client.indices.get_mapping(index=index)[index]["mappings"]
        self.documents = [
            (hit["_id"], hit["_source"]) for hit in helpers.scan(self.client, index=index)
        ]
        self.documents.sort(key=lambda doc: doc[0])  # in id order, as tdir writes them
        self.sample = random.Random(7).sample(self.documents, min(SAMPLE, len(self.documents)))

    def _backend(self) -> ElasticsearchBackend:
        self.rounds += 1
        return ElasticsearchBackend(self.client, f"{self.prefix}-tdir-{self.rounds}")

    def _concrete(self, alias: str) -> str:
        return next(iter(self.client.indices.get_alias(name=alias).body))

    def _write(self, backend: ElasticsearchBackend) -> float:
        state = IndexState(self.root / f"es-state-{uuid.uuid4().hex[:8]}.json")
        fold.cache_clear()  # as in a `tdir index` process, nothing folded yet
        started = time.perf_counter()
        write_index(backend, self.profiles.values(), state, rebuild=True)
        return time.perf_counter() - started

    def tdir(self) -> float:
        backend = self._backend()
        seconds = self._write(backend)
        self._drop(self.last_tdir)
        self.last_tdir = backend.alias
        return seconds

    def raw(self, *, keep: bool = False) -> float:
        """``parallel_bulk`` of the stored documents, then the refresh that makes them
        searchable; return seconds."""
        index = f"{self.prefix}-raw-{uuid.uuid4().hex[:8]}"
        self.client.indices.create(
            index=index,
            mappings=self.mapping,
            settings={"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "-1"},
        )
        started = time.perf_counter()
        actions = ({"_index": index, "_id": i, "_source": s} for i, s in self.documents)
        for ok, info in helpers.parallel_bulk(self.client, actions):
            if not ok:
                raise SystemExit(f"elasticsearch: the raw load failed: {info}")
        self.client.indices.put_settings(index=index, settings={"refresh_interval": "1s"})
        self.client.indices.refresh(index=index)
        seconds = time.perf_counter() - started
        if keep:
            self.check(index)
        self.client.indices.delete(index=index)
        return seconds

    def check(self, raw: str) -> None:
        """The raw index holds as many documents as tdir's, and the same sampled ``_source``s."""
        count = self.client.count(index=raw)["count"]
        if count != len(self.documents):
            raise SystemExit(f"elasticsearch: raw holds {count}, tdir {len(self.documents)}")
        for doc_id, source in self.sample:
            if self.client.get(index=raw, id=doc_id)["_source"] != source:
                raise SystemExit(f"elasticsearch: document {doc_id} differs in the raw load")

    def size(self) -> int:
        assert self.last_tdir is not None
        stats = self.client.indices.stats(index=self.last_tdir, metric="store")
        return int(stats["_all"]["primaries"]["store"]["size_in_bytes"])

    def _drop(self, alias: str | None) -> None:
        if alias is None:
            return
        indices = self.client.options(ignore_status=404).indices.get(index=f"{alias}-v*")
        if indices.meta.status == 200 and indices.body:
            self.client.indices.delete(index=",".join(indices.body))

    def close(self) -> None:
        self._drop(self.last_tdir)
        self._drop(self.backend.alias)
        self.client.close()


# -- measuring -------------------------------------------------------------------------------


def profile_write(run: Callable[[], float], top: int) -> None:
    """One tdir write under cProfile: the top functions by cumulative and by own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    run()
    profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stdout).strip_dirs()
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)


def generate(count: int, seed: int, taxonomy: Taxonomy) -> dict[str, Profile]:
    """``count`` synthetic profiles (``benchmarks.search_latency.Population``) by id."""
    started = time.perf_counter()
    profiles = {p.id: p for p in Population(taxonomy, seed).profiles(count)}
    print(
        f"{count:,} profiles generated in {time.perf_counter() - started:.0f}s"
        f" (RSS {peak_rss_mb():.0f} MB)"
    )
    return profiles


def measure(
    name: str,
    profiles: dict[str, Profile],
    taxonomy: Taxonomy,
    rounds: int,
    cprofile: int | None = None,
) -> StageResult:
    """One backend: check the raw load against tdir's write, then time both alternately."""
    with contextlib.ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="index-write-")))
        load = _load(name, stack, root, profiles, taxonomy)
        load.raw(keep=True)  # checks the raw load against tdir's, untimed
        stage = Stage(f"{name} rebuild", load.tdir, load.raw, load.size)
        if cprofile:
            profile_write(load.tdir, cprofile)

        def progress(round_number: int, last: dict[str, float]) -> None:
            print(
                f"  {stage.name} round {round_number + 1}: tdir {last['tdir']:.2f}s"
                f"  raw {last['raw']:.2f}s",
                flush=True,
            )

        times = alternate({"tdir": stage.tdir, "raw": stage.raw}, rounds, progress)
        size = stage.size()
    count = len(profiles)
    tdir, raw = statistics.median(times["tdir"]), statistics.median(times["raw"])
    label = {"sqlite": "SQLite", "elasticsearch": "Elasticsearch"}[name]
    baseline = "executemany" if name == "sqlite" else "parallel_bulk"

    def per_profile(seconds: float) -> str:
        return f"{seconds / count * 1e6:,.0f} µs/profile ({count / seconds:,.0f} docs/s)"

    return StageResult(
        stage=f"index write {'sqlite' if name == 'sqlite' else 'es'}",
        tdir=per_profile(tdir),
        baseline=per_profile(raw),
        ratio=tdir / raw,
        sizes=f"{count:,} profiles, {rounds} rounds",
        peak_rss_mb=peak_rss_mb(),
        notes=f"wall time of one rebuild ({label}); baseline: what tdir stored, loaded by "
        f"{baseline} (checked equal before timing); tdir's index {size / 2**20:.1f} MB; peak "
        "RSS: the benchmark's process (the profiles, the raw rows or documents, both writes)",
    )


def run_sqlite(quick: bool) -> StageResult:
    """The suite's SQLite stage: 2,000 profiles if ``quick``, else 20,000."""
    taxonomy = load_taxonomy()
    profiles = generate(QUICK_PROFILES if quick else FULL_PROFILES, 7, taxonomy)
    return measure("sqlite", profiles, taxonomy, ROUNDS)


def run_elasticsearch(quick: bool) -> StageResult:
    """The suite's Elasticsearch stage: 2,000 profiles if ``quick``, else 20,000."""
    taxonomy = load_taxonomy()
    profiles = generate(QUICK_PROFILES if quick else FULL_PROFILES, 7, taxonomy)
    return measure("elasticsearch", profiles, taxonomy, ROUNDS)


def main(argv: list[str] | None = None) -> int:
    """Generate the profiles, check each raw load against tdir's, time both, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=FULL_PROFILES)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_PROFILES:,} profiles")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument(
        "--backends",
        nargs="+",
        default=["sqlite", "elasticsearch"],
        choices=["sqlite", "elasticsearch"],
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--cprofile",
        type=int,
        nargs="?",
        const=25,
        metavar="TOP",
        help="profile one tdir write per backend and print its top functions",
    )
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    taxonomy = load_taxonomy()
    profiles = generate(QUICK_PROFILES if args.quick else args.profiles, args.seed, taxonomy)
    results = [
        measure(name, profiles, taxonomy, args.rounds, args.cprofile) for name in args.backends
    ]
    print_results(*results)
    return 0


def _load(
    name: str,
    stack: contextlib.ExitStack,
    root: Path,
    profiles: dict[str, Profile],
    taxonomy: Taxonomy,
) -> SqliteLoad | ElasticsearchLoad:
    if name == "sqlite":
        return SqliteLoad(root, profiles, taxonomy)
    url = stack.enter_context(elasticsearch_url())
    load = ElasticsearchLoad(url, root, profiles, taxonomy)
    stack.callback(load.close)
    return load


if __name__ == "__main__":
    sys.exit(main())
