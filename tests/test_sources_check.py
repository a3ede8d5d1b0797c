"""`tdir sources check` and the public catalog: what each source needs, said without crawling;
a source without its operator's key is left out of `crawl --all`, named."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from crawler.catalog import CatalogError, catalog_text, load_catalog, placeholders, raw_sources
from crawler.readiness import QUOTA_ERROR, check_catalog, probe_url, unready
from crawler.runner import LOOPBACK_HOSTS, check_sources
from crawler.runs import CrawlStore
from tests.crawling import run_tdir
from tests.support.waiting import wait_until

pytestmark = pytest.mark.system

US = Path(__file__).resolve().parents[1] / "crawler" / "catalogs" / "us.yaml"
KEYS = {"TDIR_YELP_API_KEY": "yelp-key", "TDIR_GOOGLE_PLACES_API_KEY": "google-key"}


def us_checks(env: dict[str, str], store: CrawlStore | None = None) -> dict[str, Any]:
    text, label = catalog_text(US)
    return {c.name: c for c in check_catalog(text, label, env=env, store=store)}


def test_the_public_catalog_names_real_sources_each_spider_accepts(monkeypatch: Any) -> None:
    text = US.read_text(encoding="utf-8")
    assert not placeholders(text), "the public catalog needs no site manifest"
    assert "demo_api_key" not in text
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    catalog = load_catalog(US)
    sources = list(catalog.sources.values())
    assert {s.spider for s in sources} >= {"yelp_api", "google_places", "csv", "socrata"}
    assert {s.spider for s in sources} & {"npi_api", "nppes_file"}
    for source in sources:
        assert not set(source.hosts) & LOOPBACK_HOSTS, source.name
        assert all(urlsplit(u).scheme == "https" for u in source.start_urls), source.name
    # Every entry is one its spider accepts, as a crawl would check it, but for those still to
    # be confirmed against the provider's pages: they are switched off until then.
    unconfirmed = {raw["name"] for raw in raw_sources(text, str(US)) if raw.get("to_confirm")}
    assert unconfirmed == {"certregistry"}
    assert not any(catalog.sources[name].enabled for name in unconfirmed)
    checked = [s for s in sources if s.name not in unconfirmed]
    assert set(check_sources(checked, loopback_fast=False)) == set(catalog.sources) - unconfirmed


def test_api_sources_wait_for_their_keys_and_say_which() -> None:
    without = us_checks(env={})
    assert without["yelp"].missing == ["API key: set TDIR_YELP_API_KEY"]
    assert without["google-places"].missing == ["API key: set TDIR_GOOGLE_PLACES_API_KEY"]
    assert not without["yelp"].ready and not without["google-places"].ready
    assert without["board-tx"].ready and without["npi"].ready
    # An optional token is a note, not a stop.
    assert without["data-wa"].ready
    assert any("TDIR_DATA_WA_APP_TOKEN" in n for n in without["data-wa"].notes)
    with_keys = us_checks(env=KEYS)
    assert all(c.ready for c in with_keys.values() if c.enabled)
    assert not with_keys["npi-file"].enabled  # one registry, read one way by default


def test_the_certification_registry_waits_for_its_pages_to_be_confirmed(tmp_path: Path) -> None:
    check = us_checks(env=KEYS)["certregistry"]
    assert not check.enabled and not check.ready
    raw = next(r for r in raw_sources(*catalog_text(US)) if r["name"] == "certregistry")
    assert check.missing == [f"to confirm: {' '.join(item.split())}" for item in raw["to_confirm"]]
    assert any("options.records" in m for m in check.missing)
    assert check.notes == ["disabled in the catalog"]
    # Offline, the command names what is to be confirmed; a switched-off source does not make
    # the check fail (the API sources, with their keys set, are ready).
    done = run_tdir(
        tmp_path, "sources", "check", "--catalog", str(US), "--offline", "--json", **KEYS
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    assert rows["certregistry"]["missing"] == check.missing
    assert rows["certregistry"]["reachability"] is None  # offline: no host asked
    assert not rows["certregistry"]["ready"]


def test_a_to_confirm_that_is_not_a_list_of_words_is_named(tmp_path: Path) -> None:
    text, _ = catalog_text(US)
    broken = text.replace("    to_confirm:\n", "    to_confirm: yes\n    unused:\n", 1)
    assert broken != text
    with pytest.raises(CatalogError, match="source 'certregistry': to_confirm must be a list"):
        check_catalog(broken, "us.yaml", env=KEYS)


def test_unready_lists_exactly_the_sources_lacking_a_key(monkeypatch: Any) -> None:
    for name in KEYS:
        monkeypatch.delenv(name, raising=False)
    sources = load_catalog(US).enabled()
    assert unready(sources, env={}) == {
        "yelp": ["API key: set TDIR_YELP_API_KEY"],
        "google-places": ["API key: set TDIR_GOOGLE_PLACES_API_KEY"],
    }
    assert unready(sources, env={"TDIR_YELP_API_KEY": "k"}) == {
        "google-places": ["API key: set TDIR_GOOGLE_PLACES_API_KEY"]
    }


def test_an_unset_url_variable_is_named_per_source(tmp_path: Path) -> None:
    checks = {
        c.name: c
        for c in check_catalog(*catalog_text(None), env={}, variables={"ATLAS_URL": "http://x"})
    }
    assert checks["atlas"].missing == []
    assert checks["guild"].missing == ["${GUILD_URL} is not set"]
    assert checks["yelp"].missing == ["${YELP_URL} is not set"]
    # The demo catalog's API sources carry the stand-ins' key: no operator key needed.
    assert any("using the demo web's key" in n for n in checks["yelp"].notes)


def test_a_spent_quota_on_the_last_run_is_reported(tmp_path: Path) -> None:
    store = CrawlStore(tmp_path)
    run_id, _ = store.start_run("yelp")
    record = store.read_record("yelp", run_id)
    record.status = "interrupted"
    record.errors = {QUOTA_ERROR: 1}
    store.write_record(record)
    notes = us_checks(env=KEYS, store=store)["yelp"].notes
    assert any("quota" in n and run_id in n and "resumes" in n for n in notes), notes
    assert us_checks(env=KEYS, store=store)["google-places"].notes == ["never crawled"]


def test_reachability_is_one_request_to_the_host_and_names_a_refusal(demo_web: Any) -> None:
    def logged() -> list[str]:
        return demo_web.log.path.read_text(encoding="utf-8").splitlines()

    before = len(logged())
    answer = probe_url(demo_web.urls["atlas"] + "/sitemap.xml")
    host = urlsplit(demo_web.urls["atlas"]).netloc
    assert answer == f"reachable: {host} answered HTTP 200"
    # The server logs a request once it has answered it: wait for the line.
    new = wait_until(lambda: logged()[before:], message="the probe in the request log")
    assert [json.loads(line)["path"] for line in new] == ["/robots.txt"]
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    assert probe_url(f"http://127.0.0.1:{port}/") == (
        f"unreachable: 127.0.0.1:{port}: Connection refused"
    )


def test_the_command_reports_and_crawl_all_leaves_an_unready_source_out(
    demo_web: Any, tmp_path: Path
) -> None:
    # The demo's Florida board, and a Yelp source with no key of its own: the second waits.
    text = catalog_text(None)[0]
    board = text[text.index("  - name: board-fl") : text.index("  - name: board-tx")]
    yelp = text[text.index("  - name: yelp") : text.index("  - name: google-places")]
    yelp = "\n".join(line for line in yelp.splitlines() if "demo_api_key" not in line)
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(f"sources:\n{board}\n{yelp}\n", encoding="utf-8")
    env = {"TDIR_YELP_API_KEY": ""}
    args = ["--catalog", str(catalog), "--sites", str(demo_web.manifest)]

    checked = run_tdir(tmp_path, "sources", "check", *args, "--json", **env)
    assert checked.returncode == 1, checked.stderr
    rows = {row["name"]: row for row in json.loads(checked.stdout)}
    assert rows["board-fl"]["ready"] and rows["board-fl"]["reachability"].startswith("reachable")
    assert rows["yelp"]["missing"] == ["API key: set TDIR_YELP_API_KEY"]

    crawled = run_tdir(tmp_path, "crawl", "--all", *args, "--no-delay", "--json", **env)
    assert crawled.returncode == 0, crawled.stderr
    assert "not crawling yelp: API key: set TDIR_YELP_API_KEY" in crawled.stderr
    runs = json.loads(crawled.stdout)
    assert [r["source"] for r in runs] == ["board-fl"]
    assert runs[0]["items"]["credential_record"] > 0
