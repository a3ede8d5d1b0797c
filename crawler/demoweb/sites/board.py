"""State massage-therapy license boards: a lookup form, a result table and a CSV download.

Most boards' download is their lookup's columns as a CSV file; the Texas board publishes TDLR's
license data file instead, in its real layout (:mod:`crawler.demoweb.sites.tdlr_file`).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote, unquote

from crawler.demoweb import vocab
from crawler.demoweb.model import LICENSE_STATUSES
from crawler.demoweb.sites.base import Request, Response, Site, esc, page_count, with_query
from crawler.demoweb.sites.tdlr_file import IN_FILE, TdlrLicenseFile

PER_PAGE = 25
LICENSE_COLUMNS = (
    "state",
    "number",
    "therapist_id",
    "last_name",
    "first_name",
    "middle",
    "city",
    "status",
    "title",
    "issued",
    "expires",
)


@dataclass(frozen=True, slots=True)
class BoardStyle:
    """How one state's board writes its records (boards are separate agencies, and differ)."""

    status_case: str
    date_format: str
    csv_header: tuple[str, ...]  # of the lookup's export, and of the download unless TDLR's
    tdlr_file: bool = False  # the download is TDLR's license data file


BOARD_STYLES: dict[str, BoardStyle] = {
    "FL": BoardStyle(
        "upper",
        "%m/%d/%Y",
        (
            "License Number",
            "Profession",
            "Name",
            "City",
            "License Status",
            "Original Issue Date",
            "Expiration Date",
        ),
    ),
    "TX": BoardStyle(
        "upper",
        "%m/%d/%Y",
        (
            "LICENSE NUMBER",
            "LICENSE TYPE",
            "NAME",
            "CITY",
            "STATUS",
            "ISSUE DATE",
            "EXPIRATION DATE",
        ),
        tdlr_file=True,
    ),
    "NC": BoardStyle(
        "title",
        "%Y-%m-%d",
        (
            "license_number",
            "license_type",
            "name",
            "city",
            "status",
            "issue_date",
            "expiration_date",
        ),
    ),
    "WA": BoardStyle(
        "title",
        "%m/%d/%Y",
        (
            "Credential Number",
            "Credential Type",
            "Name",
            "City",
            "Status",
            "First Issue Date",
            "Expiration Date",
        ),
    ),
}
"""The states that run a lookup site in the demo web."""


def _criteria(*, number: str, last: str, first: str, city: str) -> tuple[str, list[str]]:
    """The lookup's SQL conditions (after ``state = ?``) and their parameters: a number and a
    city exactly, names by prefix."""
    where, params = [], []
    if number:
        where.append("AND number = ?")
        params.append(number)
    if last:
        where.append("AND last_name >= ? AND last_name < ?")
        params += [last, last + "\uffff"]
    if first:
        where.append("AND first_name >= ? AND first_name < ?")
        params += [first, first + "\uffff"]
    if city:
        where.append("AND upper(city) = ?")
        params.append(city)
    return " ".join(where), params


@dataclass(frozen=True, slots=True)
class LicenseRow:
    """One license as a board lists it."""

    state: str
    number: str
    therapist_id: int
    last_name: str
    first_name: str
    middle: str
    city: str
    status: str
    title: str
    issued: date
    expires: date

    @property
    def display_name(self) -> str:
        """The board's name format: ``DOE, JANE A``."""
        middle = f" {self.middle[0]}" if self.middle else ""
        return f"{self.last_name}, {self.first_name}{middle}"


class BoardSite(Site):
    """One state's license board."""

    style = "board.css"
    disallow = ("/admin/", "/cgi-bin/", "/verify/export")

    def __init__(self, population: Any, state: str) -> None:
        self.state = state
        rule = vocab.state_licensing()[state]
        if rule is None:
            raise ValueError(f"{state} does not license massage therapists")
        self.rule = rule
        self.look = BOARD_STYLES[state]
        self.name = f"board-{state.lower()}"
        self.title = rule.board
        super().__init__(population)
        self.license_file = (
            TdlrLicenseFile(population, self.seed, self.as_of) if self.look.tdlr_file else None
        )
        self.route(r"/", self.home)
        self.route(r"/verify", self.search)
        self.route(r"/verify/license/([^/]+)", self.detail)
        self.route(r"/verify/export", self.search)
        self.route(r"/downloads/", self.downloads)
        self.route(rf"/downloads/{state.lower()}-massage-licensees\.csv", self.csv_download)
        self.route(r"/admin/.*", self.home)

    @property
    def csv_path(self) -> str:
        """Where the full licensee file is published."""
        return f"/downloads/{self.state.lower()}-massage-licensees.csv"

    def record_path(self, number: str) -> str:
        """The path of one license's detail page."""
        return f"/verify/license/{quote(number, safe='')}"

    def static_entries(self) -> list[tuple[str, date]]:
        return [
            ("/", self.as_of),
            ("/verify", self.as_of),
            ("/downloads/", self.as_of),
            (self.csv_path, self.as_of),
        ]

    @property
    def file_statuses(self) -> tuple[str, ...]:
        """The statuses of the licenses the board's download lists."""
        return IN_FILE if self.look.tdlr_file else LICENSE_STATUSES

    @property
    def record_count(self) -> int:
        """How many licenses of therapists the board's download lists."""
        marks = ",".join("?" * len(self.file_statuses))
        rows = self.population.query(
            f"SELECT count(*) FROM license WHERE state = ? AND status IN ({marks})",
            (self.state, *self.file_statuses),
        )
        return int(rows[0][0])

    def _rows(
        self, where: str, params: tuple[Any, ...], limit: int = -1, offset: int = 0
    ) -> list[LicenseRow]:
        sql = (
            f"SELECT {', '.join(LICENSE_COLUMNS)} FROM license WHERE state = ? {where} "
            "ORDER BY last_name, first_name, number LIMIT ? OFFSET ?"
        )
        rows = self.population.query(sql, (self.state, *params, limit, offset))
        out = []
        for r in rows:
            values = dict(zip(LICENSE_COLUMNS, r, strict=True))
            values["issued"] = date.fromisoformat(values["issued"])
            values["expires"] = date.fromisoformat(values["expires"])
            out.append(LicenseRow(**values))
        return out

    def _status(self, status: str) -> str:
        return status.upper() if self.look.status_case == "upper" else status.title()

    def _date(self, day: date) -> str:
        return day.strftime(self.look.date_format)

    # -- pages ------------------------------------------------------------------------------------

    def frame(self, body: str) -> str:
        state_name = self.rule.state_name
        return (
            f'<div class="gov-banner">An official website of the State of {esc(state_name)}</div>'
            f'<div class="agency"><h1>{esc(self.rule.board)}</h1>'
            "<p>License Verification &middot; Massage Therapy</p></div>"
            f'<div class="container">{body}</div>'
            f'<div class="footer">{esc(self.rule.board)} &middot; Data is updated nightly. '
            "This site is the primary source for license verification.</div>"
        )

    def _form(self, request: Request | None = None) -> str:
        def value(name: str) -> str:
            return esc(request.arg(name)) if request else ""

        return (
            '<form method="get" action="/verify"><fieldset><legend>Search for a licensee</legend>'
            + "".join(
                f'<div><label for="{name}">{label}</label>'
                f'<input id="{name}" name="{name}" value="{value(name)}"></div>'
                for name, label in (
                    ("last_name", "Last name"),
                    ("first_name", "First name"),
                    ("license_number", "License number"),
                    ("city", "City"),
                )
            )
            + '<div><button type="submit">Search</button></div></fieldset></form>'
        )

    def home(self, request: Request, _: re.Match[str]) -> Response:
        body = (
            f"<h2>Verify a {esc(self.rule.title)} license</h2>"
            '<p class="notice">Search by name or license number. '
            "Partial last names are accepted.</p>"
            f"{self._form()}<p>Need every record? "
            '<a href="/downloads/">Download the licensee list</a>.</p>'
        )
        return Response.html(self.layout("License Verification", body), modified=self.as_of)

    def search(self, request: Request, _: re.Match[str]) -> Response | None:
        last = request.arg("last_name").upper()
        first = request.arg("first_name").upper()
        number = request.arg("license_number").upper().replace(" ", "")
        city = request.arg("city").upper()
        page = request.page()
        if page is None:
            return None
        if not (last or first or number or city):
            body = '<p class="notice">Enter at least one search criterion.</p>' + self._form(
                request
            )
            return Response.html(self.layout("License Search", body), modified=self.as_of)
        clause, params = _criteria(number=number, last=last, first=first, city=city)
        total = int(
            self.population.query(
                f"SELECT count(*) FROM license WHERE state = ? {clause}", (self.state, *params)
            )[0][0]
        )
        pages = page_count(total, PER_PAGE)
        if page > pages:
            return None
        rows = self._rows(clause, tuple(params), PER_PAGE, (page - 1) * PER_PAGE)
        if request.path == "/verify/export":
            return self._csv(rows)
        trs = "".join(
            f'<tr><td><a href="{self.record_path(r.number)}">{esc(r.number)}</a></td>'
            f"<td>{esc(r.display_name)}</td><td>{esc(r.title)}</td><td>{esc(r.city.upper())}</td>"
            f'<td class="status-{self._status(r.status)}">{esc(self._status(r.status))}</td>'
            f"<td>{esc(self._date(r.expires))}</td></tr>"
            for r in rows
        )
        params_now = {
            "last_name": request.arg("last_name"),
            "first_name": request.arg("first_name"),
            "license_number": request.arg("license_number"),
            "city": request.arg("city"),
        }
        nav = []
        if page > 1:
            nav.append(
                f'<a href="{esc(with_query("/verify", **params_now, page=page - 1))}">Previous</a>'
            )
        if page < pages:
            nav.append(
                f'<a href="{esc(with_query("/verify", **params_now, page=page + 1))}">Next</a>'
            )
        export = esc(with_query("/verify/export", **params_now))
        body = (
            f"{self._form(request)}<p>{total} record(s) found. Page {page} of {pages}. "
            f'<a href="{export}">Export results</a></p>'
            '<table class="results"><tr><th>License #</th><th>Name</th><th>Type</th><th>City</th>'
            f"<th>Status</th><th>Expires</th></tr>{trs}</table><p>{' | '.join(nav)}</p>"
        )
        return Response.html(self.layout("Search Results", body), modified=self.as_of)

    def detail(self, request: Request, match: re.Match[str]) -> Response | None:
        number = unquote(match.group(1))
        rows = self._rows("AND number = ?", (number,))
        if not rows:
            return None
        r = rows[0]
        fields = [
            ("Name", r.display_name),
            ("License Type", f"{r.title} - {self.rule.credential.upper()} Massage Therapy"),
            ("License Number", r.number),
            ("Status", self._status(r.status)),
            ("Original Issue Date", self._date(r.issued)),
            ("Expiration Date", self._date(r.expires)),
            ("City of Record", r.city.upper()),
            ("State", self.state),
        ]
        trs = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in fields)
        body = f'<h2>License Details</h2><table class="results">{trs}</table>'
        return Response.html(self.layout(f"License {r.number}", body), modified=self.as_of)

    def downloads(self, request: Request, _: re.Match[str]) -> Response:
        listed = ", ".join(self.file_statuses[:-1]) + f" and {self.file_statuses[-1]}"
        body = (
            "<h2>Public Data Downloads</h2><p>The licensee list is regenerated nightly and "
            f"includes {listed} licenses.</p>"
            f'<ul><li><a href="{self.csv_path}">{esc(self.rule.title)} licensees (CSV)</a> '
            f"&mdash; {self.record_count} records</li></ul>"
        )
        return Response.html(self.layout("Downloads", body), modified=self.as_of)

    def _csv(self, rows: list[LicenseRow]) -> Response:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(self.look.csv_header)
        for r in rows:
            writer.writerow(
                [
                    r.number,
                    r.title,
                    r.display_name,
                    r.city.upper(),
                    self._status(r.status),
                    self._date(r.issued),
                    self._date(r.expires),
                ]
            )
        response = Response.text(buf.getvalue(), "text/csv; charset=utf-8", modified=self.as_of)
        response.headers["Content-Disposition"] = "attachment"
        return response

    def csv_download(self, request: Request, _: re.Match[str]) -> Response:
        if self.license_file is None:
            return self._csv(self._rows("", ()))
        response = Response.text(
            self.license_file.text(), "text/csv; charset=utf-8", modified=self.as_of
        )
        response.headers["Content-Disposition"] = "attachment"
        return response
