"""Profile: everything known about one therapist, and where each fact came from.

Opened with ``?id=<profile id>``; the search it came from rides along in the URL, for the way
back and for the distance from the searched place.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import routes, services
from dashboard.corrected import (
    SOURCE_LABEL,
    corrected_note,
    corrections_summary,
    is_correction,
)
from dashboard.credentials import badges, credentials_of, status_badge
from dashboard.formatting import (
    MISSING,
    format_age,
    format_date,
    format_distance,
    format_phone,
    format_rating,
    kind_label,
    plural,
    stars,
    status_style,
)
from dashboard.maps import MapPoint, therapist_map
from dashboard.markup import escape_markdown, http_url, plain_text
from dashboard.reviews import ORDER_LABELS, review_sources, select_reviews
from dashboard.search_state import SearchState, read_state
from dashboard.widgets import badge_markdown, show_problems, term_labels
from indexer.geo import distance_km
from indexer.geocode import PlaceNotFoundError, geocode_place
from indexer.ratings import PRIOR_MEAN, PRIOR_WEIGHT
from indexer.search import BackendError
from indexer.taxonomy import Taxonomy, load_taxonomy

REVIEWS_PER_STEP = 20
FIELD_LABELS = {
    "name": "Name",
    "locations": "Locations",
    "phones": "Phone",
    "modalities": "Techniques",
    "conditions": "Conditions treated",
    "website": "Website",
    "practice_name": "Practice name",
    "bio": "Description",
}


def back_link(state: SearchState) -> None:
    """The way back to the search this profile was opened from."""
    st.page_link(
        routes.SEARCH,
        label="Back to results",
        icon=":material/arrow_back:",
        query_params=state.to_params(),
    )


def nearest_km(profile: dict[str, Any], state: SearchState) -> float | None:
    """The distance from the searched place to the therapist's nearest location."""
    if not state.near:
        return None
    try:
        point = geocode_place(state.near).point
    except PlaceNotFoundError:
        return None
    distances = [
        distance_km(point.lat, point.lon, float(loc["lat"]), float(loc["lon"]))
        for loc in profile.get("locations") or []
        if loc.get("lat") is not None and loc.get("lon") is not None
    ]
    return min(distances) if distances else None


def header(profile: dict[str, Any], state: SearchState) -> None:
    """Name, practice, badges and the figures a client looks at first."""
    st.title(escape_markdown(profile.get("name") or "Unnamed therapist", max_length=120))
    practice = plain_text(profile.get("practice_name"), max_length=120)
    location = (profile.get("locations") or [{}])[0]
    place = ", ".join(plain_text(location.get(k)) for k in ("city", "state") if location.get(k))
    line = " · ".join(escape_markdown(p) for p in (practice, place) if p)
    if line:
        st.markdown(f"**:gray[{line}]**")
    st.markdown(badge_markdown(badges(profile)))
    summary = corrections_summary(profile)
    if summary:
        st.info(summary, icon=":material/edit_note:")
    other_names = [plain_text(n, max_length=80) for n in profile.get("other_names") or []]
    if other_names:
        st.caption("Also listed as: " + "; ".join(escape_markdown(n) for n in other_names))
    if profile.get("active") is False:
        st.warning(
            "No source lists this therapist any more: they may have moved, retired or stopped "
            "taking clients.",
            icon=":material/history:",
        )
    rating = profile.get("rating") or {}
    listings = profile.get("listings") or []
    sources = {str(item.get("source")) for item in listings}
    columns = st.columns(5)
    columns[0].metric(
        "Combined rating",
        format_rating(rating.get("combined")),
        help="A fair score across every site; see Reviews.",
    )
    columns[1].metric("Reviews", f"{int(rating.get('review_count') or 0):,}")
    distance = nearest_km(profile, state)
    columns[2].metric(
        "Distance", format_distance(distance, state.unit) if distance is not None else MISSING
    )
    columns[3].metric("Listed on", plural(len(sources), "site"))
    columns[4].metric(
        "Last confirmed",
        format_date(profile.get("last_confirmed")) or MISSING,
        help="The last time a source still listed this therapist.",
    )
    for flag in profile.get("credential_flags") or []:
        st.error(escape_markdown(flag), icon=":material/flag:")


def _corrected(profile: dict[str, Any], *fields: str) -> None:
    """Say that these details were corrected at the therapist's request, if they were."""
    note = corrected_note(profile, *fields)
    if note:
        st.markdown(note)


def overview(profile: dict[str, Any], taxonomy: Taxonomy) -> None:
    """About, techniques, conditions, contact and locations."""
    about, where = st.columns([3, 2], gap="large")
    with about:
        bio = profile.get("bio")
        st.subheader("About")
        _corrected(profile, "bio")
        if bio:
            st.text(str(bio))
        else:
            st.caption("No description on any listing.")
        st.subheader("Techniques")
        _corrected(profile, "modalities")
        st.markdown(term_labels(taxonomy, "modality", profile.get("modalities") or []) or MISSING)
        st.subheader("Conditions treated")
        _corrected(profile, "conditions")
        conditions = term_labels(taxonomy, "condition", profile.get("conditions") or [])
        st.markdown(conditions or ":gray[None listed]")
        st.subheader("Contact")
        _corrected(profile, "phones", "website")
        phones = profile.get("phones") or []
        for phone in phones:
            st.text(f"☎ {format_phone(str(phone))}")
        website = profile.get("website")
        if website:
            st.text(f"🌐 {plain_text(website, max_length=200)}")
            safe = http_url(website)
            if safe:
                st.link_button("Open website", safe, icon=":material/open_in_new:")
        if not phones and not website:
            st.caption("No contact details on any listing.")
    with where:
        st.subheader("Locations")
        locations = [loc for loc in profile.get("locations") or [] if isinstance(loc, dict)]
        markers = [
            MapPoint(
                lat=float(loc["lat"]),
                lon=float(loc["lon"]),
                name=plain_text(profile.get("name"), max_length=60),
                detail=plain_text(loc.get("street") or loc.get("city")),
            )
            for loc in locations
            if loc.get("lat") is not None and loc.get("lon") is not None
        ]
        if markers:
            st.pydeck_chart(therapist_map(markers, height=300), width="stretch", height=300)
        for loc in locations:
            address = ", ".join(
                plain_text(p)
                for p in (
                    loc.get("street"),
                    loc.get("city"),
                    " ".join(str(x) for x in (loc.get("state"), loc.get("postal_code")) if x),
                )
                if p
            )
            st.text(address or "Address not given")
            precision = {"rooftop": "exact point", "zip": "ZIP centre", "city": "city centre"}
            st.caption(
                f"{precision.get(str(loc.get('precision')), 'position')} · from "
                + ", ".join(escape_markdown(s) for s in loc.get("sources") or [])
            )
        if not locations:
            st.caption("No location on any listing.")


def ratings(profile: dict[str, Any]) -> None:
    """Each site's score beside the combined one, and how the stars are spread."""
    rating = profile.get("rating") or {}
    combined, spread = st.columns([3, 2], gap="large")
    with combined:
        st.subheader("Ratings by site")
        rows = [
            {
                "Site": plain_text(source),
                "Rating": values.get("rating"),
                "Stars": stars(values.get("rating")),
                "Reviews": int(values.get("count") or 0),
                "Newest review": format_date(values.get("latest")) or MISSING,
                "Based on": "reviews read here"
                if values.get("from_reviews")
                else "the site's own average",
            }
            for source, values in sorted((rating.get("by_source") or {}).items())
            if isinstance(values, dict)
        ]
        rows.append(
            {
                "Site": "Combined (tdir)",
                "Rating": rating.get("combined"),
                "Stars": stars(rating.get("combined")),
                "Reviews": int(rating.get("review_count") or 0),
                "Newest review": "",
                "Based on": "all sites, copies counted once",
            }
        )
        st.dataframe(
            pd.DataFrame(rows),
            hide_index=True,
            width="stretch",
            column_config={"Rating": st.column_config.NumberColumn(format="%.2f")},
        )
        st.caption(
            f"The combined score counts every review once, on whichever site it appeared "
            f"first, and starts each therapist with {PRIOR_WEIGHT:g} imaginary reviews of "
            f"{PRIOR_MEAN:g} stars: a 5.0 from two reviews is weaker evidence than a 4.7 from "
            f"a hundred, and the score says so."
        )
    with spread:
        st.subheader("Stars given")
        distribution = rating.get("distribution") or {}
        frame = pd.DataFrame(
            {
                "Stars": [f"{s} ★" for s in ("5", "4", "3", "2", "1")],
                "Reviews": [int(distribution.get(s) or 0) for s in ("5", "4", "3", "2", "1")],
            }
        )
        if frame["Reviews"].sum():
            st.bar_chart(frame, x="Stars", y="Reviews", horizontal=True, height=220, sort=False)
        else:
            st.caption("No individual reviews were read for this therapist.")


def review_list(profile: dict[str, Any]) -> None:
    """Every review, filterable by site and sortable by date or rating."""
    reviews = [r for r in profile.get("reviews") or [] if isinstance(r, dict)]
    st.subheader(f"Reviews ({len(reviews):,})")
    if not reviews:
        st.caption("No reviews were found on any site.")
        return
    sources = review_sources(reviews)
    pick, order = st.columns([3, 1.5])
    chosen = pick.pills(
        "Sites",
        sources,
        selection_mode="multi",
        default=sources,
        key=f"review_sources_{profile.get('id')}",
        format_func=plain_text,
    )
    ordering = order.selectbox(
        "Order",
        list(ORDER_LABELS),
        format_func=ORDER_LABELS.get,
        key=f"review_order_{profile.get('id')}",
    )
    shown = select_reviews(reviews, chosen, ordering)
    limit_key = f"review_limit_{profile.get('id')}"
    limit = int(st.session_state.get(limit_key, REVIEWS_PER_STEP))
    st.caption(f"{plural(len(shown), 'review')} from the chosen sites")
    for review in shown[:limit]:
        with st.container(border=True):
            value = review.get("rating")
            score = (
                f":orange[{stars(value)}] **{value:g}**"
                if isinstance(value, int | float)
                else ":gray[no rating]"
            )
            details = " · ".join(
                p
                for p in (
                    escape_markdown(review.get("source")),
                    escape_markdown(format_date(review.get("published")) or "undated"),
                    escape_markdown(review.get("author"), max_length=60),
                )
                if p
            )
            st.markdown(f"{score} · {details}")
            body = review.get("body")
            st.text(str(body) if body else "(no text)")
            copies = review.get("copied_to") or []
            if copies:
                st.caption(
                    f"The same text also appeared in {plural(len(copies), 'other listing')}; "
                    "it counts once."
                )
    if len(shown) > limit:
        st.button(
            f"Show more ({len(shown) - limit} left)",
            on_click=lambda: st.session_state.update({limit_key: limit + REVIEWS_PER_STEP}),
        )


def credentials(profile: dict[str, Any]) -> None:
    """Each credential with its kind, what the issuer said, and when that was checked."""
    items = credentials_of(profile)
    st.subheader("Credentials")
    st.caption(
        "A credential a listing claims is not one the issuer confirms. Each is checked against "
        "the issuer's own records where those are crawled."
    )
    if not items:
        st.info("No listing claims a license or certification.", icon=":material/info:")
        return
    for credential in items:
        badge = status_badge(credential)
        style = status_style(credential.get("status"))
        with st.container(border=True):
            title, status = st.columns([3, 1.4], vertical_alignment="center")
            name = escape_markdown(credential.get("label") or credential.get("type"))
            where = " · ".join(
                escape_markdown(p)
                for p in (
                    kind_label(credential.get("kind")),
                    credential.get("state"),
                    f"No. {credential['number']}" if credential.get("number") else None,
                )
                if p
            )
            title.markdown(f"**{name}**  \n:gray[{where}]")
            status.markdown(f":{badge.color}-badge[{badge.icon} {escape_markdown(badge.label)}]")
            checked = credential.get("checked_on")
            facts = [
                f"Checked on {format_date(checked)}" if checked else "Not checked yet",
                f"issuer: {plain_text(credential.get('issuer'))}"
                if credential.get("issuer")
                else None,
                "claimed on " + ", ".join(plain_text(s) for s in credential.get("claimed_by") or [])
                if credential.get("claimed_by")
                else None,
            ]
            st.text(" · ".join(f for f in facts if f))
            reason = credential.get("reason")
            st.caption(escape_markdown(reason) if reason else escape_markdown(style.explanation))
            record = http_url(credential.get("record_url"))
            if record:
                st.link_button("Issuer's record", record, icon=":material/open_in_new:")


def provenance(profile: dict[str, Any]) -> None:
    """Where each fact came from and when, the listings merged, and what could not be used."""
    st.subheader("Where each fact came from")
    rows = [
        {
            "Fact": FIELD_LABELS.get(field_name, field_name.replace("_", " ").capitalize()),
            "Source": SOURCE_LABEL if is_correction(entry) else plain_text(entry.get("source")),
            "Page": plain_text(entry.get("url")),
            "Last seen": format_date(entry.get("last_seen")),
            "Age": format_age(entry.get("last_seen")),
        }
        for field_name, entries in (profile.get("provenance") or {}).items()
        for entry in entries or []
        if isinstance(entry, dict)
    ]
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    else:
        st.caption("No provenance recorded.")
    st.subheader("Listings merged into this profile")
    listings = [
        {
            "Source": plain_text(item.get("source")),
            "Listed as": plain_text(item.get("name")),
            "Page": plain_text(item.get("url")),
            "Last seen": format_date(item.get("last_seen")),
            "Still listed": bool(item.get("active")),
        }
        for item in profile.get("listings") or []
        if isinstance(item, dict)
    ]
    if listings:
        st.dataframe(pd.DataFrame(listings), hide_index=True, width="stretch")
    evidence = [
        {
            "Listings": plain_text(item.get("listings")),
            "Why they are the same therapist": plain_text(item.get("reason")),
        }
        for item in profile.get("merge_evidence") or []
        if isinstance(item, dict)
    ]
    if evidence:
        st.markdown("**Merge evidence**")
        st.dataframe(pd.DataFrame(evidence), hide_index=True, width="stretch")
    elif len(listings) <= 1:
        st.caption("One listing: nothing was merged.")
    flags = [
        {
            "Source": plain_text(item.get("source")),
            "Field": plain_text(item.get("field")),
            "Problem": plain_text(item.get("reason")),
            "Value as found": plain_text(item.get("raw"), max_length=200),
        }
        for item in profile.get("data_flags") or []
        if isinstance(item, dict)
    ]
    if flags:
        st.markdown("**Values that could not be used**")
        st.dataframe(pd.DataFrame(flags), hide_index=True, width="stretch")


def main() -> None:
    """Draw the profile page."""
    taxonomy = load_taxonomy()
    state, problems = read_state(st.query_params, taxonomy)
    profile_id = (st.query_params.get("id") or "").strip()
    back_link(state)
    show_problems(problems)
    if not profile_id:
        st.info(
            "Choose a therapist from the search results to see their profile.",
            icon=":material/person_search:",
        )
        return
    try:
        profile = services.get_profile(profile_id)
    except BackendError:
        st.error("The directory is unavailable right now. Please try again shortly.")
        return
    if profile is None:
        st.warning(
            "This therapist is no longer in the directory. The listing may have been removed "
            "at the therapist's request or by its source.",
            icon=":material/person_off:",
        )
        return
    if profile.get("id") and profile["id"] != profile_id:
        # Reached by an id the profile had before its listings changed: show the current one,
        # so the address bar holds the link worth keeping.
        st.query_params["id"] = profile["id"]
    header(profile, state)
    reviews = profile.get("reviews") or []
    tabs = st.tabs(
        [
            "Overview",
            f"Reviews ({len(reviews):,})",
            f"Credentials ({len(credentials_of(profile))})",
            "Sources & history",
        ]
    )
    with tabs[0]:
        overview(profile, taxonomy)
    with tabs[1]:
        ratings(profile)
        review_list(profile)
    with tabs[2]:
        credentials(profile)
    with tabs[3]:
        provenance(profile)


main()
