"""Flags: what normalisation could not do cleanly, per field, kept beside the record.

Nothing is dropped quietly. A value that cannot be normalised becomes ``None`` (or stays raw) and
a :class:`Flag` says which field, why, and what the source wrote, so the indexer can count the
problems per run (``FlagLog.counts``) and a person can look at the worst sources.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


# Reasons that describe a value rather than a problem with it: counted in build summaries, but a
# profile is not put up for admin review for them (a recognised term with a few more words; a
# directory that gives only the city, as many do; a practice's name where a person's would be, as
# every Yelp and Google listing is named).
INFORMATIONAL_REASONS = frozenset({"partial_term", "no_street", "not_a_person"})


@dataclass(frozen=True, slots=True)
class Flag:
    """One problem with one field: ``reason`` is a stable slug (counted), ``detail`` is prose."""

    field: str
    reason: str
    raw: str | None
    detail: str = ""

    @property
    def stat_key(self) -> str:
        """Return the key this flag is counted under, e.g. ``telephone/invalid_phone``."""
        return f"{self.field}/{self.reason}"

    @property
    def needs_review(self) -> bool:
        """Whether the flag marks a problem a person should look at."""
        return self.reason not in INFORMATIONAL_REASONS


@dataclass(frozen=True, slots=True)
class Normalized(Generic[T]):
    """A normalised value (``None`` when there is none to give) and the flags raised on the way."""

    value: T | None
    flags: tuple[Flag, ...] = ()

    @property
    def clean(self) -> bool:
        """True when a value came out and nothing was flagged."""
        return self.value is not None and not self.flags


class FlagLog:
    """Collects the flags of one record while its fields are normalised."""

    def __init__(self) -> None:
        self._flags: list[Flag] = []

    def take(self, result: Normalized[T]) -> T | None:
        """Record the result's flags and return its value."""
        self._flags.extend(result.flags)
        return result.value

    def add(self, flag: Flag) -> None:
        """Record one flag."""
        self._flags.append(flag)

    def extend(self, flags: Iterable[Flag]) -> None:
        """Record several flags."""
        self._flags.extend(flags)

    @property
    def flags(self) -> tuple[Flag, ...]:
        """Return the flags recorded so far, in the order they were raised."""
        return tuple(self._flags)

    def counts(self) -> Counter[str]:
        """Return how many flags were raised per ``field/reason`` key."""
        return Counter(flag.stat_key for flag in self._flags)

    def __len__(self) -> int:
        return len(self._flags)

    def __bool__(self) -> bool:
        return bool(self._flags)
