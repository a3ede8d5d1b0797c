"""Sources by the names people know them by: the catalog's titles, never internal names.

The catalog's title of a source ("Bodywork Atlas (national directory, JSON-LD)") without the
technical note in brackets; a source the catalog does not list keeps its name.
"""

from __future__ import annotations

import re

import streamlit as st

from crawler.catalog import CatalogError, source_titles

TITLES_TTL_SECONDS = 300
_NOTE = re.compile(r"\s*\([^)]*\)\s*$")


@st.cache_data(ttl=TITLES_TTL_SECONDS, show_spinner=False)
def _titles() -> dict[str, str]:
    try:
        titles = source_titles()
    except CatalogError:
        return {}
    return {name: _NOTE.sub("", title) or name for name, title in titles.items()}


def source_title(name: str) -> str:
    """What to call a source on screen."""
    return _titles().get(name, name)
