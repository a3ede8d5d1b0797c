"""The served profile assembled from one therapist's listings.

A profile says what is known and where it came from: every field lists the sources that gave it
and when they were last seen (provenance), every credential carries its verification, the
rating shows each source beside the combined score, and the merge evidence says why these
listings were judged to be one person. The shape follows Open Referral HSDS in spirit: the
practitioner, their locations, and an ``assured_date`` (the last time a source confirmed them).
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from crawler.items import Listing
from indexer.locations import PlaceClaim, merge_locations
from indexer.normalize.records import NormalizedListing
from indexer.profile import (
    CredentialCheck,
    DataFlag,
    ListingRef,
    Profile,
    Rating,
    ReviewEntry,
    Verification,
)
from indexer.ratings import AggregateFact, ReviewFact, summarise
from indexer.resolve import Cluster
from indexer.taxonomy import Taxonomy
from indexer.verify import Claim, Registry


@dataclass
class ListingFacts:
    """One listing with its normalised form and whether its source still lists it."""

    listing: Listing
    normalized: NormalizedListing
    active: bool

    @property
    def source(self) -> str:
        """The source the listing is on."""
        return self.listing.provenance.source

    @property
    def seen(self) -> str:
        """When the listing was last fetched."""
        return self.listing.provenance.fetched_at


def profile_id(cluster: Cluster) -> str:
    """A stable id for a therapist: derived from the smallest listing id of their cluster."""
    return id_from_listing(cluster.listing_ids[0])


def alias_ids(cluster: Cluster) -> list[str]:
    """The ids the therapist's profile had, or would have had, when another of its listings was
    the smallest: a new listing or a merge changes the id, and links to the old one still lead
    to the therapist."""
    return [id_from_listing(listing_id) for listing_id in cluster.listing_ids[1:]]


def id_from_listing(listing_id: str) -> str:
    """The profile id a cluster whose smallest listing is ``listing_id`` gets."""
    return "t" + hashlib.sha1(listing_id.encode()).hexdigest()[:15]


def claims_of(facts: list[ListingFacts], taxonomy: Taxonomy) -> dict[Claim, list[str]]:
    """The credentials a therapist's listings claim, merged, with the sources claiming each.

    A claim without a number is absorbed by a numbered claim of the same credential and state.
    """
    claimed: dict[Claim, set[str]] = defaultdict(set)
    home_states = {
        f.normalized.address.state
        for f in facts
        if f.normalized.address and f.normalized.address.state
    }
    for fact in facts:
        normalized = fact.normalized
        raw_claims = [
            (c.credential_id, c.state, c.number) for c in normalized.credentials if c.credential_id
        ]
        if normalized.name:
            raw_claims += [
                (p.credential_id, None, None)
                for p in normalized.name.credentials
                if p.credential_id
            ]
        if normalized.npi:
            raw_claims.append(("npi", None, normalized.npi))
        for credential_id, state, number in raw_claims:
            term = taxonomy.terms["credential"][credential_id]
            if term.kind == "state_license" and state is None and len(home_states) == 1:
                state = next(iter(home_states))
            if term.kind != "state_license":
                state = None
            claimed[Claim(credential_id, term.kind or "", state, number)].add(fact.source)
    numbered = {(c.credential_id, c.state) for c in claimed if c.number}
    merged: dict[Claim, set[str]] = defaultdict(set)
    for claim, sources in claimed.items():
        if claim.number is None and (claim.credential_id, claim.state) in numbered:
            target = next(
                c
                for c in claimed
                if c.number and (c.credential_id, c.state) == (claim.credential_id, claim.state)
            )
            merged[target] |= sources
        else:
            merged[claim] |= sources
    return {claim: sorted(sources) for claim, sources in merged.items()}


def _place_claims(
    facts: list[ListingFacts], cite: Callable[[str, ListingFacts], None]
) -> list[PlaceClaim]:
    """Every place the listings publish, each listing's main place before its others."""
    claims: list[PlaceClaim] = []
    for fact in facts:
        placed = [
            PlaceClaim(fact.source, other.place, other.address)
            for other in fact.normalized.other_places
        ]
        if fact.normalized.location is not None:
            placed.insert(
                0, PlaceClaim(fact.source, fact.normalized.location, fact.normalized.address)
            )
        if placed:
            cite("locations", fact)
        claims += placed
    return claims


def _phones(facts: list[ListingFacts], cite: Callable[[str, ListingFacts], None]) -> list[str]:
    phones: list[str] = []
    for fact in facts:
        phone = fact.normalized.phone
        if phone:
            cite("phones", fact)
            if phone.e164 not in phones:
                phones.append(phone.e164)
    return phones


def _credential_checks(
    facts: list[ListingFacts], holder_keys: set[str], registry: Registry, taxonomy: Taxonomy
) -> list[CredentialCheck]:
    """Each credential the listings claim, checked against its issuer's records."""
    checks = []
    for claim, sources in sorted(
        claims_of(facts, taxonomy).items(),
        key=lambda kv: (kv[0].kind, kv[0].credential_id, kv[0].state or "", kv[0].number or ""),
    ):
        verification = registry.verify(claim, holder_keys)
        checks.append(
            CredentialCheck(
                type=claim.credential_id,
                label=taxonomy.label("credential", claim.credential_id),
                kind=claim.kind,
                state=claim.state,
                number=claim.number,
                claimed_by=tuple(sources),
                status=verification.status,
                checked_on=verification.checked_on,
                issuer=verification.issuer,
                record_url=verification.record_url,
                reason=verification.reason,
            )
        )
    return checks


def build_profile(
    cluster: Cluster,
    facts: list[ListingFacts],
    reviews: list[ReviewFact],
    registry: Registry,
    taxonomy: Taxonomy,
) -> Profile:
    """Assemble the served profile of one therapist."""
    facts = sorted(facts, key=lambda f: (not f.active, f.source, f.listing.id))
    active_facts = [f for f in facts if f.active] or facts
    names = Counter(f.normalized.name.name.display for f in active_facts if f.normalized.name)
    name = names.most_common(1)[0][0] if names else facts[0].listing.name_raw
    holder_keys = {
        f.normalized.name.name.key
        for f in facts
        if f.normalized.name and f.normalized.name.name.key
    }
    provenance: dict[str, list[dict[str, str]]] = defaultdict(list)

    def cite(field: str, fact: ListingFacts) -> None:
        entry = {"source": fact.source, "url": fact.listing.provenance.url, "last_seen": fact.seen}
        if entry not in provenance[field]:
            provenance[field].append(entry)

    for fact in facts:
        cite("name", fact)
    claims = _place_claims(active_facts, cite)
    phones = _phones(active_facts, cite)
    website = next((f.listing.website for f in active_facts if f.listing.website), None)
    practice = Counter(
        f.listing.practice_name_raw for f in active_facts if f.listing.practice_name_raw
    )
    modalities: list[str] = []
    conditions: list[str] = []
    unknown_terms: list[str] = []
    for fact in active_facts:
        if fact.normalized.modalities:
            modalities += fact.normalized.modalities.ids
            unknown_terms += fact.normalized.modalities.unknown
            if fact.normalized.modalities.ids:
                cite("modalities", fact)
        if fact.normalized.conditions:
            conditions += fact.normalized.conditions.ids
            unknown_terms += fact.normalized.conditions.unknown
    credentials = _credential_checks(facts, holder_keys, registry, taxonomy)
    published = [
        AggregateFact(f.source, f.normalized.rating.stars, f.normalized.rating.count)
        for f in active_facts
        if f.normalized.rating and f.normalized.rating.count
    ]
    rating = summarise(reviews, published)
    review_copies = {copy for ids in rating.copies.values() for copy in ids}
    bios = [f.listing.bio for f in active_facts if f.listing.bio]
    return Profile(
        id=profile_id(cluster),
        alias_ids=tuple(alias_ids(cluster)),
        name=name,
        other_names=tuple(sorted({f.listing.name_raw for f in facts} - {name})),
        practice_name=practice.most_common(1)[0][0] if practice else None,
        bio=max(bios, key=len) if bios else None,
        locations=tuple(merge_locations(claims)),
        phones=tuple(phones),
        website=website,
        modalities=tuple(dict.fromkeys(modalities)),
        conditions=tuple(dict.fromkeys(conditions)),
        unknown_terms=tuple(sorted(set(unknown_terms))),
        credentials=tuple(credentials),
        verification=Verification.of(credentials),
        credential_flags=tuple(
            f"claims {c.label}{' ' + c.number if c.number else ''}"
            f"{' in ' + c.state if c.state else ''}: {c.reason}"
            for c in credentials
            if c.status == "not_found"
        ),
        rating=Rating(
            combined=rating.combined,
            review_count=rating.review_count,
            by_source=rating.by_source,
            distribution=rating.distribution,
        ),
        reviews=tuple(
            ReviewEntry(
                id=r.id,
                source=r.source,
                url=r.url,
                author=r.author,
                rating=r.rating,
                published=r.published.isoformat() if r.published else None,
                body=r.body,
                copied_to=tuple(rating.copies.get(r.id, [])),
                author_url=r.author_url,
            )
            for r in sorted(reviews, key=lambda r: (r.published or date.min, r.id), reverse=True)
            if r.id not in review_copies
        ),
        listings=tuple(
            ListingRef(
                id=f.listing.id,
                source=f.source,
                url=f.listing.provenance.url,
                name=f.listing.name_raw,
                last_seen=f.seen,
                active=f.active,
                page_url=f.listing.extras.get("page_url"),
            )
            for f in facts
        ),
        merge_evidence=tuple(cluster.evidence),
        provenance=dict(provenance),
        data_flags=tuple(
            DataFlag(source=f.source, field=flag.field, reason=flag.reason, raw=flag.raw)
            for f in facts
            for flag in f.normalized.flags
            if flag.needs_review
        ),
        active=any(f.active for f in facts),
        last_confirmed=max(f.seen for f in facts),
    )
