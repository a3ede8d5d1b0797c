"""The limits an official API puts on its key: a short-window rate and a daily quota.

The rate counts the calls admitted in the last window (a second for Yelp, a minute for Google);
the quota counts the calls admitted since midnight UTC, when it starts again. A refused call
counts against neither. A running stand-in's limits may be changed, and :meth:`ApiLimits.new_day`
makes the quota start again as midnight would, for a test that cannot wait for it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Literal

Refusal = Literal["rate", "quota"]


class ApiLimits:
    """The rate and the daily quota of one API key (thread-safe)."""

    def __init__(
        self,
        *,
        per_window: int,
        window_seconds: float,
        daily_limit: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.per_window = per_window
        self.window_seconds = window_seconds
        self.daily_limit = daily_limit
        self._clock = clock
        self._lock = threading.Lock()
        self._recent: deque[float] = deque()
        self._day = self._today()
        self._used = 0
        self.refused: dict[Refusal, int] = {"rate": 0, "quota": 0}

    def _today(self) -> str:
        return datetime.fromtimestamp(self._clock(), UTC).date().isoformat()

    def admit(self) -> Refusal | None:
        """Count one call, or say why it is refused: over the ``rate`` or the daily ``quota``."""
        with self._lock:
            now = self._clock()
            today = self._today()
            if today != self._day:
                self._day, self._used = today, 0
            while self._recent and self._recent[0] <= now - self.window_seconds:
                self._recent.popleft()
            if len(self._recent) >= self.per_window:
                self.refused["rate"] += 1
                return "rate"
            if self._used >= self.daily_limit:
                self.refused["quota"] += 1
                return "quota"
            self._recent.append(now)
            self._used += 1
            return None

    @property
    def remaining(self) -> int:
        """Calls left today."""
        with self._lock:
            return max(0, self.daily_limit - self._used)

    @property
    def used(self) -> int:
        """Calls admitted today."""
        with self._lock:
            return self._used

    def reset_time(self) -> datetime:
        """When the daily quota starts again: the next midnight UTC."""
        today = datetime.fromtimestamp(self._clock(), UTC).date()
        return datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=UTC)

    def new_day(self) -> None:
        """Start the daily quota again, as midnight UTC does."""
        with self._lock:
            self._used = 0
