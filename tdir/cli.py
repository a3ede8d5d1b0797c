"""The ``tdir`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, NoReturn

from crawler.catalog import CatalogError
from indexer.geo import DistanceUnit, GeoPoint, from_km, to_km
from indexer.geocode import Place, PlaceNotFoundError, geocode_place
from indexer.search import BackendError, QueryError, SearchQuery, SearchResult, open_backend
from indexer.search.query import (
    DEFAULT_RADIUS_MI,
    FLAG_KINDS,
    MAX_PAGE_SIZE,
    SortOrder,
    parse_distance,
)
from indexer.taxonomy import load_taxonomy
from tdir.config import ConfigError


class CommandError(Exception):
    """A user-facing failure: printed as ``tdir: error: ...`` with exit status 2."""


# Options of ``tdir search`` whose value may begin with "-": a western longitude or southern
# latitude, or a negative number to be refused by name.
_SIGNED_VALUE_OPTIONS = frozenset(
    {"--near", "--radius", "--min-rating", "--min-reviews", "--limit"}
)
# What a number option takes, said when its text is not a number.
_RATINGS = "a combined rating from 0 to 5, such as 4.5"
_REVIEWS = "a number of reviews, 0 or more"


class _SearchArgumentParser(argparse.ArgumentParser):
    """The parser of ``tdir search``: a usage error is one line, ``tdir: error: ...`` and exit
    status 2, like every other refusal of a search's input."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"tdir: error: {message} (see 'tdir search --help')\n")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Return the argument parser with every subcommand, or with ``search`` alone when that is
    the ``command`` to run: the others' modules load Scrapy, Twisted, dateparser or Streamlit,
    which a search never needs and would wait a second for."""
    # A search's subparser is made by the class of this one (``add_subparsers``' default).
    parser_class = _SearchArgumentParser if command == "search" else argparse.ArgumentParser
    parser = parser_class(
        prog="tdir",
        description="Find licensed massage and neuromuscular therapists; build and serve the "
        "directory.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_search(commands)
    if command == "search":
        return parser
    from crawler.cli import register as register_crawl
    from crawler.demoweb.cli import register as register_demo_web
    from crawler.scheduling.cli import register as register_schedule
    from crawler.scrapyd.cli import register as register_scrapyd
    from indexer.admin_cli import register as register_admin
    from indexer.cli import register as register_index
    from tdir.demo import register as register_demo

    register_crawl(commands)
    register_index(commands)
    register_demo_web(commands)
    register_demo(commands)
    register_schedule(commands)
    register_admin(commands)
    register_scrapyd(commands)
    return parser


def _add_search(commands: argparse._SubParsersAction) -> None:
    search = commands.add_parser(
        "search",
        help="search the index",
        description="Search therapists. Filters combine (AND). Modality, condition and credential "
        "names accept any spelling the taxonomy knows (e.g. NMT, neuro-muscular).",
    )
    search.add_argument("--text", default="", help="free text: names, practices, techniques")
    search.add_argument(
        "--near",
        help='where: a 5-digit ZIP ("78704"; a ZIP+4 such as "78704-1234" is read as its ZIP), '
        '"City, ST" or "LAT,LON"',
    )
    search.add_argument(
        "--radius",
        help=f'how far from --near: a number with mi or km, e.g. "10mi", "5 mi" or "15km" (a '
        f'number alone is in miles; default {DEFAULT_RADIUS_MI:g}mi); "any" for no limit',
    )
    search.add_argument("--modality", action="append", default=[], help="repeatable")
    search.add_argument("--condition", action="append", default=[], help="repeatable")
    search.add_argument("--credential", action="append", default=[], help="repeatable")
    search.add_argument(
        "--verified-only",
        action="store_true",
        help="only therapists with a license verified at the issuing board",
    )
    search.add_argument("--state", help="two-letter state code")
    search.add_argument("--min-rating", help="combined rating, 0-5 (e.g. 4.5)")
    search.add_argument("--min-reviews", help="a whole number of reviews, 0 or more")
    search.add_argument(
        "--flagged",
        action="append",
        default=[],
        choices=FLAG_KINDS,
        help="only profiles the indexer flagged this way (repeatable; admin review)",
    )
    search.add_argument("--sort", choices=[s.value for s in SortOrder], default="relevance")
    search.add_argument(
        "--limit", default="20", help=f"results per page (1-{MAX_PAGE_SIZE}; default 20)"
    )
    search.add_argument("--cursor", help="continue from a previous page's next_cursor")
    search.add_argument("--json", action="store_true", help="print the result as JSON")
    search.set_defaults(handler=run_search)


def run_search(args: argparse.Namespace) -> int:
    """Run ``tdir search``: print a table, or JSON with ``--json``."""
    near = None
    place_label = None
    if args.near is not None:  # an empty --near is an error, not "anywhere"
        try:
            place = geocode_place(args.near)
        except PlaceNotFoundError as exc:
            raise CommandError(f"near: {exc}") from None
        near, place_label = place.point, place.label
        if place.alternatives:
            print(_did_you_mean(args.near, place), file=sys.stderr)
    radius = _radius(args.radius, near is not None)
    query = _query(args, near, radius)
    backend = open_backend(must_exist=True)
    try:
        result = backend.search(query)
    finally:
        backend.close()
    if args.json:
        document = _result_json(result, place_label, radius)
        # One write: json.dump with an indent writes every token to the stream on its own.
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    else:
        _print_table(result, place_label, radius)
    return 0


def _query(args: argparse.Namespace, near: GeoPoint | None, radius: _Radius | None) -> SearchQuery:
    """The search the arguments ask for; the query model checks every value's range."""
    rating, reviews = args.min_rating, args.min_reviews
    try:
        return SearchQuery(
            text=args.text,
            near=near,
            radius_km=radius.km if radius else None,
            modalities=tuple(args.modality),
            conditions=tuple(args.condition),
            credentials=tuple(args.credential),
            verified_only=args.verified_only,
            state=args.state,
            min_rating=None if rating is None else _number(rating, "min_rating", _RATINGS),
            min_reviews=None
            if reviews is None
            else _whole_number(reviews, "min_reviews", _REVIEWS),
            flagged=tuple(args.flagged),
            sort=args.sort,
            page_size=_whole_number(args.limit, "limit", f"1 to {MAX_PAGE_SIZE} per page"),
            cursor=args.cursor,
        )
    except QueryError as exc:
        if exc.field == "page_size":  # what --limit sets: named as the user typed it
            raise QueryError("limit", exc.message) from None
        raise


def _number(text: str, field: str, accepted: str) -> float:
    """An option's number, e.g. "4.5"; QueryError naming the text if it is none."""
    try:
        return float(text)
    except ValueError:
        raise QueryError(field, f"{text!r} is not a number: use {accepted}") from None


def _whole_number(text: str, field: str, accepted: str) -> int:
    """An option's whole number, e.g. "20"; QueryError naming the text if it is none."""
    try:
        return int(text)
    except ValueError:
        raise QueryError(field, f"{text!r} is not a whole number: use {accepted}") from None


def _did_you_mean(typed: str, place: Place) -> str:
    """The note for a place name that several places share: which one was taken, and others."""
    shown = list(place.alternatives[:3])
    others = ", ".join(shown[:-1]) + f" or {shown[-1]}" if len(shown) > 1 else shown[0]
    more = " (or another)" if len(place.alternatives) > len(shown) else ""
    return (
        f"tdir: near: {typed.strip()!r} taken as {place.label}. Did you mean {others}{more}? "
        "Add the state to choose."
    )


@dataclass(frozen=True, slots=True)
class _Radius:
    """The radius a search used, and the unit to show it in (the one it was given in)."""

    km: float
    unit: DistanceUnit

    @property
    def mi(self) -> float:
        """The radius in miles."""
        return from_km(self.km, "mi")

    def __str__(self) -> str:
        return f"{from_km(self.km, self.unit):.6g} {self.unit}"


def _radius(text: str | None, has_place: bool) -> _Radius | None:
    """The radius of ``--radius``: 25 mi around a place unless given; "any" means none."""
    if text is not None and text.strip().lower() == "any":
        return None
    if text is None:
        return _Radius(to_km(DEFAULT_RADIUS_MI, "mi"), "mi") if has_place else None
    value, unit = parse_distance(text)
    if not has_place:
        raise QueryError(
            "radius",
            f"{text!r} needs a place to measure from: add --near with a ZIP code, "
            "'City, ST' or 'lat,lon'",
        )
    return _Radius(to_km(value, unit), unit)


def _result_json(
    result: SearchResult, place_label: str | None, radius: _Radius | None = None
) -> dict[str, Any]:
    return {
        "near": place_label,
        "radius_km": round(radius.km, 6) if radius else None,
        "radius_mi": round(radius.mi, 6) if radius else None,
        "total": result.total,
        "hits": [asdict(hit) for hit in result.hits],
        "facets": {k: {v.value: v.count for v in vs} for k, vs in result.facets.items()},
        "next_cursor": result.next_cursor,
    }


def _print_table(
    result: SearchResult, place_label: str | None, radius: _Radius | None = None
) -> None:
    taxonomy = load_taxonomy()
    where = ""
    if place_label:
        where = f" within {radius} of {place_label}" if radius else f" near {place_label}"
    print(f"{result.total} therapist{'s' if result.total != 1 else ''}{where}")
    for rank, hit in enumerate(result.hits, 1):
        profile = hit.profile
        combined = profile.rating.combined
        stars = f"{combined:.2f}" if combined is not None else "  - "
        distance = ""
        if hit.distance_km is not None:
            unit = radius.unit if radius is not None else "mi"  # the unit the radius was given in
            distance = f"{from_km(hit.distance_km, unit):6.1f} {unit}"
        # "verified" means one thing: a state board confirms an active license.
        badge = "verified" if profile.verification.license_verified else ""
        modalities = ", ".join(taxonomy.label("modality", m) for m in profile.modalities)
        print(
            f"{rank:3}. {profile.name:<28} {stars} ({profile.rating.review_count:>3})"
            f" {distance:>9}  {badge:<8} {modalities}"
        )
    if result.next_cursor:
        print(f"more: --cursor {result.next_cursor}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tdir`` console script."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = arguments[0] if arguments else None
    if command == "search":
        arguments = _values_attached(arguments)
    parser = build_parser(command)
    args = parser.parse_args(arguments)
    try:
        return args.handler(args)
    except (QueryError, CommandError, ConfigError, BackendError, CatalogError) as exc:
        print(f"tdir: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader (e.g. `head`) went away; nothing left to say.
        sys.stderr.close()
        return 0


def _values_attached(arguments: list[str]) -> list[str]:
    """The arguments with each signed option's value attached (``--radius=-5mi``): argparse
    reads a value that begins with "-" as an option, unless it is a plain negative number, and
    would refuse "-5mi" or "-33.9,151.2" with its usage instead of reading them."""
    attached: list[str] = []
    rest = iter(arguments)
    for argument in rest:
        value = next(rest, None) if argument in _SIGNED_VALUE_OPTIONS else None
        attached.append(argument if value is None else f"{argument}={value}")
    return attached


if __name__ == "__main__":
    sys.exit(main())
