"""Weekly NPPES update files applied to the monthly full file: the newer version of an NPI wins.

A weekly file holds the rows of the NPIs created, changed or deactivated that week, in the full
file's layout; it supplements the monthly full replacement file until the next one comes out
(CMS, "NPPES Data Dissemination - Readme", 1.2 and 1.3). The download page may still list weekly
files the full file already includes.

The weekly files are read first (newest first), the full file after them. Of each NPI met in a
weekly file only its newest version is held, in :class:`UpdateMerge`, until the full file's row
of that NPI is met: the row with the newer Last Update Date wins (a row that only says the NPI
was deactivated is dated by its deactivation); on a tie the full file wins, being the complete
replacement. Held versions the full file has no row for (NPIs created after it) are given out at
the end. Only the weekly files' NPIs are ever held, never the full file's millions.

A weekly row that only says an NPI was deactivated (every other column blank, as NPPES writes
them) deactivates the provider's row in the full file: the provider is kept, as deactivated.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from crawler.items import CredentialRecord, Listing


@dataclass(slots=True)
class HeldVersion:
    """The newest weekly version of one NPI met so far.

    ``records`` are what the version gives when it is a massage therapist's row (``None`` for
    any other row); ``deactivated_on`` (MM/DD/YYYY, as written) is set when the version says the
    NPI is deactivated; ``file`` ranks the weekly file (0 for the newest) and ``source_file``
    names its data file.
    """

    as_of: date | None
    file: int
    records: list[Listing | CredentialRecord] | None = None
    deactivated_on: str | None = None
    source_file: str | None = None


@dataclass(slots=True)
class Settled:
    """What to do with an NPI's row in the full file.

    ``use_full``: the full file's row is the newest version (emit its records, if it is a
    massage therapist's); otherwise ``held`` is, and ``deactivated_on`` is set when that
    version deactivates the NPI without giving the provider's data (apply it to the full row).
    """

    use_full: bool
    held: HeldVersion | None = None

    @property
    def deactivated_on(self) -> str | None:
        """The deactivation the weekly version brings, if it brings only that."""
        if self.held is None or self.held.records is not None:
            return None
        return self.held.deactivated_on


FULL_WINS = Settled(use_full=True)


def newer(candidate: date | None, than: date | None) -> bool:
    """Whether a version dated ``candidate`` is strictly newer than one dated ``than``; a
    version without a date is never newer than one with a date."""
    if candidate is None:
        return False
    return than is None or candidate > than


@dataclass
class UpdateMerge:
    """The newest weekly version of each NPI, until the full file settles it."""

    held: dict[str, HeldVersion] = field(default_factory=dict)

    def offer(self, npi: str, version: HeldVersion) -> bool:
        """Hold a weekly version unless one at least as new is held (files come newest first:
        a tie goes to the newer file). Return whether it is held now."""
        current = self.held.get(npi)
        if current is not None and not newer(version.as_of, current.as_of):
            return False
        self.held[npi] = version
        return True

    def settle(self, npi: str, full_as_of: date | None) -> Settled:
        """Which version of ``npi`` wins against the full file's row dated ``full_as_of``; the
        NPI is no longer held."""
        held = self.held.pop(npi, None)
        if held is None or not newer(held.as_of, full_as_of):
            return FULL_WINS
        return Settled(use_full=False, held=held)

    def leftovers(self) -> Iterator[HeldVersion]:
        """The held versions the full file had no row for, emptying the merge."""
        while self.held:
            _, version = self.held.popitem()
            yield version
