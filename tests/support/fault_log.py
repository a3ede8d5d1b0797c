"""What a crawl of a faulty demo web should have counted, read from the server's request log."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any


def failed_for_good(log: Iterable[dict[str, Any]]) -> Counter[str]:
    """The error kind of every URL (per site) whose last request failed, as a crawl counts it."""
    last: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in log:
        key = (entry["site"], entry["path"])
        if entry["attempt"] >= last.get(key, {"attempt": 0})["attempt"]:
            last[key] = entry
    return Counter(kind for kind in map(error_kind, last.values()) if kind)


def error_kind(entry: dict[str, Any]) -> str | None:
    """The error kind a crawl gives a request that ended as its log entry says."""
    fault = entry["fault"]
    if fault == "stall":
        return "download/timeout"
    if fault == "reset":
        return "download/connection-lost"
    if fault == "truncate" and entry["variant"] == "short":
        return "download/cut-short"
    if entry["status"] is not None and entry["status"] >= 400:
        return f"http/{entry['status']}"
    return None
