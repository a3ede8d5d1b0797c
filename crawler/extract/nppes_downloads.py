"""The NPPES download page: which bundle is the monthly full file, which are weekly updates.

CMS links its bundles from https://download.cms.gov/nppes/NPI_Files.html by file name: the full
replacement file of a month, ``NPPES_Data_Dissemination_<Month>_<YYYY>.zip``, and weekly update
files named by the week they cover, ``NPPES_Data_Dissemination_<MMDDYY>_<MMDDYY>_Weekly.zip``.
Since December 2024 each is also published as version 2 (``..._V2.zip``, longer name fields;
version 1 is no longer supported since March 2026). Other links (the deactivated-NPI report, the
readme) are not bundles of the data file.

A crawl reads one full file (the newest month linked) and every weekly file, newest first, the
full file last (see :mod:`crawler.extract.nppes_merge`); of a file published in both versions,
version 2.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from urllib.parse import unquote, urlsplit

FULL = re.compile(
    r"^NPPES_Data_Dissemination_(?P<month>[A-Za-z]+)_(?P<year>\d{4})(?P<v2>_V\.?2)?\.zip$",
    re.IGNORECASE,
)
WEEKLY = re.compile(
    r"^NPPES_Data_Dissemination_(?P<start>\d{6})_(?P<end>\d{6})_Weekly(?P<v2>_V\.?2)?\.zip$",
    re.IGNORECASE,
)
BulkKind = Literal["full", "weekly"]


@dataclass(frozen=True, slots=True)
class BulkFile:
    """One bundle linked from the download page.

    ``ends`` orders files: a weekly file's last day, or the first day of a full file's month
    (its own last day is only known from the data file inside).
    """

    url: str
    name: str
    kind: BulkKind
    ends: date
    version: int

    @property
    def edition(self) -> tuple[str, date]:
        """What the file is, whatever its version: two versions of one edition hold the same
        providers."""
        return self.kind, self.ends


def bulk_file(url: str) -> BulkFile | None:
    """The bundle a link points to, or None for any other link."""
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    if match := FULL.match(name):
        month = _month(match["month"])
        if month is None:
            return None
        return BulkFile(url, name, "full", date(int(match["year"]), month, 1), _version(match))
    if match := WEEKLY.match(name):
        try:
            ends = datetime.strptime(match["end"], "%m%d%y").date()
            datetime.strptime(match["start"], "%m%d%y")
        except ValueError:
            return None
        return BulkFile(url, name, "weekly", ends, _version(match))
    return None


def reading_order(urls: Iterable[str]) -> list[BulkFile]:
    """The bundles to read, in order: every weekly file newest first, then the newest full
    file; of an edition published in both versions, version 2 only."""
    editions: dict[tuple[str, date], BulkFile] = {}
    for url in urls:
        found = bulk_file(url)
        if found is None:
            continue
        kept = editions.get(found.edition)
        if kept is None or found.version > kept.version:
            editions[found.edition] = found
    weekly = sorted(
        (f for f in editions.values() if f.kind == "weekly"), key=lambda f: f.ends, reverse=True
    )
    full = sorted((f for f in editions.values() if f.kind == "full"), key=lambda f: f.ends)
    return [*weekly, *full[-1:]]


def _month(text: str) -> int | None:
    for pattern in ("%B", "%b"):
        try:
            return datetime.strptime(text, pattern).month
        except ValueError:
            continue
    return None


def _version(match: re.Match[str]) -> int:
    return 2 if match["v2"] else 1
