"""Helpers for driving the dashboard with Streamlit's ``AppTest`` against either backend."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.markup import WORD_JOINER

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
SEARCH = "app_pages/search.py"
PROFILE = "app_pages/profile.py"
COMPARE = "app_pages/compare.py"
SIGN_IN = "app_pages/sign_in.py"
ADMIN_SOURCES = "app_pages/admin_sources.py"
ADMIN_FLAGGED = "app_pages/admin_flagged.py"
ADMIN_CORRECTIONS = "app_pages/admin_corrections.py"
# Markdown-interpreting elements: whatever they hold must not be raw crawled text.
MARKDOWN_ELEMENTS = (
    "markdown",
    "caption",
    "title",
    "header",
    "subheader",
    "error",
    "warning",
    "info",
    "success",
)


def point_app_at(
    backend: Any,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    """Configure the environment so the dashboard reads ``backend``'s index."""
    for name in ("TDIR_ES_URL", "TDIR_ES_INDEX", "TDIR_SQLITE_PATH", "TDIR_ADMIN_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TDIR_HOME", str(home))
    if backend.name == "elasticsearch":
        monkeypatch.setenv("TDIR_BACKEND", "elasticsearch")
        monkeypatch.setenv("TDIR_ES_URL", request.getfixturevalue("es_url"))
        monkeypatch.setenv("TDIR_ES_INDEX", backend.alias)
    else:
        monkeypatch.setenv("TDIR_BACKEND", "sqlite")
        monkeypatch.setenv("TDIR_SQLITE_PATH", str(backend.path))


def new_app() -> AppTest:
    """The dashboard's entry point, not run yet."""
    return AppTest.from_file(str(APP), default_timeout=60)


def open_page(
    page: str, params: dict[str, str | list[str]] | None = None, app: AppTest | None = None
) -> AppTest:
    """Run the app, switch to ``page`` with these query parameters, and run it again."""
    at = app or new_app()
    at.run()
    at.switch_page(page)
    at.query_params.clear()
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown(text: str) -> str:
    """What escaped markdown displays: the escapes and invisible joiners taken out."""
    out, escaped = [], False
    for char in text.replace(WORD_JOINER, ""):
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            out.append(char)
    return "".join(out)


def markdown_values(at: AppTest) -> list[str]:
    """The source of every markdown-interpreting element on the page."""
    values = []
    for kind in MARKDOWN_ELEMENTS:
        values += [str(e.value) for e in getattr(at, kind)]
    values += [str(m.label) for m in at.metric]
    return values


def all_elements(node: Any) -> Iterator[Any]:
    """Every element under a node, depth first."""
    for child in getattr(node, "children", {}).values():
        yield child
        yield from all_elements(child)


def card_names(at: AppTest) -> list[str]:
    """The therapist names of the result cards, in order (as displayed)."""
    return [shown(m.value[5:]) for m in at.markdown if m.value.startswith("#### ")]


def query_string_params(at: AppTest) -> dict[str, Any]:
    """The URL's query parameters after the last run."""
    return json.loads(json.dumps(at.query_params))
