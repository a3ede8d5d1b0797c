"""Washington's open data portal (a Socrata site) with the health care credential dataset.

The Washington State Department of Health publishes every health care credential it issues as
the dataset "Health Care Provider Credential Data", ``qxh8-f4bd`` on data.wa.gov
(https://data.wa.gov/d/qxh8-f4bd), read through Socrata's API (SODA,
https://dev.socrata.com/docs/endpoints.html) at ``/resource/qxh8-f4bd.json``. Its API field
names are used here: ``credentialnumber``, ``lastname``, ``firstname``, ``middlename``,
``credentialtype``, ``status``, ``firstissuedate``, ``lastissuedate``, ``expirationdate``,
``actiontaken`` (the real dataset also has ``birthyear``, which the demo population lacks).
The demo's dataset holds the population's Washington massage therapist licenses, every status.

What the stand-in does as Socrata does it:

- SoQL parameters ``$select``, ``$where``, ``$order``, ``$limit`` (default 1000) and ``$offset``
  (https://dev.socrata.com/docs/queries/), and simple filters (``?status=Active``). ``$where``
  here understands ``column = 'value'`` conditions joined by ``AND``.
- Rows are JSON objects of strings; a null field is left out of its row. Dates are floating
  timestamps, ``2027-06-30T00:00:00.000`` (no zone). ``:id`` is the hidden row id that keeps
  paging stable (``$order=:id``, https://dev.socrata.com/docs/paging.html).
- A query naming a column the dataset does not have answers 400 with Socrata's error body,
  ``{"message": ..., "errorCode": "query.soql.no-such-column", "data": {...}}``; other malformed
  queries answer 400 the same way (``query.soql.unexpected-token``).
- An application token (``X-App-Token`` header, or ``$$app_token``) is optional
  (https://dev.socrata.com/docs/app-tokens.html); one the portal never issued answers 403.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import partial
from typing import Any

from crawler.demoweb import vocab
from crawler.demoweb.identifiers import stable_hash
from crawler.demoweb.model import LICENSE_STATUSES
from crawler.demoweb.sites.base import Request, Response, Site, esc

DATASET_ID = "qxh8-f4bd"
DATASET_NAME = "Health Care Provider Credential Data"
STATE = "WA"
CREDENTIAL_TYPE = "Massage Therapist License"
APP_TOKEN = "tdir-demo-app-token"
"""The one application token the demo portal has issued."""

DEFAULT_LIMIT = 1000
FIELDS = (
    "credentialnumber",
    "lastname",
    "firstname",
    "middlename",
    "credentialtype",
    "status",
    "firstissuedate",
    "lastissuedate",
    "expirationdate",
    "actiontaken",
)
_SYSTEM_FIELDS = (":id",)
_CONDITION = re.compile(r"^\s*(?P<column>:?[A-Za-z_][\w]*)\s*=\s*'(?P<value>(?:[^']|'')*)'\s*$")
_ORDER = re.compile(r"^\s*(?P<column>:?[A-Za-z_][\w]*)(?:\s+(?P<dir>ASC|DESC))?\s*$", re.I)
_AND = re.compile(r"\s+AND\s+", re.I)


class SoqlError(Exception):
    """A query the portal refuses: its Socrata error code, message and data."""

    def __init__(self, code: str, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.data = data or {}


def floating_timestamp(day: date) -> str:
    """A date as Socrata writes a floating timestamp."""
    return f"{day.isoformat()}T00:00:00.000"


class OpenDataSite(Site):
    """data.wa.gov, as far as the credential dataset goes."""

    name = "data-wa"
    title = "Washington State Open Data Portal"
    style = "board.css"
    disallow = ("/login", "/profile/", "/browse?")
    state = STATE
    statuses = LICENSE_STATUSES  # the dataset holds credentials of every status

    def __init__(self, population: Any) -> None:
        super().__init__(population)
        rule = vocab.state_licensing()[STATE]
        assert rule is not None
        self.term = timedelta(days=365 * rule.term_years)
        self.route(r"/", self.home)
        self.route(rf"/d/{DATASET_ID}", self.home)
        self.route(rf"/resource/{DATASET_ID}\.json", self.resource)

    @property
    def endpoint(self) -> str:
        """The dataset's API path."""
        return f"/resource/{DATASET_ID}.json"

    @property
    def record_count(self) -> int:
        """How many credentials the dataset holds."""
        rows = self.population.query("SELECT count(*) FROM license WHERE state = ?", (STATE,))
        return int(rows[0][0])

    def static_entries(self) -> list[tuple[str, date]]:
        return [("/", self.as_of), (f"/d/{DATASET_ID}", self.as_of)]

    def rows(self) -> list[dict[str, str]]:
        """Every row, ``:id`` included, in ``:id`` order."""
        found = self.population.query(
            "SELECT number, last_name, first_name, middle, status, issued, expires "
            "FROM license WHERE state = ?",
            (STATE,),
        )
        rows = []
        for number, last, first, middle, status, issued, expires in found:
            issued_on, expires_on = date.fromisoformat(issued), date.fromisoformat(expires)
            row = {
                ":id": f"row-{stable_hash(self.seed, DATASET_ID, number):016x}",
                "credentialnumber": number,
                "lastname": last,
                "firstname": first,
                "middlename": middle,
                "credentialtype": CREDENTIAL_TYPE,
                "status": status.title(),
                "firstissuedate": floating_timestamp(issued_on),
                "lastissuedate": floating_timestamp(max(issued_on, expires_on - self.term)),
                "expirationdate": floating_timestamp(expires_on),
                "actiontaken": "Yes" if status in LICENSE_STATUSES[2:] else "No",
            }
            rows.append({k: v for k, v in row.items() if v})
        return sorted(rows, key=lambda r: r[":id"])

    # -- pages ------------------------------------------------------------------------------------

    def home(self, request: Request, _: re.Match[str]) -> Response:
        body = (
            f"<h1>{esc(DATASET_NAME)}</h1><p>Department of Health credentials. API endpoint: "
            f'<a href="{self.endpoint}">{esc(request.base_url + self.endpoint)}</a></p>'
        )
        return Response.html(self.layout(DATASET_NAME, body), modified=self.as_of)

    def resource(self, request: Request, _: re.Match[str]) -> Response:
        token = request.header("X-App-Token") or request.arg("$$app_token")
        if token and token != APP_TOKEN:
            return Response.json(
                {
                    "code": "invalid_app_token",
                    "error": True,
                    "message": "Invalid app_token specified",
                },
                status=403,
            )
        try:
            payload = self._query(request)
        except SoqlError as exc:
            return Response.json(
                {"message": str(exc), "errorCode": exc.code, "data": exc.data}, status=400
            )
        return Response.json(payload, modified=self.as_of)

    def _query(self, request: Request) -> list[dict[str, str]]:
        known = (*FIELDS, *_SYSTEM_FIELDS)
        conditions = [
            (name, values[0])
            for name, values in request.query.items()
            if not name.startswith("$") and values
        ]
        conditions += _where(request.arg("$where"))
        for column, _value in conditions:
            _known(column, known)
        order = _order(request.arg("$order") or ":id")
        for column, _descending in order:
            _known(column, known)
        select = [c.strip() for c in request.arg("$select").split(",") if c.strip()]
        for column in select:
            if column != "*":
                _known(column, known)
        limit = _count(request.arg("$limit"), "$limit", DEFAULT_LIMIT)
        offset = _count(request.arg("$offset"), "$offset", 0)
        rows = [r for r in self.rows() if all(r.get(c) == v for c, v in conditions)]
        for column, descending in reversed(order):
            rows.sort(key=partial(_cell, column), reverse=descending)
        shown = set(FIELDS) if not select or "*" in select else set(select)
        return [{k: v for k, v in r.items() if k in shown} for r in rows[offset : offset + limit]]


def _cell(column: str, row: dict[str, str]) -> str:
    """A row's value of a column ("" for a null, which Socrata leaves out of the row)."""
    return row.get(column, "")


def _where(text: str) -> list[tuple[str, str]]:
    if not text.strip():
        return []
    conditions = []
    for part in _AND.split(text.strip()):
        found = _CONDITION.match(part)
        if found is None:
            raise SoqlError(
                "query.soql.unexpected-token",
                f'Could not parse SoQL query "{text}" at "{part.strip()}"',
                {"position": {"line": text}},
            )
        conditions.append((found["column"], found["value"].replace("''", "'")))
    return conditions


def _order(text: str) -> list[tuple[str, bool]]:
    order = []
    for part in text.split(","):
        found = _ORDER.match(part)
        if found is None:
            raise SoqlError("query.soql.unexpected-token", f'Could not parse $order "{text}"')
        order.append((found["column"], (found["dir"] or "").upper() == "DESC"))
    return order


def _known(column: str, known: tuple[str, ...]) -> None:
    if column not in known:
        raise SoqlError(
            "query.soql.no-such-column",
            f"No such column: {column}",
            {"column": column, "dataset": f"alpha.{DATASET_ID}"},
        )


def _count(text: str, name: str, default: int) -> int:
    if not text:
        return default
    if not text.isdigit():
        raise SoqlError("query.soql.unexpected-token", f"{name} must be a whole number: {text!r}")
    return int(text)
