"""The ``tdir`` command line, run as a user runs it (a real process, a real index file)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.system  # crawls, services or processes: left out of `make test-fast`


def tdir(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    ambient = {k: v for k, v in os.environ.items() if k != "TDIR_ES_URL"}
    environment = {**ambient, "TDIR_HOME": str(home), **env}
    return subprocess.run(
        [sys.executable, "-m", "tdir.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )


def search_json(home: Path, *args: str) -> dict[str, Any]:
    done = tdir(home, "search", "--json", *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_search_near_a_zip_with_a_radius_in_miles(home: Path) -> None:
    # 78704's centroid is 30.2428, -97.7658; within 10 miles of it: the Austin NMT therapists.
    result = search_json(home, "--near", "78704", "--radius", "10mi", "--modality", "NMT")
    assert [h["id"] for h in result["hits"]] == ["p01", "p11"]
    assert result["near"] == "78704 (Austin, TX)"


def test_search_near_coordinates_sorted_by_distance(home: Path) -> None:
    result = search_json(home, "--near", "30.25,-97.75", "--sort", "distance", "--limit", "3")
    assert [h["id"] for h in result["hits"]] == ["p01", "p02", "p10"]
    assert result["hits"][0]["distance_km"] == pytest.approx(2.0, abs=0.01)
    assert result["next_cursor"]
    more = search_json(
        home,
        "--near",
        "30.25,-97.75",
        "--sort",
        "distance",
        "--limit",
        "3",
        "--cursor",
        result["next_cursor"],
    )
    assert [h["id"] for h in more["hits"]] == ["p03", "p04", "p11"]


def test_search_near_a_place_defaults_to_25_miles(home: Path) -> None:
    # Within 25 miles (40.2 km) of 78704: the Austin therapists and p05 in San Marcos, not the
    # Dallas, Denver or Seattle ones, nor p12 who has no location.
    result = search_json(home, "--near", "78704", "--limit", "100")
    assert result["radius_mi"] == 25.0
    assert result["radius_km"] == pytest.approx(40.2336)
    assert sorted(h["id"] for h in result["hits"]) == [
        "p01",
        "p02",
        "p03",
        "p04",
        "p05",
        "p10",
        "p11",
    ]
    assert all(h["distance_km"] <= 40.2336 for h in result["hits"])
    done = tdir(home, "search", "--near", "78704")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "7 therapists within 25 mi of 78704 (Austin, TX)"


def test_search_near_a_place_with_any_radius(home: Path) -> None:
    result = search_json(home, "--near", "78704", "--radius", "any", "--limit", "100")
    assert result["radius_km"] is None and result["radius_mi"] is None
    assert result["total"] == 11  # every active profile, the ones far away last
    assert {"p06", "p07", "p08", "p12"} <= {h["id"] for h in result["hits"]}
    done = tdir(home, "search", "--near", "78704", "--radius", "any")
    assert done.stdout.splitlines()[0] == "11 therapists near 78704 (Austin, TX)"


def test_search_says_the_radius_in_the_unit_it_was_given(home: Path) -> None:
    done = tdir(home, "search", "--near", "78704", "--radius", "15km")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].endswith(" within 15 km of 78704 (Austin, TX)")
    # ... and each therapist's distance in that unit too, within the radius.
    distances = [re.search(r"(\d+\.\d) (km|mi) ", line) for line in done.stdout.splitlines()[1:]]
    found = [m for m in distances if m is not None]
    assert found, done.stdout
    assert all(m[2] == "km" and float(m[1]) <= 15.0 for m in found), done.stdout


def test_search_for_flagged_profiles(home: Path) -> None:
    result = search_json(home, "--flagged", "data", "--flagged", "credential", "--sort", "rating")
    assert [h["id"] for h in result["hits"]] == ["p12", "p11", "p05"]
    assert result["near"] is None and result["radius_km"] is None and result["radius_mi"] is None
    refused = tdir(home, "search", "--flagged", "odd")
    assert refused.returncode == 2 and "--flagged" in refused.stderr


def test_table_output_lists_names(home: Path) -> None:
    done = tdir(home, "search", "--condition", "fibromyalgia", "--sort", "rating")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "2 therapists"
    assert "Sofia Rossi" in lines[1] and "Tom Becker" in lines[2]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--near", "78704", "--radius", "0"], "radius: must be greater than 0"),
        (["--near", "00000"], "near: '00000' is not a known US ZIP code"),
        (["--min-rating", "7"], "min_rating: must be between 0 and 5"),
        (["--modality", "basket weaving"], "modalities: unknown modality 'basket weaving'"),
        (["--sort", "distance"], "sort: sorting by distance needs a point"),
        (["--near", ""], "near: no place given"),  # not silently "anywhere"
        (["--state", "ZZ"], "state: 'ZZ' is not a US state code"),
    ],
)
def test_bad_input_is_a_clear_error(home: Path, args: list[str], message: str) -> None:
    done = tdir(home, "search", *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_configuration_is_a_clear_error(home: Path) -> None:
    done = tdir(home, "search", TDIR_BACKEND="elasticsearch")
    assert done.returncode == 2
    assert "TDIR_ES_URL" in done.stderr


def test_no_index_yet_says_how_to_build_one_and_creates_nothing(tmp_path: Path) -> None:
    done = tdir(tmp_path, "search", "--near", "78704")
    assert done.returncode == 2
    assert "no index yet at" in done.stderr and "run `tdir index`" in done.stderr
    assert not (tmp_path / "index.sqlite3").exists()


def test_a_damaged_index_is_named_and_a_rebuild_replaces_it(tmp_path: Path) -> None:
    index = tmp_path / "index.sqlite3"
    index.write_bytes(b"this is not a database" * 100)
    done = tdir(tmp_path, "search")
    assert done.returncode == 2
    assert "is damaged" in done.stderr and "tdir index --rebuild" in done.stderr
    assert "Traceback" not in done.stderr
    refused = tdir(tmp_path, "index")  # an incremental write cannot fix it: it says so
    assert refused.returncode == 2 and "tdir index --rebuild" in refused.stderr
    rebuilt = tdir(tmp_path, "index", "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "the damaged index was moved to" in rebuilt.stderr
    (kept,) = tmp_path.glob("index.sqlite3.damaged-*")
    assert kept.read_bytes().startswith(b"this is not a database")
    assert tdir(tmp_path, "search").returncode == 0


def test_an_unreachable_elasticsearch_node_is_named_before_any_build(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = tdir(tmp_path, "index", TDIR_ES_URL=f"http://127.0.0.1:{port}")
    assert done.returncode == 2
    assert "no Elasticsearch node answers (check TDIR_ES_URL" in done.stderr
    assert "profiles from" not in done.stdout + done.stderr  # nothing was built first
