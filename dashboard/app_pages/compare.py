"""Compare: two to four therapists side by side, chosen from the search results.

The choice is in the URL (``compare=<id>`` repeated) with the search it came from, so a
comparison can be shared and the way back leads to the same results.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import routes, services
from dashboard.credentials import badges, credentials_of
from dashboard.formatting import (
    MISSING,
    format_date,
    format_distance,
    format_rating,
    plural,
    short_label,
    status_style,
)
from dashboard.markup import escape_markdown, plain_text
from dashboard.search_state import SearchState, read_state
from dashboard.widgets import badge_markdown, rating_line, show_problems
from indexer.geo import GeoPoint, distance_km
from indexer.geocode import PlaceNotFoundError, geocode_place
from indexer.search import BackendError
from indexer.taxonomy import Taxonomy, load_taxonomy


def searched_point(state: SearchState) -> GeoPoint | None:
    """The place the search was about, if it had one."""
    if not state.near:
        return None
    try:
        return geocode_place(state.near).point
    except PlaceNotFoundError:
        return None


def nearest_km(profile: dict[str, Any], point: GeoPoint | None) -> float | None:
    """Distance from the searched place to the therapist's nearest location."""
    if point is None:
        return None
    distances = [
        distance_km(point.lat, point.lon, float(loc["lat"]), float(loc["lon"]))
        for loc in profile.get("locations") or []
        if loc.get("lat") is not None and loc.get("lon") is not None
    ]
    return min(distances) if distances else None


def column_names(profiles: list[dict[str, Any]]) -> list[str]:
    """One column heading per therapist; namesakes get a number, so headings stay unique."""
    names: list[str] = []
    for profile in profiles:
        base = plain_text(profile.get("name") or profile.get("id"), max_length=40)
        name, n = base, 2
        while name in names:
            name, n = f"{base} ({n})", n + 1
        names.append(name)
    return names


def credential_cell(profile: dict[str, Any], credential_id: str) -> str:
    """What a therapist holds of one credential type, with its verification."""
    found = [c for c in credentials_of(profile) if c.get("type") == credential_id]
    if not found:
        return ""
    parts = []
    for credential in found:
        where = f" {credential['state']}" if credential.get("state") else ""
        parts.append(f"{status_style(credential.get('status')).label}{where}")
    return "; ".join(parts)


def summary_table(
    profiles: list[dict[str, Any]], names: list[str], point: GeoPoint | None, state: SearchState
) -> pd.DataFrame:
    """Rows of figures (distance, ratings, counts), one column per therapist."""
    sources = sorted(
        {s for p in profiles for s in ((p.get("rating") or {}).get("by_source") or {})}
    )
    rows: dict[str, list[str]] = {}
    if point is not None:
        rows["Distance"] = [
            format_distance(nearest_km(p, point), state.unit) or MISSING for p in profiles
        ]
    rows["Combined rating"] = [
        format_rating((p.get("rating") or {}).get("combined")) for p in profiles
    ]
    rows["Reviews (all sites)"] = [
        f"{int((p.get('rating') or {}).get('review_count') or 0):,}" for p in profiles
    ]
    for source in sources:
        cells = []
        for profile in profiles:
            value = ((profile.get("rating") or {}).get("by_source") or {}).get(source)
            if isinstance(value, dict) and value.get("count"):
                cells.append(f"{format_rating(value.get('rating'))} ({value.get('count')})")
            else:
                cells.append(MISSING)
        rows[f"Rating on {plain_text(source)}"] = cells
    rows["Practice"] = [plain_text(p.get("practice_name"), max_length=60) for p in profiles]
    rows["City"] = [
        ", ".join(
            plain_text(x)
            for x in ((p.get("locations") or [{}])[0].get(k) for k in ("city", "state"))
            if x
        )
        for p in profiles
    ]
    rows["Last confirmed"] = [format_date(p.get("last_confirmed")) for p in profiles]
    return pd.DataFrame(rows, index=names).T


def term_matrix(
    profiles: list[dict[str, Any]], names: list[str], taxonomy: Taxonomy
) -> pd.DataFrame:
    """Which techniques each therapist offers (✓), every offered technique once."""
    offered: list[str] = []
    for profile in profiles:
        for modality in profile.get("modalities") or []:
            if modality not in offered:
                offered.append(str(modality))
    data = {
        name: ["✓" if m in (p.get("modalities") or []) else "" for m in offered]
        for name, p in zip(names, profiles, strict=True)
    }
    return pd.DataFrame(data, index=[taxonomy.label("modality", m) for m in offered])


def credential_matrix(
    profiles: list[dict[str, Any]], names: list[str], taxonomy: Taxonomy
) -> pd.DataFrame:
    """Each credential type anyone claims, and its status for each therapist."""
    claimed: list[str] = []
    for profile in profiles:
        for credential in credentials_of(profile):
            kind = str(credential.get("type"))
            if kind not in claimed:
                claimed.append(kind)
    data = {
        name: [credential_cell(p, c) for c in claimed]
        for name, p in zip(names, profiles, strict=True)
    }
    return pd.DataFrame(data, index=[short_label(taxonomy.label("credential", c)) for c in claimed])


def _remove(profile_id: str, state: SearchState) -> None:
    remaining = tuple(i for i in state.compare if i != profile_id)
    st.query_params.from_dict(routes.compare_params(remaining, state))


def cards(profiles: list[dict[str, Any]], point: GeoPoint | None, state: SearchState) -> None:
    """A short card per therapist, with the way to the full profile."""
    for column, profile in zip(st.columns(len(profiles)), profiles, strict=True):
        with column, st.container(border=True):
            st.markdown(f"#### {escape_markdown(profile.get('name'), max_length=60)}")
            practice = plain_text(profile.get("practice_name"), max_length=60)
            st.markdown(f":gray[{escape_markdown(practice)}]" if practice else ":gray[—]")
            st.markdown(badge_markdown(badges(profile)))
            distance = nearest_km(profile, point)
            if distance is not None:
                st.markdown(f"**{format_distance(distance, state.unit)}** away")
            st.markdown(rating_line(profile.get("rating")))
            st.page_link(
                routes.PROFILE,
                label="View profile",
                icon=":material/person:",
                query_params=routes.profile_params(str(profile.get("id")), state),
            )
            st.button(
                "Remove",
                key=f"remove_{profile.get('id')}",
                icon=":material/close:",
                on_click=_remove,
                args=(str(profile.get("id")), state),
            )


def main() -> None:
    """Draw the compare page."""
    taxonomy = load_taxonomy()
    state, problems = read_state(st.query_params, taxonomy)
    st.page_link(
        routes.SEARCH,
        label="Back to results",
        icon=":material/arrow_back:",
        query_params=state.to_params(),
    )
    st.title("Compare therapists")
    show_problems(problems)
    profiles: list[dict[str, Any]] = []
    missing = 0
    try:
        for profile_id in state.compare:
            profile = services.get_profile(profile_id)
            if profile is None:
                missing += 1
            else:
                profiles.append(profile)
    except BackendError:
        st.error("The directory is unavailable right now. Please try again shortly.")
        return
    if missing:
        st.warning(
            f"{plural(missing, 'therapist')} you chose {'is' if missing == 1 else 'are'} no "
            "longer in the directory.",
            icon=":material/person_off:",
        )
    if len(profiles) < 2:
        st.info(
            "Choose two to four therapists with **Add to compare** in the search results, "
            "then open the comparison.",
            icon=":material/compare_arrows:",
        )
        return
    point = searched_point(state)
    if point is not None:
        st.caption(f"Distances from {escape_markdown(state.near)}.")
    cards(profiles, point, state)
    names = column_names(profiles)
    st.subheader("At a glance")
    st.dataframe(summary_table(profiles, names, point, state), width="stretch")
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader("Credentials and their status")
        matrix = credential_matrix(profiles, names, taxonomy)
        if matrix.empty:
            st.caption("None of them lists a credential.")
        else:
            st.dataframe(matrix, width="stretch")
    with right:
        st.subheader("Techniques")
        techniques = term_matrix(profiles, names, taxonomy)
        if techniques.empty:
            st.caption("None of them lists a technique.")
        else:
            st.dataframe(techniques, width="stretch")


main()
