"""Fault injection: a demo web that misbehaves the way real servers do, reproducibly.

A plan is written as a spec, ``5xx=0.1,stall=0.05:3s,truncate=0.05,reset=0.02,trap=calendar``:

- ``5xx=RATE``: a real server error, 503 (with ``Retry-After: 1``) or 500, half each;
- ``stall=RATE[:SECONDS]``: nothing at all is sent for ``SECONDS`` (default 30, e.g. ``3s``,
  ``1.5``, ``500ms``; longer than a crawler's timeout), then the connection is closed;
- ``truncate=RATE``: a 200 whose body is cut to half, in one of two variants, half each:
  ``short`` declares the whole page's Content-Length, sends half of it and closes the
  connection; ``cut`` sends the half page as if it were the page (Content-Length and ETag of
  the cut body), which no length check can catch. Only a 200 with a body can be cut short: a
  HEAD, a 304 or an error page drawn for ``truncate`` is served as it is;
- ``reset=RATE``: the status line and headers, then the connection is reset (RST) before any
  byte of the body; a response without a body (a HEAD, a 304) is served as it is;
- ``trap=calendar``: every site grows an endless events calendar (see :mod:`.eventcalendar`).

Rates are the share of requests that get each fault; together they are at most 1. Which fault a
request gets is drawn from a hash of the plan's seed, the site, the URL's path and query and how
many requests for that URL the server has had, this one included (its attempt). The same seed
gives the same faults whatever the order or timing of the requests, and a retry of a URL draws
afresh, as a server that fails now and then does: a fault bound to the URL alone would fail
every retry and every recrawl forever.

The request log says what each request got: ``fault`` (a kind, or null when it was served as
it is), ``variant`` and ``attempt``.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

FAULT_KINDS = ("5xx", "stall", "truncate", "reset")
"""Faults a request can get, in the order their shares of the draw are laid out."""
TRAPS = ("calendar",)
DEFAULT_STALL_SECONDS = 30.0

# robots.txt is never faulted: a crawler reads a robots.txt it cannot fetch by rules of its own
# (RFC 9309: a server error or no answer means "disallow everything"; Scrapy reads any body it
# gets as the rules, so a 503 page means "allow everything"). A fault there would close or open
# a whole site for a crawl instead of failing one request, and measure the robots policy rather
# than how the crawl copes with the pages that failed.
_EXEMPT_PATHS = frozenset({"/robots.txt"})
_RATE_FIELDS = {"5xx": "server_error", "stall": "stall", "truncate": "truncate", "reset": "reset"}
_EXAMPLES = {
    "5xx": "5xx=0.1",
    "stall": "stall=0.05:3s",
    "truncate": "truncate=0.05",
    "reset": "reset=0.02",
    "trap": "trap=calendar",
}
_KNOWN = ", ".join(_EXAMPLES)
_DURATION = re.compile(r"(?P<number>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>ms|s)?")


@dataclass(frozen=True, slots=True)
class Fault:
    """The fault one request gets: a kind of :data:`FAULT_KINDS` and, for some, a variant.

    ``variant`` is ``"503"`` or ``"500"`` for ``5xx`` and ``"short"`` or ``"cut"`` for
    ``truncate`` (see the module's description); ``None`` for the others.
    """

    kind: str
    variant: str | None = None


@dataclass(frozen=True)
class FaultPlan:
    """Which faults the demo web injects and how often; see :meth:`parse` for the spec."""

    server_error: float = 0.0
    stall: float = 0.0
    truncate: float = 0.0
    reset: float = 0.0
    traps: frozenset[str] = field(default_factory=frozenset)
    stall_seconds: float = DEFAULT_STALL_SECONDS
    seed: int = 0

    def __post_init__(self) -> None:
        for kind, name in _RATE_FIELDS.items():
            _check_rate(f"{kind}={getattr(self, name)}", getattr(self, name))
        total = sum(rate for _, rate in self.rates())
        if total > 1 + 1e-9:  # a sum of decimal fractions may land a hair above 1
            given = ",".join(f"{kind}={rate:g}" for kind, rate in self.rates() if rate)
            raise ValueError(f"{given}: the rates add up to {total:g}, more than 1")
        unknown = sorted(set(self.traps) - set(TRAPS))
        if unknown:
            raise ValueError(f"trap={unknown[0]}: known traps: {', '.join(TRAPS)}")
        if not (math.isfinite(self.stall_seconds) and self.stall_seconds > 0):
            raise ValueError(f"stall_seconds={self.stall_seconds}: must be a positive number")

    @classmethod
    def parse(cls, spec: str, *, seed: int = 0) -> FaultPlan:
        """The plan a spec such as ``5xx=0.1,stall=0.05:3s,trap=calendar`` describes.

        ValueError names the part of the spec at fault and what was expected of it.
        """
        items = [_item(part) for part in spec.split(",") if part.strip()]
        if not items:
            raise ValueError(f"no faults given (known: {_KNOWN})")
        values: dict[str, Any] = {"seed": seed}
        traps: set[str] = set()
        for name, value in items:
            where = f"{name}={value}"
            if name == "trap":
                if value not in TRAPS:
                    raise ValueError(f"{where}: known traps: {', '.join(TRAPS)}")
                traps.add(value)
            elif _RATE_FIELDS[name] in values:
                raise ValueError(f"{where}: {name} is given twice")
            else:
                values.update(_rate_item(name, value, where))
        return cls(traps=frozenset(traps), **values)

    def rates(self) -> list[tuple[str, float]]:
        """Each fault kind with its rate, in :data:`FAULT_KINDS` order."""
        return [(kind, float(getattr(self, name))) for kind, name in _RATE_FIELDS.items()]

    def spec(self) -> str:
        """The plan written as a spec :meth:`parse` reads back (the seed apart)."""
        parts = []
        for kind, rate in self.rates():
            if rate:
                duration = f":{self.stall_seconds:g}s" if kind == "stall" else ""
                parts.append(f"{kind}={rate:g}{duration}")
        parts += [f"trap={trap}" for trap in sorted(self.traps)]
        return ",".join(parts) or "none"

    def fault_for(self, site: str, target: str, attempt: int) -> Fault | None:
        """The fault the ``attempt``-th request (from 1) for ``target`` on ``site`` gets.

        ``target`` is the URL's path and query (``/verify?last_name=A``). Pure: the same
        arguments always give the same answer.
        """
        if target.partition("?")[0] in _EXEMPT_PATHS:
            return None
        draw, variant = _draws(self.seed, site, target, attempt)
        edge = 0.0
        for kind, rate in self.rates():
            edge += rate
            if draw < edge:
                return Fault(kind, _variant(kind, variant))
        return None


def _item(part: str) -> tuple[str, str]:
    """``NAME=VALUE`` of a known fault or trap, split and stripped."""
    name, equals, value = (piece.strip() for piece in part.partition("="))
    if name not in _EXAMPLES:
        raise ValueError(f"unknown fault {name!r} (known: {_KNOWN})")
    if not equals or not value:
        raise ValueError(f"{part.strip()}: expected {name}=VALUE, e.g. {_EXAMPLES[name]}")
    return name, value


def _rate_item(name: str, value: str, where: str) -> dict[str, float]:
    """The plan's fields a ``RATE`` (or, for a stall, ``RATE:SECONDS``) value sets."""
    rate, colon, duration = (piece.strip() for piece in value.partition(":"))
    fields = {_RATE_FIELDS[name]: _parse_rate(rate, where)}
    if colon:
        if name != "stall":
            raise ValueError(f"{where}: only a stall takes a duration")
        fields["stall_seconds"] = _parse_seconds(duration, where)
    return fields


def _check_rate(where: str, rate: float) -> None:
    if not 0.0 <= rate <= 1.0:  # also false for NaN
        raise ValueError(f"{where}: a rate must be between 0 and 1")


def _parse_rate(text: str, where: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        raise ValueError(f"{where}: a rate must be a number between 0 and 1") from None
    _check_rate(where, rate)
    return rate


def _parse_seconds(text: str, where: str) -> float:
    match = _DURATION.fullmatch(text)
    if match is None or float(match["number"]) <= 0:
        raise ValueError(f"{where}: a stall lasts a number of seconds, e.g. stall=0.05:3s")
    seconds = float(match["number"])
    return seconds / 1000 if match["unit"] == "ms" else seconds


def _draws(seed: int, site: str, target: str, attempt: int) -> tuple[float, float]:
    """Two independent numbers in [0, 1) for one request: which fault, which variant."""
    key = f"{seed}\x00{site}\x00{target}\x00{attempt}".encode()
    digest = hashlib.blake2b(key, digest_size=16, person=b"tdir-faults").digest()
    scale = float(1 << 64)
    return int.from_bytes(digest[:8], "big") / scale, int.from_bytes(digest[8:], "big") / scale


def _variant(kind: str, draw: float) -> str | None:
    if kind == "5xx":
        return "503" if draw < 0.5 else "500"
    if kind == "truncate":
        return "short" if draw < 0.5 else "cut"
    return None


class FaultInjector:
    """A running server's side of a plan: counts each URL's attempts and draws their faults.

    ``stopping`` is set when the server stops, so a stalled request ends at once rather than
    keeping the process alive for the rest of its stall.
    """

    def __init__(self, plan: FaultPlan) -> None:
        self.plan = plan
        self.stopping = threading.Event()
        self._attempts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._busy = 0
        self._idle = threading.Condition()

    def next_fault(self, site: str, target: str) -> tuple[int, Fault | None]:
        """Count one more request for ``target`` on ``site``; its attempt number and fault."""
        with self._lock:
            self._attempts[site, target] += 1
            attempt = self._attempts[site, target]
        return attempt, self.plan.fault_for(site, target, attempt)

    def attempts(self, site: str, target: str) -> int:
        """How many requests for ``target`` on ``site`` the server has had so far."""
        with self._lock:
            return self._attempts[site, target]

    @contextmanager
    def in_flight(self) -> Iterator[None]:
        """Count a request as being answered while the block runs (see :meth:`wait_idle`)."""
        with self._idle:
            self._busy += 1
        try:
            yield
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no request is being answered; False if some still are after ``timeout``."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    def stall(self) -> None:
        """Wait out a stall, or until the server stops."""
        self.stopping.wait(self.plan.stall_seconds)

    @property
    def calendar(self) -> bool:
        """Whether the sites grow the endless calendar."""
        return "calendar" in self.plan.traps
