"""The next state of a demo world, for recrawl tests: time passes and people change.

A mutation moves the world's date forward and, seeded, lets some therapists move (old listings
keep the old address), retire (some listings vanish, others linger), let licenses lapse or renew,
collect new reviews and create new listings, and adds newcomers. The result is a complete new
world directory (population, ground truth) plus ``changes.json`` naming who changed and how.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from crawler.demoweb import places, vocab
from crawler.demoweb.generator import MAX_REVIEWS, TherapistFactory
from crawler.demoweb.model import Therapist
from crawler.demoweb.numbering import NumberPlan
from crawler.demoweb.store import Population
from crawler.demoweb.world import write_world

CHANGES_NAME = "changes.json"

MOVE_RATE = 0.03
RETIRE_RATE = 0.015
RENEW_RATE = 0.7
REVIEW_RATE = 0.12
NEW_LISTING_RATE = 0.02
NEWCOMER_RATE = 0.01


def _in_window(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(1, max(1, (end - start).days)))


class _Mutator:
    def __init__(self, source: Population, seed: int, days: int) -> None:
        self.source = source
        self.seed = seed
        self.old_as_of = date.fromisoformat(source.meta["as_of"])
        self.as_of = self.old_as_of + timedelta(days=days)
        self.generation = int(source.meta["generation"]) + 1
        self.plan = NumberPlan.from_doc(source.meta["numbers"])
        self.factory = TherapistFactory(int(source.meta["seed"]), self.plan, self.as_of)
        self.changes: dict[str, list[int]] = {
            "moved": [],
            "retired": [],
            "license_expired": [],
            "license_renewed": [],
            "new_reviews": [],
            "new_listing": [],
            "removed_listing": [],
            "new_therapist": [],
        }
        self.sites = vocab.site_profiles()["directories"]

    def therapists(self) -> Iterator[Therapist]:
        for t in self.source.therapists():
            yield self._change(t)
        next_id = int(self.source.meta["next_id"])
        newcomers = max(1, round(self.source.count * NEWCOMER_RATE))
        for k in range(newcomers):
            t = self.factory.make(next_id + k, stream=f"generation-{self.generation}/")
            self.changes["new_therapist"].append(t.id)
            yield t

    def _change(self, t: Therapist) -> Therapist:
        if t.status != "active":
            return t
        rng = random.Random(f"{self.seed}/mutation/{self.generation}/{t.id}")
        changed = False
        if rng.random() < RETIRE_RATE:
            self._retire(rng, t)
            return t
        if rng.random() < MOVE_RATE:
            self._move(rng, t)
            changed = True
        changed |= self._licenses(rng, t)
        if rng.random() < REVIEW_RATE and self._review(rng, t):
            changed = True
        if rng.random() < NEW_LISTING_RATE and self._new_listing(rng, t):
            changed = True
        if changed:
            t.updated = self.as_of
        return t

    def _retire(self, rng: random.Random, t: Therapist) -> None:
        t.status = "retired"
        kept = [item for item in t.listings if rng.random() < 0.4]
        removed = {item.key for item in t.listings} - {item.key for item in kept}
        # Reviews only live on main listings; dropping one drops its reviews too.
        gone_sites = {site for site, ordinal in removed if ordinal == 0}
        t.listings = [item for item in kept if item.site not in gone_sites]
        t.reviews = [r for r in t.reviews if r.site not in gone_sites]
        t.updated = self.as_of
        self.changes["retired"].append(t.id)
        if removed:
            self.changes["removed_listing"].append(t.id)

    def _move(self, rng: random.Random, t: Therapist) -> None:
        metro = next(m for m in vocab.metros() if m.id == t.metro)
        new_address, _ = places.random_address(rng, metro)
        t.previous_address = t.address
        t.address = new_address
        t.moved_on = _in_window(rng, self.old_as_of, self.as_of)
        updated = []
        for item in t.listings:
            if rng.random() < 0.5:
                updated.append(replace(item, stale=False, updated=t.moved_on))
            else:
                updated.append(replace(item, stale=True))
        t.listings = updated
        if t.npi:
            t.npi = replace(
                t.npi,
                stale_address=rng.random() < 0.6,
                updated=t.npi.updated if rng.random() < 0.6 else t.moved_on,
            )
        self.changes["moved"].append(t.id)

    def _licenses(self, rng: random.Random, t: Therapist) -> bool:
        changed = False
        licenses = []
        for lic in t.licenses:
            if lic.status == "active" and lic.expires <= self.as_of:
                rule = vocab.state_licensing()[lic.state]
                term = 365 * (rule.term_years if rule else 2)
                if rng.random() < RENEW_RATE:
                    lic = replace(lic, expires=lic.expires + timedelta(days=term))
                    self.changes["license_renewed"].append(t.id)
                else:
                    lic = replace(lic, status="expired")
                    self.changes["license_expired"].append(t.id)
                changed = True
            licenses.append(lic)
        t.licenses = licenses
        return changed

    def _review(self, rng: random.Random, t: Therapist) -> bool:
        hosts = [i for i in t.listings if i.ordinal == 0 and self.sites[i.site]["review_share"] > 0]
        if not hosts:
            return False
        quality = self.factory.quality(t)
        for _ in range(rng.randint(1, 3)):
            if len(t.reviews) >= MAX_REVIEWS:
                break
            host = rng.choice(hosts)
            start = self.old_as_of + timedelta(days=1)
            t.reviews.append(self.factory.new_review(rng, t, host.site, start, self.as_of, quality))
        self.changes["new_reviews"].append(t.id)
        return True

    def _new_listing(self, rng: random.Random, t: Therapist) -> bool:
        missing = [s for s in self.sites if t.listing(s, 0) is None]
        if not missing:
            return False
        site = rng.choice(missing)
        item = self.factory.listing_for(rng, t, site, 0)
        since = _in_window(rng, self.old_as_of, self.as_of)
        t.listings.append(replace(item, stale=False, since=since, updated=since))
        self.changes["new_listing"].append(t.id)
        return True


def mutate(
    source: Path | str | Population, out: Path | str, *, seed: int = 1, days: int = 30
) -> Population:
    """Write the state of ``source`` ``days`` later into ``out`` and return it opened.

    Deterministic for the source world and ``seed``. ``out/changes.json`` lists the ids of the
    therapists affected by each kind of change.
    """
    population = source if isinstance(source, Population) else Population(source)
    mutator = _Mutator(population, seed, days)
    meta: dict[str, Any] = {
        "seed": population.meta["seed"],
        "as_of": mutator.as_of.isoformat(),
        "generation": mutator.generation,
        "id_space": population.meta["id_space"],
        "mutation_seeds": [*population.meta.get("mutation_seeds", []), seed],
    }
    out_dir = Path(out)
    result = write_world(out_dir, mutator.therapists(), meta, mutator.plan)
    changes = {kind: sorted(set(ids)) for kind, ids in mutator.changes.items()}
    (out_dir / CHANGES_NAME).write_text(
        json.dumps(
            {
                "from_generation": mutator.generation - 1,
                "generation": mutator.generation,
                "as_of": mutator.as_of.isoformat(),
                "seed": seed,
                "changes": changes,
            },
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    return result
