"""A real headless browser for end-to-end tests: Debian's Chromium, driven by Playwright.

Playwright's own browser download is never used (this machine cannot fetch it); Playwright
drives the system Chromium through ``executable_path``. ``ensure_chromium`` installs Debian's
``chromium`` package when it is missing (as root, with apt-get); ``python -m
tests.support.browser`` does that from the command line, for ``make test``.

``StreamlitServer`` runs ``streamlit run dashboard/app.py`` on a free loopback port as a
subprocess in its own process group, waits until it answers, and stops the whole group after.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "app.py"
# Without the background-networking flags Chromium keeps trying to reach Google's services,
# which a closed network refuses many times a second.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
]


class BrowserUnavailableError(RuntimeError):
    """Chromium is missing and could not be installed; the message says what to do."""


def ensure_chromium() -> Path:
    """Return the Chromium executable, installing Debian's package first if it is missing."""
    if CHROMIUM.exists():
        return CHROMIUM
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        raise BrowserUnavailableError(
            f"{CHROMIUM} is missing; install it with: apt-get install -y chromium"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([apt, "update", "-qq"], check=True, env=env)
    subprocess.run([apt, "install", "-y", "-qq", "chromium"], check=True, env=env)
    if not CHROMIUM.exists():
        raise BrowserUnavailableError(f"apt-get installed chromium but {CHROMIUM} is missing")
    return CHROMIUM


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class StreamlitServer:
    """A running dashboard: its base URL and the log file of its output."""

    url: str
    log: Path
    pid: int


@contextmanager
def streamlit_server(
    env: Mapping[str, str], log: Path, *, timeout: float = 60.0
) -> Iterator[StreamlitServer]:
    """Run the dashboard with this environment until the block ends.

    Raises RuntimeError, with the server's output, if it does not answer within ``timeout``.
    """
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        # Clients see the directory, not Streamlit's Deploy button and developer menu.
        "--client.toolbarMode",
        "viewer",
        "--server.fileWatcherType",
        "none",
    ]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as output:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=dict(env),
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: recrawls it starts stop with it
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log, timeout)
        yield StreamlitServer(url=url, log=log, pid=process.pid)
    finally:
        _stop(process)


def _wait_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited ({process.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"streamlit did not answer within {timeout:.0f}s:\n{log.read_text()}")


def _stop(process: subprocess.Popen) -> None:
    # The whole group, even if the server itself is gone: a recrawl it started may still run.
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


def main() -> int:
    """Install what the browser tests need; print the Chromium and Playwright in use."""
    executable = ensure_chromium()
    import playwright

    version = getattr(playwright, "__version__", "installed")
    print(f"chromium: {executable}; playwright (Python): {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
