"""What ``tdir search`` loads: only what a search needs, never the crawler's or the dashboard's
libraries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import zipcodes

import tdir.cli
from indexer.zip_table import copy_name

# Libraries of the crawler (Scrapy, Twisted), of normalisation (dateparser), of the dashboard
# (Streamlit) and of the other backend (elasticsearch): a search through the embedded index
# needs none of them.
NOT_FOR_SEARCH = ("scrapy", "twisted", "dateparser", "streamlit", "elasticsearch")

_SEARCH = """
import contextlib, io, json, sys
from tdir.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    status = main(sys.argv[1:])
print(json.dumps({"status": status, "result": out.getvalue(), "modules": sorted(sys.modules)}))
"""


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache directory for the module's searches: the ZIP table is copied once."""
    return tmp_path_factory.mktemp("tdir-cache")


def run_python(code: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    ambient = {k: v for k, v in os.environ.items() if not k.startswith("TDIR_")}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env={**ambient, **env},
        timeout=120,
    )


def search_in_a_fresh_process(home: Path, cache: Path, *args: str) -> dict[str, Any]:
    done = run_python(_SEARCH, "search", *args, TDIR_HOME=str(home), TDIR_CACHE_DIR=str(cache))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def roots(modules: list[str]) -> set[str]:
    return {name.partition(".")[0] for name in modules}


@pytest.mark.parametrize("near", ["78704", "30.25,-97.75"], ids=["zip", "coordinates"])
def test_a_search_loads_no_crawler_dashboard_or_elasticsearch_library(
    home: Path, cache: Path, near: str
) -> None:
    ran = search_in_a_fresh_process(home, cache, "--near", near, "--radius", "10mi", "--json")
    assert ran["status"] == 0
    assert json.loads(ran["result"])["total"] > 0  # it did search
    assert roots(ran["modules"]).isdisjoint(NOT_FOR_SEARCH)


def test_a_table_search_loads_none_of_them_either(home: Path, cache: Path) -> None:
    ran = search_in_a_fresh_process(home, cache, "--near", "78704", "--modality", "NMT")
    assert ran["status"] == 0
    assert "therapist" in ran["result"]
    assert roots(ran["modules"]).isdisjoint(NOT_FOR_SEARCH)


def test_every_other_command_is_still_there() -> None:
    everything = tdir.cli.build_parser()
    assert everything.parse_args(["coverage", "--json"]).handler.__module__ == "crawler.cli"
    search_only = tdir.cli.build_parser("search")
    args = search_only.parse_args(["search", "--near", "78704"])
    assert args.handler is everything.parse_args(["search", "--near", "78704"]).handler


def test_a_zip_is_looked_up_in_a_copy_of_the_zip_table_made_once(tmp_path: Path) -> None:
    lookup = "from indexer.geocode import geocode_place; print(geocode_place('78704').label)"
    without_zipcodes = "import zipcodes; zipcodes.matching = zipcodes.list_all = None; " + lookup
    row = zipcodes.matching("78704")[0]
    label = f"78704 ({row['city']}, {row['state']})\n"

    made = run_python(lookup, TDIR_CACHE_DIR=str(tmp_path))
    assert (made.returncode, made.stdout) == (0, label), made.stderr
    assert [p.name for p in tmp_path.iterdir()] == [copy_name()]
    read = run_python(without_zipcodes, TDIR_CACHE_DIR=str(tmp_path))
    assert (read.returncode, read.stdout) == (0, label), read.stderr
    # Nowhere to keep a copy: zipcodes answers, the same.
    (tmp_path / "a-file").write_text("")
    unkept = run_python(lookup, TDIR_CACHE_DIR=str(tmp_path / "a-file" / "cache"))
    assert (unkept.returncode, unkept.stdout) == (0, label), unkept.stderr
