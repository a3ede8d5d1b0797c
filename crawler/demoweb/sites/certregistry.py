"""The board-certification registry: who holds the BCTMB, searchable and listed by state."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from crawler.demoweb import vocab
from crawler.demoweb.sites.base import Request, Response, Site, esc, page_count, with_query

PER_PAGE = 50
_COLUMNS = (
    "id",
    "last_name",
    "first_name",
    "middle",
    "state",
    "city",
    "status",
    "issued",
    "expires",
)


class CertRegistrySite(Site):
    """HTML lookup of board-certified therapists (NCBTMB's BCTMB)."""

    name = "certregistry"
    style = "certregistry.css"
    disallow = ("/account/", "/cart/", "/ce-courses/")

    def __init__(self, population: Any) -> None:
        bc = vocab.licensing()["board_certification"]
        self.title = f"{bc['short_issuer']} Certification Verification"
        self.issuer = bc["issuer"]
        super().__init__(population)
        self.route(r"/", self.home)
        self.route(r"/verify", self.search)
        self.route(r"/certificant/(\d+)", self.detail)
        self.route(r"/directory/", self.states)
        self.route(r"/directory/([a-z]{2})/", self.state_list)
        self.route(r"/(?:account|cart|ce-courses)/.*", self.members_only)

    def record_path(self, cert_id: str) -> str:
        """The path of one certificant's page."""
        return f"/certificant/{cert_id}"

    @property
    def record_count(self) -> int:
        """How many certifications the registry publishes."""
        return int(self.population.query("SELECT count(*) FROM certification")[0][0])

    def _state_counts(self) -> list[tuple[str, int]]:
        return [
            (s, int(n))
            for s, n in self.population.query(
                "SELECT state, count(*) FROM certification GROUP BY state ORDER BY state"
            )
        ]

    def static_entries(self) -> list[tuple[str, date]]:
        entries = [("/", self.as_of), ("/directory/", self.as_of)]
        for state, n in self._state_counts():
            for page in range(1, page_count(n, PER_PAGE) + 1):
                path = f"/directory/{state.lower()}/"
                entries.append((path if page == 1 else with_query(path, page=page), self.as_of))
        return entries

    def _select(
        self, where: str, params: tuple[Any, ...], limit: int, offset: int
    ) -> list[dict[str, Any]]:
        rows = self.population.query(
            f"SELECT {', '.join(_COLUMNS)} FROM certification {where} "
            "ORDER BY last_name, first_name, id LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [dict(zip(_COLUMNS, r, strict=True)) for r in rows]

    def frame(self, body: str) -> str:
        return (
            f'<header><div class="mark">{esc(self.title)}</div>'
            f'<div class="sub">{esc(self.issuer)}</div></header>'
            f"<main>{body}</main>"
            "<footer>Verification reflects the registry at the time of search. "
            '<a href="/directory/">Browse certificants by state</a></footer>'
        )

    @staticmethod
    def _name(row: dict[str, Any]) -> str:
        middle = f" {row['middle'][0].title()}." if row["middle"] else ""
        return f"{row['first_name'].title()}{middle} {row['last_name'].title()}"

    def _table(self, rows: list[dict[str, Any]]) -> str:
        trs = "".join(
            f'<tr><td><a href="{self.record_path(r["id"])}">{esc(self._name(r))}</a></td>'
            f"<td>{esc(r['id'])}</td><td>{esc(r['city'])}, {esc(r['state'])}</td>"
            f'<td class="{"ok" if r["status"] == "active" else "lapsed"}">'
            f"{'Board Certified' if r['status'] == 'active' else 'Expired'}</td></tr>"
            for r in rows
        )
        return (
            "<table><tr><th>Name</th><th>Certificant ID</th><th>Location</th><th>Status</th></tr>"
            f"{trs}</table>"
        )

    def _form(self, request: Request | None = None) -> str:
        def value(name: str) -> str:
            return esc(request.arg(name)) if request else ""

        return (
            '<form class="lookup" action="/verify" method="get">'
            f'<input name="last_name" placeholder="Last name" value="{value("last_name")}"> '
            f'<input name="first_name" placeholder="First name" value="{value("first_name")}"> '
            f'<input name="state" placeholder="State (e.g. TX)" value="{value("state")}"> '
            '<input name="certificant_id" placeholder="Certificant ID" '
            f'value="{value("certificant_id")}"> '
            "<button>Verify</button></form>"
        )

    def home(self, request: Request, _: re.Match[str]) -> Response:
        body = (
            "<h1>Verify a Board Certified Therapist</h1><p>Board Certification in Therapeutic "
            "Massage &amp; Bodywork (BCTMB) is the highest credential in the profession. "
            f"The registry lists {self.record_count:,} current and former certificants.</p>"
            f"{self._form()}"
        )
        return Response.html(self.layout("Verify", body), modified=self.as_of)

    def search(self, request: Request, _: re.Match[str]) -> Response | None:
        page = request.page()
        if page is None:
            return None
        where, params = [], []
        if request.arg("certificant_id"):
            where.append("id = ?")
            params.append(request.arg("certificant_id"))
        if request.arg("last_name"):
            last = request.arg("last_name").upper()
            where.append("last_name >= ? AND last_name < ?")
            params += [last, last + "\uffff"]
        if request.arg("first_name"):
            first = request.arg("first_name").upper()
            where.append("first_name >= ? AND first_name < ?")
            params += [first, first + "\uffff"]
        if request.arg("state"):
            where.append("state = ?")
            params.append(request.arg("state").upper())
        if not where:
            body = (
                f"<h1>Verify</h1><p>Please enter a name or certificant ID.</p>{self._form(request)}"
            )
            return Response.html(self.layout("Verify", body), modified=self.as_of)
        clause = "WHERE " + " AND ".join(where)
        total = int(
            self.population.query(f"SELECT count(*) FROM certification {clause}", params)[0][0]
        )
        pages = page_count(total, PER_PAGE)
        if page > pages:
            return None
        rows = self._select(clause, tuple(params), PER_PAGE, (page - 1) * PER_PAGE)
        found = self._table(rows) if rows else "<p>No certificants match your search.</p>"
        body = f"<h1>Verification results</h1>{self._form(request)}<p>{total} found</p>{found}"
        return Response.html(self.layout("Verification results", body), modified=self.as_of)

    def detail(self, request: Request, match: re.Match[str]) -> Response | None:
        rows = self._select("WHERE id = ?", (match.group(1),), 1, 0)
        if not rows:
            return None
        r = rows[0]
        active = r["status"] == "active"
        fields = [
            ("Name", self._name(r)),
            ("Certificant ID", r["id"]),
            ("Credential", "BCTMB - Board Certified in Therapeutic Massage & Bodywork"),
            ("Status", "Board Certified" if active else "Certification Expired"),
            ("Certified Since", date.fromisoformat(r["issued"]).strftime("%B %d, %Y")),
            (
                "Valid Through" if active else "Expired On",
                date.fromisoformat(r["expires"]).strftime("%B %d, %Y"),
            ),
            ("Location", f"{r['city']}, {r['state']}"),
        ]
        trs = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in fields)
        body = f"<h1>{esc(self._name(r))}</h1><table>{trs}</table>"
        return Response.html(self.layout(self._name(r), body), modified=self.as_of)

    def states(self, request: Request, _: re.Match[str]) -> Response:
        names = vocab.state_names()
        items = "".join(
            f'<li><a href="/directory/{s.lower()}/">{esc(names.get(s, s))}</a> ({n})</li>'
            for s, n in self._state_counts()
        )
        body = f"<h1>Certificants by state</h1><ul>{items}</ul>"
        return Response.html(self.layout("Certificants by state", body), modified=self.as_of)

    def state_list(self, request: Request, match: re.Match[str]) -> Response | None:
        state = match.group(1).upper()
        counts = dict(self._state_counts())
        page = request.page()
        if state not in counts or page is None:
            return None
        pages = page_count(counts[state], PER_PAGE)
        if page > pages or request.arg("page") == "1":
            return None
        rows = self._select("WHERE state = ?", (state,), PER_PAGE, (page - 1) * PER_PAGE)
        base = f"/directory/{state.lower()}/"
        nav = []
        if page > 1:
            nav.append(
                f'<a href="{base if page == 2 else with_query(base, page=page - 1)}">Previous</a>'
            )
        if page < pages:
            nav.append(f'<a href="{with_query(base, page=page + 1)}">Next</a>')
        name = vocab.state_names().get(state, state)
        body = (
            f"<h1>Certificants in {esc(name)}</h1><p>Page {page} of {pages}</p>"
            f"{self._table(rows)}<p>{' | '.join(nav)}</p>"
        )
        return Response.html(self.layout(f"Certificants in {name}", body), modified=self.as_of)

    def members_only(self, request: Request, _: re.Match[str]) -> Response:
        body = "<h1>Sign in</h1><p>Sign in to your certificant account.</p>"
        return Response.html(self.layout("Sign in", body), modified=self.as_of)
