"""Helpers for the admin pages under ``AppTest``: signing in, and a data directory with crawls."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

from crawler.runs import CrawlStore, RunRecord
from tests.e2e.apptest import ADMIN_SOURCES, SIGN_IN, new_app

PASSWORD = "correct horse battery staple"
ADMIN = "Ann Admin"


def with_password() -> AppTest:
    """The app with an admin password configured, not run yet."""
    at = new_app()
    at.secrets["admin_password"] = PASSWORD
    return at


def sign_in(at: AppTest, password: str = PASSWORD, name: str = ADMIN) -> AppTest:
    """Fill in the sign-in form and submit it."""
    at.run()
    at.switch_page(SIGN_IN).run()
    at.text_input(key="admin_name_input").input(name)
    at.text_input(key="admin_password_input").input(password)
    at.form_submit_button[0].click()
    return at.run()


def admin_page(page: str = ADMIN_SOURCES) -> AppTest:
    """A signed-in admin on ``page``."""
    at = sign_in(with_password())
    # AppTest re-requests the page it was last switched to; a browser follows the redirect.
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def write_run(
    store: CrawlStore, source: str, age: timedelta, *, status: str = "finished", **fields: Any
) -> RunRecord:
    """Record a crawl run of ``source`` that started ``age`` ago (two minutes long)."""
    started = datetime.now(UTC) - age
    record = RunRecord(
        source=source,
        run_id=started.strftime("%Y%m%dT%H%M%S%fZ"),
        started_at=started.replace(microsecond=0).isoformat(),
        finished_at=(started + timedelta(minutes=2)).replace(microsecond=0).isoformat()
        if status != "running"
        else None,
        status=status,  # type: ignore[arg-type]
        **fields,
    )
    store.run_dir(source, record.run_id).mkdir(parents=True)
    store.write_record(record)
    return record


def write_site_manifest(home: Path) -> None:
    """Point every site the catalog names at a closed port (no site answers)."""
    catalog_text = resources.files("crawler").joinpath("catalogs/demo.yaml").read_text()
    sites = {
        name.lower(): "http://127.0.0.1:9"
        for name in sorted(set(re.findall(r"\$\{([A-Z0-9_]+)_URL\}", catalog_text)))
    }
    home.mkdir(parents=True, exist_ok=True)
    (home / "sites.json").write_text(json.dumps(sites))


def make_crawl_home(home: Path) -> Path:
    """A data directory with a site manifest for every catalog site and a few recorded runs:
    atlas crawled two hours ago (fresh), guild nine days ago on a three-day schedule (stale),
    every other source never."""
    write_site_manifest(home)
    store = CrawlStore(home)
    write_run(store, "atlas", timedelta(days=3), pages=300, items={"listing": 3})
    latest = write_run(
        store,
        "atlas",
        timedelta(hours=2),
        pages=339,
        bytes=1_988_244,
        items={"listing": 2, "review": 5},
        errors={"jsonld/repaired": 2},
    )
    listings = [
        {"record_type": "listing", "name_raw": "A", "telephone_raw": "512", "address": {"x": 1}},
        {"record_type": "listing", "name_raw": "B"},
        {"record_type": "review", "body": "not a listing"},
    ]
    store.items_path("atlas", latest.run_id).write_text(
        "".join(json.dumps(r) + "\n" for r in listings)
    )
    write_run(store, "guild", timedelta(days=9), pages=250, items={"listing": 300})
    return home
