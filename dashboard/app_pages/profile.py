"""Profile: everything known about one therapist, and where each fact came from.

Opened with ``?id=<profile id>``; the search it came from rides along in the URL, for the way
back and for the distance from the searched place.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from dashboard import routes, services
from dashboard.attribution import (
    credited_sources,
    ratings_credit,
    review_credit,
    source_credit,
)
from dashboard.corrected import (
    SOURCE_LABEL,
    corrected_note,
    corrections_summary,
    is_correction,
)
from dashboard.credentials import (
    badges,
    credential_status,
    kind_label,
    license_sentence,
    status_badge,
)
from dashboard.formatting import (
    MISSING,
    format_age,
    format_date,
    format_phone,
    format_rating,
    plural,
    stars,
)
from dashboard.headings import page_heading
from dashboard.locations import (
    Nearest,
    address_line,
    approximate_note,
    distance_value,
    first_location,
    nearest_location,
    place_line,
    position_note,
    searched_point,
)
from dashboard.maps import MapPoint, legend, therapist_map
from dashboard.markup import escape_markdown, http_url, plain_text
from dashboard.ratings import (
    combined_arithmetic,
    distribution_counts,
    format_score,
    source_rating_text,
    source_rows,
)
from dashboard.reviews import ORDER_LABELS, review_sources, select_reviews
from dashboard.search_state import SearchState, read_state
from dashboard.sources import source_title
from dashboard.widgets import badge_markdown, show_problems, term_labels
from indexer.profile import CredentialCheck, Profile, Rating, ReviewEntry, SourceRating
from indexer.ratings import PRIOR_MEAN, PRIOR_WEIGHT
from indexer.search import BackendError
from indexer.taxonomy import Taxonomy, load_taxonomy

REVIEWS_PER_STEP = 20
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
SITES_PER_ROW = 3
REVIEWS_PER_SITE = 3
# Pages as links a person can follow (http(s) only: markup.http_url drops anything else).
PAGE_LINK = {"Page": st.column_config.LinkColumn("Page")}
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


def distance_metric(column: DeltaGenerator, nearest: Nearest | None, state: SearchState) -> None:
    """The distance to the nearest location; marked "≈" with a note when it is measured to a
    ZIP or city centre rather than the office."""
    if nearest is None:
        column.metric("Distance", MISSING)
        return
    note = approximate_note(nearest.location)
    column.metric(
        "Distance",
        distance_value(nearest.km, nearest.location, state.unit),
        help="Measured to the centre of the ZIP code or city: the office's own position is "
        "not known."
        if note
        else "Measured to the nearest practice location.",
    )
    if note:
        column.caption(escape_markdown(f"({note})"))


def header(profile: Profile, state: SearchState) -> None:
    """Name, practice, badges and the figures a client looks at first."""
    name = profile.name or "Unnamed therapist"
    page_heading(name, tab=f"{name}, therapist")
    nearest = nearest_location(profile, searched_point(state))
    practice = plain_text(profile.practice_name, max_length=120)
    place = place_line(nearest.location if nearest else first_location(profile))
    line = " · ".join(escape_markdown(p) for p in (practice, place) if p)
    if line:
        st.markdown(f"**:gray[{line}]**")
    st.markdown(badge_markdown(badges(profile)))
    st.caption(escape_markdown(license_sentence(profile)))
    summary = corrections_summary(profile)
    if summary:
        st.info(summary, icon=":material/edit_note:")
    other_names = [plain_text(n, max_length=80) for n in profile.other_names]
    if other_names:
        st.caption("Also listed as: " + "; ".join(escape_markdown(n) for n in other_names))
    if not profile.active:
        st.warning(
            "No source lists this therapist any more: they may have moved, retired or stopped "
            "taking clients.",
            icon=":material/history:",
        )
    rating = profile.rating
    sources = {listing.source for listing in profile.listings}
    columns = st.columns(5)
    columns[0].metric(
        "Combined rating",
        format_rating(rating.combined),
        help="A fair score across every site; see Reviews.",
    )
    columns[1].metric(
        "Ratings",
        f"{rating.review_count:,}",
        help="Ratings behind the combined score: each site's published count where it publishes "
        "one, else its reviews one by one. The Reviews tab holds the reviews that could be read.",
    )
    distance_metric(columns[2], nearest, state)
    columns[3].metric("Listed on", plural(len(sources), "site"))
    columns[4].metric(
        "Last confirmed",
        format_date(profile.last_confirmed) or MISSING,
        help="The last time a source still listed this therapist.",
    )
    credit = ratings_credit(profile)
    if credit:
        # Providers whose terms ask to be credited wherever their ratings count.
        st.caption(credit)
    for flag in profile.credential_flags:
        st.error(escape_markdown(flag), icon=":material/flag:")


def _corrected(profile: Profile, *fields: str) -> None:
    """Say that these details were corrected at the therapist's request, if they were."""
    note = corrected_note(profile, *fields)
    if note:
        st.markdown(note)


def about(profile: Profile, taxonomy: Taxonomy) -> None:
    """Description, techniques, conditions and contact."""
    st.subheader("About")
    _corrected(profile, "bio")
    if profile.bio:
        st.text(profile.bio)
    else:
        st.caption("No description on any listing.")
    st.subheader("Techniques")
    _corrected(profile, "modalities")
    st.markdown(term_labels(taxonomy, "modality", profile.modalities) or MISSING)
    st.subheader("Conditions treated")
    _corrected(profile, "conditions")
    conditions = term_labels(taxonomy, "condition", profile.conditions)
    st.markdown(conditions or ":gray[None listed]")
    st.subheader("Contact")
    _corrected(profile, "phones", "website")
    for phone in profile.phones:
        if E164.match(phone):
            # A link a phone dials when tapped.
            st.link_button(f"Call {format_phone(phone)}", f"tel:{phone}", icon=":material/call:")
        else:
            st.text(f"☎ {format_phone(phone)}")
    website = profile.website
    if website:
        st.text(f"🌐 {plain_text(website, max_length=200)}")
        safe = http_url(website)
        if safe:
            st.link_button("Open website", safe, icon=":material/open_in_new:")
    if not profile.phones and not website:
        st.caption("No contact details on any listing.")


def location_markers(profile: Profile) -> list[MapPoint]:
    """A pin for every location of the profile, hollow where the position is approximate."""
    name = plain_text(profile.name, max_length=60)
    return [
        MapPoint(
            lat=loc.lat,
            lon=loc.lon,
            name=name,
            detail=" · ".join(
                p for p in (address_line(loc), approximate_note(loc) or "exact position") if p
            ),
            verified=profile.verification.license_verified,
            approximate=loc.approximate,
        )
        for loc in profile.locations
    ]


def locations(profile: Profile) -> None:
    """Every location on a map and in the address list, each saying how exact it is."""
    st.subheader("Locations")
    if not profile.locations:
        st.caption("No location on any listing.")
        return
    st.pydeck_chart(
        therapist_map(location_markers(profile), height=300), width="stretch", height=300
    )
    st.caption(legend())
    for loc in profile.locations:
        st.text(address_line(loc))
        sources = ", ".join(escape_markdown(source_title(s)) for s in loc.sources)
        note = escape_markdown(position_note(loc))
        st.caption(f"{note} · from {sources}" if sources else note)


def overview(profile: Profile, taxonomy: Taxonomy) -> None:
    """About, techniques, conditions, contact and locations."""
    left, right = st.columns([3, 2], gap="large")
    with left:
        about(profile, taxonomy)
    with right:
        locations(profile)


def ratings(profile: Profile) -> None:
    """Each site's rating and what it rests on beside the combined one, and how the stars of the
    reviews read here are spread."""
    rating = profile.rating
    combined, spread = st.columns([3, 2], gap="large")
    with combined:
        st.subheader("Ratings by site")
        st.dataframe(
            pd.DataFrame(source_rows(rating, source_title)),
            hide_index=True,
            width="stretch",
            column_config={"Score": st.column_config.NumberColumn(format="%.2f")},
        )
        st.caption(
            "A site's rating is either the average it publishes itself (its reviews are mostly "
            "not shown here) or computed from every one of its reviews, all read here."
        )
        st.caption(
            f"The combined score counts every review once, on whichever site it appeared "
            f"first, and starts each therapist with {PRIOR_WEIGHT:g} imaginary reviews of "
            f"{PRIOR_MEAN:g} stars: a 5.0 from two reviews is weaker evidence than a 4.7 from "
            f"a hundred, and the score says so."
        )
        arithmetic = combined_arithmetic(rating)
        if arithmetic:
            st.caption(f"For this therapist: {arithmetic}.")
        for source in credited_sources(profile):
            credit = source_credit(profile, source)
            if credit:
                st.markdown(credit)
    with spread:
        star_chart(rating)


def star_chart(rating: Rating) -> None:
    """How many stars the reviews read here gave (not the sites' published averages)."""
    st.subheader("Stars in the reviews shown here")
    counts = distribution_counts(rating)
    if not sum(counts):
        st.caption("No individual reviews were read for this therapist.")
        return
    frame = pd.DataFrame(
        {"Stars": [f"{s} ★" for s in ("5", "4", "3", "2", "1")], "Reviews shown here": counts}
    )
    st.bar_chart(frame, x="Stars", y="Reviews shown here", horizontal=True, height=220, sort=False)
    st.caption(
        f"Counts only the {plural(sum(counts), 'rated review')} read here; a site's published "
        "average is not broken down by stars."
    )


def review_card(review: ReviewEntry) -> None:
    """One review: its stars, site, date and author, and its text as plain text."""
    with st.container(border=True):
        value = review.rating
        score = (
            f":orange[{stars(value)}] **{value:g}**" if value is not None else ":gray[no rating]"
        )
        details = " · ".join(
            p
            for p in (
                escape_markdown(source_title(review.source)),
                escape_markdown(format_date(review.published) or "undated"),
                escape_markdown(review.author, max_length=60),
            )
            if p
        )
        st.markdown(f"{score} · {details}")
        st.text(review.body or "(no text)")
        credit = review_credit(review)
        if credit:
            st.markdown(credit)
        if review.copied_to:
            st.caption(
                f"The same text also appeared in {plural(len(review.copied_to), 'other listing')}"
                "; it counts once."
            )


def reviews_side_by_side(profile: Profile) -> None:
    """One column per site: its own rating, count and newest review date, then its latest
    reviews, so what each site says can be read across."""
    by_source = profile.rating.by_source
    sites = sorted(set(by_source) | {r.source for r in profile.reviews}, key=source_title)
    if len(sites) < 2:
        return
    st.subheader("Site by site")
    for start in range(0, len(sites), SITES_PER_ROW):
        row = sites[start : start + SITES_PER_ROW]
        for column, site in zip(st.columns(len(row), gap="medium"), row, strict=True):
            with column:
                site_column(profile, site, by_source.get(site))


def site_column(profile: Profile, site: str, rating: SourceRating | None) -> None:
    """One site's rating and its newest reviews."""
    if rating is not None and rating.rating is not None:
        st.metric(plain_text(source_title(site)), f"{format_score(rating.rating)} ★")
        st.caption(source_rating_text(rating))
        if rating.latest:
            st.caption(f"Newest review {format_date(rating.latest)}")
    else:
        st.metric(plain_text(source_title(site)), MISSING)
        st.caption("No rating from this site.")
    credit = source_credit(profile, site)
    if credit:
        st.markdown(credit)
    newest = select_reviews([r for r in profile.reviews if r.source == site], [site], "newest")[
        :REVIEWS_PER_SITE
    ]
    for review in newest:
        with st.container(border=True):
            value = f"{review.rating:g} ★" if review.rating is not None else "no rating"
            st.caption(
                f"{value} · {escape_markdown(format_date(review.published) or 'undated')}"
                f" · {escape_markdown(review.author, max_length=40)}"
                + (" · also on another listing, counted once" if review.copied_to else "")
            )
            st.text(plain_text(review.body, max_length=240) or "(no text)")
            credit = review_credit(review)
            if credit:
                st.markdown(credit)


def review_list(profile: Profile) -> None:
    """Every review, filterable by site and sortable by date or rating."""
    reviews = list(profile.reviews)
    st.subheader(f"Reviews shown here ({len(reviews):,})")
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
        key=f"review_sources_{profile.id}",
        format_func=lambda site: plain_text(source_title(site)),
    )
    ordering: str = order.selectbox(
        "Order",
        list(ORDER_LABELS),
        format_func=lambda o: ORDER_LABELS[o],
        key=f"review_order_{profile.id}",
    )  # never None: the list has entries and no placeholder
    shown = select_reviews(reviews, chosen, ordering)
    limit_key = f"review_limit_{profile.id}"
    limit = int(st.session_state.get(limit_key, REVIEWS_PER_STEP))
    st.caption(f"{plural(len(shown), 'review')} from the chosen sites")
    for review in shown[:limit]:
        review_card(review)
    if len(shown) > limit:
        st.button(
            f"Show more ({len(shown) - limit} left)",
            on_click=lambda: st.session_state.update({limit_key: limit + REVIEWS_PER_STEP}),
        )


def credential_card(credential: CredentialCheck) -> None:
    """One claimed credential: what it is, the issuer's answer and when it was checked."""
    badge = status_badge(credential)
    style = credential_status(credential)
    with st.container(border=True):
        title, status = st.columns([3, 1.4], vertical_alignment="center")
        name = escape_markdown(credential.label or credential.type)
        where = " · ".join(
            escape_markdown(p)
            for p in (
                kind_label(credential.kind),
                credential.state,
                f"No. {credential.number}" if credential.number else None,
            )
            if p
        )
        title.markdown(f"**{name}**  \n:gray[{where}]")
        status.markdown(f":{badge.color}-badge[{badge.icon} {escape_markdown(badge.label)}]")
        facts = [
            f"Checked on {format_date(credential.checked_on)}"
            if credential.checked_on
            else "Not checked yet",
            f"issuer: {plain_text(credential.issuer)}" if credential.issuer else None,
            "claimed on " + ", ".join(plain_text(source_title(s)) for s in credential.claimed_by)
            if credential.claimed_by
            else None,
        ]
        st.text(" · ".join(f for f in facts if f))
        st.caption(escape_markdown(credential.reason or style.explanation))
        record = http_url(credential.record_url)
        if record:
            st.link_button("Issuer's record", record, icon=":material/open_in_new:")


def credentials(profile: Profile) -> None:
    """Each credential with its kind, what the issuer said, and when that was checked."""
    st.subheader("Credentials")
    st.caption(
        "A credential a listing claims is not one the issuer confirms. Each is checked against "
        "the issuer's own records where those are crawled. Only an active state license "
        "confirmed by its board counts as verified; a board certification or an NPI is "
        "confirmed by its registry but is not a license."
    )
    if not profile.credentials:
        st.info("No listing claims a license or certification.", icon=":material/info:")
        return
    for credential in profile.credentials:
        credential_card(credential)


def _readers_pages(profile: Profile) -> dict[str, str]:
    """An API listing's page for people (a Yelp or Google Maps page) by the address the crawler
    asked: the API's own address answers a browser with a key error."""
    return {item.url: page for item in profile.listings if (page := http_url(item.page_url))}


def provenance_rows(profile: Profile) -> list[dict[str, Any]]:
    """One row per source of each fact, with when that source last showed it."""
    pages = _readers_pages(profile)
    return [
        {
            "Fact": FIELD_LABELS.get(field_name, field_name.replace("_", " ").capitalize()),
            "Source": SOURCE_LABEL
            if is_correction(entry)
            else plain_text(source_title(str(entry.get("source") or ""))),
            "Page": http_url(pages.get(str(entry.get("url")), entry.get("url")))
            or plain_text(entry.get("url")),
            "Last seen": format_date(entry.get("last_seen")),
            "Age": format_age(entry.get("last_seen")),
        }
        for field_name, entries in profile.provenance.items()
        for entry in entries or []
        if isinstance(entry, dict)
    ]


def provenance(profile: Profile) -> None:
    """Where each fact came from and when, the listings merged, and what could not be used."""
    st.subheader("Where each fact came from")
    rows = provenance_rows(profile)
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", column_config=PAGE_LINK)
    else:
        st.caption("No provenance recorded.")
    st.subheader("Listings merged into this profile")
    listings = [
        {
            "Source": plain_text(source_title(item.source)),
            "Listed as": plain_text(item.name),
            "Page": http_url(item.page_url) or http_url(item.url) or plain_text(item.url),
            "Last seen": format_date(item.last_seen),
            "Still listed": item.active,
        }
        for item in profile.listings
    ]
    if listings:
        st.dataframe(
            pd.DataFrame(listings), hide_index=True, width="stretch", column_config=PAGE_LINK
        )
    listed_as = {item.id: f"{item.name} ({source_title(item.source)})" for item in profile.listings}
    evidence = [
        {
            "Listings": plain_text(
                " and ".join(listed_as.get(i, i) for i in str(item.get("listings", "")).split())
            ),
            "Why they are the same therapist": plain_text(item.get("reason")),
            "Match weight": plain_text(item.get("match_weight", "")),
            "Evidence, field by field (weight in bits)": plain_text(item.get("fields", "")),
        }
        for item in profile.merge_evidence
    ]
    if evidence:
        st.markdown("**Merge evidence**")
        st.dataframe(pd.DataFrame(evidence), hide_index=True, width="stretch")
        with st.expander("Each field's weight, merge by merge"):
            st.caption(
                "Positive weights are evidence that two listings are one therapist, negative "
                "against; a rare shared name or number weighs more than a common one."
            )
            for row in evidence:
                # st.text: listing names are the sources' text, never read as markup.
                st.text(
                    f"{row['Listings']}: {row['Why they are the same therapist']} "
                    f"(match weight {row['Match weight']})\n  "
                    + row["Evidence, field by field (weight in bits)"].replace("), ", "),\n  ")
                )
    elif len(listings) <= 1:
        st.caption("One listing: nothing was merged.")
    flags = [
        {
            "Source": plain_text(item.source),
            "Field": plain_text(item.field),
            "Problem": plain_text(item.reason),
            "Value as found": plain_text(item.raw, max_length=200),
        }
        for item in profile.data_flags
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
    if profile.id != profile_id:
        # Reached by an id the profile had before its listings changed: show the current one,
        # so the address bar holds the link worth keeping.
        st.query_params["id"] = profile.id
    header(profile, state)
    tabs = st.tabs(
        [
            "Overview",
            f"Reviews ({len(profile.reviews):,})",
            f"Credentials ({len(profile.credentials)})",
            "Sources & history",
        ]
    )
    with tabs[0]:
        overview(profile, taxonomy)
    with tabs[1]:
        ratings(profile)
        reviews_side_by_side(profile)
        review_list(profile)
    with tabs[2]:
        credentials(profile)
    with tabs[3]:
        provenance(profile)


main()
