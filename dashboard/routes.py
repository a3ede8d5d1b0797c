"""The dashboard's pages, by file, and the query parameters that lead to them.

Paths are relative to ``dashboard/app.py`` (the entry point), as ``st.Page``, ``st.page_link``
and ``st.switch_page`` expect.
"""

from __future__ import annotations

from dashboard.search_state import SearchState

SEARCH = "app_pages/search.py"
PROFILE = "app_pages/profile.py"
COMPARE = "app_pages/compare.py"
SIGN_IN = "app_pages/sign_in.py"
ADMIN_SOURCES = "app_pages/admin_sources.py"
ADMIN_FLAGGED = "app_pages/admin_flagged.py"
ADMIN_CORRECTIONS = "app_pages/admin_corrections.py"

# Where a search came from travels with links to profiles and the compare view, so "back to
# results" returns to the same page of the same search.
SEARCH_KEYS = (
    "near",
    "radius",
    "unit",
    "q",
    "modality",
    "condition",
    "credential",
    "verified",
    "min_rating",
    "min_reviews",
    "sort",
    "cursor",
    "page",
    "compare",
)


def profile_params(profile_id: str, state: SearchState) -> dict[str, str | list[str]]:
    """Query parameters opening a profile from a search."""
    return {"id": profile_id, **state.to_params()}


def compare_params(ids: tuple[str, ...], state: SearchState) -> dict[str, str | list[str]]:
    """Query parameters opening the compare view of these therapists from a search."""
    params = state.to_params()
    params["compare"] = list(ids)
    return params
