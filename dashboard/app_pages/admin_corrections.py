"""Admin: a therapist's request to remove their listing or correct a detail of it.

Find the therapist by name (or profile id), then remove the listing or correct a detail; both are
recorded with the admin's name and the time, applied to the index at once (a removed therapist
is gone from search immediately) and kept through every recrawl until lifted here.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from dashboard import admin_data, curation, routes, services
from dashboard.admin_guard import require_admin
from dashboard.corrected import FIELD_LABELS, corrections_of, current_text, value_text
from dashboard.curation import (
    CORRECTIONS,
    FIND,
    K_CHOSEN,
    K_LIFT_CORRECTION,
    K_LIFT_REMOVAL,
    K_QUERY,
    NEXT_INDEX,
    REMOVALS,
    candidate_label,
    confirm_key,
    find_profiles,
    place_of,
    reason_key,
    value_key,
)
from dashboard.formatting import MISSING, format_date, format_moment, plural
from dashboard.headings import page_heading
from dashboard.markup import escape_markdown, plain_text
from dashboard.notices import show_notices
from indexer.corrections import CORRECTABLE
from indexer.profile import Profile
from indexer.search import BackendError
from indexer.taxonomy import FIELD_VOCABULARY, Taxonomy, load_taxonomy

FIELD_HELP = {
    "name": "The name clients see. It cannot be empty.",
    "practice_name": "Leave empty to show no practice name.",
    "bio": "Leave empty to show no description.",
    "website": "An http(s) address; leave empty to show none.",
    "phones": "One or more numbers, separated by commas; leave empty to show none.",
}


# -- drawing -------------------------------------------------------------------------------


def therapist_card(profile: Profile, taxonomy: Taxonomy) -> None:
    """Who was picked: enough to be sure it is the therapist who asked."""
    with st.container(border=True):
        st.markdown(f"#### {escape_markdown(profile.name or 'Unnamed', max_length=100)}")
        line = " · ".join(
            escape_markdown(p)
            for p in (plain_text(profile.practice_name, max_length=80), place_of(profile))
            if p
        )
        if line:
            st.markdown(f":gray[{line}]")
        sources = sorted({plain_text(listing.source) for listing in profile.listings})
        st.caption(
            f"Profile {escape_markdown(profile.id)} · listed on "
            f"{escape_markdown(', '.join(sources) or 'no source')} · last confirmed "
            f"{escape_markdown(format_date(profile.last_confirmed) or MISSING)}"
        )
        st.page_link(
            routes.PROFILE,
            label="Open the profile",
            icon=":material/person:",
            query_params={"id": profile.id},
        )
        found = corrections_of(profile)
        if found:
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "Corrected": FIELD_LABELS.get(f, f),
                            "To": value_text(f, c.get("value"), taxonomy),
                            "By": plain_text(c.get("by")),
                            "On": format_moment(c.get("at")),
                        }
                        for f, c in sorted(found.items())
                    ]
                ),
                hide_index=True,
                width="stretch",
            )


def removal_form(profile: Profile, by: str) -> None:
    """Remove the listing: why, the button, then a confirmation before anything happens."""
    profile_id = profile.id
    st.markdown("**Remove from the directory**")
    if confirm_key(profile_id) in st.session_state:
        name = plain_text(profile.name) or "this therapist"
        st.warning(
            f"Remove {escape_markdown(name)} ({escape_markdown(profile_id)}) from the "
            "directory? They are gone from search at once and kept out of every rebuild until "
            "the removal is lifted.",
            icon=":material/warning:",
        )
        yes, no = st.columns(2)
        yes.button(
            "Yes, remove",
            key=f"supp_yes_{profile_id}",
            icon=":material/person_remove:",
            type="primary",
            on_click=curation.remove,
            args=(profile_id, plain_text(profile.name), by),
            width="stretch",
        )
        no.button(
            "Cancel",
            key=f"supp_no_{profile_id}",
            on_click=curation.cancel_remove,
            args=(profile_id,),
            width="stretch",
        )
        return
    st.text_area(
        "Why",
        key=reason_key(profile_id),
        placeholder="e.g. the therapist asked by e-mail on 21 Nov: retired",
        help="Recorded with your name and the time.",
    )
    st.button(
        "Remove listing",
        key=f"supp_go_{profile_id}",
        icon=":material/person_remove:",
        type="primary",
        on_click=curation.ask_remove,
        args=(profile_id,),
        help="Asks you to confirm, then takes the therapist out of search at once and out of "
        "every later build.",
    )


def correction_form(profile: Profile, by: str, taxonomy: Taxonomy) -> None:
    """Correct one detail: which, the right value, and the button."""
    profile_id = profile.id
    st.markdown("**Correct a detail**")
    field: str = st.selectbox(
        "Detail",
        list(CORRECTABLE),
        format_func=lambda f: FIELD_LABELS[f],
        key=f"corr_field_{profile_id}",
    )  # never None: the list has entries and no placeholder
    key = value_key(profile_id, field)
    if field in FIELD_VOCABULARY:
        vocabulary = FIELD_VOCABULARY[field]
        current = [t for t in getattr(profile, field) if t in taxonomy.ids(vocabulary)]
        st.multiselect(
            FIELD_LABELS[field],
            taxonomy.ids(vocabulary),
            default=current,
            format_func=lambda t: taxonomy.label(vocabulary, t),
            key=key,
            placeholder="None",
        )
    elif field == "bio":
        st.text_area(
            FIELD_LABELS[field],
            value=current_text(field, profile, taxonomy),
            key=key,
            help=FIELD_HELP[field],
        )
    else:
        st.text_input(
            FIELD_LABELS[field],
            value=current_text(field, profile, taxonomy),
            key=key,
            help=FIELD_HELP.get(field),
        )
    st.button(
        "Save correction",
        key=f"corr_go_{profile_id}",
        icon=":material/edit_note:",
        type="primary",
        on_click=curation.correct,
        args=(profile_id, field, by),
        help="Replaces the crawled value now and in every later build.",
    )


def find_tab(by: str, taxonomy: Taxonomy) -> None:
    """Find the therapist, then remove or correct."""
    st.text_input(
        "Therapist's name or profile id",
        key=K_QUERY,
        placeholder="e.g. Jane Doe",
        help="Searches every listed therapist by name, practice and words of their listing.",
    )
    show_notices(FIND)
    query = str(st.session_state.get(K_QUERY) or "")
    if not query.strip():
        st.caption("Search for the therapist who asked, to pick the right profile.")
        return
    try:
        found = find_profiles(query)
    except BackendError:
        st.error("The directory is unavailable right now. Please try again shortly.")
        return
    if not found:
        st.info(
            "No listed therapist matches. Removed ones are under Removals.",
            icon=":material/search_off:",
        )
        return
    by_id = {p.id: p for p in found}
    chosen = st.selectbox(
        f"Therapist ({plural(len(found), 'match', 'matches')})",
        list(by_id),
        format_func=lambda i: candidate_label(by_id[i]),
        key=K_CHOSEN,
    )
    if chosen is None:
        return
    profile = by_id[chosen]
    therapist_card(profile, taxonomy)
    remove, correct = st.columns(2, gap="large")
    with remove:
        removal_form(profile, by)
    with correct:
        correction_form(profile, by, taxonomy)


def removals_tab(home: str, by: str) -> None:
    """Removals on record, and lifting one."""
    show_notices(REMOVALS)
    everything = st.toggle("Show lifted removals too", key="supp_all")
    items = admin_data.correction_book(home).suppressions(include_lifted=everything)
    if not items:
        st.caption("No therapist's listing is removed.")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Profile": s.profile_id,
                    "Why": plain_text(s.reason, max_length=300),
                    "Removed by": plain_text(s.requested_by),
                    "Removed on": format_moment(s.requested_at),
                    "Matched by": plural(len(s.keys), "key"),
                    "Lifted by": plain_text(s.lifted_by) or "",
                    "Lifted on": format_moment(s.lifted_at) if s.lifted_at else "",
                }
                for s in items
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    in_force = [s for s in items if s.lifted_at is None]
    if not in_force:
        return
    choices = {
        s.profile_id: f"{s.profile_id} — {plain_text(s.reason, max_length=80)}" for s in in_force
    }
    lift_control(
        "Removal to lift",
        choices,
        K_LIFT_REMOVAL,
        "Lift removal",
        "supp_lift",
        curation.lift_removal,
        (home, by),
    )


def corrections_tab(home: str, by: str, taxonomy: Taxonomy) -> None:
    """Corrections on record, and lifting one."""
    show_notices(CORRECTIONS)
    everything = st.toggle("Show lifted corrections too", key="corr_all")
    items = admin_data.correction_book(home).corrections(include_lifted=everything)
    if not items:
        st.caption("No detail of any therapist is corrected.")
        return
    names: dict[str, str] = {}
    for item in items:
        if item.profile_id not in names:
            try:
                profile = services.get_profile(item.profile_id)
            except BackendError:
                profile = None
            names[item.profile_id] = plain_text(profile.name if profile else None) or MISSING
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Therapist": names[c.profile_id],
                    "Profile": c.profile_id,
                    "Detail": FIELD_LABELS.get(c.field, c.field),
                    "Corrected to": value_text(c.field, c.value, taxonomy),
                    "By": plain_text(c.requested_by),
                    "On": format_moment(c.requested_at),
                    "Lifted by": plain_text(c.lifted_by) or "",
                    "Lifted on": format_moment(c.lifted_at) if c.lifted_at else "",
                }
                for c in items
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    in_force = {f"{c.profile_id}|{c.field}": c for c in items if c.lifted_at is None}
    if not in_force:
        return
    choices = {
        k: f"{names[c.profile_id]} ({c.profile_id}) — {FIELD_LABELS.get(c.field, c.field)}"
        for k, c in in_force.items()
    }
    lift_control(
        "Correction to lift",
        choices,
        K_LIFT_CORRECTION,
        "Lift correction",
        "corr_lift",
        curation.lift_correction,
        (home, by),
    )


def lift_control(
    label: str,
    choices: dict[str, str],
    key: str,
    button: str,
    button_key: str,
    on_lift: Callable[..., None],
    args: tuple[str, str],
) -> None:
    """Pick one request in force (``choices``: key -> what the admin reads) and lift it."""
    pick, lift = st.columns([3, 1], vertical_alignment="bottom")
    pick.selectbox(label, list(choices), format_func=choices.__getitem__, key=key)
    lift.button(
        button,
        key=button_key,
        icon=":material/undo:",
        on_click=on_lift,
        args=args,
        width="stretch",
    )
    st.caption(NEXT_INDEX)


def main() -> None:
    """Draw the corrections and removals page."""
    by = require_admin()
    page_heading("Corrections & removals")
    st.caption(
        "When a therapist asks for their listing to be removed or a detail corrected: each "
        "request is recorded with who and when, applied to the directory at once, and kept "
        "through every recrawl until it is lifted."
    )
    home = str(admin_data.settings().home)
    taxonomy = load_taxonomy()
    book = admin_data.correction_book(home)
    removed, corrected = len(book.suppressions()), len(book.corrections())
    find, removals, corrections = st.tabs(
        ["Find a therapist", f"Removals ({removed})", f"Corrections ({corrected})"]
    )
    with find:
        find_tab(by, taxonomy)
    with removals:
        removals_tab(home, by)
    with corrections:
        corrections_tab(home, by, taxonomy)


main()
