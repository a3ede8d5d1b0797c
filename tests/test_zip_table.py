"""The copy of the ZIP table says what ``zipcodes`` says."""

from __future__ import annotations

from pathlib import Path

import pytest
import zipcodes

from indexer import zip_table

COPIED = ("zip_code", "zip_code_type", "lat", "long", "city", "acceptable_cities", "state")


@pytest.fixture
def fresh_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TDIR_CACHE_DIR", str(tmp_path))
    zip_table._table.cache_clear()
    yield tmp_path
    zip_table._table.cache_clear()


def test_every_row_of_the_copy_is_the_row_zipcodes_gives(fresh_copy: Path) -> None:
    copied = list(zip_table.zip_rows())
    assert [p.name for p in fresh_copy.iterdir()] == [zip_table.copy_name()]
    expected = [
        {k: row[k] or "" if k == "lat" else row[k] for k in COPIED} for row in zipcodes.list_all()
    ]
    assert copied == expected


def test_a_zip_row_is_the_first_match_zipcodes_gives(fresh_copy: Path) -> None:
    for zip5 in ("78704", "10001", "99501", "00601"):
        row = zipcodes.matching(zip5)[0]
        assert zip_table.zip_row(zip5) == (row["lat"] or "", row["long"], row["city"], row["state"])
    assert zip_table.zip_row("00000") is None


def test_a_damaged_copy_gives_way_to_zipcodes(fresh_copy: Path) -> None:
    (fresh_copy / zip_table.copy_name()).write_bytes(b"not a database")
    assert next(zip_table.zip_rows())["zip_code"] == zipcodes.list_all()[0]["zip_code"]
    assert zip_table.zip_row("78704")[3] == "TX"
