"""Admin sign-in (and sign-out): OpenID Connect, a password, or closed, as configured."""

from __future__ import annotations

import streamlit as st

from dashboard import routes
from dashboard.auth import (
    AFTER_SIGN_IN,
    AdminAccess,
    admin_name,
    current_access,
    is_admin,
    locked_out,
    oidc_user,
    sign_in_with_password,
    sign_out,
)
from dashboard.markup import escape_markdown


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


def password_form(access: AdminAccess) -> None:
    """The password sign-in form."""
    if locked_out():
        st.error(
            "Too many wrong passwords. Close this tab and open the dashboard again to retry.",
            icon=":material/lock_clock:",
        )
        return
    with st.form("admin_sign_in", clear_on_submit=True):
        name = st.text_input(
            "Your name",
            key="admin_name_input",
            help="Recorded with every change you make: schedules, recrawls, corrections.",
        )
        given = st.text_input("Admin password", type="password", key="admin_password_input")
        submitted = st.form_submit_button("Sign in", icon=":material/login:", type="primary")
    if submitted:
        if not name.strip():
            # Checked before the password, so that a forgotten name costs no attempt.
            st.error("Say who you are: your name is recorded with your changes.")
            return
        if sign_in_with_password(access, given, name):
            st.session_state[AFTER_SIGN_IN] = True
            st.rerun()
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
    st.title("Admin")
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
