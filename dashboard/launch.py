"""How the dashboard is served: the ``streamlit run`` command every launcher uses.

``docker-compose.yml`` spells out the same options for its dashboard service.
"""

from __future__ import annotations

import sys
from pathlib import Path

APP = Path(__file__).resolve().with_name("app.py")

# Options for clients, not for developers of the app:
# - the toolbar offers no Deploy button and no developer menu;
# - no file watcher (a served app's files do not change under it);
# - no "magic": a bare expression in a page is not drawn, so the pages' scripts are compiled
#   as they are, without Streamlit rewriting their syntax tree on each compile.
SERVING_OPTIONS = (
    "--server.headless", "true",
    "--browser.gatherUsageStats", "false",
    "--client.toolbarMode", "viewer",
    "--server.fileWatcherType", "none",
    "--runner.magicEnabled", "false",
)  # fmt: skip


def streamlit_command(address: str, port: int) -> list[str]:
    """The command that serves the dashboard on ``address``:``port``."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.address", address,
        "--server.port", str(port),
        *SERVING_OPTIONS,
    ]  # fmt: skip
