"""A crawl store of any size, written straight to disk from a crawled one: no HTTP.

An index build at 100,000 or 1,000,000 therapists needs crawl records of that many; crawling a
demo web that size takes hours. So a small crawled store (a demo web's, with every source's
shapes of names, addresses, dates, credentials and reviews) is copied over and over, each copy
made into other people: every surname becomes another of the copy's own (Brennan → Koruvade,
BRENNAN → KORUVADE, in names, review texts and page slugs alike, and nowhere else: not in dates,
cities or modalities, where a surname is often a word too), the last four digits of
every phone number and all digits of every license number go through a permutation of the
copy's own, every NPI gets new digits and a valid check digit, and every URL a path prefix of
the copy's own. Records of one person stay alike across sources within a copy (the same
transformation applies to all of them), so resolution has as much to merge in each copy as in
the original, and nothing to merge across copies::

    .venv/bin/python -m benchmarks.synthetic_store var/bench/home-1000 var/bench/synthetic-100 \\
        --copies 100
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from crawler.runs import CrawlStore, RunRecord
from indexer.normalize.names import parse_person_name

RUN_ID = "20260101T000000000000Z"
_SYLLABLES = [c + v for c in "bdgklmnprstvz" for v in "aeiou"]
_URL_ROOT = re.compile(r"(https?://[^/\s\"]+/)")
_WORD = re.compile(r"[A-Za-z]+")
_DIGIT = re.compile(r"\d")
_HOUSE_NUMBER = re.compile(r"^\d+")
# Values no copy changes: identifiers, hashes, kinds and times.
_KEPT = frozenset({"id", "content_hash", "record_type", "fetched_at", "source", "issuer_kind"})
# Where people's and practices' names are written (and URLs' slugs): a copy's surnames go there
# alone. A surname is often a word too (May, Stone, Houston, Washington, Page), and made another
# in a date, a modality, a city, an issuer or a field's code, it would make those unreadable.
_NAMED = frozenset(
    {
        "name_raw", "subject_name_raw", "author_raw", "practice_name_raw", "location_from",
        "body", "bio", "name", "first", "middle", "last", "alias",
        "url", "page_url", "listing_ref", "source_ref", "provider_url", "author_url", "website",
        "same_as",
    }
)  # fmt: skip


def _latest_records(store: CrawlStore, source: str) -> list[dict[str, Any]]:
    runs = [run for run in store.runs(source) if run.complete]
    if not runs:
        return []
    return list(store.records(source, runs[-1].run_id))


def _surnames(records: dict[str, list[dict[str, Any]]]) -> frozenset[str]:
    """Every surname word of the template's people, lower case."""
    names: set[str] = set()
    for rows in records.values():
        for row in rows:
            parsed = parse_person_name(row.get("name_raw")).value
            if parsed is not None and parsed.name.last:
                words = re.split(r"[\s'-]+", parsed.name.last.lower())
                names.update(w for w in words if len(w) > 2 and w.isalpha())
    return frozenset(names)


class Copy:
    """The transformation that makes the template into copy number ``n`` (0: unchanged)."""

    def __init__(self, n: int, surnames: frozenset[str]) -> None:
        self.n = n
        self.surnames = surnames
        rng = random.Random(n)
        digits = list("0123456789")
        rng.shuffle(digits)
        self.digits = dict(zip("0123456789", digits, strict=True))
        # Every point of the copy moves by one offset (about a kilometre): no two copies share
        # a rooftop, and each copy keeps its own people's points alike.
        self.shift = (rng.uniform(-0.01, 0.01), rng.uniform(-0.01, 0.01))
        self._renamed: dict[str, str] = {}

    def text(self, line: str, *, names: bool = True) -> str:
        """A text with its URLs, and (``names``) its surnames, made this copy's."""
        if names:
            line = _WORD.sub(self._word, line)
        return _URL_ROOT.sub(lambda m: f"{m[1]}c{self.n}/", line)

    def _word(self, match: re.Match[str]) -> str:
        word = match[0]
        lower = word.lower()
        if lower not in self.surnames:
            return word
        new = self._renamed.get(lower)
        if new is None:
            # Another surname altogether, the same for every record of the copy.
            rng = random.Random(f"{self.n}:{lower}")
            new = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
            self._renamed[lower] = new
        if word.isupper():
            return new.upper()
        return new.capitalize() if word[0].isupper() else new

    def number(self, value: Any) -> Any:
        """A license number with every digit permuted."""
        if not isinstance(value, str):
            return value
        return _DIGIT.sub(lambda m: self.digits[m[0]], value)

    def phone(self, value: Any) -> Any:
        """A phone number with its last four digits permuted (area code and exchange kept)."""
        if not isinstance(value, str):
            return value
        chars = list(value)
        for i in [m.start() for m in _DIGIT.finditer(value)][-4:]:
            chars[i] = self.digits[chars[i]]
        return "".join(chars)

    def street(self, value: Any) -> Any:
        """A street line with its house number's digits permuted."""
        if not isinstance(value, str):
            return value
        return _HOUSE_NUMBER.sub(lambda m: self.number(m[0]).lstrip("0") or "1", value)

    def npi(self, value: Any) -> Any:
        """Another valid NPI (the Luhn check digit over the "80840" prefix recomputed)."""
        if not isinstance(value, str) or not re.fullmatch(r"\d{10}", value):
            return value
        body = value[0] + "".join(self.digits[d] for d in value[1:9])
        return body + _npi_check_digit(body)

    def record(self, row: dict[str, Any]) -> dict[str, Any]:
        """A record made this copy's."""
        if not self.n:
            return row
        row = self._values(row)
        row["id"] = f"{row['id']}c{self.n}"
        self._fields(row)
        return row

    def _values(self, value: Any, key: str = "") -> Any:
        """Every text value made this copy's (never a key, an id or a hash): its URLs, and
        its surnames where names are written."""
        if isinstance(value, str):
            return value if key in _KEPT else self.text(value, names=key in _NAMED)
        if isinstance(value, dict):
            return {k: self._values(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self._values(v, key) for v in value]
        return value

    def _fields(self, row: dict[str, Any]) -> None:
        """The copy's digits in a record's phone, license and NPI fields, and its places."""
        for key in ("telephone_raw", "phone_raw"):
            if key in row:
                row[key] = self.phone(row[key])
        if row.get("record_type") == "credential_record":
            is_npi = row.get("issuer_kind") == "npi_registry"
            row["number"] = (
                self.npi(row.get("number")) if is_npi else self.number(row.get("number"))
            )
        for credential in row.get("credentials") or []:
            credential["number"] = self.number(credential.get("number"))
        if "npi" in row:
            row["npi"] = self.npi(row["npi"])
        extras = row.get("extras")
        if isinstance(extras, dict) and isinstance(extras.get("identifiers"), list):
            extras["identifiers"] = [self.npi(i) for i in extras["identifiers"]]
        self._places(row)

    def _places(self, row: dict[str, Any]) -> None:
        """The copy's house numbers in a record's streets, its offset in its point."""
        others = [place.get("address") for place in row.get("other_locations") or []]
        for address in [row.get("address"), *others]:
            if isinstance(address, dict):
                for key in ("street", "raw"):
                    if key in address:
                        address[key] = self.street(address[key])
        if isinstance(row.get("latitude"), float) and isinstance(row.get("longitude"), float):
            row["latitude"] += self.shift[0]
            row["longitude"] += self.shift[1]


def _npi_check_digit(body: str) -> str:
    total = 24  # the "80840" prefix's share of the Luhn sum
    for i, char in enumerate(reversed(body)):
        digit = int(char)
        if i % 2 == 0:
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return str((10 - total % 10) % 10)


_template: dict[str, list[dict[str, Any]]] = {}
_template_surnames: frozenset[str] = frozenset()


def _copy_lines(job: tuple[str, int]) -> str:
    source, n = job
    copy = Copy(n, _template_surnames)
    return "".join(json.dumps(copy.record(row)) + "\n" for row in _template[source])


def write_store(template: Path, home: Path, count: int) -> dict[str, int]:
    """Write ``count`` copies of ``template``'s current records as one finished run per source
    in a fresh crawl store at ``home`` (copies made on every core); the records per source."""
    global _template, _template_surnames
    source_store = CrawlStore(template)
    _template = {name: _latest_records(source_store, name) for name in source_store.sources()}
    _template_surnames = _surnames(_template)
    store = CrawlStore(home)
    written: dict[str, int] = {}
    with get_context("fork").Pool() as pool:
        for source, rows in _template.items():
            started = time.perf_counter()
            run_dir = store.run_dir(source, RUN_ID)
            run_dir.mkdir(parents=True)
            with (run_dir / "items.jsonl").open("w", encoding="utf-8") as out:
                for text in pool.imap(_copy_lines, [(source, n) for n in range(count)]):
                    out.write(text)
            store.write_record(
                RunRecord(
                    source=source,
                    run_id=RUN_ID,
                    started_at="2026-01-01T00:00:00",
                    status="finished",
                )
            )
            written[source] = len(rows) * count
            seconds = time.perf_counter() - started
            print(f"  {source}: {written[source]:,} records in {seconds:.0f} s")
    return written


def main(argv: list[str] | None = None) -> int:
    """Write a synthetic crawl store."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("template", type=Path, help="a TDIR_HOME with a crawled store")
    parser.add_argument("home", type=Path, help="the new TDIR_HOME (must not exist)")
    parser.add_argument("--copies", type=int, required=True)
    args = parser.parse_args(argv)
    if args.home.exists():
        parser.error(f"{args.home} exists; give a new directory")
    written = write_store(args.template, args.home, args.copies)
    print(f"{sum(written.values()):,} records in {args.home}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
