"""What every official API's answer has in common: a JSON body, or a problem it reports.

An API says in its own words that a call was refused; each provider's module reads its error
body into an :class:`ApiProblem` of one of four kinds, which is all a spider has to act on:

- ``rate``: too many calls in a short window; wait and ask again;
- ``quota``: the day's quota is spent; stop, keep everything, resume after it resets;
- ``key``: the key is missing or refused; stop at once, naming where the key comes from;
- ``error``: this one call was wrong or its object is gone (a 400, a 404); count it, go on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from crawler.items import Provenance, Rating, Review, stable_id

ProblemKind = Literal["rate", "quota", "key", "error"]


class ApiAnswerError(ValueError):
    """An answer that is not the JSON the API documents."""


@dataclass(frozen=True, slots=True)
class ApiProblem:
    """A call the API refused or could not answer, in the API's own words."""

    kind: ProblemKind
    status: int
    code: str  # the API's error code: "ACCESS_LIMIT_REACHED", "RESOURCE_EXHAUSTED"...
    message: str

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


def json_object(body: bytes, what: str) -> dict[str, Any]:
    """The JSON object an answer holds; ApiAnswerError naming ``what`` if it holds none."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiAnswerError(f"{what}: the answer is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ApiAnswerError(f"{what}: expected a JSON object, got {type(data).__name__}")
    return data


def without_tracking(url: str, tracking: tuple[str, ...]) -> str:
    """``url`` without the query parameters that only track where a click came from."""
    parts = urlsplit(url)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.startswith(tracking)
    ]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def number(value: Any) -> float | None:
    """A JSON number as a float (None for anything else, booleans included)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def mapping(value: Any) -> dict[str, Any]:
    """A JSON object, or an empty one for anything else (a field the answer left out)."""
    return value if isinstance(value, dict) else {}


def provider_review(
    provenance: Provenance,
    listing_ref: str,
    *,
    provider_id: str,
    author: Any,
    rating: Any,
    published: Any,
    body: Any,
    page_url: Any,
    author_url: Any,
) -> Review:
    """A review as a provider's API gives it (its id, a 1-5 star rating, the links to the review
    and its author that the provider's display terms ask for)."""
    value = number(rating)
    return Review(
        id=stable_id(provenance.source, f"review:{provider_id}"),
        provenance=provenance,
        listing_ref=listing_ref,
        author_raw=author,
        rating=Rating(raw=str(rating), value=value, best=5.0, worst=1.0)
        if value is not None
        else None,
        published_raw=published,
        body=body,
        extras={"provider_id": provider_id, "page_url": page_url, "author_url": author_url},
    )
