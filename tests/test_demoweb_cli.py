"""The ``demo-web`` command: generate and mutate from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from crawler.demoweb.cli import main
from crawler.demoweb.truth import SUMMARY_NAME

ROOT = Path(__file__).resolve().parent.parent


def test_generate_and_mutate_commands(tmp_path: Path, capsys) -> None:
    assert (
        main(["generate", "--seed", "4", "--therapists", "40", "--out", str(tmp_path / "w")]) == 0
    )
    assert "40 therapists" in capsys.readouterr().out
    assert main(["mutate", "--data", str(tmp_path / "w"), "--out", str(tmp_path / "w1")]) == 0
    summary = json.loads((tmp_path / "w1" / SUMMARY_NAME).read_text())
    assert summary["generation"] == 1


def test_module_entry_point_runs(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "crawler.demoweb",
            "generate",
            "--therapists",
            "20",
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / SUMMARY_NAME).exists()
