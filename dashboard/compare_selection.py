"""The therapists a visitor chose to compare, kept for the whole visit whichever page is open.

The choice travels in the URL too (``compare=<id>`` repeated), so that a comparison can be
shared; but the top navigation opens a page without the URL's parameters, and a choice kept
only there was lost on the way to the Compare tab and back. So the visit keeps it as well: a
URL that names therapists to compare sets the choice, a URL that names none leaves it as it is.
"""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

from dashboard.search_state import MAX_COMPARE

_KEY = "tdir_compare"


def chosen() -> tuple[str, ...]:
    """The profile ids chosen for comparison, in the order they were chosen."""
    return tuple(st.session_state.get(_KEY, ()))


def choose(ids: Iterable[str]) -> tuple[str, ...]:
    """Make these ids the choice (each once, at most ``MAX_COMPARE``); returns the choice."""
    kept = tuple(dict.fromkeys(i for i in ids if i))[:MAX_COMPARE]
    st.session_state[_KEY] = kept
    return kept


def adopt(from_url: tuple[str, ...]) -> tuple[str, ...]:
    """The choice once a URL is read: the URL's when it names any, else the visit's own."""
    return choose(from_url) if from_url else chosen()


def toggle(profile_id: str) -> tuple[str, ...]:
    """Add a therapist to the choice, or take them out if chosen (a full choice takes no more)."""
    current = list(chosen())
    if profile_id in current:
        current.remove(profile_id)
    elif len(current) < MAX_COMPARE:
        current.append(profile_id)
    return choose(current)


def clear() -> None:
    """Choose nobody."""
    choose(())
