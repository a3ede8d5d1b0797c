"""Typed access to the data files under ``crawler/demoweb/data``.

Everything the population and the sites draw from (names, metros, streets, licensing rules, review
phrases, spellings) lives in those files; this module loads each one once and hands out immutable
views of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml


def _load_yaml(name: str) -> Any:
    return yaml.safe_load(read_text(name))


def read_text(name: str) -> str:
    """Return the text of a file under the data directory (e.g. ``styles/atlas.css``)."""
    return (
        resources.files("crawler.demoweb")
        .joinpath("data")
        .joinpath(name)
        .read_text(encoding="utf-8")
    )


@dataclass(frozen=True, slots=True)
class Metro:
    """A metro area: its principal cities and their shares of the metro's practices."""

    id: str
    name: str
    state: str
    weight: float
    cities: tuple[tuple[str, float], ...]


@dataclass(frozen=True, slots=True)
class StateLicensing:
    """How one state licenses massage therapists."""

    state: str
    state_name: str
    title: str
    credential: str
    board: str
    number_format: str
    term_years: int

    @property
    def digits(self) -> int:
        """How many digits the state's number format holds."""
        return self.number_format.count("#")


@cache
def metros() -> tuple[Metro, ...]:
    """Return the metro areas the population is spread over, in file order."""
    raw = _load_yaml("metros.yaml")["metros"]
    return tuple(
        Metro(
            id=m["id"],
            name=m["name"],
            state=m["state"],
            weight=float(m["weight"]),
            cities=tuple((city, float(w)) for city, w in m["cities"].items()),
        )
        for m in raw
    )


@cache
def names() -> dict[str, tuple[str, ...]]:
    """Return the name lists: ``female``, ``male`` and ``last``."""
    raw = _load_yaml("names.yaml")
    return {key: tuple(values) for key, values in raw.items()}


@cache
def streets() -> dict[str, Any]:
    """Return street names, suffixes, directions and unit spellings."""
    return _load_yaml("streets.yaml")


@cache
def licensing() -> dict[str, Any]:
    """Return the raw licensing file (status weights, board certification, NMT programs)."""
    return _load_yaml("licensing.yaml")


@cache
def state_licensing() -> dict[str, StateLicensing | None]:
    """Return each state's licensing rules; ``None`` for a state that issues no license."""
    out: dict[str, StateLicensing | None] = {}
    for state, rule in licensing()["states"].items():
        if rule is None:
            out[state] = None
            continue
        out[state] = StateLicensing(
            state=state,
            state_name=rule["state_name"],
            title=rule["title"],
            credential=rule["credential"],
            board=rule["board"],
            number_format=rule["number"],
            term_years=int(rule["term_years"]),
        )
    return out


@cache
def practices() -> dict[str, Any]:
    """Return the practice-name patterns and word lists."""
    return _load_yaml("practices.yaml")


@cache
def spellings() -> dict[str, Any]:
    """Return display spellings of modalities, conditions and credentials, and modality rates."""
    return _load_yaml("spellings.yaml")


@cache
def review_phrases() -> dict[str, Any]:
    """Return the review building blocks by rating band and the reviewer-name styles."""
    return _load_yaml("reviews.yaml")


@cache
def site_profiles() -> dict[str, Any]:
    """Return how the population shows up on each directory site (presence, duplicates, defects)."""
    return _load_yaml("sites.yaml")


@cache
def state_names() -> dict[str, str]:
    """Return the full name of each state a metro lies in, by postal abbreviation."""
    return dict(_load_yaml("metros.yaml")["states"])
