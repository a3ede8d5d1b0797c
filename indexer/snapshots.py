"""What each source currently says: its records as of its latest complete crawl.

A source's current records are those of its latest *complete* run, overlaid with anything newer
that a later, unfinished run fetched. A listing seen in an earlier complete run but missing from
the latest complete one has vanished from its source — if that run could tell (see
:mod:`crawler.ledger`: its page answered 404/410, or came without it, or every path to it was
walked again) — and is kept (its last version) and marked inactive, never deleted on the spot.
One the run could not tell gone (its page timed out, a page on its way answered 503) is *in
doubt* and stays listed as last seen. An interrupted run never makes anything vanish.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from crawler.items import CredentialRecord, Listing, Review, from_dict
from crawler.ledger import VanishJudge
from crawler.runs import CrawlStore, RunRecord

# Shows a long read (``tqdm``-like): records, a label, how many are expected.
Progress = Callable[[Iterable[dict[str, Any]], str, int], Iterable[dict[str, Any]]]


@dataclass
class SourceSnapshot:
    """One source's current records."""

    source: str
    listings: dict[str, Listing] = field(default_factory=dict)
    reviews: dict[str, Review] = field(default_factory=dict)
    credential_records: dict[str, CredentialRecord] = field(default_factory=dict)
    vanished: set[str] = field(default_factory=set)  # listing ids gone from the source
    # Listing ids missing from the latest complete run that it could not tell gone (their page
    # or a page on their way failed): still listed, as last seen.
    in_doubt: set[str] = field(default_factory=set)
    latest_complete: RunRecord | None = None
    unreadable: int = 0  # lines that were not tdir records
    # Given each review (every version, newest last) instead of ``reviews`` keeping them: a
    # build passes its reviews straight to disk (:mod:`indexer.spill`).
    on_review: Callable[[Review], None] | None = field(default=None, repr=False)

    def add(self, data: dict[str, Any]) -> None:
        """Add (or replace by id) one record in its feed form."""
        try:
            record = from_dict(data)
        except ValueError:
            self.unreadable += 1
            return
        if isinstance(record, Listing):
            self.listings[record.id] = record
        elif isinstance(record, Review):
            if self.on_review is None:
                self.reviews[record.id] = record
            else:
                self.on_review(record)
        else:
            self.credential_records[record.id] = record


def load_snapshot(
    store: CrawlStore,
    source: str,
    on_review: Callable[[Review], None] | None = None,
    progress: Progress | None = None,
) -> SourceSnapshot:
    """Return the current records of one source (see the module docstring for the rules);
    with ``on_review``, its reviews go to that function rather than into the snapshot; with
    ``progress``, each run's records are read through it (label, the run's record count)."""
    runs = store.runs(source)
    snapshot = SourceSnapshot(source=source, on_review=on_review)
    complete = [i for i, run in enumerate(runs) if run.complete]
    last = complete[-1] if complete else 0
    for run in runs[last:]:
        records: Iterable[dict[str, Any]] = store.records(source, run.run_id)
        if progress is not None:
            records = progress(records, f"reading {source}", sum(run.items.values()))
        _add_all(snapshot, records)
    if complete:
        snapshot.latest_complete = runs[last]
        _add_last_seen(store, snapshot, [runs[i].run_id for i in reversed(complete)])
    return snapshot


def _add_last_seen(store: CrawlStore, snapshot: SourceSnapshot, complete: list[str]) -> None:
    """Add the listings that complete runs before the latest (``complete``: newest first) had
    and later ones did not, each as last seen, vanished or in doubt. Each run's index says
    which listings it alone still had, so a run with none is not re-read."""
    source = snapshot.source
    judge = VanishJudge(store, source, complete[0])
    for run_id in complete[1:]:
        gone = store.read_index(source, run_id).get("listing", {}).keys() - snapshot.listings.keys()
        if not gone:
            continue
        for data in store.records(source, run_id):
            if data.get("record_type") == "listing" and data.get("id") in gone:
                snapshot.add(data)
                listing = snapshot.listings.get(data["id"])
                if listing is None:
                    continue  # the line was no listing
                if judge.fate(listing.provenance.url, run_id) == "vanished":
                    snapshot.vanished.add(listing.id)
                else:
                    snapshot.in_doubt.add(listing.id)


def load_snapshots(store: CrawlStore, sources: Iterable[str] | None = None) -> list[SourceSnapshot]:
    """Return the current records of every crawled source (or of the named ones)."""
    return [load_snapshot(store, name) for name in (sources or store.sources())]


def _add_all(snapshot: SourceSnapshot, records: Iterable[dict[str, Any]]) -> None:
    for data in records:
        snapshot.add(data)
