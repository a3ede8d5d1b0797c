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
    store: CrawlStore, source: str, on_review: Callable[[Review], None] | None = None
) -> SourceSnapshot:
    """Return the current records of one source (see the module docstring for the rules);
    with ``on_review``, its reviews go to that function rather than into the snapshot."""
    runs = store.runs(source)
    snapshot = SourceSnapshot(source=source, on_review=on_review)
    complete = [i for i, run in enumerate(runs) if run.complete]
    if not complete:
        for run in runs:
            _add_all(snapshot, store.records(source, run.run_id))
        return snapshot
    last = complete[-1]
    snapshot.latest_complete = runs[last]
    for run in runs[last:]:
        _add_all(snapshot, store.records(source, run.run_id))
    # Earlier complete runs, newest first, each giving the last version of the listings it
    # alone still had. Their indexes say which those are, so a run with none is not re-read.
    judge = VanishJudge(store, source, runs[last].run_id)
    for i in reversed(complete[:-1]):
        run_id = runs[i].run_id
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
    return snapshot


def load_snapshots(store: CrawlStore, sources: Iterable[str] | None = None) -> list[SourceSnapshot]:
    """Return the current records of every crawled source (or of the named ones)."""
    return [load_snapshot(store, name) for name in (sources or store.sources())]


def _add_all(snapshot: SourceSnapshot, records: Iterable[dict[str, Any]]) -> None:
    for data in records:
        snapshot.add(data)
