"""The tdir dashboard: the entry point ``streamlit run dashboard/app.py`` starts.

It sets up the page and the navigation, which is built per visitor: everyone gets search,
profiles and compare; the admin pages appear only for a signed-in admin.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from dashboard import routes, services
from dashboard.auth import AFTER_SIGN_IN, current_access, is_admin
from dashboard.run_timings import timed_run


def navigation() -> StreamlitPage:
    """The pages this visitor may open, by section."""
    access = current_access()
    admin = is_admin(access)
    client = [
        st.Page(
            routes.SEARCH,
            title="Search",
            icon=":material/search:",
            default=True,
        ),
        st.Page(routes.COMPARE, title="Compare", icon=":material/compare_arrows:"),
        st.Page(
            routes.PROFILE,
            title="Therapist profile",
            icon=":material/person:",
            visibility="hidden",
        ),
    ]
    pages: dict[str, list[StreamlitPage]] = {"": client}
    if admin:
        pages["Admin"] = [
            st.Page(routes.ADMIN_SOURCES, title="Sources", icon=":material/dns:"),
            st.Page(routes.ADMIN_FLAGGED, title="Flagged listings", icon=":material/flag:"),
            st.Page(
                routes.ADMIN_CORRECTIONS,
                title="Corrections & removals",
                icon=":material/edit_note:",
            ),
        ]
    account_title = "Account" if admin else "Admin sign-in"
    pages[""].append(st.Page(routes.SIGN_IN, title=account_title, icon=":material/lock:"))
    return st.navigation(pages, position="top")


def main() -> None:
    """Configure the page, then run the page the visitor is on."""
    # The path only: a query holds what the visitor searched for, which a timing log has no
    # business keeping.
    with timed_run(urlsplit(st.context.url or "").path or "/"):
        run_page()


def run_page() -> None:
    """Set the page up and run the page the visitor is on."""
    # Each page titles its own tab (headings.py). "auto" keeps the sidebar of filters open on
    # a wide screen and closed on a phone, where the search box and the results come first.
    st.set_page_config(page_icon=":material/spa:", layout="wide", initial_sidebar_state="auto")
    services.warm_up()
    page = navigation()
    if st.session_state.pop(AFTER_SIGN_IN, False) and is_admin(current_access()):
        # Signing in happened on the previous run; the admin pages exist only from this one.
        st.switch_page(routes.ADMIN_SOURCES)
    page.run()


main()
