"""Small pieces of page that several pages share: badges, term lists, link problems."""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

from dashboard.credentials import Badge
from dashboard.markup import escape_markdown
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
