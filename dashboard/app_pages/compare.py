"""Compare: two to four therapists side by side, chosen from the search results.

The choice is in the URL (``compare=<id>`` repeated) with the search it came from, so a
comparison can be shared and the way back leads to the same results. Opened from the top
navigation, whose links carry no parameters, the page shows the choice the visit keeps
(:mod:`dashboard.compare_selection`), and its links carry that choice on.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from dashboard import compare_selection, routes, services
from dashboard.attribution import attribution_of, ratings_credit
from dashboard.credentials import badges, credential_status, license_badge
from dashboard.formatting import MISSING, format_date, format_rating, plural, short_label
from dashboard.headings import page_heading
from dashboard.locations import (
    distance_markdown,
    distance_text,
    first_location,
    nearest_location,
    place_line,
    searched_point,
)
from dashboard.markup import escape_markdown, plain_text
from dashboard.ratings import rating_line, source_rating_cell
from dashboard.search_state import SearchState, read_state
from dashboard.sources import source_title
from dashboard.widgets import badge_markdown, show_problems
from indexer.geo import GeoPoint
from indexer.profile import Profile
from indexer.search import BackendError
from indexer.taxonomy import Taxonomy, load_taxonomy


def column_names(profiles: list[Profile]) -> list[str]:
    """One column heading per therapist; namesakes get a number, so headings stay unique."""
    names: list[str] = []
    for profile in profiles:
        base = plain_text(profile.name or profile.id, max_length=40)
        name, n = base, 2
        while name in names:
            name, n = f"{base} ({n})", n + 1
        names.append(name)
    return names


def credential_cell(profile: Profile, credential_id: str) -> str:
    """What a therapist holds of one credential type, with its check ("Verified (TX)" only for
    an active state license; a certification reads "Confirmed by registry")."""
    return "; ".join(
        credential_status(c).label for c in profile.credentials if c.type == credential_id
    )


def distance_cell(profile: Profile, point: GeoPoint | None, state: SearchState) -> str:
    """ "1.0 mi", or "≈ 3.4 mi (approximate: ZIP only)"; an en dash without a distance."""
    nearest = nearest_location(profile, point)
    return distance_text(nearest, state.unit) if nearest else MISSING


def summary_table(
    profiles: list[Profile], names: list[str], point: GeoPoint | None, state: SearchState
) -> pd.DataFrame:
    """Rows of figures (distance, license, ratings, counts), one column per therapist."""
    sources = sorted({s for p in profiles for s in p.rating.by_source})
    rows: dict[str, list[str]] = {}
    if point is not None:
        rows["Distance"] = [distance_cell(p, point, state) for p in profiles]
    rows["State license"] = [license_badge(p).label for p in profiles]
    rows["Combined rating"] = [format_rating(p.rating.combined) for p in profiles]
    rows["Reviews (all sites)"] = [f"{p.rating.review_count:,}" for p in profiles]
    for source in sources:
        # A provider whose terms ask for credit is named as it asks ("Rating on Yelp").
        credited = attribution_of(source)
        rows[f"Rating on {plain_text(credited.name if credited else source_title(source))}"] = [
            source_rating_cell(p.rating.by_source.get(source)) for p in profiles
        ]
    rows["Practice"] = [plain_text(p.practice_name, max_length=60) for p in profiles]
    rows["City"] = [place_line(first_location(p)) for p in profiles]
    rows["Last confirmed"] = [format_date(p.last_confirmed) for p in profiles]
    return pd.DataFrame(rows, index=names).T


def term_matrix(profiles: list[Profile], names: list[str], taxonomy: Taxonomy) -> pd.DataFrame:
    """Which techniques each therapist offers (✓), every offered technique once."""
    offered = list(dict.fromkeys(m for p in profiles for m in p.modalities))
    data = {
        name: ["✓" if m in p.modalities else "" for m in offered]
        for name, p in zip(names, profiles, strict=True)
    }
    return pd.DataFrame(data, index=[taxonomy.label("modality", m) for m in offered])


def credential_matrix(
    profiles: list[Profile], names: list[str], taxonomy: Taxonomy
) -> pd.DataFrame:
    """Each credential type anyone claims, and its status for each therapist."""
    claimed = list(dict.fromkeys(c.type for p in profiles for c in p.credentials))
    data = {
        name: [credential_cell(p, c) for c in claimed]
        for name, p in zip(names, profiles, strict=True)
    }
    return pd.DataFrame(data, index=[short_label(taxonomy.label("credential", c)) for c in claimed])


def _remove(profile_id: str, state: SearchState) -> None:
    remaining = compare_selection.choose(i for i in state.compare if i != profile_id)
    st.query_params.from_dict(routes.compare_params(remaining, state))


def cards(profiles: list[Profile], point: GeoPoint | None, state: SearchState) -> None:
    """A short card per therapist, with the way to the full profile."""
    for column, profile in zip(st.columns(len(profiles)), profiles, strict=True):
        with column, st.container(border=True):
            st.markdown(f"#### {escape_markdown(profile.name, max_length=60)}")
            practice = plain_text(profile.practice_name, max_length=60)
            st.markdown(f":gray[{escape_markdown(practice)}]" if practice else ":gray[—]")
            st.markdown(badge_markdown(badges(profile)))
            nearest = nearest_location(profile, point)
            if nearest is not None:
                st.markdown(distance_markdown(nearest, state.unit))
            st.markdown(rating_line(profile.rating))
            credit = ratings_credit(profile)
            if credit:
                st.caption(credit)
            st.page_link(
                routes.PROFILE,
                label="View profile",
                icon=":material/person:",
                query_params=routes.profile_params(profile.id, state),
            )
            st.button(
                "Remove",
                key=f"remove_{profile.id}",
                icon=":material/close:",
                on_click=_remove,
                args=(profile.id, state),
            )


def main() -> None:
    """Draw the compare page."""
    taxonomy = load_taxonomy()
    state, problems = read_state(st.query_params, taxonomy)
    state = replace(state, compare=compare_selection.adopt(state.compare))
    st.page_link(
        routes.SEARCH,
        label="Back to results",
        icon=":material/arrow_back:",
        query_params=state.to_params(),
    )
    page_heading("Compare therapists")
    show_problems(problems)
    profiles: list[Profile] = []
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
