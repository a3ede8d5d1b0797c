"""The crawler's Scrapy project egg, the unit Scrapyd deploys (``addversion.json``) and runs.

The egg holds the ``crawler`` and ``tdir`` packages, built with setuptools' ``bdist_egg`` from
the files of the packages this process imports (an installed release or a checkout alike), with
the ``scrapy`` entry point Scrapyd reads to find the project's settings module. Its version is a
hash of those files: the same code always gives the same version, so a node is sent an egg only
when it lacks the code the dispatcher runs, and a node can be asked which code it really runs.

Only code goes into the egg: a node needs tdir's dependencies installed beside Scrapyd.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tdir import __version__

PACKAGES = ("crawler", "tdir")
# Data a crawl reads besides code: the packaged catalog (the default when none is given).
PACKAGE_DATA = {"crawler": ("catalogs/*.yaml",)}
SETTINGS_MODULE = "crawler.scrapyd.settings"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")  # what Scrapyd's egg storage replaces in a version

_SETUP_PY = """\
from setuptools import setup

setup(
    name="tdir-crawler",
    version={version!r},
    packages={packages!r},
    package_data={package_data!r},
    entry_points={{"scrapy": ["settings = {settings}"]}},
    zip_safe=True,
)
"""


class EggBuildError(RuntimeError):
    """The egg could not be built; the message holds setuptools' own words."""


@dataclass(frozen=True)
class Egg:
    """A built egg and the version it is deployed as."""

    path: Path
    version: str


def package_directory(package: str) -> Path:
    """The directory (or the place inside an egg) the package is imported from."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EggBuildError(f"package {package!r} cannot be found")
    return Path(next(iter(spec.submodule_search_locations)))


def running_from_egg() -> bool:
    """True when the crawler is imported from a zipped egg rather than from files on disk."""
    return not package_directory("crawler").is_dir()


def package_files() -> list[tuple[str, Path]]:
    """Every file the egg holds: ``(path inside the egg, file on disk)``, sorted.

    Python modules of the packages and their listed data only, so that caches and stray files
    in a checkout neither go into the egg nor change its version.
    """
    files: dict[str, Path] = {}
    for package in PACKAGES:
        root = package_directory(package)
        if not root.is_dir():
            raise EggBuildError(f"package {package!r} is imported from {root}, not from files")
        chosen = [p for p in root.rglob("*.py") if "__pycache__" not in p.parts]
        for pattern in PACKAGE_DATA.get(package, ()):
            chosen.extend(root.glob(pattern))
        for path in chosen:
            if path.is_file():
                files[f"{package}/{path.relative_to(root).as_posix()}"] = path
    return sorted(files.items())


def code_version(files: list[tuple[str, Path]] | None = None) -> str:
    """The version of the code in ``files`` (default: :func:`package_files`), as Scrapyd
    stores it: tdir's version and a hash of every file's path and content, e.g.
    ``0_1_0-3fa9c2d41b7e``."""
    digest = hashlib.sha256()
    for name, path in package_files() if files is None else files:
        digest.update(name.encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return _UNSAFE.sub("_", f"{__version__}-{digest.hexdigest()[:12]}")


def build_egg(directory: Path) -> Egg:
    """Build the egg of the code this process imports into ``directory`` (kept there, named by
    its version, and reused while the code is the same); return it. EggBuildError if
    setuptools fails."""
    files = package_files()
    version = code_version(files)
    target = directory / f"tdir-{version}.egg"
    if target.exists():
        return Egg(target, version)
    with tempfile.TemporaryDirectory(prefix="tdir-egg-") as tmp:
        stage, dist = Path(tmp) / "project", Path(tmp) / "dist"
        for name, path in files:
            (stage / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, stage / name)
        packages = sorted(
            name.removesuffix("/__init__.py").replace("/", ".")
            for name, _ in files
            if name.endswith("/__init__.py")
        )
        (stage / "setup.py").write_text(
            _SETUP_PY.format(
                # The distribution's own version must follow PEP 440; Scrapyd's need not.
                version=f"{__version__}+{version.rsplit('-', 1)[-1]}",
                packages=packages,
                package_data={k: list(v) for k, v in PACKAGE_DATA.items()},
                settings=SETTINGS_MODULE,
            ),
            encoding="utf-8",
        )
        try:
            done = subprocess.run(
                [sys.executable, "setup.py", "--quiet", "bdist_egg", "--dist-dir", str(dist)],
                cwd=stage,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EggBuildError(f"bdist_egg could not run: {exc}") from None
        built = sorted(dist.glob("*.egg")) if done.returncode == 0 else []
        if not built:
            tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-5:])
            raise EggBuildError(f"bdist_egg failed (exit status {done.returncode}): {tail}")
        directory.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        shutil.copyfile(built[0], partial)
        os.replace(partial, target)  # another process building the same egg wrote the same
    return Egg(target, version)
