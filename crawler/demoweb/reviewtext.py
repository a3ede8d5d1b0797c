"""Review text, composed on demand from a review's text seed and the data file's phrases.

The text is a pure function of the seed and of facts about the therapist, so a review copied to
another site (same seed) reads word for word the same there.
"""

from __future__ import annotations

import random

from crawler.demoweb import vocab
from crawler.demoweb.model import Review, Therapist


def _band(rating: float) -> str:
    if rating >= 4:
        return "positive"
    if rating >= 2.5:
        return "mixed"
    return "negative"


def review_text(review: Review, t: Therapist) -> str:
    """The body of ``review`` of therapist ``t``."""
    rng = random.Random(review.text_seed)
    phrases = vocab.review_phrases()[_band(review.rating)]
    spell = vocab.spellings()
    condition_id = rng.choice(t.conditions) if t.conditions else "chronic_pain"
    modality_id = rng.choice(t.modalities)
    fields = {
        "name": t.first,
        "Pronoun": "She" if t.gender == "F" else "He",
        "condition": spell["conditions"][condition_id][0].lower().replace("tmj", "TMJ"),
        "modality": rng.choice(spell["modalities"][modality_id][:2]),
    }
    parts = [rng.choice(phrases["openers"])]
    parts += rng.sample(phrases["body"], k=min(len(phrases["body"]), rng.randint(1, 2)))
    if rng.random() < 0.55:
        parts.append(rng.choice(phrases["closers"]))
    return " ".join(p.format(**fields) for p in parts if p).strip()
