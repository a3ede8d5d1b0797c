"""Each page's heading: its one h1 and the browser tab's title, which say the same thing.

Screen-reader users jump between pages by their h1 and between tabs by their titles, so every
page has both, and the tab names the page before the site.
"""

from __future__ import annotations

import streamlit as st

from dashboard.markup import escape_markdown, plain_text

SITE = "tdir"
_TAB_TITLE_CHARS = 70  # browsers cut longer tab titles anyway


def page_heading(h1: str, *, tab: str | None = None) -> None:
    """Draw the page's h1 (``h1``, plain text) and title its browser tab (``tab``, else h1)."""
    tab_text = plain_text(tab or h1, max_length=_TAB_TITLE_CHARS)
    st.set_page_config(page_title=f"{tab_text} · {SITE}")
    st.title(escape_markdown(h1, max_length=120), anchor=False)
