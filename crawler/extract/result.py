"""What an extraction returns: the records found and the problems met on the way."""

from __future__ import annotations

from dataclasses import dataclass, field

from crawler.items import ClaimedCredential, Listing, Review

Record = Listing | Review | ClaimedCredential


@dataclass(frozen=True, slots=True)
class ExtractionError:
    """A problem with a page that extraction coped with or had to skip.

    ``kind`` is a short namespaced key (``"jsonld/invalid"``, ``"value/latitude-out-of-range"``)
    fit for a stats counter; ``message`` says what and where, for a person reading the log.
    """

    kind: str
    message: str


@dataclass(slots=True)
class Extraction:
    """Records extracted from one page, and the problems met while extracting them.

    ``records`` holds listings, their reviews, and credentials described on their own (a
    credential page with no holder). Credentials a listing claims are inside that listing.
    """

    records: list[Record] = field(default_factory=list)
    errors: list[ExtractionError] = field(default_factory=list)

    @property
    def listings(self) -> list[Listing]:
        """The listings among the records."""
        return [r for r in self.records if isinstance(r, Listing)]

    @property
    def reviews(self) -> list[Review]:
        """The reviews among the records."""
        return [r for r in self.records if isinstance(r, Review)]

    @property
    def credentials(self) -> list[ClaimedCredential]:
        """The stand-alone credentials among the records."""
        return [r for r in self.records if isinstance(r, ClaimedCredential)]

    def error_kinds(self) -> list[str]:
        """The kinds of the errors, in the order they were met."""
        return [e.kind for e in self.errors]
