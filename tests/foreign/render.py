"""The foreign population's listings as two directory websites, as static files.

- ``healers``: one JSON-LD (schema.org) profile page per listing, ``/p/<slug>.html``; city pages
  ``/massage/<st>/<city>.html`` (paginated with ``rel=next``); ``sitemap.xml``; ``robots.txt``.
- ``bodyworkers``: one microdata member page per listing, ``/member.php?id=<n>``; state pages
  ``/directory.php?state=<st>&page=<n>``; a sitemap index; ``robots.txt``.

Both publish ordinary schema.org shapes: a ``Person`` with ``worksFor`` a
``HealthAndBeautyBusiness`` or their own ``address``, ``hasCredential`` as
``EducationalOccupationalCredential`` (``validIn``, ``recognizedBy``, ``identifier``), the NPI as
an ``identifier`` ``PropertyValue``, coordinates as ``GeoCoordinates`` on the practice or the
``workLocation`` ``Place``. Sitemaps and robots.txt need absolute URLs, unknown until the site
is served: they hold :data:`ORIGIN`, which the server replaces with its own origin.
"""

from __future__ import annotations

import html
import json
import random
import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.foreign.population import Certification, Listing, Office, Population, StateRules

ORIGIN = "__ORIGIN__"
_PER_CITY_PAGE = 20
_PER_STATE_PAGE = 25
_ABBREVIATIONS = {
    "Street": "St",
    "Avenue": "Ave",
    "Boulevard": "Blvd",
    "Road": "Rd",
    "Drive": "Dr",
    "Lane": "Ln",
    "Way": "Way",
}
_CERT_NAMES = {
    "BCTMB": "Board Certified in Therapeutic Massage & Bodywork",
    "NCBTMB": "Nationally Certified in Therapeutic Massage & Bodywork",
}
_LASTMOD = "2024-11-0{}"


def page_file(root: Path, url_path: str) -> Path:
    """The file holding the page at ``url_path`` (path and ``?query``) under a site's root.

    ``/`` and paths ending in ``/`` are ``index.html``; a query is kept in the file name after
    an ``@`` (``/member.php?id=7`` is ``member.php@id=7``).
    """
    parts = urlsplit(url_path)
    path = parts.path.lstrip("/")
    if not path or path.endswith("/"):
        path += "index.html"
    if parts.query:
        path += "@" + parts.query
    return root / path


def _write(root: Path, url_path: str, text: str) -> None:
    target = page_file(root, url_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _json_ld(data: dict[str, Any]) -> str:
    body = json.dumps(data, indent=1, ensure_ascii=False).replace("</", "<\\/")
    return f'<script type="application/ld+json">\n{body}\n</script>'


def _page(title: str, head: str, body: str, canonical: str | None = None) -> str:
    link = f'<link rel="canonical" href="{_e(canonical)}">\n' if canonical else ""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(title)}</title>\n{link}{head}\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _phone(digits: str, style: int) -> str:
    area, exchange, line = digits[:3], digits[3:6], digits[6:]
    return (
        f"({area}) {exchange}-{line}",
        f"{area}-{exchange}-{line}",
        f"{area}.{exchange}.{line}",
        f"+1 {area} {exchange} {line}",
        f"+1-{area}-{exchange}-{line}",
    )[style]


def _street(office: Office, *, short: bool, suite_style: int) -> str:
    kind = _ABBREVIATIONS.get(office.kind, office.kind) if short else office.kind
    line = f"{office.number} {office.street}" + (f" {kind}" if kind else "")
    if office.suite:
        suite = (f", Suite {office.suite}", f" Ste {office.suite}", f" #{office.suite}")
        line += suite[suite_style]
    return line


def _license_text(listing: Listing, rules: StateRules, rng: random.Random) -> str:
    """The license number as a listing shows it when it names no state."""
    person = listing.person
    form = rng.choice(rules.stateless_forms)
    return form.format(state=rules.code, digits=person.license_digits, number=person.license)


# -- healers: JSON-LD --------------------------------------------------------------------------


class _Healers:
    name = "healers"

    def __init__(self, population: Population, rng: random.Random) -> None:
        self.population = population
        self.rng = rng

    def address(self, office: Office) -> dict[str, Any]:
        rules = self.population.states[office.city.state]
        region = rules.name if self.rng.random() < 0.2 else rules.code
        return {
            "@type": "PostalAddress",
            "streetAddress": _street(office, short=self.rng.random() < 0.3, suite_style=0),
            "addressLocality": office.city.name,
            "addressRegion": region,
            "postalCode": office.zip,
            "addressCountry": "US",
        }

    def credentials(self, listing: Listing) -> tuple[list[dict[str, Any]], list[str]]:
        person = listing.person
        rules = self.population.states[person.city.state]
        nodes: list[dict[str, Any]] = []
        shown: list[str] = []
        if listing.license == "state":
            nodes.append(
                {
                    "@type": "EducationalOccupationalCredential",
                    "credentialCategory": "license",
                    "name": "Licensed Massage Therapist",
                    "identifier": person.license,
                    "recognizedBy": {"@type": "GovernmentOrganization", "name": rules.board},
                    "validIn": {"@type": "State", "name": rules.name},
                }
            )
            shown.append(f"{rules.name} massage therapist license {person.license}")
        elif listing.license == "stateless":
            number = _license_text(listing, rules, self.rng)
            label = self.rng.choice(("LMT", "License"))
            node: dict[str, Any] = {
                "@type": "EducationalOccupationalCredential",
                "name": "LMT" if label == "LMT" else "Massage Therapy License",
                "identifier": number,
            }
            if self.rng.random() < 0.5:
                node["credentialCategory"] = "license"
            nodes.append(node)
            shown.append(f"{label} #{number}")
        if listing.show_cert and person.cert is not None:
            nodes.append(_cert_node(person.cert))
            shown.append(f"{person.cert.short} #{person.cert.number}")
        return nodes, shown

    def person_node(
        self, listing: Listing, path: str, credentials: list[dict[str, Any]]
    ) -> dict[str, Any]:
        person, office = listing.person, listing.office
        node: dict[str, Any] = {"@type": "Person", "name": listing.name}
        suffix = ["LMT"] + (
            [listing.person.cert.short] if listing.show_cert and person.cert else []
        )
        node["honorificSuffix"] = ", ".join(suffix)
        node["jobTitle"] = self.rng.choice(("Licensed Massage Therapist", "Massage Therapist"))
        node["url"] = path
        if office.practice:
            practice: dict[str, Any] = {
                "@type": "HealthAndBeautyBusiness",
                "name": office.practice,
                "address": self.address(office),
                "telephone": _phone(office.phone, self.rng.choice((0, 0, 4))),
                "geo": {
                    "@type": "GeoCoordinates",
                    "latitude": round(office.lat, 5),
                    "longitude": round(office.lon, 5),
                },
            }
            if listing.rating:
                value, count = listing.rating
                practice["aggregateRating"] = {
                    "@type": "AggregateRating",
                    "ratingValue": value,
                    "reviewCount": count,
                    "bestRating": 5,
                }
            node["worksFor"] = practice
        else:
            node["address"] = self.address(office)
            node["telephone"] = _phone(office.phone, self.rng.choice((0, 0, 4)))
        if credentials:
            node["hasCredential"] = credentials if len(credentials) > 1 else credentials[0]
        if listing.show_npi and person.npi:
            node["identifier"] = {
                "@type": "PropertyValue",
                "propertyID": "NPI",
                "value": person.npi,
            }
        node["knowsAbout"] = person.modalities
        return node

    def profile(self, listing: Listing, city_page: str) -> str:
        person, office = listing.person, listing.office
        credentials, shown = self.credentials(listing)
        node = self.person_node(listing, listing.path, credentials)
        if self.rng.random() < 0.7:
            data = {
                "@context": "https://schema.org",
                "@type": "ProfilePage",
                "url": listing.path,
                "mainEntity": node,
            }
        else:
            data = {"@context": "https://schema.org", **node}
        rating = ""
        if listing.rating and office.practice:
            rating = f'<p class="stars">{listing.rating[0]} / 5 ({listing.rating[1]} reviews)</p>'
        npi = f'<p class="npi">NPI {person.npi}</p>' if listing.show_npi and person.npi else ""
        practice = f'<p class="practice">{_e(office.practice)}</p>' if office.practice else ""
        body = (
            f'<nav><a href="/">Healers</a> &rsaquo; <a href="{_e(city_page)}">'
            f"{_e(office.city.name)}</a></nav>\n<main>\n<h1>{_e(listing.name)}</h1>\n{practice}\n"
            f"<address>{_e(_street(office, short=False, suite_style=0))}<br>"
            f"{_e(office.city.name)}, {office.city.state} {office.zip}</address>\n"
            f'<p>Call <a href="tel:+1{office.phone}">{_phone(office.phone, 0)}</a></p>\n'
            f"<h2>Credentials</h2>\n<ul>{''.join(f'<li>{_e(s)}</li>' for s in shown)}</ul>\n"
            f"{npi}\n{rating}\n<h2>Techniques</h2>\n<p>{_e(', '.join(person.modalities))}</p>\n"
            "</main>"
        )
        title = f"{listing.name} - Massage Therapist in {office.city.name}, {office.city.state}"
        return _page(f"{title} | Healers", _json_ld(data), body, canonical=listing.path)

    def write(self, root: Path, listings: list[Listing]) -> list[str]:
        used: set[str] = set()
        for listing in listings:
            slug = _slug(listing.name)
            candidate, n = slug, 1
            while candidate in used:
                n += 1
                candidate = f"{slug}-{n}"
            used.add(candidate)
            listing.path = f"/p/{candidate}.html"
        by_city: dict[tuple[str, str], list[Listing]] = defaultdict(list)
        for listing in listings:
            by_city[(listing.office.city.state, listing.office.city.name)].append(listing)
        pages: list[str] = []
        city_links = []
        for (state, city), members in sorted(by_city.items()):
            members.sort(key=lambda x: (x.name.lower(), x.path))
            base = f"/massage/{state.lower()}/{_slug(city)}"
            chunks = [
                members[i : i + _PER_CITY_PAGE] for i in range(0, len(members), _PER_CITY_PAGE)
            ]
            urls = [f"{base}.html"] + [f"{base}-{n}.html" for n in range(2, len(chunks) + 1)]
            city_links.append(f'<li><a href="{urls[0]}">{_e(city)}, {state}</a></li>')
            for index, chunk in enumerate(chunks):
                for listing in chunk:
                    _write(root, listing.path, self.profile(listing, urls[0]))
                    pages.append(listing.path)
                items = [
                    {"@type": "ListItem", "position": i + 1, "url": x.path, "name": x.name}
                    for i, x in enumerate(chunk)
                ]
                head = _json_ld(
                    {
                        "@context": "https://schema.org",
                        "@type": "ItemList",
                        "itemListElement": items,
                    }
                )
                rows = "".join(
                    f'<li><a href="{x.path}">{_e(x.name)}</a> &middot; '
                    f"{_e(x.office.practice or 'Independent practice')}</li>"
                    for x in chunk
                )
                nav = ""
                if index + 1 < len(urls):
                    nav = f'<a rel="next" href="{urls[index + 1]}">Next page</a>'
                body = f"<h1>Massage therapists in {_e(city)}, {state}</h1>\n<ul>{rows}</ul>\n{nav}"
                _write(root, urls[index], _page(f"{city} massage therapists | Healers", head, body))
                pages.append(urls[index])
        home = f"<h1>Healers</h1>\n<p>Find a massage therapist.</p>\n<ul>{''.join(city_links)}</ul>"
        _write(root, "/", _page("Healers: find a massage therapist", "", home))
        _write(root, "/sitemap.xml", _urlset(["/", *pages]))
        _write(root, "/robots.txt", f"User-agent: *\nAllow: /\n\nSitemap: {ORIGIN}/sitemap.xml\n")
        return pages


def _cert_node(cert: Certification) -> dict[str, Any]:
    return {
        "@type": "EducationalOccupationalCredential",
        "credentialCategory": "certification",
        "name": _CERT_NAMES[cert.short],
        "alternateName": cert.short,
        "identifier": cert.number,
        "recognizedBy": {
            "@type": "Organization",
            "name": "National Certification Board for Therapeutic Massage & Bodywork",
        },
    }


def _urlset(paths: Iterable[str]) -> str:
    entries = "".join(
        f"<url><loc>{html.escape(ORIGIN + p)}</loc><lastmod>{_LASTMOD.format(1 + i % 9)}"
        "</lastmod></url>\n"
        for i, p in enumerate(paths)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{entries}</urlset>\n"
    )


# -- bodyworkers: microdata --------------------------------------------------------------------


class _Bodyworkers:
    name = "bodyworkers"

    def __init__(self, population: Population, rng: random.Random) -> None:
        self.population = population
        self.rng = rng

    def address(self, office: Office) -> str:
        zip_code = office.zip
        if self.rng.random() < 0.15:
            zip_code += f"-{self.rng.randrange(1000, 10000)}"
        street = _street(office, short=True, suite_style=self.rng.choice((1, 2)))
        if office.suite and self.rng.random() < 0.2:  # the suite left out
            street = _street(office, short=True, suite_style=1).rsplit(" Ste ", 1)[0]
        return (
            '<div itemprop="address" itemscope itemtype="https://schema.org/PostalAddress">'
            f'<span itemprop="streetAddress">{_e(street)}</span><br>'
            f'<span itemprop="addressLocality">{_e(office.city.name)}</span>, '
            f'<span itemprop="addressRegion">{office.city.state}</span> '
            f'<span itemprop="postalCode">{zip_code}</span></div>'
        )

    def geo(self, office: Office) -> str:
        return (
            '<span itemprop="geo" itemscope itemtype="https://schema.org/GeoCoordinates">'
            f'<meta itemprop="latitude" content="{office.lat:.4f}">'
            f'<meta itemprop="longitude" content="{office.lon:.4f}"></span>'
        )

    def telephone(self, office: Office) -> str:
        shown = _phone(office.phone, self.rng.choice((1, 2, 2)))
        if self.rng.random() < 0.3:
            return f'<a itemprop="telephone" href="tel:+1{office.phone}">{shown}</a>'
        return f'<span itemprop="telephone">{shown}</span>'

    def credentials(self, listing: Listing) -> str:
        person = listing.person
        rules = self.population.states[person.city.state]
        items = []
        credential = 'itemprop="hasCredential" itemscope itemtype="https://schema.org/EducationalOccupationalCredential"'
        if listing.license == "state":
            items.append(
                f"<li {credential}>"
                '<span itemprop="name">Licensed Massage Therapist</span> &ndash; '
                '<span itemprop="validIn" itemscope itemtype="https://schema.org/State">'
                f'<span itemprop="name">{rules.code}</span></span> license '
                f'#<span itemprop="identifier">{_e(person.license)}</span>'
                '<meta itemprop="credentialCategory" content="license"></li>'
            )
        elif listing.license == "stateless":
            number = _license_text(listing, rules, self.rng)
            label = self.rng.choice(("LMT", "License"))
            items.append(
                f'<li {credential}><span itemprop="name">{label}</span> '
                f'#<span itemprop="identifier">{_e(number)}</span></li>'
            )
        if listing.show_cert and person.cert is not None:
            cert = person.cert
            items.append(
                f'<li {credential}><span itemprop="name">{_e(_CERT_NAMES[cert.short])}</span> '
                f'(<span itemprop="alternateName">{cert.short}</span>) '
                f'#<span itemprop="identifier">{cert.number}</span>'
                '<meta itemprop="credentialCategory" content="certification"></li>'
            )
        return f'<ul class="credentials">{"".join(items)}</ul>' if items else ""

    def npi(self, listing: Listing) -> str:
        npi = listing.person.npi
        if not (listing.show_npi and npi):
            return ""
        if self.rng.random() < 0.5:
            return f'<p class="npi">NPI: {npi}</p>'
        return (
            '<p class="npi">NPI: <span itemprop="identifier" itemscope '
            'itemtype="https://schema.org/PropertyValue">'
            f'<meta itemprop="propertyID" content="NPI"><span itemprop="value">{npi}</span>'
            "</span></p>"
        )

    def member(self, listing: Listing, directory: str) -> str:
        person, office = listing.person, listing.office
        suffix = ", ".join(
            ["LMT"] + ([person.cert.short] if listing.show_cert and person.cert else [])
        )
        if listing.as_business:
            value, count = listing.rating or (5.0, 1)
            item = (
                '<div class="member" itemscope itemtype="https://schema.org/HealthAndBeautyBusiness">'
                f'<h1 itemprop="name">{_e(listing.name)}, {suffix}</h1>\n'
                f"{self.address(office)}\n{self.geo(office)}\n"
                f"<p>Phone: {self.telephone(office)}</p>\n"
                f"{self.credentials(listing)}\n{self.npi(listing)}\n"
                '<p itemprop="aggregateRating" itemscope itemtype="https://schema.org/AggregateRating">'
                f'Rated <span itemprop="ratingValue">{value}</span>/5 by '
                f'<span itemprop="reviewCount">{count}</span> clients</p></div>'
            )
        else:
            if self.rng.random() < 0.6:
                place_name = (
                    f'<span itemprop="name">{_e(office.practice)}</span><br>'
                    if office.practice
                    else ""
                )
                where = (
                    '<div class="office" itemprop="workLocation" itemscope '
                    'itemtype="https://schema.org/Place">'
                    f"{place_name}{self.address(office)}{self.geo(office)}</div>"
                )
            else:
                where = self.address(office)
            works_for = ""
            if office.practice:
                works_for = (
                    '<p>Practice: <span itemprop="worksFor" itemscope '
                    'itemtype="https://schema.org/HealthAndBeautyBusiness">'
                    f'<span itemprop="name">{_e(office.practice)}</span></span></p>'
                )
            specialties = ", ".join(
                f'<span itemprop="knowsAbout">{_e(m)}</span>' for m in person.modalities
            )
            item = (
                '<div class="member" itemscope itemtype="https://schema.org/Person">'
                f'<h1><span itemprop="name">{_e(listing.name)}</span> '
                f'<small itemprop="honorificSuffix">{suffix}</small></h1>\n'
                '<p itemprop="jobTitle">Massage Therapist</p>\n'
                f"{works_for}\n{where}\n<p>Phone: {self.telephone(office)}</p>\n"
                f"{self.credentials(listing)}\n{self.npi(listing)}\n"
                f"<p>Specialties: {specialties}</p>"
                "</div>"
            )
        body = (
            f'<p class="crumbs"><a href="/">Bodyworkers</a> / '
            f'<a href="{_e(directory)}">{office.city.state}</a></p>\n{item}'
        )
        title = f"{listing.name} | Bodyworkers member directory"
        return _page(title, "", body, canonical=listing.path)

    def write(self, root: Path, listings: list[Listing]) -> list[str]:
        ids = self.rng.sample(range(1000, 60000), len(listings))
        for listing, member_id in zip(listings, ids, strict=True):
            listing.path = f"/member.php?id={member_id}"
        by_state: dict[str, list[Listing]] = defaultdict(list)
        for listing in listings:
            by_state[listing.office.city.state].append(listing)
        members: list[str] = []
        directories: list[str] = []
        links = []
        for state, group in sorted(by_state.items()):
            group.sort(key=lambda x: (x.office.city.name, x.surname, x.name))
            chunks = [group[i : i + _PER_STATE_PAGE] for i in range(0, len(group), _PER_STATE_PAGE)]
            base = f"/directory.php?state={state.lower()}"
            urls = [base] + [f"{base}&page={n}" for n in range(2, len(chunks) + 1)]
            links.append(f'<li><a href="{_e(urls[0])}">{state}</a></li>')
            for index, chunk in enumerate(chunks):
                for listing in chunk:
                    _write(root, listing.path, self.member(listing, urls[0]))
                    members.append(listing.path)
                rows = "".join(
                    f'<tr><td><a href="{_e(x.path)}">{_e(x.name)}</a></td>'
                    f"<td>{_e(x.office.city.name)}</td></tr>"
                    for x in chunk
                )
                nav = ""
                if index + 1 < len(urls):
                    nav = f'<p><a rel="next" href="{_e(urls[index + 1])}">more &raquo;</a></p>'
                body = f"<h1>Members in {state}</h1>\n<table>{rows}</table>\n{nav}"
                _write(root, urls[index], _page(f"Bodyworkers in {state}", "", body))
                directories.append(urls[index])
        home = f"<h1>Bodyworkers member directory</h1>\n<ul>{''.join(links)}</ul>"
        _write(root, "/", _page("Bodyworkers", "", home))
        _write(root, "/sitemap-members.xml", _urlset(members))
        _write(root, "/sitemap-directory.xml", _urlset(["/", *directories]))
        index = "".join(
            f"<sitemap><loc>{ORIGIN}{p}</loc></sitemap>\n"
            for p in ("/sitemap-members.xml", "/sitemap-directory.xml")
        )
        _write(
            root,
            "/sitemap.xml",
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            f"{index}</sitemapindex>\n",
        )
        _write(root, "/robots.txt", f"User-agent: *\nDisallow:\n\nSitemap: {ORIGIN}/sitemap.xml\n")
        return members + directories


def render_sites(population: Population, out_dir: Path, seed: int) -> dict[str, list[str]]:
    """Write both sites under ``out_dir/<site>/``; return each site's page paths.

    Every listing's ``path`` is set here. Rendering choices (phone formats, JSON-LD shape...)
    come from their own generator seeded from ``seed``.
    """
    rng = random.Random(seed * 7919 + 1)
    listings = population.listings()
    pages: dict[str, list[str]] = {}
    for site in (_Healers(population, rng), _Bodyworkers(population, rng)):
        own = [x for x in listings if x.site == site.name]
        pages[site.name] = site.write(out_dir / site.name, own)
    return pages
