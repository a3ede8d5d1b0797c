"""``tdir demo`` end to end for an admin, in a real headless Chromium.

The real ``tdir demo`` process runs (30 therapists, a free port, its own data directory, no
``TDIR_ADMIN_PASSWORD``), so the password it makes up and prints must open the admin area. The
admin signs in with it, reloads and is still signed in (the signed session cookie), sees the
sign-in in the audit log, signs out, and after a reload is signed out; a tampered cookie is
refused. Every wait is on a real condition: the printed lines, the health endpoint, the app's
script runs, the page's own elements.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

from dashboard.session_cookie import COOKIE_NAME
from tests.support.browser import (
    ROOT,
    SCRIPT_RUNS,
    free_port,
    wait_for_runs,
)
from tests.support.waiting import wait_until

TIMEOUT_MS = 60_000  # this machine is shared and loaded: 5 s was not enough before
DEMO_READY_SECONDS = 600
PASSWORD_LINE = "Admin sign-in password for this demo: "
ADMIN = "Journey Admin"


@dataclass(frozen=True)
class Demo:
    """A running ``tdir demo``: its dashboard URL, the password it printed, and its output."""

    url: str
    password: str
    output: list[str]


def _stop(process: subprocess.Popen[str], port: int) -> None:
    """Stop ``tdir demo`` as a service manager does: SIGTERM to it alone. It must end, and take
    its dashboard with it (the port closes); else the whole group is killed and this fails."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
        wait_until(
            lambda: not port_open(port), timeout=60, message=f"the dashboard on {port} to stop"
        )
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # whatever is left of the group
        process.wait(timeout=20)


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _wait_healthy(url: str, process: subprocess.Popen[str], deadline: float) -> None:
    def healthy() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"tdir demo exited ({process.returncode})")
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as answer:
            return answer.status == 200

    wait_until(
        healthy,
        timeout=max(30.0, deadline - time.monotonic()),
        ignore=OSError,  # not listening yet, or too busy to answer in time
        message=f"the dashboard at {url} to answer",
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    home = tmp_path_factory.mktemp("demo-home")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TDIR_", "STREAMLIT_"))}
    env.update(TDIR_HOME=str(home), TDIR_BACKEND="sqlite", PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "tdir.cli", "demo", "--therapists", "30", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # its own process group: the dashboard stops with it
    )
    lines: queue.Queue[str | None] = queue.Queue()
    output: list[str] = []

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    try:
        deadline = time.monotonic() + DEMO_READY_SECONDS
        password, url = None, None
        while url is None:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError("no 'Dashboard:' line:\n" + "".join(output)) from None
            if line is None:
                raise AssertionError("tdir demo ended early:\n" + "".join(output))
            output.append(line)
            if line.startswith(PASSWORD_LINE):
                password = line[len(PASSWORD_LINE) :].strip()
            elif line.startswith("Dashboard: "):
                url = line.split()[1]
        assert password, "tdir demo printed no admin password:\n" + "".join(output)
        assert url == f"http://127.0.0.1:{port}"
        _wait_healthy(url, process, deadline)
        yield Demo(url=url, password=password, output=output)
    finally:
        _stop(process, port)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    opened = context.new_page()
    opened.add_init_script(SCRIPT_RUNS)
    opened.set_default_timeout(TIMEOUT_MS)
    yield opened
    context.close()


def settle(page: Page) -> None:
    """Wait until Streamlit has finished the script run the last interaction asked for,
    however soon or late it started."""
    wait_for_runs(page, timeout_ms=TIMEOUT_MS)


def session_cookie(page: Page) -> dict | None:
    """The admin session cookie the browser holds, if any."""
    found = [c for c in page.context.cookies() if c["name"] == COOKIE_NAME]
    return dict(found[0]) if found else None


def wait_for_cookie(page: Page, present: bool) -> None:
    """Wait until the browser holds the session cookie (or no longer does): the page sets and
    drops it from script, a moment after the run that signed in or out."""
    wait_until(
        lambda: (session_cookie(page) is not None) == present,
        timeout=TIMEOUT_MS / 1000,
        message=f"the session cookie to be {'set' if present else 'dropped'}",
    )


def test_the_printed_password_opens_the_admin_area_and_survives_a_reload(
    demo: Demo, page: Page
) -> None:
    expect.set_options(timeout=TIMEOUT_MS)
    page.goto(demo.url)
    page.get_by_role("link", name="Admin sign-in").click()
    settle(page)
    page.get_by_role("textbox", name="Your name").fill(ADMIN)
    page.get_by_role("textbox", name="Admin password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    settle(page)
    expect(page.get_by_text("That password is not right.")).to_be_visible()
    # The name typed stays; only the password is asked again.
    expect(page.get_by_role("textbox", name="Your name")).to_have_value(ADMIN)
    page.get_by_role("textbox", name="Admin password").fill(demo.password)
    page.get_by_role("button", name="Sign in").click()
    settle(page)
    expect(page.get_by_role("heading", name="Sources")).to_be_visible()
    expect(page.get_by_role("button", name="Recrawl now")).to_be_visible()

    # The browser gets the signed cookie, scoped to the site and same-site only.
    wait_for_cookie(page, present=True)
    cookie = session_cookie(page)
    assert cookie is not None and cookie["path"] == "/" and cookie["sameSite"] == "Strict"

    # A reload starts a new Streamlit session: the cookie keeps the admin signed in.
    page.reload()
    settle(page)  # what the new session shows once its run is done
    expect(page.get_by_role("heading", name="Sources")).to_be_visible()
    expect(page.get_by_role("button", name="Recrawl now")).to_be_visible()
    expect(page.get_by_role("link", name="Admin sign-in")).to_have_count(0)

    # The account page shows the audit log: the failed and the successful sign-in.
    page.get_by_role("link", name="Account").click()
    settle(page)
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    log = page.get_by_test_id("stDataFrame").first
    expect(log).to_contain_text("Failed sign-in")
    expect(log).to_contain_text("Signed in")

    # Signing out drops the cookie, and a reload stays signed out.
    page.get_by_role("button", name="Sign out").click()
    settle(page)
    expect(page.get_by_role("link", name="Admin sign-in")).to_be_visible()
    wait_for_cookie(page, present=False)
    page.reload()
    settle(page)
    expect(page.get_by_role("link", name="Admin sign-in")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()

    # The signed-out cookie, put back, is refused: it was revoked on the server.
    page.context.add_cookies([cookie])  # type: ignore[list-item]
    page.reload()
    settle(page)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_role("link", name="Admin sign-in")).to_be_visible()

    # A tampered cookie (another name under the old signature) is refused.
    payload, signature = cookie["value"].split(".")
    forged = {**cookie, "value": f"{payload[:-2]}AA.{signature}"}
    page.context.add_cookies([forged])  # type: ignore[list-item]
    page.reload()
    settle(page)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_role("link", name="Admin sign-in")).to_be_visible()
