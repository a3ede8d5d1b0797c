"""Make ``AppTest`` hold a multiselect's choice the way a browser does.

A browser keeps a multiselect's choice as the labels it displayed when the client picked
("Neuromuscular therapy (9)") and sends those same strings back on every rerun, until the
server sends it new ones (``set_value`` with ``raw_values``). ``AppTest`` instead formats the
chosen values afresh on every run, so it never sends a label that has gone stale — and never
meets the bug where a changed count turned a stale label into the filter's value. With
``BrowserSelections`` it does.
"""

from __future__ import annotations

from typing import Any

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Multiselect


class BrowserSelections:
    """The labels a browser holds for each multiselect the client picked in, by widget key."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.held: dict[str, list[str]] = {}
        original = Multiselect._widget_state
        held = self.held

        def widget_state(widget: Multiselect[Any]) -> WidgetState:
            state: WidgetState = original.fget(widget)  # type: ignore[attr-defined]
            if widget.key in held:
                state.string_array_value.data[:] = held[str(widget.key)]
            return state

        monkeypatch.setattr(Multiselect, "_widget_state", property(widget_state))

    def pick(self, at: AppTest, key: str, ids: list[str]) -> None:
        """Choose these option ids, held by the labels the page shows for them right now."""
        widget = at.multiselect(key=key)
        # The widget's format_func is the last run's: it gives the labels now on screen.
        self.held[key] = [str(widget.format_func(i)) for i in ids]
        assert all(label in widget.options for label in self.held[key]), self.held[key]
        widget.set_value(ids)

    def run(self, at: AppTest) -> AppTest:
        """Run the app, then take up any labels the server sent for the held widgets."""
        at.run()
        for key in self.held:
            widget = at.multiselect(key=key)
            if widget.proto.set_value:
                self.held[key] = list(widget.proto.raw_values)
        return at
