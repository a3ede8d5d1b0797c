"""The seeded population generator.

Therapist ``i`` of a population is drawn from its own random stream seeded by ``(seed, i)``, so
generation streams (one therapist at a time, constant memory) and the same seed always gives the
same world. Only the issuers' number counters run across therapists, and they advance in id order.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta

from crawler.demoweb import places, vocab
from crawler.demoweb.identifiers import stable_hash
from crawler.demoweb.model import (
    Address,
    BoardCertification,
    FalseClaim,
    License,
    Listing,
    NpiRecord,
    Review,
    Therapist,
)
from crawler.demoweb.numbering import NumberPlan

DEFAULT_AS_OF = date(2025, 9, 1)
"""The date the demo world is "now" unless told otherwise (dates on pages are relative to it)."""

DIRECTORY_SITES = ("atlas", "guild", "pages", "reviews")
"""Sites that list therapists (the registries list credentials, not listings)."""

MAX_REVIEWS = 900
"""Reviews per therapist are numbered ``id * 1000 + k``; this keeps ``k`` below 1000."""

SECOND_OFFICE_RATE = 0.12
"""Share of therapists who also practise at a second office in their metro."""

MIN_OFFICE_KM = 1.5
"""A second office is at least this far from the main one (another ZIP, not the next door)."""

CITY_ONLY = "missing_address"
"""The defect a listing carries when it shows only a city and state: no street, ZIP or geo."""


@dataclass(frozen=True, slots=True)
class GenerationConfig:
    """What a population is generated from."""

    seed: int = 42
    therapists: int = 300
    as_of: date = DEFAULT_AS_OF


def _days(rng: random.Random, start: date, end: date) -> date:
    """A uniformly random date in ``[start, end]`` (``start`` if the range is empty)."""
    span = (end - start).days
    return start if span <= 0 else start + timedelta(days=rng.randint(0, span))


def _slug_domain(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower().replace("&", "and"))


class TherapistFactory:
    """Draws therapists, their listings and their reviews; shared by generation and mutation."""

    def __init__(self, seed: int, plan: NumberPlan, as_of: date) -> None:
        self.seed = seed
        self.plan = plan
        self.as_of = as_of
        self._names = vocab.names()
        self._practices = vocab.practices()
        self._spell = vocab.spellings()
        self._lic = vocab.licensing()
        self._sites = vocab.site_profiles()
        self._phrases = vocab.review_phrases()

    # -- people -----------------------------------------------------------------------------------

    def make(self, tid: int, *, metro: vocab.Metro | None = None, stream: str = "") -> Therapist:
        """Draw therapist ``tid`` (deterministic for the factory's seed and ``stream``)."""
        rng = random.Random(f"{self.seed}/{stream}therapist/{tid}")
        all_metros = vocab.metros()
        if metro is None:
            # The first ids go round the metros so that even a tiny population covers all of them.
            metro = all_metros[tid] if tid < len(all_metros) else places.pick_metro(rng)
        gender = "F" if rng.random() < 0.82 else "M"
        first = rng.choice(self._names["female" if gender == "F" else "male"])
        middle = None
        if rng.random() < 0.55:
            middle = rng.choice(self._names["female" if gender == "F" else "male"])
            if middle == first:
                middle = None
        last = rng.choice(self._names["last"])
        if rng.random() < 0.04:
            last = f"{last}-{rng.choice(self._names['last'])}"

        started = self.as_of.year - rng.choice((1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 18, 22, 27))
        address, zip_ = places.random_address(rng, metro)
        previous: Address | None = None
        moved_on: date | None = None
        prev_zip = None
        if rng.random() < 0.16 and started < self.as_of.year - 1:
            other = metro if rng.random() < 0.85 else places.pick_metro(rng)
            previous, prev_zip = places.random_address(rng, other)
            moved_on = _days(
                rng, self.as_of - timedelta(days=3 * 365), self.as_of - timedelta(days=20)
            )
        area = rng.choice((prev_zip or zip_).area_codes or ("555",))
        exchange = f"{rng.randint(2, 9)}{rng.randint(0, 9)}{rng.randint(0, 9)}"
        phone = f"{area}{exchange}{rng.randint(0, 9999):04d}"
        if phone[3:6] == "555":
            phone = phone[:3] + "556" + phone[6:]

        practice = self._practice_name(rng, first, last, address.city)
        website = None
        if rng.random() < 0.42:
            website = f"www.{_slug_domain(practice)[:40]}.{rng.choice(self._practices['web_tlds'])}"

        modalities = self._modalities(rng)
        conditions = self._conditions(rng, modalities)
        t = Therapist(
            id=tid,
            metro=metro.id,
            gender=gender,
            first=first,
            middle=middle,
            last=last,
            practice=practice,
            address=address,
            previous_address=previous,
            moved_on=moved_on,
            phone=phone,
            website=website,
            started=started,
            modalities=modalities,
            conditions=conditions,
        )
        self._credentials(rng, t)
        self._listings(rng, t)
        self._reviews(rng, t)
        # Drawn from streams of their own, so every other draw of the world stays as it was.
        self._second_office(t, metro, stream)
        self._city_only_listings(t, stream)
        t.updated = self._last_change(t)
        return t

    def _practice_name(self, rng: random.Random, first: str, last: str, city: str) -> str:
        p = self._practices
        patterns = p["patterns"]
        pattern = rng.choices([x[0] for x in patterns], weights=[x[1] for x in patterns])[0]
        name = pattern.format(
            first=first,
            last=last,
            city=city,
            word=rng.choice(p["words"]),
            place=rng.choice(p["places"]),
            specialty=rng.choice(p["specialties"]),
        )
        if rng.random() < 0.12 and "," not in name:
            name = f"{name}, {rng.choice(p['legal_suffixes'])}"
        return name

    def _modalities(self, rng: random.Random) -> list[str]:
        rates = self._spell["modality_rates"]
        chosen = [m for m, pct in rates.items() if rng.random() * 100 < pct]
        # A directory of neuromuscular therapists: nearly everyone offers some of the core work.
        core = [
            "neuromuscular_therapy",
            "trigger_point_therapy",
            "deep_tissue",
            "myofascial_release",
        ]
        while len(chosen) < 2:
            pick = rng.choice(core)
            if pick not in chosen:
                chosen.append(pick)
        order = list(rates)
        return sorted(chosen, key=order.index)

    def _conditions(self, rng: random.Random, modalities: list[str]) -> list[str]:
        by_modality = self._spell["conditions_by_modality"]
        pool = sorted({c for m in modalities for c in by_modality.get(m, ())})
        if not pool:
            return []
        k = min(len(pool), rng.randint(2, 6))
        order = list(self._spell["conditions"])
        return sorted(rng.sample(pool, k), key=order.index)

    # -- credentials ------------------------------------------------------------------------------

    def _license(self, rng: random.Random, state: str, started: int, status: str) -> License | None:
        rule = vocab.state_licensing().get(state)
        if rule is None:
            return None
        issued = _days(rng, date(started, 1, 1), date(started, 12, 28))
        term = timedelta(days=365 * rule.term_years)
        if status == "active":
            expires = _days(rng, self.as_of + timedelta(days=20), self.as_of + term)
        elif status == "expired":
            expires = _days(rng, max(issued + term, self.as_of - timedelta(days=1600)), self.as_of)
            expires = min(expires, self.as_of - timedelta(days=1))
        else:
            expires = _days(rng, self.as_of - timedelta(days=400), self.as_of + term)
        expires = max(expires, issued + timedelta(days=180))
        return License(
            state=state,
            credential=rule.credential,
            title=rule.title,
            number=self.plan.license_number(state),
            status=status,
            issued=issued,
            expires=expires,
        )

    def _status(self, rng: random.Random) -> str:
        weights = self._lic["status_weights"]
        return rng.choices(list(weights), weights=list(weights.values()))[0]

    def _credentials(self, rng: random.Random, t: Therapist) -> None:
        # One stream, drawn in this order: licenses, board certification, NPI, memberships.
        self._licenses(rng, t)
        self._board_certification(rng, t)
        self._npi(rng, t)
        self._memberships(rng, t)

    def _licenses(self, rng: random.Random, t: Therapist) -> None:
        state = t.address.state
        rule = vocab.state_licensing().get(state)
        unlicensed = rule is not None and rng.random() < 0.03
        if t.previous_address and t.previous_address.state != state:
            # Moved across a state line: the old license is usually left to lapse.
            old_status = "expired" if rng.random() < 0.7 else "active"
            old = self._license(rng, t.previous_address.state, t.started, old_status)
            if old:
                t.licenses.append(old)
            start = t.moved_on.year if t.moved_on else t.started
        else:
            start = t.started
        if rule is not None and not unlicensed:
            lic = self._license(rng, state, start, self._status(rng))
            if lic:
                t.licenses.append(lic)
        if rule is not None and unlicensed and rng.random() < 0.8:
            number = self.plan.license_number(state, fabricated=True)
            t.false_claims.append(FalseClaim(rule.credential, state, number, "unlicensed"))
        elif t.current_license and rng.random() < 0.035:
            # Listing shows a license number the board never issued (not the person's own).
            number = self.plan.license_number(state, fabricated=True)
            t.false_claims.append(
                FalseClaim(t.current_license.credential, state, number, "unknown_number")
            )

    def _board_certification(self, rng: random.Random, t: Therapist) -> None:
        if rng.random() < 0.2:
            issued = _days(rng, date(max(t.started, 2013), 1, 1), self.as_of - timedelta(days=90))
            active = rng.random() < 0.88
            expires = (
                _days(rng, self.as_of + timedelta(days=10), self.as_of + timedelta(days=730))
                if active
                else _days(rng, self.as_of - timedelta(days=900), self.as_of - timedelta(days=5))
            )
            t.bctmb = BoardCertification(
                id=self.plan.bctmb_id(),
                status="active" if active else "expired",
                issued=issued,
                expires=max(expires, issued + timedelta(days=365)),
            )
        elif rng.random() < 0.035:
            fake = self.plan.bctmb_id(fabricated=True) if rng.random() < 0.6 else None
            t.false_claims.append(FalseClaim("bctmb", None, fake, "not_certified"))
        t.legacy_ncbtmb = t.bctmb is None and t.started < 2014 and rng.random() < 0.2

    def _npi(self, rng: random.Random, t: Therapist) -> None:
        if rng.random() < 0.36:
            enumerated = _days(
                rng, date(max(t.started, 2007), 1, 1), self.as_of - timedelta(days=30)
            )
            stale = bool(t.moved_on) and rng.random() < 0.6
            last_seen = t.moved_on - timedelta(days=1) if stale and t.moved_on else self.as_of
            updated = _days(rng, enumerated, max(enumerated, last_seen))
            if t.moved_on and not stale:
                updated = _days(rng, t.moved_on, self.as_of)
            cred_forms = ("LMT", "LMT", "L.M.T.", "MT", "LMT, CNMT", "NMT", "", "LMT BCTMB")
            title = t.current_license.title if t.current_license else "LMT"
            cred = (
                rng.choice(cred_forms).replace("LMT", title)
                if title != "LMT"
                else rng.choice(cred_forms)
            )
            t.npi = NpiRecord(
                number=self.plan.npi(),
                enumerated=enumerated,
                updated=updated,
                sole_proprietor=rng.random() < 0.7,
                credential_text=cred,
                stale_address=stale,
            )

    def _memberships(self, rng: random.Random, t: Therapist) -> None:
        roll = rng.random()
        if roll < 0.34:
            t.memberships.append("amta_member")
        elif roll < 0.68:
            t.memberships.append("abmp_member")
        elif roll < 0.72:
            t.memberships.extend(["amta_member", "abmp_member"])
        if "neuromuscular_therapy" in t.modalities and rng.random() < 0.45:
            t.nmt_program = rng.choice(self._lic["nmt_programs"])
            t.nmt_year = rng.randint(max(t.started, self.as_of.year - 20), self.as_of.year)

    # -- listings and reviews ---------------------------------------------------------------------

    def listing_for(self, rng: random.Random, t: Therapist, site: str, ordinal: int) -> Listing:
        """Draw a listing of ``t`` on ``site`` (stale or not, broken or not, dated)."""
        profile = self._sites["directories"][site]
        start = date(t.started, 1, 1)
        stale = bool(t.moved_on) and (ordinal > 0 or rng.random() < profile["stale_address"])
        first = t.listing(site, 0)
        if ordinal > 0 and t.moved_on and first is not None and first.stale:
            # A duplicate of a stale listing is the one made after the move.
            stale = False
        end = t.moved_on - timedelta(days=1) if stale and t.moved_on else self.as_of
        since = _days(rng, start, end)
        if not stale and t.moved_on and rng.random() < 0.5:
            since = _days(rng, t.moved_on, self.as_of)
        updated = _days(rng, since, end if stale else self.as_of)
        defect = rng.choice(profile["defects"]) if rng.random() < profile["broken"] else None
        return Listing(
            site=site, ordinal=ordinal, stale=stale, defect=defect, since=since, updated=updated
        )

    def _listings(self, rng: random.Random, t: Therapist) -> None:
        for site, profile in self._sites["directories"].items():
            if rng.random() >= profile["presence"]:
                continue
            t.listings.append(self.listing_for(rng, t, site, 0))
            dup_rate = profile["duplicate"] * (4 if t.moved_on else 1)
            if rng.random() < dup_rate:
                t.listings.append(self.listing_for(rng, t, site, 1))

    def review_author(self, rng: random.Random) -> str:
        """A reviewer display name in one of the styles review sites use."""
        style = rng.choice(self._phrases["reviewer_styles"])
        first = rng.choice(self._names["female" if rng.random() < 0.6 else "male"])
        last = rng.choice(self._names["last"])
        return style.format(
            first=first,
            last=last,
            l=last[0],
            f=first[0],
            first_lower=first.lower(),
            l_lower=last[0].lower(),
            n=rng.randint(1, 99),
        )

    def _rating(self, rng: random.Random, quality: float, site: str) -> float:
        raw = min(5.0, max(1.0, rng.gauss(quality, 0.8)))
        # The review site allows half stars; the directories take whole stars.
        return round(raw * 2) / 2 if site == "reviews" else float(round(raw))

    def new_review(
        self, rng: random.Random, t: Therapist, site: str, start: date, end: date, quality: float
    ) -> Review:
        """A fresh review of ``t`` on ``site`` dated in ``[start, end]``."""
        k = len(t.reviews)
        return Review(
            id=t.id * 1000 + k,
            site=site,
            published=_days(rng, start, end),
            rating=self._rating(rng, quality, site),
            author=self.review_author(rng),
            text_seed=stable_hash(self.seed, t.id, k, "text") % 2**31,
        )

    def copy_review(self, rng: random.Random, t: Therapist, original: Review, site: str) -> Review:
        """The same review text and author, reposted on ``site`` a little later."""
        k = len(t.reviews)
        published = min(self.as_of, original.published + timedelta(days=rng.randint(0, 45)))
        rating = original.rating if site == "reviews" else float(round(original.rating + 0.01))
        return Review(
            id=t.id * 1000 + k,
            site=site,
            published=published,
            rating=rating,
            author=original.author,
            text_seed=original.text_seed,
            copy_of=original.id,
        )

    def quality(self, t: Therapist) -> float:
        """The therapist's underlying quality (mean rating), fixed for life."""
        return therapist_quality(self.seed, t.id)

    def _reviews(self, rng: random.Random, t: Therapist) -> None:
        hosts = [
            item
            for item in t.listings
            if item.ordinal == 0 and self._sites["directories"][item.site]["review_share"] > 0
        ]
        if not hosts:
            return
        count = min(MAX_REVIEWS // 2, int(rng.lognormvariate(1.5, 1.05)))
        weights = [self._sites["directories"][h.site]["review_share"] for h in hosts]
        quality = self.quality(t)
        copy_rate = self._sites["review_copy_rate"]
        for _ in range(count):
            host = rng.choices(hosts, weights=weights)[0]
            review = self.new_review(rng, t, host.site, host.since, self.as_of, quality)
            t.reviews.append(review)
            others = [h for h in hosts if h.site != host.site]
            if others and rng.random() < copy_rate:
                t.reviews.append(self.copy_review(rng, t, review, rng.choice(others).site))

    # -- offices --------------------------------------------------------------------------------

    def _second_office(self, t: Therapist, metro: vocab.Metro, stream: str) -> None:
        """Give some therapists a second office in their metro, in another ZIP than the first."""
        rng = random.Random(f"{self.seed}/{stream}offices/{t.id}")
        if rng.random() >= SECOND_OFFICE_RATE:
            return
        for _ in range(8):
            office, _ = places.random_address(rng, metro)
            far = places.distance_km(office, t.address) >= MIN_OFFICE_KM
            if far and office.zip != t.address.zip:
                t.other_offices.append(office)
                return

    def _city_only_listings(self, t: Therapist, stream: str) -> None:
        """Turn some listings into city-only ones, at each site's ``city_only`` rate.

        Home-based and mobile therapists often give a directory only the city they serve; the
        page then shows city and state, with no street, ZIP or coordinates. One draw per
        listing, whatever its state, keeps the stream stable.
        """
        rng = random.Random(f"{self.seed}/{stream}city-only/{t.id}")
        listings = []
        for item in t.listings:
            rate = self._sites["directories"][item.site].get("city_only", 0.0)
            if rng.random() < rate and item.defect is None:
                item = replace(item, defect=CITY_ONLY)
            listings.append(item)
        t.listings = listings

    def _last_change(self, t: Therapist) -> date:
        dates = [date(t.started, 1, 1)]
        dates += [item.updated for item in t.listings]
        dates += [r.published for r in t.reviews]
        if t.moved_on:
            dates.append(t.moved_on)
        return max(dates)


def therapist_quality(seed: int, tid: int) -> float:
    """Therapist ``tid``'s underlying quality (mean rating), fixed for life: what every site's
    reviews of them are drawn around."""
    q = random.Random(f"{seed}/quality/{tid}").gauss(4.35, 0.45)
    return min(4.95, max(2.2, q))


def generate(config: GenerationConfig) -> tuple[NumberPlan, Iterator[Therapist]]:
    """Start generating a population: its number plan and a stream of its therapists by id.

    The plan's counters advance as the stream is consumed; store the plan (``to_doc``) only after
    the stream is exhausted.
    """
    plan = NumberPlan.for_population(config.seed, config.therapists)
    factory = TherapistFactory(config.seed, plan, config.as_of)

    def stream() -> Iterator[Therapist]:
        for tid in range(config.therapists):
            yield factory.make(tid)

    return plan, stream()
