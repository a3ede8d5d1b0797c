"""The page ledger: what became of every page a run asked for, and which page led to which.

A listing missing from a run is not necessarily gone: its page may have timed out, a page that
linked to it may have answered 503, or a cached copy may be a broken one. So each run keeps, in
its run directory,

- ``pages.tsv``: ``url<TAB>outcome``, one line per page the run asked for, where the outcome is
  ``ok`` (the page came), ``gone`` (it answered 404 or 410) or ``failed:<kind>`` (it could not
  be fetched, after retries: ``failed:http/503``, ``failed:download/timeout``...); the last
  line of a URL wins (a page refetched after a broken copy);
- ``links.tsv``: ``from_url<TAB>to_url``, every link the spider followed or wanted to.

The spider middleware that writes them is :mod:`crawler.page_ledger`. From these,
:class:`VanishJudge` tells a listing that is gone from one that is only out of
sight: a listing vanishes when its page answered 404/410, or when it came and no longer holds
it, or when every path that led to it before was walked again without reaching it — and, for the
last two, only in a run whose pages failed less often than :data:`VANISH_ERROR_LIMIT`. Anything
else is *in doubt*, and a listing in doubt stays listed as last seen.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from crawler.runs import CrawlStore

PAGES_FILE = "pages.tsv"
LINKS_FILE = "links.tsv"
# Above this share of failed pages, a run cannot say that a listing it did not reach is gone.
VANISH_ERROR_LIMIT = 0.05
GONE_STATUSES = frozenset({404, 410})
# Sent by the spiders' errback with the request that failed for good and its error kind.
page_failed = object()

Fate = Literal["vanished", "in doubt"]


@dataclass
class RunLedger:
    """One run's ledger as read back: page outcomes and the links into each page."""

    outcomes: dict[str, str] = field(default_factory=dict)
    linked_from: dict[str, set[str]] = field(default_factory=dict)
    kept: bool = False  # whether the run kept a ledger (runs of older versions did not)

    @property
    def error_rate(self) -> float:
        """The share of the run's pages that failed for good."""
        if not self.outcomes:
            return 0.0
        failed = sum(1 for outcome in self.outcomes.values() if outcome.startswith("failed:"))
        return failed / len(self.outcomes)


def read_ledger(store: CrawlStore, source: str, run_id: str) -> RunLedger:
    """The ledger a run kept (empty, ``kept`` False, for a run without one)."""
    run_dir = store.run_dir(source, run_id)
    ledger = RunLedger()
    for url, outcome in _pairs(run_dir / PAGES_FILE):
        ledger.kept = True
        ledger.outcomes[url] = outcome
    for from_url, to_url in _pairs(run_dir / LINKS_FILE):
        ledger.linked_from.setdefault(to_url, set()).add(from_url)
    return ledger


def _pairs(path: Path) -> Iterator[tuple[str, str]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            first, tab, second = line.rstrip("\n").partition("\t")
            if tab:  # a line cut short by a crash has no tab yet, or is skipped below
                yield first, second


def judge_missing(
    store: CrawlStore, source: str, run_id: str, missing: set[str], last_seen_run_id: str
) -> dict[str, Fate]:
    """The fate of each listing id of ``last_seen_run_id`` that ``run_id`` did not yield."""
    judge = VanishJudge(store, source, run_id)
    fates: dict[str, Fate] = {}
    for data in store.records(source, last_seen_run_id):
        if data.get("record_type") == "listing" and data.get("id") in missing:
            url = (data.get("provenance") or {}).get("url", "")
            fates[data["id"]] = judge.fate(url, last_seen_run_id)
    return fates


class VanishJudge:
    """Whether a listing missing from the latest complete run is gone or only out of sight."""

    def __init__(self, store: CrawlStore, source: str, latest_run_id: str) -> None:
        self.store = store
        self.source = source
        self.latest = read_ledger(store, source, latest_run_id)
        self._earlier: dict[str, RunLedger] = {}

    @property
    def run_can_judge(self) -> bool:
        """Whether the latest run failed rarely enough to judge by absence."""
        return self.latest.error_rate <= VANISH_ERROR_LIMIT

    def fate(self, page_url: str, last_seen_run_id: str) -> Fate:
        """What became of a listing last seen on ``page_url`` in ``last_seen_run_id``."""
        if not self.latest.kept:
            return "vanished"  # a run without a ledger: judged by absence, as it always was
        outcome = self.latest.outcomes.get(page_url)
        if outcome == "gone":
            return "vanished"
        if outcome is not None and outcome.startswith("failed:"):
            return "in doubt"
        if not self.run_can_judge:
            return "in doubt"
        if outcome == "ok":
            return "vanished"  # the page came (in full, refetched if need be) without it
        return "vanished" if self._every_path_walked(page_url, last_seen_run_id) else "in doubt"

    def _every_path_walked(self, page_url: str, run_id: str) -> bool:
        """Whether every page that led to this one before was fetched again (or is gone too).

        A path through a page that failed this time may still lead there.
        """
        before = self._ledger(run_id)
        if not before.kept:
            return True  # nothing known of its paths: the run's error rate has to do
        seen: set[str] = set()
        pending = [page_url]
        while pending:
            url = pending.pop()
            for referrer in before.linked_from.get(url, ()):
                if referrer in seen:
                    continue
                seen.add(referrer)
                outcome = self.latest.outcomes.get(referrer)
                if outcome is None:
                    pending.append(referrer)  # not reached now: were its own paths walked?
                elif outcome.startswith("failed:"):
                    return False
        return True

    def _ledger(self, run_id: str) -> RunLedger:
        if run_id not in self._earlier:
            self._earlier[run_id] = read_ledger(self.store, self.source, run_id)
        return self._earlier[run_id]
