"""Outcomes of admins' actions, shown once on the run after the action.

Actions run as widget callbacks, before the page is drawn, so the page already shows their
effect (a new schedule in the overview, a removed therapist gone from a list). Their outcome is
kept here until the part of the page it belongs to shows it.
"""

from __future__ import annotations

from typing import Literal

import streamlit as st

NoticeKind = Literal["success", "error", "warning", "info"]
_KEY = "tdir_admin_notices"
_ICONS = {
    "success": ":material/task_alt:",
    "error": ":material/error:",
    "warning": ":material/warning:",
    "info": ":material/info:",
}


def notify(scope: str, kind: NoticeKind, markdown: str) -> None:
    """Keep a notice for ``scope``; ``markdown`` must already have every outside string
    escaped."""
    notices: dict[str, list[tuple[NoticeKind, str]]] = st.session_state.setdefault(_KEY, {})
    notices.setdefault(scope, []).append((kind, markdown))


def show_notices(scope: str) -> None:
    """Show the notices kept for ``scope``, then forget them."""
    notices: dict[str, list[tuple[NoticeKind, str]]] = st.session_state.get(_KEY, {})
    for kind, markdown in notices.pop(scope, []):
        getattr(st, kind)(markdown, icon=_ICONS[kind])
