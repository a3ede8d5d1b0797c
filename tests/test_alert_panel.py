"""The admin alert panel knows every kind of alert the freshness checks raise."""

from __future__ import annotations

from typing import get_args

from dashboard.alert_panel import ORDER, STYLES
from indexer.freshness import AlertKind


def test_every_alert_kind_has_a_style_advice_and_a_rank() -> None:
    kinds = set(get_args(AlertKind))
    assert kinds <= set(STYLES), f"no style for {sorted(kinds - set(STYLES))}"
    assert kinds <= set(ORDER), f"no rank for {sorted(kinds - set(ORDER))}"
    assert all(style.advice for style in STYLES.values())
