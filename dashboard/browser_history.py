"""Whether the visitor moved through the browser's history (Back or Forward) to this run.

Streamlit marks a run the browser asked for on Back or Forward (its ``popstate``), and keeps
the mark on the run's context: the URL is then the one the visitor went back to, and a page
must show what that URL says rather than write its own state back over it. Streamlit offers
the mark only on the script run context, not through ``st``; a version without it is taken as
never navigating through history.
"""

from __future__ import annotations

from streamlit.runtime.scriptrunner import get_script_run_ctx


def went_through_history() -> bool:
    """True if this run answers the browser's Back or Forward button."""
    context = get_script_run_ctx()
    return bool(getattr(context, "is_history_navigation", False))
