"""``python -m tdir.lifeline [--log FILE] -- ARGS``: ``tdir ARGS`` holding a lifeline on its
stdin, so that it stops when the process that started it dies (see
:mod:`crawler.scheduling.lifeline`, whose :func:`~crawler.scheduling.lifeline.command` builds
this command line)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from crawler.scheduling.lifeline import hold
from tdir.cli import main as tdir_main


def main(argv: Sequence[str] | None = None) -> int:
    """Hold the lifeline on stdin, then run ``tdir`` with the rest of the arguments."""
    parser = argparse.ArgumentParser(prog="python -m tdir.lifeline")
    parser.add_argument("--log", help="where the child's output goes once nobody reads it")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="-- then tdir's arguments")
    options = parser.parse_args(argv)
    args = options.args[1:] if options.args[:1] == ["--"] else options.args
    hold(sys.stdin.fileno(), options.log)
    return tdir_main(args)


if __name__ == "__main__":
    sys.exit(main())
