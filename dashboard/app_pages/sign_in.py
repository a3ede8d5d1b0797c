"""Admin sign-in (and sign-out): OpenID Connect, a password, or closed, as configured.

A signed-in admin sees who they are, the admin pages, the audit log of admin actions (newest
first) and sign-out.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import audit, routes
from dashboard.auth import (
    AFTER_SIGN_IN,
    AdminAccess,
    admin_name,
    cookie_writer,
    current_access,
    data_home,
    is_admin,
    locked_out,
    oidc_user,
    sign_in_with_password,
    sign_out,
)
from dashboard.formatting import format_moment
from dashboard.headings import page_heading
from dashboard.markup import escape_markdown, plain_text

K_NAME, K_PASSWORD = "admin_name_input", "admin_password_input"
K_OUTCOME = "tdir_sign_in_outcome"
K_LAST_NAME = "tdir_sign_in_last_name"  # outlives the form, which a locked page does not draw
LOCKED = (
    "Too many wrong passwords. Sign-in is locked for a while (15 minutes after the last "
    "attempt); reloading the page does not unlock it."
)


def audit_log() -> None:
    """The audit log of admin actions, newest first."""
    st.subheader("Audit log")
    entries = audit.entries(data_home())
    if not entries:
        st.caption("No admin action is recorded yet.")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "When (UTC)": format_moment(e.get("at")),
                    "Action": audit.ACTIONS.get(str(e.get("action")), plain_text(e.get("action"))),
                    "Who": plain_text(e.get("actor")),
                    "Outcome": plain_text(e.get("outcome")),
                    "Detail": plain_text(e.get("detail"), max_length=300),
                    "Client": plain_text(e.get("client")) or "",
                }
                for e in entries
            ]
        ),
        hide_index=True,
        width="stretch",
        key="audit_log",
    )
    st.caption(f"The latest {len(entries)} entries of `{audit.audit_path(data_home())}`.")


def signed_in(access: AdminAccess) -> None:
    """What a signed-in admin sees here: who they are, the admin pages, sign-out."""
    name = admin_name(access)
    who = f" Your changes are recorded as {escape_markdown(name)}." if name else ""
    st.success(f"You are signed in as an admin.{who}", icon=":material/verified_user:")
    st.page_link(routes.ADMIN_SOURCES, label="Sources and crawl health", icon=":material/dns:")
    st.page_link(routes.ADMIN_FLAGGED, label="Flagged listings", icon=":material/flag:")
    st.page_link(
        routes.ADMIN_CORRECTIONS, label="Corrections and removals", icon=":material/edit_note:"
    )
    if st.button("Sign out", icon=":material/logout:"):
        sign_out(access)
        st.rerun()
    audit_log()


def _submit(access: AdminAccess) -> None:
    """The form's callback: try the password, then empty the password box (the name stays)."""
    name = str(st.session_state.get(K_NAME) or "")
    given = str(st.session_state.get(K_PASSWORD) or "")
    st.session_state[K_PASSWORD] = ""
    st.session_state[K_LAST_NAME] = name
    if not name.strip():
        # Checked before the password, so that a forgotten name costs no attempt.
        st.session_state[K_OUTCOME] = "no name"
        return
    outcome = sign_in_with_password(access, given, name)
    st.session_state[K_OUTCOME] = outcome
    if outcome == "ok":
        st.session_state[AFTER_SIGN_IN] = True


def password_form(access: AdminAccess) -> None:
    """The password sign-in form."""
    outcome = st.session_state.pop(K_OUTCOME, None)
    if outcome == "ok":
        st.rerun()  # the admin pages exist from the next run on
    name = str(st.session_state.get(K_NAME) or st.session_state.get(K_LAST_NAME) or "")
    if outcome == "locked" or locked_out(name):
        st.error(LOCKED, icon=":material/lock_clock:")
        return
    if K_NAME not in st.session_state and name:
        st.session_state[K_NAME] = name  # the name typed before stays in the box
    with st.form("admin_sign_in"):
        st.text_input(
            "Your name",
            key=K_NAME,
            help="Recorded with every change you make: schedules, recrawls, corrections.",
        )
        st.text_input("Admin password", type="password", key=K_PASSWORD)
        st.form_submit_button(
            "Sign in", icon=":material/login:", type="primary", on_click=_submit, args=(access,)
        )
    if outcome == "no name":
        st.error("Say who you are: your name is recorded with your changes.")
    elif outcome == "wrong":
        st.error("That password is not right.", icon=":material/password:")


def oidc_buttons(access: AdminAccess) -> None:
    """Sign-in through the configured identity provider(s)."""
    signed, email = oidc_user()
    if signed:
        st.warning(
            f"You are signed in as {escape_markdown(email or 'an unknown user')}, which is not "
            "an admin account of this directory.",
            icon=":material/no_accounts:",
        )
        if st.button("Sign out", icon=":material/logout:"):
            sign_out(access)
        return
    for provider in access.providers:
        label = f"Sign in with {provider}" if provider else "Sign in"
        if st.button(label, key=f"login_{provider or 'default'}", icon=":material/login:"):
            st.login(provider) if provider else st.login()


def main() -> None:
    """Draw the sign-in page."""
    access = current_access()
    page_heading("Admin", tab="Admin sign-in")
    cookie_writer()
    if is_admin(access):
        signed_in(access)
        return
    st.caption(
        "The admin area shows crawl health, sets recrawl schedules, recrawls sources, lists "
        "flagged listings and records therapists' corrections and removals. It is for the "
        "people who run this directory."
    )
    if access.mode == "closed":
        st.info(
            "The admin area is closed: no sign-in is configured. To open it, set "
            "`admin_password` in `.streamlit/secrets.toml` or the `TDIR_ADMIN_PASSWORD` "
            "environment variable, or configure OpenID Connect in an `[auth]` section with "
            "`admin_emails`.",
            icon=":material/lock:",
        )
    elif access.mode == "password":
        password_form(access)
    else:
        oidc_buttons(access)


main()
