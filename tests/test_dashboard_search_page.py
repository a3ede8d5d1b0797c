"""The search page through Streamlit's own app testing, on a real index file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from indexer.search.sqlite_backend import SqliteBackend

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, contract_data: dict[str, Any]) -> AppTest:
    backend = SqliteBackend(tmp_path / "index.sqlite3")
    backend.rebuild(contract_data["profiles"])
    backend.close()
    monkeypatch.setenv("TDIR_HOME", str(tmp_path))
    monkeypatch.delenv("TDIR_ES_URL", raising=False)
    monkeypatch.delenv("TDIR_BACKEND", raising=False)
    at = AppTest.from_file(APP, default_timeout=30)
    return at


def test_search_near_a_zip_lists_the_nearby_therapists(app: AppTest) -> None:
    app.query_params["near"] = "78704"
    app.query_params["radius"] = "5"
    app.query_params["sort"] = "distance"
    app.run()
    assert not app.exception
    assert app.subheader[0].value == "3 therapists"
    names = list(app.dataframe[0].value["Name"])
    # From 78704's centroid (30.2428, -97.7658): p01 ~3.2 km, p10 ~5.4 km, p02 ~6.6 km.
    assert names == ["Jane A. Doe", "Emily Nguyen", "Maria Garcia"]


def test_an_unknown_place_says_so(app: AppTest) -> None:
    app.query_params["near"] = "00000"
    app.run()
    assert not app.exception
    assert "not a known US ZIP code" in app.error[0].value


def test_an_empty_result_suggests_widening(app: AppTest) -> None:
    app.query_params["near"] = "78704"
    app.query_params["radius"] = "1"
    app.run()
    assert "wider radius" in app.info[0].value
