"""The synthetic crawl store the large-build benchmarks read: each copy other people, the same
words otherwise."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks.synthetic_store import RUN_ID, write_store
from crawler.runs import CrawlStore
from tests.test_index_build import listing, review, write_run

# People whose surnames are words too: a month, a modality's word, a city, a field's code.
PEOPLE = [("Ann May", "3 Oak St"), ("Bo Stone", "4 Elm St"), ("Cy Houston", "5 Ash St")]


def _template(root: Path) -> Path:
    store = CrawlStore(root)
    records: list[Any] = []
    for n, (name, street) in enumerate(PEOPLE):
        ref = f"http://atlas/t/{name.split()[1].lower()}"
        record = listing("atlas", ref, name, f"(512) 555-01{n:02d}", street)
        assert record.address is not None
        record = replace(
            record,
            address=replace(record.address, locality="Houston", postal_code="77002"),
            modalities_raw=["Hot Stone Massage", "Cross-Fiber Friction"],
        )
        records.append(record)
        records.append(
            replace(
                review("atlas", ref, n, "5/5"),
                published_raw="May 3, 2024",
                body=f"{name} worked on my back. Hot stone, in May.",
            )
        )
    write_run(store, "atlas", "20250901T000000Z", records, "finished")
    return root


def _copies(tmp_path: Path, count: int) -> list[list[dict[str, Any]]]:
    home = tmp_path / "synthetic"
    write_store(_template(tmp_path / "template"), home, count)
    lines = (CrawlStore(home).run_dir("atlas", RUN_ID) / "items.jsonl").read_text()
    rows = [json.loads(line) for line in lines.splitlines()]
    size = len(rows) // count
    return [rows[i * size : (i + 1) * size] for i in range(count)]


def test_a_copy_renames_people_and_keeps_every_other_word(tmp_path: Path) -> None:
    original, copy = _copies(tmp_path, 2)
    listings = [r for r in copy if r["record_type"] == "listing"]
    reviews = [r for r in copy if r["record_type"] == "review"]
    assert len(listings) == len(PEOPLE) and len(reviews) == len(PEOPLE)
    for row, (name, _street) in zip(listings, PEOPLE, strict=True):
        first, last = name.split()
        # Another surname, the same first name, another page.
        assert row["name_raw"].split()[0] == first
        assert last.lower() not in row["name_raw"].lower()
        assert row["provenance"]["url"].startswith("http://atlas/c1/")
        assert last.lower() not in row["source_ref"]
        # The words that are not names stay as they were.
        assert row["address"]["locality"] == "Houston"
        assert row["modalities_raw"] == ["Hot Stone Massage", "Cross-Fiber Friction"]
    renamed = {row["source_ref"]: row["name_raw"] for row in listings}
    for row in reviews:
        assert row["published_raw"] == "May 3, 2024"
        # A review names its therapist as the copy names them, and keeps its words.
        assert row["body"].startswith(renamed[row["listing_ref"]] + " worked on my back.")
    # Copy 0 is the template itself.
    assert [r["name_raw"] for r in original if r["record_type"] == "listing"] == [
        name for name, _street in PEOPLE
    ]


def test_each_copy_is_other_people(tmp_path: Path) -> None:
    copies = _copies(tmp_path, 3)
    names = [tuple(r["name_raw"] for r in rows if r["record_type"] == "listing") for rows in copies]
    assert len(set(names)) == 3
    ids = [r["id"] for rows in copies for r in rows]
    assert len(set(ids)) == len(ids)
