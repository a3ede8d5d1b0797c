"""Small pieces of page that several pages share: badges, term lists, link problems."""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

from dashboard.credentials import Badge
from dashboard.markup import escape_markdown
from indexer.profile import Profile
from indexer.taxonomy import Taxonomy, Vocabulary


def badge_markdown(badges: Iterable[Badge]) -> str:
    """Badges as one line of markdown. Labels are the dashboard's own words, escaped anyway."""
    return " ".join(f":{b.color}-badge[{b.icon} {escape_markdown(b.label)}]" for b in badges)


def term_labels(
    taxonomy: Taxonomy, vocabulary: Vocabulary, ids: Iterable[str], limit: int | None = None
) -> str:
    """Taxonomy labels joined with middle dots (escaped markdown), "+3 more" past ``limit``."""
    labels = [taxonomy.label(vocabulary, str(i)) for i in ids]
    shown = labels if limit is None else labels[:limit]
    text = " · ".join(escape_markdown(label) for label in shown)
    if limit is not None and len(labels) > limit:
        text += f" · +{len(labels) - limit} more"
    return text


def show_problems(problems: list[str]) -> None:
    """Tell the client which parts of a shared link could not be used."""
    if problems:
        st.warning(
            "Some parts of this link could not be used:\n"
            + "\n".join(f"- {escape_markdown(p)}" for p in problems),
            icon=":material/link_off:",
        )


def condition_matches(taxonomy: Taxonomy, conditions: Iterable[str], profile: Profile) -> list[str]:
    """Why a profile matches each searched condition, in words (escaped markdown).

    "Treats sciatica (listed)" when the therapist lists it; "Matches sciatica through
    neuromuscular therapy" when a technique they offer addresses it (the taxonomy's
    ``addressed_by``), which is how search found them.
    """
    lines = []
    for condition in conditions:
        term = taxonomy.terms["condition"].get(condition)
        if term is None:
            continue
        label = escape_markdown(taxonomy.label("condition", condition).lower())
        if condition in profile.conditions:
            lines.append(f"Treats {label} (listed)")
            continue
        through = [
            taxonomy.label("modality", m).lower()
            for m in profile.modalities
            if set(taxonomy.expand_modalities([m])).intersection(term.addressed_by)
        ]
        if through:
            lines.append(f"Matches {label} through {escape_markdown(' and '.join(through[:2]))}")
    return lines
