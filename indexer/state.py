"""What was last written to a search backend: each profile's content hash, kept in a JSON file
per backend, so that an index update writes only what changed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tdir.config import Settings


def state_file(settings: Settings) -> Path:
    """Where the hashes of what was last written to the configured backend are kept."""
    target = (
        str(settings.sqlite_path.resolve())
        if settings.backend == "sqlite"
        else (f"{settings.es_url}/{settings.es_index}")
    )
    digest = hashlib.sha1(target.encode()).hexdigest()[:10]
    return settings.home / "index-state" / f"{settings.backend}-{digest}.json"


class IndexState:
    """What was last written to one backend (a JSON file): each profile's content hash and the
    ``last_confirmed`` it was written with."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.hashes: dict[str, str] = {}
        self.confirmed: dict[str, str] = {}
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data.get("hashes"), dict):
                self.hashes = data["hashes"]
                self.confirmed = data.get("confirmed", {})
            else:  # the earlier form: hashes only
                self.hashes = data

    def save(self) -> None:
        """Write the state atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        state = {"hashes": self.hashes, "confirmed": self.confirmed}
        tmp.write_text(json.dumps(state, sort_keys=True), encoding="utf-8")
        tmp.replace(self.path)
