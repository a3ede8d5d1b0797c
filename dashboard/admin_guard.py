"""The check at the top of every admin page.

The navigation already hides admin pages from everyone else; this second check means a page
never renders for a visitor who is not a signed-in admin, however it was reached. It also makes
sure the page knows who the admin is, since every change is recorded with a name, and has the
browser keep the signed session cookie that survives a reload.
"""

from __future__ import annotations

import streamlit as st

from dashboard.auth import admin_name, cookie_writer, current_access, is_admin, set_admin_name


def require_admin() -> str:
    """Stop the page here unless this session belongs to a signed-in admin; return the name
    recorded with the admin's changes (asking for it first if the session has none)."""
    access = current_access()
    if not is_admin(access):
        st.error("This page is for signed-in admins.", icon=":material/lock:")
        st.stop()
    cookie_writer()  # keeps the admin signed in across reloads (password sign-in)
    name = admin_name(access)
    if name:
        return name
    # Only a session signed in before names were asked for, or an identity provider that
    # gives no e-mail address, gets here.
    with st.form("admin_name_form"):
        given = st.text_input(
            "Your name",
            key="admin_name_late",
            help="Recorded with every change you make in the admin area.",
        )
        saved = st.form_submit_button("Continue", type="primary")
    if saved and given.strip():
        set_admin_name(given)
        st.rerun()
    st.info("Say who you are before changing anything.", icon=":material/badge:")
    st.stop()
