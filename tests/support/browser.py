"""A real headless browser for end-to-end tests: Debian's Chromium, driven by Playwright.

Playwright's own browser download is never used (this machine cannot fetch it); Playwright
drives the system Chromium through ``executable_path``. ``ensure_chromium`` installs Debian's
``chromium`` package when it is missing (as root, with apt-get); ``python -m
tests.support.browser`` does that from the command line, for ``make test``.

``StreamlitServer`` runs ``streamlit run dashboard/app.py`` on a free loopback port as a
subprocess in its own process group, waits until it answers, and stops the whole group after.

``SCRIPT_RUNS`` and ``wait_for_runs`` tell when the app has done what an interaction asked for,
from the app's own protocol rather than from what the page shows (see ``SCRIPT_RUNS``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dashboard.launch import streamlit_command
from tests.support.waiting import WaitTimeoutError, wait_until

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
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
    env: Mapping[str, str], log: Path, *, timeout: float = 120.0
) -> Iterator[StreamlitServer]:
    """Run the dashboard with this environment until the block ends.

    Raises RuntimeError, with the server's output, if it does not answer within ``timeout``.
    """
    port = free_port()
    command = streamlit_command("127.0.0.1", port)
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
    def healthy() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited ({process.returncode}):\n{log.read_text()}")
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as answer:
            return answer.status == 200

    try:
        wait_until(
            healthy,
            timeout=timeout,
            ignore=OSError,  # not listening yet, or too busy to answer in time
            message=f"streamlit to answer at {url}/_stcore/health",
        )
    except WaitTimeoutError as exc:
        raise RuntimeError(f"{exc}\n{log.read_text()}") from exc


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


# -- the app's script runs, as its websocket tells them -----------------------------------------

# Installed with ``add_init_script`` before the app loads, this watches the websocket the app
# talks to its server on. Each interaction (and each page load) makes the page send a
# ``rerun_script`` request (BackMsg field 11); the server answers with ``new_session`` when a
# run starts (ForwardMsg field 4) and ``script_finished`` (field 6) when it ends, with status 2
# (FINISHED_EARLY_FOR_RERUN) if another run follows at once (a page switch, ``st.rerun``).
# Unlike the page's "running" state, which a quick run may never show, no run goes unseen here.
# Requests are counted in sessionStorage, so that a count taken before a navigation compares
# with the counts after it; the rest is kept per page load, as each load has its own socket.
SCRIPT_RUNS = """
(() => {
  if (window.__tdirScript) return;
  let store = null;
  try {
    window.sessionStorage.getItem('tdir.requests');
    store = window.sessionStorage;
  } catch (error) {}  // about:blank has no storage
  const memory = {};
  const read = (key) => Number((store ? store.getItem(key) : memory[key]) ?? 0);
  const write = (key, value) => (store ? store.setItem(key, String(value)) : (memory[key] = value));
  const state = {
    seq: 0, lastRequest: 0, lastStart: 0, lastFinal: 0,
    // Milliseconds from each request to the end of the run that answered it: the server's
    // time (the socket is on this machine), for benchmarks.
    requestedAt: 0, durations: [],
    requests: () => read('tdir.requests'),
    settled: () => read('tdir.settled'),
    settle: () => write('tdir.settled', read('tdir.requests')),
  };
  window.__tdirScript = state;
  // The top-level fields of a protobuf message: field number -> its varint, or true.
  const fields = (bytes) => {
    const found = new Map();
    let i = 0;
    const varint = () => {
      let value = 0, shift = 0, byte = 0x80;
      while (byte & 0x80 && i < bytes.length) {
        byte = bytes[i++];
        value += (byte & 0x7f) * 2 ** shift;
        shift += 7;
      }
      return value;
    };
    while (i < bytes.length) {
      const tag = varint(), field = Math.floor(tag / 8), wire = tag % 8;
      if (wire === 0) found.set(field, varint());
      else if (wire === 2) { const length = varint(); i += length; found.set(field, true); }
      else if (wire === 1) { i += 8; found.set(field, true); }
      else if (wire === 5) { i += 4; found.set(field, true); }
      else break;
    }
    return found;
  };
  const asBytes = (data) => data instanceof ArrayBuffer ? new Uint8Array(data)
    : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : null;
  const Native = window.WebSocket;
  if (!Native) return;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (event) => {
        const bytes = asBytes(event.data);
        if (!bytes) return;
        const message = fields(bytes);
        if (message.has(4)) state.lastStart = ++state.seq;
        if (message.has(6) && message.get(6) !== 2) {
          state.lastFinal = ++state.seq;
          state.durations.push(performance.now() - state.requestedAt);
        }
      });
    }
    send(data) {
      const bytes = asBytes(data);
      if (bytes && fields(bytes).has(11)) {
        write('tdir.requests', read('tdir.requests') + 1);
        state.lastRequest = ++state.seq;
        state.requestedAt = performance.now();
      }
      return super.send(data);
    }
  };
})();
"""

# Done: a request after ``since`` was sent on this page load; after the latest request a run
# started, and after the latest start a run ended for good; and the page shows it all (not
# running, nothing left stale from an earlier run, no status widget, no scroll back to the
# results still pending that could move the page under the next click).
_RUNS_DONE = """
(since) => {
  const s = window.__tdirScript;
  const app = document.querySelector('[data-testid="stApp"]');
  return !!s && s.requests() > since && s.lastRequest > 0
    && s.lastStart > s.lastRequest && s.lastFinal > s.lastStart
    && app?.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-stale="true"]')
    && !document.querySelector('[data-testid="stStatusWidget"]')
    && !document.documentElement.hasAttribute('data-tdir-scrolling');
}
"""
_RUNS_STATE = """
() => {
  const s = window.__tdirScript;
  const app = document.querySelector('[data-testid="stApp"]');
  return {
    installed: !!s, requests: s?.requests(), settled: s?.settled(), lastRequest: s?.lastRequest,
    lastStart: s?.lastStart, lastFinal: s?.lastFinal,
    state: app?.getAttribute('data-test-script-state') ?? null,
    stale: document.querySelectorAll('[data-stale="true"]').length,
    statusWidget: !!document.querySelector('[data-testid="stStatusWidget"]'),
    scrolling: document.documentElement.getAttribute('data-tdir-scrolling'),
  };
}
"""


def run_requests(page: Page) -> int:
    """How many script runs this tab has asked for so far (``SCRIPT_RUNS`` must be installed)."""
    return int(page.evaluate("() => window.__tdirScript?.requests() ?? 0"))


def wait_for_runs(page: Page, since: int | None = None, *, timeout_ms: float) -> None:
    """Wait until the app has run what was asked of it after ``since`` requests, and is idle.

    ``since`` is a :func:`run_requests` count taken before the interaction; None means "since
    the last wait_for_runs", so an interaction followed by ``wait_for_runs(page)`` needs no
    count. An interaction that asks for no run (a tab, which the page switches by itself)
    must not be followed by this: it would wait for a run that never comes, and fail.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    if since is None:
        since = int(page.evaluate("() => window.__tdirScript?.settled() ?? 0"))
    try:
        page.wait_for_function(_RUNS_DONE, arg=since, timeout=timeout_ms)
    except PlaywrightTimeoutError as exc:
        raise AssertionError(
            f"the app did not finish the run asked for after request {since} within "
            f"{timeout_ms / 1000:g} s: {page.evaluate(_RUNS_STATE)}"
        ) from exc
    page.evaluate("() => window.__tdirScript.settle()")


def main() -> int:
    """Install what the browser tests need; print the Chromium and Playwright in use."""
    executable = ensure_chromium()
    import playwright

    version = getattr(playwright, "__version__", "installed")
    print(f"chromium: {executable}; playwright (Python): {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
