""" "Use my location": the browser's own position, asked for only when the visitor clicks.

The browser asks the visitor's consent before it tells a page where it is; tdir asks only on a
click, sends the position nowhere but to this dashboard, and keeps it only as the search's
"lat,lon" (rounded to about 100 m, which is all a search within miles needs). A refusal or a
browser without geolocation is said in words under the button.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeGuard

import streamlit as st

# Three decimals of a degree: about 100 m, plenty for a search within miles.
_DECIMALS = 3

_LOCATE = st.components.v2.component(
    "tdir_my_location",
    html="""<button type="button" class="locate"><svg aria-hidden="true" viewBox="0 0 24 24">
<path d="M12 8a4 4 0 1 0 0 8 4 4 0 0 0 0-8zm8.94 3A9 9 0 0 0 13 3.06V1h-2v2.06A9 9 0 0 0
 3.06 11H1v2h2.06A9 9 0 0 0 11 20.94V23h2v-2.06A9 9 0 0 0 20.94 13H23v-2h-2.06zM12 19a7 7 0 1
 1 0-14 7 7 0 0 1 0 14z"/>
</svg> Use my location</button>
<div class="note" role="status"></div>""",
    css="""
.locate { border: none; background: none; padding: 0.1rem 0; cursor: pointer;
  color: var(--st-primary-color); font: inherit; font-size: 0.875rem;
  display: inline-flex; align-items: center; gap: 0.3rem; }
.locate svg { width: 1rem; height: 1rem; fill: currentColor; }
.locate:hover, .locate:focus-visible { text-decoration: underline; }
.locate[disabled] { color: var(--st-text-color); opacity: 0.6; cursor: progress; }
.note { font-size: 0.8rem; opacity: 0.75; }
""",
    js="""
export default function ({ parentElement, setTriggerValue }) {
  const button = parentElement.querySelector("button.locate");
  const note = parentElement.querySelector(".note");
  button.onclick = () => {
    if (!navigator.geolocation) {
      note.textContent = "This browser cannot share its location: type a ZIP or a city.";
      return;
    }
    button.disabled = true;
    note.textContent = "Asking your browser where you are…";
    navigator.geolocation.getCurrentPosition(
      (found) => {
        button.disabled = false;
        note.textContent = "";
        setTriggerValue("position", {
          lat: found.coords.latitude, lon: found.coords.longitude,
        });
      },
      (failed) => {
        button.disabled = false;
        note.textContent = failed.code === 1
          ? "Location not shared: type a ZIP or a city instead."
          : "Your location could not be found: type a ZIP or a city instead.";
      },
      { enableHighAccuracy: false, timeout: 15000, maximumAge: 600000 },
    );
  };
}
""",
)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def position_text(position: Any) -> str | None:
    """The "lat,lon" a search takes from the browser's position, or None if it is not one."""
    if not isinstance(position, dict):
        return None
    lat, lon = position.get("lat"), position.get("lon")
    if not (_is_number(lat) and _is_number(lon)):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return f"{round(lat, _DECIMALS)},{round(lon, _DECIMALS)}"


def use_my_location(key: str, on_position: Callable[[str], None]) -> None:
    """Draw the button; when the browser gives a position, call ``on_position("lat,lon")``
    before the rerun it causes."""

    def taken() -> None:
        result = st.session_state.get(key)
        position = getattr(result, "position", None)
        if position is None and isinstance(result, dict):
            position = result.get("position")
        text = position_text(position)
        if text is not None:
            on_position(text)

    _LOCATE(key=key, on_position_change=taken)
