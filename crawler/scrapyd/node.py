"""A Scrapyd node run by ``tdir scrapyd serve``: Scrapyd itself, configured to keep its files in
a directory of the data directory rather than wherever it was started.

Scrapyd reads ``scrapyd.conf`` from its working directory, and its eggs, logs and queue
databases default to directories relative to it; so the node runs in its own directory
(``$TDIR_HOME/scrapyd/node`` by default) holding a ``scrapyd.conf`` written at each start.
Items are not kept by Scrapyd: each crawl writes its records into its run directory.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class NodeConfig:
    """How a node listens and how many crawls it runs at once."""

    directory: Path  # scrapyd.conf, eggs/, logs/, dbs/
    bind: str = "127.0.0.1"
    port: int = 6800
    max_proc: int = 0  # 0: Scrapyd's own default, four per CPU
    poll_seconds: float = 1.0  # how soon a queued job starts
    logs_kept: int = 50  # per spider, i.e. the last crawls of every source

    def text(self) -> str:
        """The ``scrapyd.conf`` of this node."""
        return (
            "# Written by `tdir scrapyd serve` at each start; edits are lost.\n"
            "[scrapyd]\n"
            f"bind_address = {self.bind}\n"
            f"http_port = {self.port}\n"
            f"eggs_dir = {self.directory / 'eggs'}\n"
            f"logs_dir = {self.directory / 'logs'}\n"
            "items_dir =\n"
            f"dbs_dir = {self.directory / 'dbs'}\n"
            f"jobs_to_keep = {self.logs_kept}\n"
            f"max_proc = {self.max_proc}\n"
            f"poll_interval = {self.poll_seconds:g}\n"
        )


def write_config(config: NodeConfig) -> Path:
    """Write the node's ``scrapyd.conf`` into its directory; return the file."""
    config.directory.mkdir(parents=True, exist_ok=True)
    path = config.directory / "scrapyd.conf"
    path.write_text(config.text(), encoding="utf-8")
    return path


def serve(config: NodeConfig) -> None:
    """Become the Scrapyd node: write its configuration, then replace this process with
    Scrapyd run in the node's directory (so signals reach Scrapyd itself). Never returns."""
    write_config(config)
    os.chdir(config.directory)
    # No pid file: one left behind by a stopped container would keep the node from restarting.
    os.execv(sys.executable, [sys.executable, "-m", "scrapyd", "--pidfile="])
