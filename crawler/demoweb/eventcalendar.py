"""The calendar trap (``trap=calendar``): an endless events calendar on every site.

Every HTML page gets a calendar widget at its foot: a link to this month's events and a
``Next`` link (``rel=next``) to the next month's, the shape that draws a crawler following
pagination links into a trap. ``/calendar/<year>/<month>`` links to each of the month's days and
to the next month, ``/calendar/<year>/<month>/<day>`` to the next day. Every page is a new page,
none holds a listing, and there is no last one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import date, timedelta
from string import ascii_uppercase

from crawler.demoweb.sites.base import Response, Site, esc

_PAGE = re.compile(r"/calendar/(\d{1,4})/(\d{1,2})(?:/(\d{1,2}))?")


def month_path(day: date) -> str:
    """The calendar page of ``day``'s month."""
    return f"/calendar/{day.year}/{day.month}"


def day_path(day: date) -> str:
    """The calendar page of one day."""
    return f"/calendar/{day.year}/{day.month}/{day.day}"


def _next_month(day: date) -> date | None:
    if day.year == date.max.year and day.month == 12:
        return None
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _next_day(day: date) -> date | None:
    return None if day == date.max else day + timedelta(days=1)


def _reference(day: date, whole_month: bool) -> str:
    # Pages that differed only in their numbers would read as one page repeated (a pagination
    # trap's telltale); a real calendar's pages differ in their events, these in a reference.
    key = f"{day.isoformat()}/{'month' if whole_month else 'day'}".encode()
    digest = hashlib.blake2b(key, digest_size=6).digest()
    return "".join(ascii_uppercase[b % 26] for b in digest)


class EventCalendar:
    """The calendar pages of one demo web, and the widget that leads to them."""

    def __init__(self, today: date) -> None:
        self.this_month = today.replace(day=1)

    def widget(self) -> str:
        """The footer widget: this month's events and the next month's."""
        month = self.this_month
        links = [f'<a href="{month_path(month)}">Events in {month:%B %Y}</a>']
        following = _next_month(month)
        if following is not None:
            links.append(f'<a rel="next" href="{month_path(following)}">Next</a>')
        return f'<aside class="events-calendar">{" · ".join(links)}</aside>'

    def add_widget(self, html: bytes) -> bytes:
        """``html`` with the widget at the foot of its body."""
        widget = self.widget().encode()
        end = html.rfind(b"</body>")
        if end < 0:  # a page whose template never closes its body
            return html + widget
        return html[:end] + widget + html[end:]

    def page(self, site: Site, path: str) -> Response | None:
        """The calendar page at ``path`` in ``site``'s look; None when it is none."""
        match = _PAGE.fullmatch(path)
        if match is None:
            return None
        day = int(match[3]) if match[3] else None
        try:
            when = date(int(match[1]), int(match[2]), day or 1)
        except ValueError:
            return None
        title, body = self._day(when) if day else self._month(when)
        return Response.html(site.layout(title, body), modified=self.this_month)

    def _month(self, month: date) -> tuple[str, str]:
        name = f"{month:%B %Y}"
        days = []
        day: date | None = month
        while day is not None and day.month == month.month:
            days.append(f'<li><a href="{day_path(day)}">{day:%A} {day.day}</a></li>')
            day = _next_day(day)
        body = (
            f"<h1>Events in {esc(name)}</h1>"
            f"<p>No events are scheduled in {esc(name)} (ref. {_reference(month, True)}).</p>"
            f'<ul class="days">{"".join(days)}</ul>' + _pager(_next_month(month), month_path)
        )
        return f"Events in {name}", body

    def _day(self, day: date) -> tuple[str, str]:
        name = f"{day:%A} {day.day} {day:%B %Y}"
        body = (
            f"<h1>Events on {esc(name)}</h1>"
            f"<p>No events are scheduled on {esc(name)} (ref. {_reference(day, False)}).</p>"
            f'<p><a href="{month_path(day)}">All of {day:%B %Y}</a></p>'
            + _pager(_next_day(day), day_path)
        )
        return f"Events on {name}", body


def _pager(following: date | None, path_of: Callable[[date], str]) -> str:
    if following is None:  # the end of time as Python counts it
        return ""
    return f'<p class="pager"><a rel="next" href="{path_of(following)}">Next</a></p>'
