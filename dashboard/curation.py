"""Therapists' requests from the admin area: finding the therapist, then recording a removal or
a correction, or lifting one.

Each action is a widget callback: it runs before the page is drawn, applies the request through
:mod:`indexer.corrections` (which changes the index at once), drops every cached result the
change makes stale, records the action in the audit log (:mod:`dashboard.audit`), and leaves a
notice for the page. A removal is asked for first (``ask_remove``) and done only once the admin
confirms it (``remove``). Widget keys live here, beside the callbacks that read them.
"""

from __future__ import annotations

import streamlit as st

from dashboard import admin_data, audit, services
from dashboard.corrected import FIELD_LABELS
from dashboard.formatting import plural
from dashboard.locations import first_location, place_line
from dashboard.markup import escape_markdown, plain_text
from dashboard.notices import notify
from indexer.corrections import CorrectionError
from indexer.live_corrections import correct_profile, suppress_profile
from indexer.profile import Profile
from indexer.search import BackendError, QueryError, SearchQuery

CANDIDATES = 10
FIND, REMOVALS, CORRECTIONS = "corrections:find", "corrections:removals", "corrections:fixes"
K_QUERY, K_CHOSEN = "corr_query", "corr_chosen"
K_LIFT_REMOVAL, K_LIFT_CORRECTION = "supp_lift_choice", "corr_lift_choice"
NEXT_INDEX = (
    "The crawled data returns with the next index update (after the source's next crawl, "
    "or run `tdir index`)."
)


def find_profiles(query: str) -> list[Profile]:
    """Profiles whose id is the query, then those a name search finds (at most a few)."""
    query = query.strip()
    if not query:
        return []
    found: dict[str, Profile] = {}
    if " " not in query:
        exact = services.get_profile(query)
        if exact is not None:
            found[exact.id] = exact
    try:
        result = services.search(SearchQuery(text=query, page_size=CANDIDATES))
    except QueryError:
        return list(found.values())
    for hit in result.hits:
        found.setdefault(hit.id, hit.profile)
    return list(found.values())


def place_of(profile: Profile) -> str:
    """ "Austin, TX" from the first location, as plain text."""
    return place_line(first_location(profile))


def candidate_label(profile: Profile) -> str:
    """One line naming a therapist well enough to pick the right one (plain text)."""
    details = " · ".join(
        p for p in (plain_text(profile.practice_name, max_length=50), place_of(profile)) if p
    )
    name = plain_text(profile.name, max_length=60) or "Unnamed"
    return f"{name} — {details} ({profile.id})" if details else f"{name} ({profile.id})"


def reason_key(profile_id: str) -> str:
    """The key of the reason given for removing a profile."""
    return f"supp_reason_{profile_id}"


def confirm_key(profile_id: str) -> str:
    """The key set while a removal of the profile waits for the admin's confirmation."""
    return f"supp_confirm_{profile_id}"


def value_key(profile_id: str, field: str) -> str:
    """The key of the corrected value of one field of a profile."""
    return f"corr_value_{profile_id}_{field}"


# -- actions (widget callbacks) ------------------------------------------------------------


def _applied() -> None:
    """Drop every cached result a change to the index makes stale."""
    services.forget_cached_results()
    admin_data.flagged.clear()


def _audit(action: str, by: str, detail: str, outcome: audit.Outcome = "ok") -> None:
    audit.record(admin_data.settings().home, action, by, outcome=outcome, detail=detail)


def ask_remove(profile_id: str) -> None:
    """The first click on "Remove listing": check there is a reason, then ask to confirm."""
    reason = str(st.session_state.get(reason_key(profile_id)) or "").strip()
    if not reason:
        notify(FIND, "error", "Not removed: say why. The reason is recorded with the removal.")
        return
    st.session_state[confirm_key(profile_id)] = reason


def cancel_remove(profile_id: str) -> None:
    """Drop a removal waiting for confirmation."""
    st.session_state.pop(confirm_key(profile_id), None)


def remove(profile_id: str, name: str, by: str) -> None:
    """Remove the profile (confirmed) with the reason typed for it."""
    confirmed = st.session_state.pop(confirm_key(profile_id), None)
    reason = str(st.session_state.get(reason_key(profile_id)) or confirmed or "").strip()
    if not reason:
        notify(FIND, "error", "Not removed: say why. The reason is recorded with the removal.")
        return
    try:
        suppression = suppress_profile(admin_data.settings(), profile_id, by=by, reason=reason)
    except CorrectionError as exc:
        _audit("removal", by, f"{profile_id}: {exc}", "failed")
        notify(FIND, "error", f"Not removed: {escape_markdown(exc)}")
        return
    except BackendError:
        notify(FIND, "error", "The index is unavailable right now; nothing was removed.")
        return
    _audit("removal", by, f"{name} ({profile_id}): {reason}")
    _applied()
    st.session_state.pop(K_CHOSEN, None)
    notify(
        FIND,
        "success",
        f"{escape_markdown(name)} ({escape_markdown(profile_id)}) is removed from the directory "
        f"and kept out of every rebuild, matched by {plural(len(suppression.keys), 'key')} "
        "(its listings, NPI and license numbers). Recorded as requested by "
        f"{escape_markdown(by)}.",
    )


def correct(profile_id: str, field: str, by: str) -> None:
    """Correct one field of the profile to the value typed (or chosen) for it."""
    raw = st.session_state.get(value_key(profile_id, field))
    text = ", ".join(raw) if isinstance(raw, list) else str(raw or "")
    try:
        correct_profile(admin_data.settings(), profile_id, field, text, by=by)
    except CorrectionError as exc:
        notify(FIND, "error", f"Not corrected: {escape_markdown(exc)}")
        return
    except BackendError:
        notify(FIND, "error", "The index is unavailable right now; nothing was corrected.")
        return
    _audit("correction", by, f"{profile_id}: {field} set to {text!r}")
    _applied()
    notify(
        FIND,
        "success",
        f"{escape_markdown(FIELD_LABELS.get(field, field))} of {escape_markdown(profile_id)} "
        f"corrected; the profile shows it now. Recorded by {escape_markdown(by)}.",
    )


def lift_removal(home: str, by: str) -> None:
    """Lift the removal chosen in the removals list."""
    profile_id = st.session_state.get(K_LIFT_REMOVAL)
    if not profile_id:
        return
    try:
        admin_data.correction_book(home).unsuppress(str(profile_id), by=by)
    except CorrectionError as exc:
        notify(REMOVALS, "error", escape_markdown(exc))
        return
    _audit("removal_lifted", by, str(profile_id))
    notify(
        REMOVALS,
        "success",
        f"Removal of {escape_markdown(profile_id)} lifted. {escape_markdown(NEXT_INDEX)}",
    )


def lift_correction(home: str, by: str) -> None:
    """Lift the correction chosen in the corrections list (``profile id|field``)."""
    choice = st.session_state.get(K_LIFT_CORRECTION)
    if not choice:
        return
    profile_id, field = str(choice).split("|", 1)
    try:
        admin_data.correction_book(home).uncorrect(profile_id, field, by=by)
    except CorrectionError as exc:
        notify(CORRECTIONS, "error", escape_markdown(exc))
        return
    _audit("correction_lifted", by, f"{profile_id}: {field}")
    notify(
        CORRECTIONS,
        "success",
        f"Correction of {escape_markdown(FIELD_LABELS.get(field, field).lower())} of "
        f"{escape_markdown(profile_id)} lifted. {escape_markdown(NEXT_INDEX)}",
    )
