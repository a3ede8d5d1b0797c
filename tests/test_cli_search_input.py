"""``tdir search`` refuses bad input in one line that names the value and what is accepted.

Each case runs the real command (a process, as a user runs it) against a real embedded index of
the contract suite's profiles (``home`` in conftest). A refusal is exit status 2 (argparse's
convention for a usage error, which the command keeps for every refusal), one line on stderr,
nothing on stdout and no traceback; the ways a user obviously means a good value keep working.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.system  # runs processes: left out of `make test-fast`

# Within 10 miles of 78704 (30.2428, -97.7658) among the NMT therapists (see tests/test_cli.py).
NMT_WITHIN_10_MI = ["p01", "p11"]
# The active profiles with a combined rating of 4.5 or more (tests/data/contract_profiles.json).
RATED_4_5_OR_MORE = {"p01", "p02", "p03", "p06", "p08", "p10"}


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache directory for the module's searches: the ZIP table is copied once."""
    return tmp_path_factory.mktemp("tdir-cache")


def tdir_search(home: Path, cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    ambient = {k: v for k, v in os.environ.items() if not k.startswith("TDIR_")}
    environment = {
        **ambient,
        "TDIR_HOME": str(home),
        "TDIR_CACHE_DIR": str(cache),
        "PYTHONUTF8": "1",  # any text a user types reaches the command and comes back intact
    }
    return subprocess.run(
        [sys.executable, "-m", "tdir.cli", "search", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=environment,
        timeout=120,
    )


def assert_refused(done: subprocess.CompletedProcess[str], *words: str) -> str:
    """The command was refused in one line holding each of ``words``; that line."""
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    line = lines[0]
    assert line.startswith("tdir: error: "), line
    for word in words:
        assert word in line, (word, line)
    return line


def search_json(home: Path, cache: Path, *args: str) -> dict[str, Any]:
    done = tdir_search(home, cache, "--json", *args)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return json.loads(done.stdout)


# (arguments, what each refusal must say: the value as typed, and what is accepted)
BAD_INPUT = [
    # --radius
    (["--near", "78704", "--radius", "-5mi"], ["radius", "'-5mi'", "greater than 0"]),
    (["--near", "78704", "--radius", "-5"], ["radius", "'-5'", "greater than 0"]),
    (["--near", "78704", "--radius", "-5 mi"], ["radius", "'-5 mi'", "greater than 0"]),
    (["--near", "78704", "--radius", "0"], ["radius", "'0'", "greater than 0"]),
    (["--near", "78704", "--radius", "0km"], ["radius", "'0km'", "greater than 0"]),
    (["--near", "78704", "--radius", "99999999"], ["radius", "'99999999'", "at most 20,000 km"]),
    (["--near", "78704", "--radius", "25000km"], ["radius", "'25000km'", "12,427 mi"]),
    (["--near", "78704", "--radius", "ten miles"], ["'ten miles'", "'10mi'", "'15km'"]),
    (["--near", "78704", "--radius", "5 parsecs"], ["'5 parsecs'", "mi or km"]),
    (["--near", "78704", "--radius", "5m"], ["'5m'", "mi or km"]),
    (["--near", "78704", "--radius", "1e3mi"], ["'1e3mi'", "mi or km"]),
    (["--near", "78704", "--radius", ""], ["radius", "''", "mi or km"]),
    (["--near", "78704", "--radius", "--json"], ["radius", "'--json'", "mi or km"]),
    (["--radius", "5mi"], ["radius", "'5mi'", "add --near"]),
    (["--near", "78704", "--radius"], ["--radius", "expected one argument", "--help"]),
    # --near
    (["--near", "7870"], ["near", "'7870' has 4 digits", "a US ZIP code has 5"]),
    (["--near", "787041"], ["near", "'787041' has 6 digits", "a US ZIP code has 5"]),
    (["--near", "00000"], ["near", "'00000' is not a known US ZIP code"]),
    (["--near", "78704-12"], ["near", "'78704-12'", "ZIP code (5 digits)", "latitude,longitude"]),
    (["--near", "30.25"], ["near", "'30.25'", "latitude,longitude"]),
    (["--near", "Nowhereville, TX"], ["near", "'Nowhereville, TX'", "'City, ST'"]),
    (["--near", "Xqzzyville"], ["near", "'Xqzzyville'", "ZIP code"]),
    (["--near", "91,0"], ["near", "'91,0'", "latitude 91.0 is outside -90..90"]),
    (["--near", "30,-200"], ["near", "'30,-200'", "longitude -200.0 is outside -180..180"]),
    (["--near", "-91,-97"], ["near", "'-91,-97'", "outside -90..90"]),
    (["--near", ""], ["near", "no place given", "ZIP code"]),
    (["--near", "   "], ["near", "no place given", "ZIP code"]),
    (["--near", "Texas"], ["near", "'Texas' is a state", "add a city or a ZIP code"]),
    # --min-rating
    (["--min-rating", "7"], ["min_rating", "between 0 and 5", "7"]),
    (["--min-rating", "-1"], ["min_rating", "between 0 and 5", "-1"]),
    (["--min-rating", "-0.5"], ["min_rating", "between 0 and 5", "-0.5"]),
    (["--min-rating", "five"], ["min_rating", "'five' is not a number", "0 to 5"]),
    (["--min-rating", ""], ["min_rating", "'' is not a number", "0 to 5"]),
    (["--min-rating", "nan"], ["min_rating", "between 0 and 5", "nan"]),
    # --min-reviews
    (["--min-reviews", "-3"], ["min_reviews", ">= 0", "-3"]),
    (["--min-reviews", "ten"], ["min_reviews", "'ten' is not a whole number"]),
    (["--min-reviews", "2.5"], ["min_reviews", "'2.5' is not a whole number"]),
    # --limit (the page size)
    (["--limit", "0"], ["limit", "between 1 and 100", "got 0"]),
    (["--limit", "-1"], ["limit", "between 1 and 100", "got -1"]),
    (["--limit", "101"], ["limit", "between 1 and 100", "got 101"]),
    (["--limit", "ten"], ["limit", "'ten' is not a whole number", "1 to 100"]),
    (["--limit", ""], ["limit", "'' is not a whole number", "1 to 100"]),
    # the other options, and argparse's own refusals
    (["--state", ""], ["state", "''", "TX, FL"]),
    (["--sort", "cheapest"], ["--sort", "'cheapest'", "'distance'"]),
    (["--bogus", "x"], ["unrecognized arguments: --bogus x", "tdir search --help"]),
]


@pytest.mark.parametrize(
    ("args", "words"), BAD_INPUT, ids=[" ".join(args) or "empty" for args, _ in BAD_INPUT]
)
def test_bad_input_is_refused_in_one_line_naming_it(
    home: Path, cache: Path, args: list[str], words: list[str]
) -> None:
    assert_refused(tdir_search(home, cache, *args), *words)


@pytest.mark.parametrize(
    "radius", ["10mi", "10", "10 mi", "10 miles", "10 Miles", "10.0mi", "10 mi.", " 10mi "]
)
def test_ten_miles_written_any_usual_way(home: Path, cache: Path, radius: str) -> None:
    result = search_json(home, cache, "--near", "78704", "--radius", radius, "--modality", "NMT")
    assert result["radius_mi"] == pytest.approx(10.0)
    assert [h["id"] for h in result["hits"]] == NMT_WITHIN_10_MI


@pytest.mark.parametrize("radius", ["16.09344km", "16.09344 km", "16.09344 kilometres"])
def test_kilometres_written_any_usual_way(home: Path, cache: Path, radius: str) -> None:
    result = search_json(home, cache, "--near", "78704", "--radius", radius, "--modality", "NMT")
    assert result["radius_km"] == pytest.approx(16.09344)
    assert [h["id"] for h in result["hits"]] == NMT_WITHIN_10_MI


@pytest.mark.parametrize("near", ["78704", "78704-1234", "78704 1234", "787041234", " 78704 "])
def test_a_zip_plus_4_is_read_as_its_zip(home: Path, cache: Path, near: str) -> None:
    result = search_json(home, cache, "--near", near, "--radius", "10mi", "--modality", "NMT")
    assert result["near"] == "78704 (Austin, TX)"
    assert [h["id"] for h in result["hits"]] == NMT_WITHIN_10_MI


def test_a_southern_latitude_is_read_as_coordinates(home: Path, cache: Path) -> None:
    # Sydney: a value beginning with "-" is still --near's value, not an option.
    result = search_json(home, cache, "--near", "-33.87,151.21", "--radius", "any")
    assert result["near"] == "-33.87000, 151.21000"
    assert result["radius_km"] is None and result["total"] == 11  # every active profile


def test_good_numbers_keep_working(home: Path, cache: Path) -> None:
    rated = search_json(home, cache, "--min-rating", "4.5", "--limit", "100")
    assert {h["id"] for h in rated["hits"]} == RATED_4_5_OR_MORE
    assert rated["total"] == len(RATED_4_5_OR_MORE)
    paged = search_json(home, cache, "--sort", "rating", "--limit", "1", "--min-reviews", "0")
    assert len(paged["hits"]) == 1 and paged["next_cursor"]


# Text a user could type: anything but NUL (no argument can hold it) and lone surrogates (not
# text), and, more often, things shaped like a distance.
TYPED = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
DISTANCE_LIKE = st.from_regex(
    r"\A\s?[-+]?[0-9]{0,9}(\.[0-9]{0,3})?\s?(mi|km|miles|m|ft|KM|Mi|any)?\.?\s?\Z"
)


@settings(max_examples=40, deadline=None)
@given(radius=st.one_of(TYPED, DISTANCE_LIKE))
def test_any_radius_text_is_searched_or_refused_by_name(
    home: Path, cache: Path, radius: str
) -> None:
    done = tdir_search(home, cache, "--json", "--near", "78704", "--radius", radius)
    if done.returncode == 0:
        assert "Traceback" not in done.stderr
        result = json.loads(done.stdout)
        assert result["radius_km"] is None or 0 < result["radius_km"] <= 20_000
        return
    assert_refused(done, "radius", repr(radius))
