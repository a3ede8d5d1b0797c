"""The online geocoder, for what the offline one can only place roughly or not at all.

Offline, a street address lands at its ZIP's or city's centre and a place missing from the ZIP
table is not found. When ``TDIR_GEOCODER_URL`` names a Nominatim server (the public
``https://nominatim.openstreetmap.org`` or one's own), those two cases are asked of it through
geopy, limited to the United States. The public server's usage policy
(https://operations.osmfoundation.org/policies/nominatim/) allows one request a second from an
identified application, and asks that results be cached: answers are kept in the process, and
requests are spaced a second apart.

A server that does not answer, or answers with an error, never fails a search: the offline
answer stands (or its "not found" error), and the failure is logged.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from indexer.geo import GeoPoint
from tdir.config import GeocoderSettings

if TYPE_CHECKING:
    from geopy.location import Location

log = logging.getLogger(__name__)

MIN_INTERVAL = 1.0  # seconds between requests: the public server's limit
TIMEOUT = 10.0  # seconds to wait for an answer
MAX_KEPT = 4096  # answers kept before the oldest are forgotten (all at once)
BUILDING_RANK = 28


class OnlineGeocoder:
    """A Nominatim server asked through geopy, one request a second, answers kept."""

    def __init__(self, url: str, user_agent: str) -> None:
        from geopy.geocoders import Nominatim

        parts = urlsplit(url)
        self.url = url
        self._nominatim = Nominatim(
            domain=parts.netloc + parts.path,
            scheme=parts.scheme,
            user_agent=user_agent,
            timeout=TIMEOUT,
        )
        self._lock = threading.Lock()
        self._last = 0.0
        self._answers: dict[str, Located | None] = {}

    def locate(self, text: str) -> Located | None:
        """Where the server places ``text`` in the US, or None when it finds nothing or cannot
        be reached (a failure is not kept: the next search asks again)."""
        from geopy.exc import GeopyError

        with self._lock:
            if text in self._answers:
                return self._answers[text]
            wait = self._last + MIN_INTERVAL - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                found = self._nominatim.geocode(text, country_codes="us", exactly_one=True)
            except GeopyError as exc:
                log.warning("geocoder %s failed for %r: %s", self.url, text, exc)
                return None
            finally:
                self._last = time.monotonic()
            answer = _located(found) if found is not None else None
            if found is not None and answer is None:
                log.warning("geocoder %s gave no usable point for %r", self.url, text)
            if len(self._answers) >= MAX_KEPT:
                self._answers.clear()
            self._answers[text] = answer
            return answer


@dataclass(frozen=True, slots=True)
class Located:
    """A server's answer: the point, its name for the place, and whether it is a building
    (an address placed at its door, not at the centre of a street or a town)."""

    point: GeoPoint
    label: str
    building: bool


def _located(found: Location) -> Located | None:
    try:
        point = GeoPoint(float(found.latitude), float(found.longitude))
        rank = int(found.raw.get("place_rank") or 0)
    except (TypeError, ValueError):
        return None
    # Nominatim's address ranks: 30 a building or house, 26-27 a street, 16 and below a town.
    return Located(point, str(found.address), rank >= BUILDING_RANK)


@cache
def online_geocoder() -> OnlineGeocoder | None:
    """The configured online geocoder, or None (offline only)."""
    settings = GeocoderSettings.from_env()
    if settings.url is None:
        return None
    return OnlineGeocoder(settings.url, settings.user_agent)
