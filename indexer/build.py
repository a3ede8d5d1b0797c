"""Index builds: crawl records in, one profile per therapist out, written to the search backend.

The steps, each in its own module: current records per source (``snapshots``), normalisation
(``normalize``), entity resolution (``resolve``), credential verification (``verify``), review
aggregation (``ratings``), profile assembly (``profiles``). A build streams: sources are read one
at a time, what profiles need later waits on disk (``spill``), and profiles are assembled one
therapist at a time as ``write_index`` takes them, writing either incrementally (only profiles
whose content changed, plus deletions) or as an atomic rebuild.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sized
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TypeVar

from crawler.items import Listing, Provenance, Review
from crawler.runs import CrawlStore
from crawler.terms import StorageTerms
from indexer.corrections import Curation
from indexer.normalize.records import NormalizedListing, normalize_listing, normalize_review
from indexer.parallel import forked_map, parallel_map
from indexer.profile import Profile
from indexer.profiles import ListingFacts, build_profile
from indexer.ratings import ReviewFact
from indexer.resolve import Cluster, ListingKeys, generation, resolve
from indexer.search import SearchBackend
from indexer.search.document import IndexEntry, index_entry, stored_form
from indexer.snapshots import SourceSnapshot, load_snapshot
from indexer.spill import BuildSpill, ReviewRow, review_row
from indexer.state import IndexState
from indexer.taxonomy import Taxonomy, fold, load_taxonomy
from indexer.terms import catalog_terms, past_terms, withdraw_expired
from indexer.verify import IssuerRecord, Registry, to_issuer_record

# Reviews read before they are made into facts together (on every core, ``indexer.parallel``).
REVIEW_BATCH = 20_000
# Listings normalised together (on every core), and their facts written to disk together.
LISTING_BATCH = 20_000
SPILL_BATCH = 5_000

T = TypeVar("T")
Progress = Callable[[Iterable[T], str, int], Iterable[T]]


def _no_progress(items: Iterable[T], _label: str, _total: int) -> Iterable[T]:
    return items


@dataclass
class BuildSummary:
    """What a build produced and what it had to flag."""

    sources: int = 0
    listings: int = 0
    inactive_listings: int = 0
    profiles: int = 0
    merged_listings: int = 0  # listings that joined another listing's profile
    reviews: int = 0
    copied_reviews: int = 0
    credentials: Counter[str] = field(default_factory=Counter)  # status -> count
    license_verified: int = 0  # profiles whose state board confirms an active license
    published_ratings: int = 0  # source ratings that are the source's published aggregate
    flagged_profiles: int = 0
    unknown_terms: Counter[str] = field(default_factory=Counter)
    data_flags: Counter[str] = field(default_factory=Counter)  # "field/reason" -> count
    orphan_reviews: int = 0  # reviews whose listing was not crawled
    suppressed_profiles: int = 0  # left out at their therapist's request
    corrected_profiles: int = 0  # with a field corrected at their therapist's request
    candidate_pairs: int = 0  # listing pairs entity resolution compared
    refused_merges: int = 0  # matches refused: they would join different licenses or NPIs
    # Per source, lines of its current records that were not tdir records (left out of the build).
    unreadable_records: dict[str, int] = field(default_factory=dict)
    # Per source, records past the time its terms let them be served ("listing"/"review" -> n).
    expired_records: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class Build:
    """The profiles of one build, keyed by id, and its summary."""

    profiles: dict[str, Profile]
    summary: BuildSummary
    listing_to_profile: dict[str, str]


@dataclass(frozen=True, slots=True)
class BuiltProfile:
    """A therapist's profile as a build's worker hands it to the writer: what the backends write
    (``entry``), its content hash, and what the build's summary counts of it, all made on the
    worker, so the writer's own process only writes."""

    entry: IndexEntry
    content_hash: str
    last_confirmed: str | None
    corrected: bool  # a field was corrected at the therapist's request
    reviews: int
    copied_reviews: int
    credentials: tuple[str, ...]  # each claimed credential's status
    license_verified: bool
    published_ratings: int
    flagged: bool
    unknown_terms: tuple[str, ...]

    @property
    def id(self) -> str:
        return self.entry.id

    @classmethod
    def of(cls, profile: Profile, taxonomy: Taxonomy, *, corrected: bool = False) -> BuiltProfile:
        return cls(
            entry=index_entry(profile, taxonomy),
            content_hash=profile_hash(profile),
            last_confirmed=profile.last_confirmed,
            corrected=corrected,
            reviews=profile.rating.review_count,
            copied_reviews=sum(len(r.copied_to) for r in profile.reviews),
            credentials=tuple(c.status for c in profile.credentials),
            license_verified=profile.verification.license_verified,
            published_ratings=sum(
                r.basis == "published" for r in profile.rating.by_source.values()
            ),
            flagged=bool(profile.credential_flags),
            unknown_terms=tuple(profile.unknown_terms),
        )


class ProfileStream:
    """The profiles of a build, as they are iterated (once): each assembled from its listings'
    and reviews' facts read back from disk (:mod:`indexer.spill`), and made ready to write, on
    the build's workers a few chunks ahead of the writer, so a build holds no more than those
    therapists' at a time. ``summary`` and ``listing_to_profile`` are complete once the stream
    is."""

    def __init__(
        self,
        assembled: Iterator[BuiltProfile | None],
        clusters: list[Cluster],
        summary: BuildSummary,
    ) -> None:
        self.assembled = assembled
        self.clusters = clusters
        self.summary = summary
        self.listing_to_profile: dict[str, str] = {}

    def __len__(self) -> int:
        """How many therapists the stream assembles (a few may be left out at their request)."""
        return len(self.clusters)

    def __iter__(self) -> Iterator[BuiltProfile]:
        summary = self.summary
        for cluster, built in zip(self.clusters, self.assembled, strict=True):
            if built is None:
                summary.suppressed_profiles += 1
                continue
            summary.corrected_profiles += built.corrected
            for listing_id in cluster.listing_ids:
                self.listing_to_profile[listing_id] = built.id
            summary.profiles += 1
            summary.merged_listings += len(cluster.listing_ids) - 1
            summary.reviews += built.reviews
            summary.copied_reviews += built.copied_reviews
            summary.credentials.update(built.credentials)
            summary.license_verified += built.license_verified
            summary.published_ratings += built.published_ratings
            summary.flagged_profiles += built.flagged
            summary.unknown_terms.update(built.unknown_terms)
            yield built


def _assemble(
    cluster: Cluster,
    spill: BuildSpill,
    registry: Registry,
    taxonomy: Taxonomy,
    curation: Curation,
) -> BuiltProfile | None:
    """One therapist's profile as served, ready to write; None if they asked to be left out."""
    members = spill.listings(cluster.listing_ids)
    reviews = spill.reviews(cluster.listing_ids)
    built = build_profile(cluster, members, reviews, registry, taxonomy)
    if curation.suppression_of(built) is not None:
        return None
    profile = curation.apply(built)
    return BuiltProfile.of(profile, taxonomy, corrected=profile is not built)


@contextmanager
def streamed_build(
    store: CrawlStore,
    *,
    taxonomy: Taxonomy | None = None,
    progress: Progress = _no_progress,
    curation: Curation | None = None,
    terms: Mapping[str, StorageTerms] | None = None,
    now: datetime | None = None,
) -> Iterator[ProfileStream]:
    """Read, normalise and resolve every listing of every crawled source; give the stream of
    their therapists' profiles, valid inside the ``with`` block.

    Therapists' requests (``curation``; default: those recorded in the store's data directory)
    are applied: suppressed profiles are left out, corrected fields replaced. Sources' storage
    terms (``terms``; default: the catalog's) are obeyed, and claimed credentials judged, as of
    ``now`` (default: this moment): records past their time are not served
    (:mod:`indexer.terms`). The listings' and reviews' facts wait on disk, in a temporary
    directory (``TMPDIR``), until their therapist's profile is built.
    """
    taxonomy = taxonomy or load_taxonomy()
    curation = curation if curation is not None else Curation.load(store.root.parent)
    terms = catalog_terms() if terms is None else terms
    now = now or datetime.now(UTC)
    summary = BuildSummary()
    with tempfile.TemporaryDirectory(prefix="tdir-build-") as directory:
        spill = BuildSpill(Path(directory))
        try:
            keys, records = _read_sources(store, spill, summary, taxonomy, terms, now, progress)
            registry = Registry(records, taxonomy, today=now.date())
            del records
            resolution = resolve(keys)
            del keys
            summary.candidate_pairs = resolution.candidate_pairs
            summary.refused_merges = resolution.refused_merges
            summary.orphan_reviews = spill.attach_reviews()
            spill.seal()
            assemble = partial(
                _assemble, spill=spill, registry=registry, taxonomy=taxonomy, curation=curation
            )
            # The workers are forked here, before whoever takes the stream starts its threads.
            clusters = resolution.clusters
            with forked_map(assemble, clusters, send_items=True) as assembled:
                yield ProfileStream(assembled, clusters, summary)
        finally:
            spill.close()


def build_profiles(
    store: CrawlStore,
    *,
    taxonomy: Taxonomy | None = None,
    progress: Progress = _no_progress,
    curation: Curation | None = None,
    terms: Mapping[str, StorageTerms] | None = None,
    now: datetime | None = None,
) -> Build:
    """Every profile of a build at once (:func:`streamed_build`, collected): for evaluating
    and inspecting builds; ``tdir index`` writes the stream as it comes."""
    with streamed_build(
        store, taxonomy=taxonomy, progress=progress, curation=curation, terms=terms, now=now
    ) as stream:
        built = progress(stream, "building profiles", len(stream))
        profiles = {b.id: b.entry.profile() for b in built}
        return Build(profiles, stream.summary, stream.listing_to_profile)


def _read_sources(
    store: CrawlStore,
    spill: BuildSpill,
    summary: BuildSummary,
    taxonomy: Taxonomy,
    terms: Mapping[str, StorageTerms],
    now: datetime,
    progress: Progress,
) -> tuple[list[ListingKeys], list[IssuerRecord]]:
    """Each source's current records, one source at a time: its listings normalised (what
    resolution compares kept, their facts spilled), its reviews spilled, its issuer records
    kept for the registry."""
    keys: list[ListingKeys] = []
    records: list[IssuerRecord] = []
    rows: list[tuple[str, str, str, str, bytes]] = []
    sources = store.sources()
    summary.sources = len(sources)
    for source in sources:
        reviews = _ReviewBatches(spill, source, past_terms(source, terms, now))
        snapshot = load_snapshot(store, source, on_review=reviews.add, progress=progress)
        reviews.flush()
        withdrawn = withdraw_expired(snapshot, terms, now)
        expired_reviews = spill.withdraw_expired_reviews(source)
        if withdrawn or expired_reviews:
            summary.expired_records[source] = {
                "listing": withdrawn.get("listing", 0),
                "review": expired_reviews,
            }
        if snapshot.unreadable:
            summary.unreadable_records[source] = snapshot.unreadable
        # In id order, not crawl order: resolution's merge evidence follows the order it meets
        # listings in, and two crawls of an unchanged source must build the same profiles.
        ids = sorted(snapshot.listings)
        for listing, active, (listing_keys_, blob, flags) in progress(
            _normalised(snapshot, ids, taxonomy), f"normalising {source}", len(ids)
        ):
            keys.append(listing_keys_)
            summary.data_flags.update(flags)
            summary.inactive_listings += not active
            rows.append(
                (listing.id, listing_keys_.source, listing.source_ref, listing.provenance.url, blob)
            )
            if len(rows) == SPILL_BATCH:  # the facts go to disk as they come, not source-whole
                spill.put_listings(rows)
                rows.clear()
        spill.put_listings(rows)
        rows.clear()
        summary.listings += len(ids)
        # Read now, a source at a time: an issuer's record read is a third of its crawled form.
        crawled = list(snapshot.credential_records.values())
        records.extend(parallel_map(partial(to_issuer_record, taxonomy=taxonomy), crawled))
    return keys, records


class _ReviewBatches:
    """One source's reviews as they are read, made into facts on every core and spilled a
    batch at a time."""

    def __init__(self, spill: BuildSpill, source: str, past: Callable[[Provenance], bool]):
        self.spill = spill
        self.to_row = partial(_review_row, snapshot=source, past=past)
        self.batch: list[Review] = []

    def add(self, review: Review) -> None:
        self.batch.append(review)
        if len(self.batch) >= REVIEW_BATCH:
            self.flush()

    def flush(self) -> None:
        """Spill the reviews read since the last batch."""
        self.spill.put_reviews(parallel_map(self.to_row, self.batch))
        self.batch.clear()


def _review_row(review: Review, snapshot: str, past: Callable[[Provenance], bool]) -> ReviewRow:
    """One review of ``snapshot``'s records as the spill keeps it."""
    fact = review_fact(review)
    expired = past(review.provenance)
    return review_row(snapshot, fact, review.listing_ref, review.provenance.url, expired=expired)


def _normalised(
    snapshot: SourceSnapshot, ids: list[str], taxonomy: Taxonomy
) -> Iterator[tuple[Listing, bool, tuple[ListingKeys, bytes, tuple[str, ...]]]]:
    """A source's listings in the order of ``ids``, each with whether it is still listed and
    what :func:`_read_listing` makes of it, a batch at a time: each batch is mapped over workers
    forked for it, which touch (and so copy) no more of this process's memory than the batch,
    and leaves the snapshot once read."""
    for start in range(0, len(ids), LISTING_BATCH):
        batch = [
            (snapshot.listings.pop(listing_id), listing_id not in snapshot.vanished)
            for listing_id in ids[start : start + LISTING_BATCH]
        ]
        read = parallel_map(partial(_read_listing, taxonomy=taxonomy), batch)
        for (listing, active), answer in zip(batch, read, strict=True):
            yield listing, active, answer


def _read_listing(
    item: tuple[Listing, bool], taxonomy: Taxonomy
) -> tuple[ListingKeys, bytes, tuple[str, ...]]:
    """One listing normalised: what resolution compares, its facts pickled for the spill, and
    its data flags' counting keys (made where it is normalised: on a worker, the facts travel
    back as the bytes they are kept as)."""
    listing, active = item
    normalized = normalize_listing(listing, taxonomy=taxonomy)
    blob = pickle.dumps(ListingFacts(listing, normalized, active), pickle.HIGHEST_PROTOCOL)
    flags = tuple(flag.stat_key for flag in normalized.flags)
    return listing_keys(listing, normalized), blob, flags


def listing_keys(listing: Listing, normalized: NormalizedListing) -> ListingKeys:
    """What entity resolution compares of a listing."""
    person = normalized.name.name if normalized.name else None
    address = normalized.address
    place = normalized.location
    licenses = [c for c in normalized.credentials if c.kind == "state_license" and c.number]
    return ListingKeys(
        id=listing.id,
        source=listing.provenance.source,
        name_key=person.key if person else None,
        last_name=fold(person.last).replace(" ", "") if person and person.last else None,
        full_name=fold(person.display) if person else fold(listing.name_raw),
        phone=normalized.phone.e164 if normalized.phone else None,
        zip5=address.zip5 if address else None,
        city_key=f"{fold(address.city)} {address.state}".lower()
        if address and address.city and address.state
        else None,
        street_key=address.match_key if address else None,
        lat=place.point.lat if place and place.precision == "rooftop" else None,
        lon=place.point.lon if place and place.precision == "rooftop" else None,
        npi=normalized.npi,
        licenses=frozenset((c.state, c.number) for c in licenses if c.state and c.number),
        generation=generation(person.suffix) if person else None,
        first_name=fold(person.first).replace(" ", "") or None if person else None,
        unstated_licenses=frozenset(c.number for c in licenses if c.number and not c.state),
    )


def review_fact(review: Review) -> ReviewFact:
    """Normalise a crawled review into what aggregation needs."""
    normalized = normalize_review(review)
    return ReviewFact(
        id=review.id,
        source=review.provenance.source,
        # Where the source shows the review, and its author's page, where it links them (an
        # API's answer is no page a reader can open).
        url=review.extras.get("page_url") or review.provenance.url,
        author=review.author_raw,
        rating=normalized.rating.stars if normalized.rating else None,
        published=normalized.published.value if normalized.published else None,
        body=review.body,
        author_url=review.extras.get("author_url"),
    )


# -- writing ----------------------------------------------------------------------------------


@dataclass
class WriteStats:
    """What a write did to the index."""

    written: int = 0
    unchanged: int = 0
    deleted: int = 0
    rebuilt: bool = False


# Profile fields that only say when a fact was last seen or checked. Every recrawl moves them
# forward, also on profiles whose sources say exactly what they said before; rewriting those
# would make each daily recrawl a full reindex. They are left out of the content hash, and a
# profile is rewritten for them alone once its stored ``last_confirmed`` is REFRESH_AFTER old.
FRESHNESS_KEYS = frozenset({"last_seen", "last_confirmed", "checked_on", "license_checked_on"})
# Merge evidence's weights come from a model re-estimated on every build: a little more data
# shifts every weight a little. Which listings merged, and by which rule, is the content; the
# weights shown are those of the build that last changed the profile.
EXPLANATION_KEYS = frozenset({"match_weight", "fields"})
REFRESH_AFTER = timedelta(days=7)


_NOT_CONTENT = FRESHNESS_KEYS | EXPLANATION_KEYS
_CANONICAL_JSON = json.JSONEncoder(
    sort_keys=True, ensure_ascii=False, separators=(",", ":"), check_circular=False
).encode


def profile_hash(profile: Profile) -> str:
    """The hash of a profile's content (its freshness dates and merge weights aside); equal hashes
    mean nothing to rewrite."""
    text = _CANONICAL_JSON(stored_form(profile, leave_out=_NOT_CONTENT))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def write_index(
    backend: SearchBackend,
    profiles: Iterable[Profile | BuiltProfile],
    state: IndexState,
    *,
    rebuild: bool = False,
    progress: Progress = _no_progress,
) -> WriteStats:
    """Write profiles as they come (a :class:`ProfileStream`, or any iterable): all of them
    atomically (``rebuild``), or only what changed since the last write to this backend (and
    those whose stored freshness dates fell ``REFRESH_AFTER`` behind), then delete the profiles
    that no longer exist. An empty index, or one stored in an older layout, is rebuilt whole.
    The state is saved only once every profile is written: a write cut short is done again."""
    stats = WriteStats(rebuilt=rebuild)
    total = len(profiles) if isinstance(profiles, Sized) else 0
    hashes: dict[str, str] = {}
    confirmed: dict[str, str] = {}
    if rebuild or backend.count() == 0 or backend.outdated():
        # Each hash is taken as the backend takes its profile, while the backend's store (an
        # Elasticsearch node, SQLite) is still busy with the ones before.
        stream = _hashed(progress(profiles, "writing", total), hashes, confirmed, state, None)
        stats.written = backend.rebuild(stream)
        stats.rebuilt = True
    else:
        considered = progress(profiles, "writing changes", total)
        stats.written = backend.upsert(_hashed(considered, hashes, confirmed, state, stats))
        gone = sorted(set(state.hashes) - set(hashes))
        if gone:
            backend.delete(gone)
            stats.deleted = len(gone)
    state.hashes = hashes
    state.confirmed = confirmed
    state.save()
    return stats


def _hashed(
    profiles: Iterable[Profile | BuiltProfile],
    hashes: dict[str, str],
    confirmed: dict[str, str],
    state: IndexState,
    stats: WriteStats | None,
) -> Iterator[Profile | IndexEntry]:
    """The profiles to write, each one's hash and ``last_confirmed`` recorded as it is taken
    (a built profile's were made with it, on a build's worker).

    With ``stats`` (an incremental write), only those whose content changed since ``state``
    or whose stored ``last_confirmed`` fell behind, counting the others as unchanged: theirs
    stays the ``last_confirmed`` they were written with.
    """
    for profile in profiles:
        written: Profile | IndexEntry
        if isinstance(profile, BuiltProfile):
            pid, digest, current = profile.id, profile.content_hash, profile.last_confirmed
            written = profile.entry
        else:
            pid, digest, current = profile.id, profile_hash(profile), profile.last_confirmed
            written = profile
        hashes[pid] = digest
        stored = state.confirmed.get(pid)
        if stats is not None and state.hashes.get(pid) == digest and not _behind(stored, current):
            stats.unchanged += 1
            if stored:
                confirmed[pid] = stored
            continue
        stamp = current or stored
        if stamp:
            confirmed[pid] = stamp
        yield written


def _behind(stored: str | None, current: str | None) -> bool:
    """Whether the ``last_confirmed`` a profile was last written with is REFRESH_AFTER older than
    the one it has now."""
    if not stored or not current:
        return False
    try:
        return datetime.fromisoformat(current) - datetime.fromisoformat(stored) >= REFRESH_AFTER
    except (TypeError, ValueError):
        # Not comparable (not ISO, or naive against aware): the content hash alone decides,
        # rather than rewriting the profile on every build.
        return False
