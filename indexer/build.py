"""Index builds: crawl records in, one profile per therapist out, written to the search backend.

The steps, each in its own module: current records per source (``snapshots``), normalisation
(``normalize``), entity resolution (``resolve``), credential verification (``verify``), review
aggregation (``ratings``), profile assembly (``profiles``). ``write_index`` then writes either
incrementally (only profiles whose content changed, plus deletions) or as an atomic rebuild.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

from crawler.items import Listing, Review
from crawler.runs import CrawlStore
from crawler.terms import StorageTerms
from indexer.corrections import Curation
from indexer.normalize.records import NormalizedListing, normalize_listing, normalize_review
from indexer.parallel import parallel_map
from indexer.profile import Profile
from indexer.profiles import ListingFacts, build_profile
from indexer.ratings import ReviewFact
from indexer.resolve import ListingKeys, generation, resolve
from indexer.search import SearchBackend
from indexer.search.document import stored_form
from indexer.snapshots import SourceSnapshot, load_snapshots
from indexer.state import IndexState
from indexer.taxonomy import Taxonomy, fold, load_taxonomy
from indexer.terms import catalog_terms, withdraw_expired
from indexer.verify import Registry, to_issuer_record

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


def build_profiles(
    store: CrawlStore,
    *,
    taxonomy: Taxonomy | None = None,
    progress: Progress = _no_progress,
    curation: Curation | None = None,
    terms: Mapping[str, StorageTerms] | None = None,
    now: datetime | None = None,
) -> Build:
    """Build every profile from the current records of every crawled source.

    Therapists' requests (``curation``; default: those recorded in the store's data directory)
    are applied: suppressed profiles are left out, corrected fields replaced. Sources' storage
    terms (``terms``; default: the catalog's) are obeyed, and claimed credentials judged, as of
    ``now`` (default: this moment):
    records past their time are not served (:mod:`indexer.terms`).
    """
    taxonomy = taxonomy or load_taxonomy()
    curation = curation if curation is not None else Curation.load(store.root.parent)
    summary = BuildSummary()
    snapshots = load_snapshots(store)
    summary.expired_records = withdraw_expired(
        snapshots, catalog_terms() if terms is None else terms, now
    )
    summary.sources = len(snapshots)
    summary.unreadable_records = {s.source: s.unreadable for s in snapshots if s.unreadable}
    # In id order, not crawl order: resolution's merge evidence follows the order it meets
    # listings in, and two crawls of an unchanged source must build the same profiles.
    listings = [
        (snap.listings[listing_id], listing_id not in snap.vanished)
        for snap in snapshots
        for listing_id in sorted(snap.listings)
    ]
    summary.listings = len(listings)
    facts: dict[str, ListingFacts] = {}
    normalized = parallel_map(
        partial(normalize_listing, taxonomy=taxonomy), [listing for listing, _ in listings]
    )
    for (listing, active), norm in progress(
        zip(listings, normalized, strict=True), "normalising listings", len(listings)
    ):
        facts[listing.id] = ListingFacts(listing, norm, active)
        summary.inactive_listings += not active
    records = [record for snap in snapshots for record in snap.credential_records.values()]
    registry = Registry(
        parallel_map(partial(to_issuer_record, taxonomy=taxonomy), records),
        taxonomy,
        today=(now or datetime.now(UTC)).date(),
    )
    resolution = resolve([listing_keys(f.listing, f.normalized) for f in facts.values()])
    clusters = resolution.clusters
    summary.candidate_pairs = resolution.candidate_pairs
    summary.refused_merges = resolution.refused_merges
    reviews_by_listing, orphans = _attach_reviews(snapshots, facts)
    for snap in snapshots:
        # Read into the registry and the reviews' facts: not held through the profiles' build.
        snap.reviews.clear()
        snap.credential_records.clear()
    summary.orphan_reviews = orphans
    profiles: dict[str, Profile] = {}
    listing_to_profile: dict[str, str] = {}
    for cluster in progress(clusters, "building profiles", len(clusters)):
        members = [facts[i] for i in cluster.listing_ids]
        reviews = [r for i in cluster.listing_ids for r in reviews_by_listing.get(i, [])]
        built = build_profile(cluster, members, reviews, registry, taxonomy)
        if curation.suppression_of(built) is not None:
            summary.suppressed_profiles += 1
            continue
        profile = curation.apply(built)
        summary.corrected_profiles += profile is not built
        profiles[profile.id] = profile
        for listing_id in cluster.listing_ids:
            listing_to_profile[listing_id] = profile.id
        summary.merged_listings += len(cluster.listing_ids) - 1
        summary.reviews += profile.rating.review_count
        summary.copied_reviews += sum(len(r.copied_to) for r in profile.reviews)
        summary.credentials.update(c.status for c in profile.credentials)
        summary.license_verified += profile.verification.license_verified
        summary.published_ratings += sum(
            r.basis == "published" for r in profile.rating.by_source.values()
        )
        summary.flagged_profiles += bool(profile.credential_flags)
        summary.unknown_terms.update(profile.unknown_terms)
    for fact in facts.values():
        summary.data_flags.update(flag.stat_key for flag in fact.normalized.flags)
    summary.profiles = len(profiles)
    return Build(profiles=profiles, summary=summary, listing_to_profile=listing_to_profile)


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


def _page(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def _attach_reviews(
    snapshots: list[SourceSnapshot], facts: dict[str, ListingFacts]
) -> tuple[dict[str, list[ReviewFact]], int]:
    """Give each review to the listing it is about: by the listing's reference, else its page."""
    by_ref: dict[tuple[str, str], str] = {}
    for fact in facts.values():
        source = fact.source
        for ref in (fact.listing.source_ref, fact.listing.provenance.url):
            by_ref.setdefault((source, ref), fact.listing.id)
            by_ref.setdefault((source, _page(ref)), fact.listing.id)
    attached: dict[str, list[ReviewFact]] = defaultdict(list)
    orphans = 0
    for snap in snapshots:
        for review in snap.reviews.values():
            listing_id = _find_listing(review, by_ref)
            if listing_id is None:
                orphans += 1
                continue
            attached[listing_id].append(review_fact(review))
    return attached, orphans


def _find_listing(review: Review, by_ref: dict[tuple[str, str], str]) -> str | None:
    source = review.provenance.source
    for ref in (review.listing_ref, _page(review.listing_ref), _page(review.provenance.url)):
        found = by_ref.get((source, ref))
        if found:
            return found
    return None


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
    profiles: dict[str, Profile],
    state: IndexState,
    *,
    rebuild: bool = False,
    progress: Progress = _no_progress,
) -> WriteStats:
    """Write profiles: all of them atomically (``rebuild``), or only what changed since the last
    write to this backend (and those whose stored freshness dates fell ``REFRESH_AFTER``
    behind), then delete the profiles that no longer exist. An empty index, or one stored in
    an older layout, is rebuilt whole."""
    stats = WriteStats(rebuilt=rebuild)
    written: Iterable[str] = profiles
    hashes: dict[str, str] = {}
    if rebuild or backend.count() == 0 or backend.outdated():
        # Each hash is taken as the backend takes its profile, while the backend's store (an
        # Elasticsearch node, SQLite) is still busy with the ones before.
        stream = _hashed(profiles, hashes)
        stats.written = backend.rebuild(progress(stream, "writing", len(profiles)))
        stats.rebuilt = True
    else:
        hashes.update((pid, profile_hash(p)) for pid, p in profiles.items())
        written = [
            pid
            for pid, h in hashes.items()
            if state.hashes.get(pid) != h
            or _behind(state.confirmed.get(pid), profiles[pid].last_confirmed)
        ]
        gone = sorted(set(state.hashes) - set(hashes))
        stats.unchanged = len(hashes) - len(written)
        if written:
            stats.written = backend.upsert(
                progress(_pick(profiles, written), "writing changes", len(written))
            )
        if gone:
            backend.delete(gone)
            stats.deleted = len(gone)
    confirmed = {pid: c for pid, c in state.confirmed.items() if pid in hashes}
    for pid in written:
        stamp = profiles[pid].last_confirmed
        if stamp:
            confirmed[pid] = stamp
    state.hashes = hashes
    state.confirmed = confirmed
    state.save()
    return stats


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


def _hashed(profiles: dict[str, Profile], hashes: dict[str, str]) -> Iterator[Profile]:
    """The profiles, each one's hash recorded as it is taken."""
    for pid, profile in profiles.items():
        hashes[pid] = profile_hash(profile)
        yield profile


def _pick(profiles: dict[str, Profile], ids: list[str]) -> Iterator[Profile]:
    for pid in ids:
        yield profiles[pid]
