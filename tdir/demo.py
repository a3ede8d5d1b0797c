"""``tdir demo``: build the index from the built-in sample and serve the dashboard on it."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from tqdm import tqdm

from indexer.search import open_backend
from tdir.config import Settings

DASHBOARD = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``demo`` subcommand."""
    demo = commands.add_parser(
        "demo",
        help="index the built-in sample and serve the dashboard",
        description="Build the search index from the built-in sample of therapist profiles "
        "(atomically replacing what the configured backend holds), then serve the dashboard.",
    )
    demo.add_argument("--port", type=int, default=8501, help="dashboard port (default 8501)")
    demo.add_argument("--no-serve", action="store_true", help="build the index and stop")
    demo.set_defaults(handler=run_demo)


def sample_profiles() -> list[dict[str, Any]]:
    """Return the built-in sample profiles."""
    text = resources.files("indexer").joinpath("data/sample_profiles.json").read_text("utf-8")
    return json.loads(text)["profiles"]


def run_demo(args: argparse.Namespace) -> int:
    """Index the sample, print a summary, and serve the dashboard until interrupted."""
    settings = Settings.from_env()
    profiles = sample_profiles()
    backend = open_backend(settings)
    try:
        written = backend.rebuild(tqdm(profiles, desc="indexing", unit="profile"))
        total = backend.count()
    finally:
        backend.close()
    where = settings.sqlite_path if settings.backend == "sqlite" else settings.es_url
    print(f"Indexed {written} profiles into {settings.backend} ({where}); {total} in the index.")
    if args.no_serve:
        return 0
    url = f"http://127.0.0.1:{args.port}"
    print(f"Dashboard: {url}  (Ctrl+C to stop)", flush=True)
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(DASHBOARD),
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(args.port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    return subprocess.call(command, env=os.environ.copy())
