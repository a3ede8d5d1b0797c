"""Search: where and how far, what for, filters with counts, results as cards and on a map.

The whole search lives in the URL, so it can be bookmarked and shared. Widgets are seeded from
the URL when it changes (a first visit, a shared link, "back to results", the browser's Back and
Forward buttons); after that the widgets drive the search and the URL follows them. The
therapists chosen for comparison are kept for the whole visit as well
(:mod:`dashboard.compare_selection`), since the top navigation opens pages without the URL's.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from dashboard import compare_selection, routes, services
from dashboard.attribution import ratings_credit
from dashboard.browser_history import went_through_history
from dashboard.credentials import badges
from dashboard.formatting import (
    format_date,
    format_distance,
    format_rating,
    plural,
)
from dashboard.headings import page_heading
from dashboard.locations import (
    Nearest,
    approximate_note,
    distance_markdown,
    distance_value,
    first_location,
    nearest_location,
    place_line,
)
from dashboard.maps import MapPoint, legend, therapist_map
from dashboard.markup import escape_markdown, plain_text
from dashboard.my_location import use_my_location
from dashboard.ratings import rating_line
from dashboard.search_state import (
    MAX_COMPARE,
    MAX_NEAR,
    MAX_RADIUS,
    MAX_TEXT,
    MIN_RADIUS,
    PAGE_SIZE,
    SORT_LABELS,
    SearchState,
    clip_words,
    option_ids,
    read_state,
    too_long,
)
from dashboard.suggestions import constraints, suggest
from dashboard.widgets import badge_markdown, condition_matches, show_problems, term_labels
from indexer.geo import DistanceUnit, GeoPoint, distance_km
from indexer.geocode import Place, PlaceNotFoundError, geocode_place
from indexer.profile import Location, Profile
from indexer.search import BackendError, Hit, NoIndexError, QueryError, SearchResult
from indexer.taxonomy import Taxonomy, Vocabulary, load_taxonomy

# Widget keys; the URL is read into them and written from them.
K_NEAR, K_RADIUS, K_UNIT, K_TEXT, K_SORT = "s_near", "s_radius", "s_unit", "s_text", "s_sort"
K_MODALITY, K_CONDITION, K_CREDENTIAL = "s_modality", "s_condition", "s_credential"
K_VERIFIED, K_MIN_RATING, K_MIN_REVIEWS = "s_verified", "s_min_rating", "s_min_reviews"
# Not widgets: where paging stands.
K_CURSOR, K_PAGE = "s_cursor", "s_page"
K_URL = "s_url"  # the parameters this page last wrote, to tell our own URL from a new one
# The parameters this page wrote before the last: a rerun the browser asked for before it had
# taken the last ones up still carries one of these, and must not turn the widgets back.
K_WRITTEN = "s_written"
WRITTEN_KEPT = 20
K_CRITERIA = "s_criteria"  # the last search's criteria: a change returns to page one
K_SHOWN = "s_shown"  # per filter, the labels of its chosen ids the browser was last sent
K_CURSORS = "s_cursors"  # the cursor of each page reached so far, for the search in K_CRITERIA
K_SCROLL = "s_scroll"  # a page change asks the next run to scroll back to the results' top
K_LOCATE = "s_locate"  # the "Use my location" button
K_FOCUSED = "s_focused"  # the Where field was given the keyboard on this visitor's first page
TERM_FILTERS: tuple[tuple[str, Vocabulary], ...] = (
    (K_MODALITY, "modality"),
    (K_CONDITION, "condition"),
    (K_CREDENTIAL, "credential"),
)
PAGER_SPAN = 2  # page numbers shown either side of the current one


def seed_widgets(state: SearchState) -> None:
    """Set every widget's value from a state (before the widgets are drawn)."""
    ss = st.session_state
    ss[K_NEAR] = state.near
    ss[K_RADIUS] = round(state.radius)
    ss[K_UNIT] = state.unit
    ss[K_TEXT] = state.text
    ss[K_SORT] = state.sort
    ss[K_MODALITY] = list(state.modalities)
    ss[K_CONDITION] = list(state.conditions)
    ss[K_CREDENTIAL] = list(state.credentials)
    ss[K_VERIFIED] = state.verified_only
    ss[K_MIN_RATING] = float(state.min_rating or 0.0)
    ss[K_MIN_REVIEWS] = int(state.min_reviews or 0)
    ss[K_CURSOR] = state.cursor
    ss[K_PAGE] = state.page
    compare_selection.adopt(state.compare)


def clip_typed() -> list[str]:
    """Cut a place or search words typed longer than a search takes after the last whole word
    that fits, in the box itself (before it is drawn): the box, the search and the URL then
    hold the same words, as a reload of that URL does. Returns what was cut, in words."""
    ss = st.session_state
    cut = []
    for key, what, limit in ((K_NEAR, "place", MAX_NEAR), (K_TEXT, "search words", MAX_TEXT)):
        typed = str(ss.get(key, "")).strip()
        if len(typed) > limit:
            ss[key] = clip_words(typed, limit)
            cut.append(too_long(what, limit))
    return cut


def normalize_filters(taxonomy: Taxonomy) -> None:
    """Make every term filter's value a list of taxonomy ids again.

    The browser holds a multiselect's choice by the label it showed; once a count in that
    label changed, Streamlit returns the old label itself as the value. Mapped back to its id
    here, before anything reads the filters, so the search, the URL and the widget keep ids.
    """
    ss = st.session_state
    for key, vocabulary in TERM_FILTERS:
        values = ss.get(key, [])
        ids = option_ids(values, vocabulary, taxonomy)
        if ids != list(values):
            ss[key] = ids


def state_from_widgets() -> SearchState:
    """The search the widgets describe now."""
    ss = st.session_state
    state = SearchState(
        near=str(ss[K_NEAR]).strip(),
        radius=float(min(MAX_RADIUS, max(MIN_RADIUS, ss[K_RADIUS] or MIN_RADIUS))),
        unit="km" if ss[K_UNIT] == "km" else "mi",
        text=str(ss[K_TEXT]).strip(),
        modalities=tuple(ss[K_MODALITY]),
        conditions=tuple(ss[K_CONDITION]),
        credentials=tuple(ss[K_CREDENTIAL]),
        verified_only=bool(ss[K_VERIFIED]),
        min_rating=float(ss[K_MIN_RATING]) or None,
        min_reviews=int(ss[K_MIN_REVIEWS] or 0) or None,
        sort=str(ss[K_SORT]),
        cursor=ss[K_CURSOR],
        page=int(ss[K_PAGE]),
        compare=compare_selection.chosen(),
    )
    criteria = state.first_page().to_params()
    criteria.pop("compare", None)
    if ss.get(K_CRITERIA) not in (None, criteria):
        # The search changed: its old cursors belong to another search.
        ss[K_CURSORS] = {}
        if state.cursor or state.page > 1:
            state = state.first_page()
            ss[K_CURSOR], ss[K_PAGE] = None, 1
    ss[K_CRITERIA] = criteria
    return state


def _flat(params: dict[str, str | list[str]]) -> dict[str, str]:
    """Parameters as ``st.query_params.to_dict()`` gives them (the last of repeated ones)."""
    return {k: v[-1] if isinstance(v, list) else v for k, v in params.items()}


def is_new_url(params: dict[str, str | list[str]]) -> bool:
    """Whether the URL says something this page did not write: a shared link, or a link from
    another page. The URL this page wrote last is not new, nor is one it wrote before that (a
    rerun the browser asked for while the script was still running carries the URL from before
    that run: seeding the widgets from it would undo the client's last changes)."""
    ss = st.session_state
    return params != ss.get(K_URL) and params not in ss.get(K_WRITTEN, [])


def sync_url(state: SearchState, *, selection_from_url: bool = True) -> None:
    """Make the URL say what the page shows (again, when the browser sent an older one).

    ``selection_from_url`` False leaves the comparison choice out: a page opened without one
    in its URL (from the top navigation) shows the visit's choice without writing it there,
    as that write would add a second history entry for one page, and Back would seem to do
    nothing. The next change the visitor makes writes it.
    """
    params = state.to_params()
    if not selection_from_url:
        params.pop("compare", None)
    ss = st.session_state
    if ss.get(K_URL) != params or st.query_params.to_dict() != _flat(params):
        st.query_params.from_dict(params)
        if K_URL in ss:
            ss[K_WRITTEN] = [*ss.get(K_WRITTEN, [])[-WRITTEN_KEPT + 1 :], ss[K_URL]]
        ss[K_URL] = params


# -- callbacks (run before the next rerun) ---------------------------------------------------


def _go_to_page(cursor: str | None, page: int) -> None:
    st.session_state[K_CURSOR] = cursor
    st.session_state[K_PAGE] = page


def _turn_to(page: int) -> None:
    """Go to a page of the results (its cursor is found on the next run if not known yet)."""
    known: dict[int, str | None] = st.session_state.get(K_CURSORS, {})
    _go_to_page(known.get(page) if page > 1 else None, page)
    st.session_state[K_SCROLL] = st.session_state.get(K_SCROLL, 0) + 1


def _toggle_compare(profile_id: str) -> None:
    compare_selection.toggle(profile_id)


def _clear_compare() -> None:
    compare_selection.clear()


def _apply(state: SearchState) -> None:
    seed_widgets(state)


def _clear_filters() -> None:
    ss = st.session_state
    ss[K_MODALITY], ss[K_CONDITION], ss[K_CREDENTIAL] = [], [], []
    ss[K_VERIFIED], ss[K_MIN_RATING], ss[K_MIN_REVIEWS] = False, 0.0, 0
    ss[K_CURSOR], ss[K_PAGE] = None, 1


# -- drawing -------------------------------------------------------------------------------


def search_bar() -> None:
    """Where, how far, what for, and the order of results."""
    where, within, unit, what, order = st.columns([2.6, 1.1, 0.9, 3.0, 1.6])
    # No help icon: it would be a tab stop before the field (the placeholder says what to type).
    where.text_input("Where", key=K_NEAR, placeholder="ZIP or city, e.g. 78704 or Austin, TX")
    with where:
        use_my_location(K_LOCATE, _search_near)
    focus_where_once()
    within.number_input(
        "Within",
        key=K_RADIUS,
        min_value=int(MIN_RADIUS),
        max_value=int(MAX_RADIUS),
        step=5,
        disabled=not st.session_state[K_NEAR].strip(),
    )
    unit.selectbox("Unit", ["mi", "km"], key=K_UNIT)
    what.text_input(
        "Looking for",
        key=K_TEXT,
        placeholder="a name, practice, technique or condition (e.g. sciatica)",
    )
    order.selectbox("Sort by", list(SORT_LABELS), key=K_SORT, format_func=lambda s: SORT_LABELS[s])


def _search_near(text: str) -> None:
    st.session_state[K_NEAR] = text


def focus_where_once() -> None:
    """On a visitor's first page, put the keyboard in the Where field (the first thing to
    fill); not on a phone, where focusing would pop the keyboard over the page, and never
    away from a field the visitor is already in."""
    if st.session_state.get(K_FOCUSED):
        return
    st.session_state[K_FOCUSED] = True
    st.html(
        """<script>(() => {
  const doc = (window.parent || window).document;
  const view = doc.defaultView || window;
  if (view.innerWidth < 640) return;
  const focus = (tries) => {
    const where = doc.querySelector('input[aria-label="Where"]');
    const busy = doc.activeElement && doc.activeElement !== doc.body;
    if (where && !busy) where.focus();
    else if (!where && tries > 0) setTimeout(() => focus(tries - 1), 100);
  };
  focus(20);
})();</script>""",
        unsafe_allow_javascript=True,
        width="content",
    )


def filters(result: SearchResult | None, taxonomy: Taxonomy) -> None:
    """The sidebar: filters, each value with how many of the current results carry it."""
    with st.sidebar:
        st.subheader("Filters")
        st.button(
            "Clear filters",
            icon=":material/filter_alt_off:",
            on_click=_clear_filters,
            key="s_clear",
            disabled=state_from_session_filter_count() == 0,
        )
        for (key, vocabulary), label in zip(
            TERM_FILTERS, ("Technique (modality)", "Condition treated", "Credential"), strict=True
        ):
            counts = result.facet_counts(vocabulary) if result is not None else None
            _term_filter(label, key, vocabulary, counts, taxonomy)
        verified = result.facet_counts("verified").get("true") if result is not None else None
        st.toggle(
            "Verified license only" + (f" ({verified})" if verified is not None else ""),
            key=K_VERIFIED,
            help="Only therapists whose state license the state board's own record shows as "
            "active. A board certification or an NPI is not a license and does not count.",
        )
        st.slider(
            "Minimum combined rating",
            min_value=0.0,
            max_value=5.0,
            step=0.1,
            key=K_MIN_RATING,
            format="%.1f",
            help="0 means any rating. The combined rating weighs every site's reviews fairly.",
        )
        st.number_input(
            "Minimum number of reviews",
            min_value=0,
            max_value=100_000,
            step=1,
            key=K_MIN_REVIEWS,
            help="0 means any number.",
        )


def state_from_session_filter_count() -> int:
    """How many filters are set in the widgets right now."""
    ss = st.session_state
    return (
        len(ss[K_MODALITY])
        + len(ss[K_CONDITION])
        + len(ss[K_CREDENTIAL])
        + int(bool(ss[K_VERIFIED]))
        + int(bool(ss[K_MIN_RATING]))
        + int(bool(ss[K_MIN_REVIEWS]))
    )


def term_caption(
    taxonomy: Taxonomy,
    vocabulary: Vocabulary,
    term_id: str,
    counts: dict[str, int] | None,
    selected: bool,
) -> str:
    """A filter option's display label: "Neuromuscular therapy (9)". A chosen term no result
    carries any more reads "(0)"; without results (no counts at all) only the name is shown."""
    name = taxonomy.label(vocabulary, term_id)
    count = (counts or {}).get(term_id, 0)
    if counts is None or (not count and not selected):
        return name
    return f"{name} ({count:,})"


def _term_filter(
    label: str,
    key: str,
    vocabulary: Vocabulary,
    counts: dict[str, int] | None,
    taxonomy: Taxonomy,
) -> None:
    """A multiselect of taxonomy ids; names and counts come from ``format_func`` only."""
    ss = st.session_state
    selected = option_ids(ss.get(key, []), vocabulary, taxonomy)
    known = counts or {}
    # Values present in the results first (most common first), then the rest of the taxonomy.
    # Every id stays an option, so a chosen one whose count fell to 0 stays chosen.
    options = sorted(
        taxonomy.ids(vocabulary),
        key=lambda t: (t not in selected, -known.get(t, 0), taxonomy.label(vocabulary, t)),
    )

    def caption(term_id: str) -> str:
        return term_caption(taxonomy, vocabulary, term_id, counts, term_id in selected)

    # The browser holds the choice by its labels: when they change, send them again, or its
    # next message would carry labels this run no longer shows.
    labels = [caption(t) for t in selected]
    shown: dict[str, list[str]] = ss.setdefault(K_SHOWN, {})
    if shown.get(key) != labels:
        ss[key] = selected
        shown[key] = labels
    st.multiselect(label, options, key=key, format_func=caption, placeholder="Any")


def card_distance(
    nearest: Nearest | None, distance: float | None, unit: DistanceUnit
) -> str | None:
    """ "**1.0 mi** away", or "**≈ 4.5 mi** away (approximate: city only)" when the nearest
    location is only a ZIP or city centre (markdown); None without a distance."""
    if nearest is not None:
        return distance_markdown(nearest, unit)
    if distance is None:
        return None
    return f"**{escape_markdown(format_distance(distance, unit))}** away"


def result_card(hit: Hit, point: GeoPoint | None, state: SearchState, taxonomy: Taxonomy) -> None:
    """One therapist in the result list."""
    profile = hit.profile
    chosen = hit.id in state.compare
    nearest = nearest_location(profile, point)
    with st.container(border=True):
        main, side = st.columns([3, 1.7], vertical_alignment="top")
        with main:
            st.markdown(f"#### {escape_markdown(profile.name, max_length=80)}")
            practice = plain_text(profile.practice_name, max_length=80)
            place = place_line(nearest.location if nearest else first_location(profile))
            line = " · ".join(escape_markdown(p) for p in (practice, place) if p)
            if line:
                st.markdown(f":gray[{line}]")
            st.markdown(badge_markdown(badges(profile)))
            modalities = term_labels(taxonomy, "modality", profile.modalities, 5)
            if modalities:
                st.markdown(f":material/spa: {modalities}")
            for reason in condition_matches(taxonomy, state.conditions, profile):
                st.caption(reason)
        with side:
            distance = card_distance(nearest, hit.distance_km, state.unit)
            if distance:
                st.markdown(distance)
            st.markdown(rating_line(profile.rating))
            credit = ratings_credit(profile)
            if credit:
                # Providers whose terms ask to be credited wherever their ratings count.
                st.caption(credit)
            confirmed = format_date(profile.last_confirmed)
            if confirmed:
                # When a source last listed them: an old date warns that details may have changed.
                st.caption(f"Last confirmed {escape_markdown(confirmed)}")
            st.page_link(
                routes.PROFILE,
                label="View profile",
                icon=":material/person:",
                query_params=routes.profile_params(hit.id, state),
            )
            full = len(state.compare) >= MAX_COMPARE and not chosen
            st.button(
                "Remove from compare" if chosen else "Add to compare",
                key=f"compare_{hit.id}",
                icon=":material/check_box:" if chosen else ":material/check_box_outline_blank:",
                on_click=_toggle_compare,
                args=(hit.id,),
                disabled=full,
                help=f"Compare up to {MAX_COMPARE} therapists side by side." if full else None,
            )


def compare_tray(state: SearchState) -> None:
    """The therapists chosen for comparison, and the way to the compare view."""
    if not state.compare:
        return
    names = []
    for profile_id in state.compare:
        try:
            profile = services.get_profile(profile_id)
        except BackendError:
            profile = None
        names.append(escape_markdown(profile.name if profile else profile_id, max_length=40))
    with st.container(border=True):
        text, go, clear = st.columns([4, 1.6, 1], vertical_alignment="center")
        text.markdown(f":material/compare_arrows: **Compare:** {', '.join(names)}")
        if len(state.compare) >= 2:
            go.page_link(
                routes.COMPARE,
                label=f"Compare {len(state.compare)} side by side",
                icon=":material/arrow_forward:",
                query_params=routes.compare_params(state.compare, state),
            )
        else:
            go.caption("Choose one more to compare.")
        clear.button("Clear", key="compare_clear", on_click=_clear_compare)


def pin_detail(
    profile: Profile, location: Location, point: GeoPoint | None, unit: DistanceUnit
) -> str:
    """A pin's tooltip: the distance to this location ("≈" and a note when it is only a ZIP or
    city centre) and the combined rating (plain text)."""
    rating = profile.rating
    parts = []
    if point is not None:
        km = distance_km(point.lat, point.lon, location.lat, location.lon)
        parts.append(distance_value(km, location, unit))
    parts.append(f"★ {format_rating(rating.combined)} ({rating.review_count})")
    note = approximate_note(location)
    if note:
        parts.append(note)
    return " · ".join(parts)


def results_map(
    hits: list[Hit], point: GeoPoint | None, state: SearchState, show_radius: bool
) -> None:
    """The current page of results on a map, around the searched place; approximate positions
    are hollow pins."""
    radius_km = state.radius_km if show_radius else None
    markers = [
        MapPoint(
            lat=location.lat,
            lon=location.lon,
            name=plain_text(hit.profile.name, max_length=60),
            detail=pin_detail(hit.profile, location, point, state.unit),
            verified=hit.profile.verification.license_verified,
            approximate=location.approximate,
        )
        for hit in hits
        for location in placed_locations(hit.profile, point, radius_km)
    ]
    deck = therapist_map(markers, point, radius_km, height=460)
    st.pydeck_chart(deck, width="stretch", height=460)
    st.caption(legend(searched_area=radius_km is not None))


def placed_locations(
    profile: Profile, point: GeoPoint | None, radius_km: float | None
) -> list[Location]:
    """The therapist's locations to mark: those within the searched radius when there is one
    (a practice in another city would pull the map away), else the first few."""
    if point is None or radius_km is None:
        return list(profile.locations[:3])
    return [
        loc
        for loc in profile.locations
        if distance_km(point.lat, point.lon, loc.lat, loc.lon) <= radius_km + 0.01
    ]


def page_count(total: int) -> int:
    """How many pages ``total`` results fill (at least one)."""
    return max(1, -(-total // PAGE_SIZE))


def pager_pages(current: int, last: int, span: int = PAGER_SPAN) -> list[int]:
    """The page numbers the pager offers: the first, the last, and ``span`` either side of the
    current page, in order."""
    near = range(max(1, current - span), min(last, current + span) + 1)
    return sorted({1, last, *near})


def pager(result: SearchResult, state: SearchState) -> None:
    """Where this page sits in the results: Previous, the page numbers, Next."""
    first = (state.page - 1) * PAGE_SIZE + 1
    last = first + len(result.hits) - 1
    pages = page_count(result.total)
    st.caption(f"Showing {first}\u2013{last} of {result.total:,} · page {state.page} of {pages}")
    with st.container(horizontal=True, gap="small", key="pager"):
        st.button(
            "Previous",
            icon=":material/navigate_before:",
            on_click=_turn_to,
            args=(state.page - 1,),
            disabled=state.page <= 1,
            key="page_prev",
        )
        for number in pager_pages(state.page, pages):
            st.button(
                str(number),
                on_click=_turn_to,
                args=(number,),
                disabled=number == state.page,
                type="primary" if number == state.page else "secondary",
                key=f"page_{number}",
            )
        st.button(
            "Next",
            icon=":material/navigate_next:",
            on_click=_turn_to,
            args=(state.page + 1,),
            disabled=result.next_cursor is None,
            key="page_next",
        )


def scroll_to_results() -> None:
    """After a page change, bring the top of the results back into view (the pager sits at
    their bottom). The script is the dashboard's own; nothing crawled goes into it."""
    asked = int(st.session_state.get(K_SCROLL, 0))
    if not asked or st.session_state.get(f"{K_SCROLL}_done") == asked:
        return
    st.session_state[f"{K_SCROLL}_done"] = asked
    # The results above may still be growing when the first scroll runs, so it is repeated a
    # little later; a reader who scrolls, types or clicks in between keeps where they went. While
    # repeats are pending the page carries ``data-tdir-scrolling``, so nothing moves under a click
    # made after it is gone.
    st.html(
        f"""<script>/* page change {asked} */
(() => {{
  const doc = (window.parent || window).document;
  const root = doc.documentElement;
  const timers = [];
  const done = () => {{
    timers.forEach(clearTimeout);
    root.removeAttribute("data-tdir-scrolling");
    ["wheel", "touchstart", "keydown", "pointerdown"].forEach(
      (kind) => doc.removeEventListener(kind, done, true));
  }};
  const go = () => {{
    const top = doc.getElementById("tdir-results-top");
    if (!top) return;
    top.style.scrollMarginTop = "4.5rem";  /* below the app's top bar */
    top.scrollIntoView({{block: "start"}});
  }};
  root.setAttribute("data-tdir-scrolling", "{asked}");
  ["wheel", "touchstart", "keydown", "pointerdown"].forEach(
    (kind) => doc.addEventListener(kind, done, true));
  go();
  timers.push(setTimeout(go, 100), setTimeout(() => {{ go(); done(); }}, 400));
}})();</script>""",
        unsafe_allow_javascript=True,
        width="content",
    )


def resolve_cursor(state: SearchState, point: GeoPoint | None, taxonomy: Taxonomy) -> SearchState:
    """The state with the cursor of its page, found by walking from the nearest page whose
    cursor is known (a page number was chosen that has not been reached yet)."""
    if state.page <= 1 or state.cursor is not None:
        return state
    known: dict[int, str | None] = st.session_state.setdefault(K_CURSORS, {})
    start = max((n for n in known if n <= state.page), default=1)
    cursor = known.get(start) if start > 1 else None
    for number in range(start, state.page):
        try:
            result = services.search(
                replace(state, cursor=cursor, page=number).to_query(point, taxonomy)
            )
        except (QueryError, BackendError):
            cursor = None
        else:
            cursor = result.next_cursor
        if cursor is None:  # fewer pages than asked for: back to the first
            _go_to_page(None, 1)
            return state.first_page()
        known[number + 1] = cursor
    _go_to_page(cursor, state.page)
    return replace(state, cursor=cursor)


def remember_cursors(state: SearchState, result: SearchResult) -> None:
    """Keep this page's and the next page's cursors, for Previous and the page numbers."""
    known: dict[int, str | None] = st.session_state.setdefault(K_CURSORS, {})
    known[state.page] = state.cursor
    if result.next_cursor is not None:
        known[state.page + 1] = result.next_cursor


def empty_state(
    state: SearchState, point: GeoPoint | None, place: Place | None, taxonomy: Taxonomy
) -> None:
    """Say why nothing matched and offer the changes that would find someone."""
    st.subheader("No therapist matches this search")
    parts = constraints(state, place.label if place else None, taxonomy)
    if parts:
        st.markdown(
            "You asked for therapists " + "; ".join(escape_markdown(p) for p in parts) + "."
        )
    try:
        suggestions, note = suggest(state, point, taxonomy, services.search)
    except BackendError:
        suggestions, note = [], None
    if note:
        st.markdown(escape_markdown(note))
    if not suggestions:
        st.info("Try a wider radius, another place, or fewer filters.", icon=":material/lightbulb:")
        return
    st.markdown("**Try instead:**")
    for index, suggestion in enumerate(suggestions[:6]):
        st.button(
            f"{suggestion.label} — {plural(suggestion.total, 'therapist')}",
            key=f"suggestion_{index}",
            on_click=_apply,
            args=(suggestion.state,),
            icon=":material/lightbulb:",
        )


def summary_line(result: SearchResult, state: SearchState, place: Place | None) -> str:
    """ "21 therapists within 25 mi of Austin, TX" (markdown)."""
    count = f"**{plural(result.total, 'therapist')}**"
    if place is not None:
        return f"{count} within {state.radius:g} {state.unit} of {escape_markdown(place.label)}"
    return f"{count} — enter a ZIP code or city to search nearby"


def run_query(
    state: SearchState, point: GeoPoint | None, taxonomy: Taxonomy
) -> tuple[SearchResult | None, str | None]:
    """The results of the search, or a message saying why there are none to show."""
    try:
        query = state.to_query(point, taxonomy)
    except QueryError as exc:
        if exc.field == "cursor":
            _go_to_page(None, 1)
            query = state.first_page().to_query(point, taxonomy)
        else:
            return None, f"{exc.field}: {exc.message}"
    try:
        return services.search(query), None
    except QueryError as exc:  # a cursor the backend cannot continue
        return None, f"{exc.field}: {exc.message}"
    except NoIndexError:
        return None, "The directory has not been built yet: its operator runs `tdir index`."
    except BackendError:
        return None, "The search service is unavailable right now. Please try again shortly."


def take_up_url(taxonomy: Taxonomy) -> tuple[list[str], bool]:
    """Read the URL, and seed the widgets from it when it says something to show. Returns the
    problems with its values, and whether the URL may carry the comparison choice (see
    :func:`sync_url`)."""
    url_state, problems = read_state(st.query_params, taxonomy)
    url_params = url_state.to_params()
    # Back and Forward bring a URL this page wrote itself: it is the search to show, not a
    # late rerun's to write over (is_new_url).
    arrived = K_NEAR not in st.session_state or went_through_history() or is_new_url(url_params)
    if arrived:
        seed_widgets(url_state)
        st.session_state[K_URL] = url_params
        st.session_state[K_CRITERIA] = None
    return problems, not arrived or bool(url_state.compare)


def main() -> None:
    """Draw the search page."""
    taxonomy = load_taxonomy()
    problems, selection_from_url = take_up_url(taxonomy)

    page_heading("Find a licensed massage or neuromuscular therapist", tab="Find a therapist")
    st.caption(
        "Listings, credentials and reviews from many sites in one place, with licenses "
        "checked against the state boards' own records."
    )
    show_problems(problems)
    for cut in clip_typed():
        st.warning(escape_markdown(cut), icon=":material/content_cut:")
    normalize_filters(taxonomy)
    search_bar()
    state = state_from_widgets()

    place: Place | None = None
    if state.near:
        try:
            place = geocode_place(state.near)
        except PlaceNotFoundError as exc:
            sync_url(state, selection_from_url=selection_from_url)
            filters(None, taxonomy)
            st.error(f"Where: {escape_markdown(exc)}", icon=":material/location_off:")
            st.caption("Use a ZIP code (78704), a city and state (Austin, TX) or lat,lon.")
            return
        if place.alternatives:
            # A name several states share: say which was taken and what else it could be.
            others = ", ".join(place.alternatives[:3])
            st.caption(
                f"Showing {escape_markdown(place.label)}. Did you mean "
                f"{escape_markdown(others)}? Add the state to choose."
            )
    point = place.point if place else None
    if state.sort == "distance" and point is None:
        st.caption("Sorting by distance needs a place; showing the best matches first.")

    state = resolve_cursor(state, point, taxonomy)
    result, problem = run_query(state, point, taxonomy)
    if st.session_state[K_PAGE] != state.page:  # the cursor could not continue: page one
        state = state.first_page()
    sync_url(state, selection_from_url=selection_from_url)
    filters(result, taxonomy)
    if result is None:
        st.error(escape_markdown(problem), icon=":material/error:")
        return
    compare_tray(state)
    if not result.hits:
        empty_state(state, point, place, taxonomy)
        return
    remember_cursors(state, result)
    st.html('<span id="tdir-results-top"></span>', width="content")
    st.markdown(summary_line(result, state, place))
    listing, map_column = st.columns([3, 2], gap="medium")
    with listing:
        for hit in result.hits:
            result_card(hit, point, state, taxonomy)
        pager(result, state)
        scroll_to_results()
    with map_column:
        results_map(result.hits, point, state, show_radius=place is not None)


main()
