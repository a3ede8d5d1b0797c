"""The audit log of admin actions: ``$TDIR_HOME/audit.jsonl``, one JSON object per line.

Each entry has ``at`` (UTC, ISO 8601), ``action`` (one of ``ACTIONS``), ``actor`` (the name the
admin signed in with, or the name typed at a failed sign-in), ``outcome`` (``ok``, ``failed``,
``refused``), ``detail`` (plain text) and ``client`` (the client address, when known). Entries
are appended with one write each, so concurrent sessions do not interleave lines. Every entry
also goes to the ``tdir.audit`` Python logger.
"""

from __future__ import annotations

import json
import logging
import re
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

Outcome = Literal["ok", "failed", "refused"]
ACTIONS = {
    "sign_in": "Signed in",
    "sign_in_failed": "Failed sign-in",
    "sign_out": "Signed out",
    "recrawl": "Recrawl",
    "schedule": "Schedule edit",
    "correction": "Correction",
    "correction_lifted": "Correction lifted",
    "removal": "Removal",
    "removal_lifted": "Removal lifted",
    "flag_resolved": "Flag resolved",
    "flag_dismissed": "Flag dismissed",
    "flag_reopened": "Flag reopened",
}
log = logging.getLogger("tdir.audit")
_ESCAPED = re.compile(r"\\(.)")


def audit_path(home: Path) -> Path:
    """The audit log of a data directory."""
    return home / "audit.jsonl"


def unescape(markdown: str) -> str:
    """Plain text from escaped markdown (backslash escapes taken out)."""
    return _ESCAPED.sub(r"\1", markdown).replace("\u2060", "")


def record(
    home: Path,
    action: str,
    actor: str | None,
    *,
    outcome: Outcome = "ok",
    detail: str = "",
    client: str | None = None,
) -> dict[str, Any]:
    """Append one entry to the audit log (and log it); return the entry."""
    entry = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "action": action,
        "actor": actor or "",
        "outcome": outcome,
        "detail": detail,
        "client": client,
    }
    level = logging.INFO if outcome == "ok" else logging.WARNING
    log.log(level, "admin %s by %r: %s %s", action, actor or "", outcome, detail)
    line = json.dumps(entry, ensure_ascii=False) + "\n"
    try:
        path = audit_path(home)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            out.write(line)
    except OSError:
        log.exception("could not write the audit log under %s", home)
    return entry


def entries(home: Path, limit: int = 500) -> list[dict[str, Any]]:
    """The last ``limit`` entries, newest first; unreadable lines are skipped."""
    kept: deque[dict[str, Any]] = deque(maxlen=limit)
    try:
        with audit_path(home).open(encoding="utf-8") as lines:
            for line in lines:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if isinstance(entry, dict):
                    kept.append(entry)
    except FileNotFoundError:
        return []
    return list(reversed(kept))
