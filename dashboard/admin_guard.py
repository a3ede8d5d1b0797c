"""The check at the top of every admin page.

The navigation already hides admin pages from everyone else; this second check means a page
never renders for a visitor who is not a signed-in admin, however it was reached.
"""

from __future__ import annotations

import streamlit as st

from dashboard.auth import current_access, is_admin


def require_admin() -> None:
    """Stop the page here unless this session belongs to a signed-in admin."""
    if not is_admin(current_access()):
        st.error("This page is for signed-in admins.", icon=":material/lock:")
        st.stop()
