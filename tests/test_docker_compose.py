"""docker-compose.yml and the Dockerfile: the structure the README promises, and every command
the stack runs, run here for real (no Docker engine runs on this machine, so each service's
command is started as a local process with its paths and ports moved, and its own healthcheck
is run against it)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.waiting import wait_until

pytestmark = pytest.mark.system  # crawls, services or processes: left out of `make test-fast`

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
TDIR_SERVICES = ("demo-web", "scrapyd", "scheduler", "dashboard")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def test_the_full_stack_is_there(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"elasticsearch", "es02", "es03", *TDIR_SERVICES}
    for name in TDIR_SERVICES:
        assert services[name]["build"] == "."
        assert services[name]["image"] == "tdir:latest"
        assert "tdir-data:/data" in services[name]["volumes"]
        assert services[name]["environment"]["TDIR_HOME"] == "/data"


def test_elasticsearch_is_the_official_image_of_the_version_the_tests_run(
    compose: dict[str, Any],
) -> None:
    from tests.support.elasticsearch_node import DEFAULT_VERSION

    for name in ("elasticsearch", "es02", "es03"):
        image = compose["services"][name]["image"]
        assert image == f"docker.elastic.co/elasticsearch/elasticsearch:{DEFAULT_VERSION}"
        assert compose["services"][name]["environment"]["xpack.security.enabled"] == "false"


def test_the_cluster_profile_adds_two_nodes_that_join_the_first(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert "profiles" not in services["elasticsearch"]
    assert services["elasticsearch"]["environment"]["cluster.initial_master_nodes"] == "es01"
    for name in ("es02", "es03"):
        assert services[name]["profiles"] == ["cluster"]
        assert services[name]["environment"]["discovery.seed_hosts"] == "elasticsearch"
        assert services[name]["environment"]["cluster.name"] == "tdir"
        assert "cluster.initial_master_nodes" not in services[name]["environment"]
        assert services[name]["depends_on"]["elasticsearch"]["condition"] == "service_healthy"


def test_published_ports_are_on_loopback_only(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), (name, port)


def test_every_volume_used_is_declared(compose: dict[str, Any]) -> None:
    for service in compose["services"].values():
        for mount in service.get("volumes", []):
            volume = mount.partition(":")[0]
            assert volume in compose["volumes"], mount


def test_the_scheduler_waits_for_what_it_needs(compose: dict[str, Any]) -> None:
    depends = compose["services"]["scheduler"]["depends_on"]
    assert {k: v["condition"] for k, v in depends.items()} == {
        "elasticsearch": "service_healthy",
        "demo-web": "service_healthy",
        "scrapyd": "service_healthy",
    }
    assert compose["services"]["scheduler"]["environment"]["TDIR_SCRAPYD_URL"].startswith(
        "http://scrapyd:"
    )


def test_the_dockerfile_copies_every_package_the_project_ships() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    copied = set(re.findall(r"^COPY (\w+) \./\1$", dockerfile, re.MULTILINE))
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    packages = re.search(r"include = \[(.*?)\]", pyproject)
    assert packages is not None
    shipped = {p.strip().strip('"').rstrip("*") for p in packages[1].split(",")}
    assert copied == shipped
    assert "USER tdir" in dockerfile  # services do not run as root


# -- the commands, for real -----------------------------------------------------------------


def _free_port_block(size: int) -> int:
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + size >= 65535:
            continue
        try:
            sockets = []
            for port in range(base, base + size):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free block of ports")


def _interpolated(value: str) -> str:
    """Compose's ``${NAME:-default}``: the variable's value if set, else the default."""
    return re.sub(r"\$\{(\w+)(?::-([^}]*))?\}", lambda m: os.environ.get(m[1]) or m[2] or "", value)


def _localised(args: list[str], data: Path, ports: dict[str, str]) -> list[str]:
    """A compose command with the container's data dir and ports moved to this machine's."""
    out = []
    for arg in args:
        arg = _interpolated(arg).replace("/data", str(data)).replace("/app/", f"{ROOT}/")
        arg = ports.get(arg, arg)
        out.append(arg)
    # Inside a container 0.0.0.0 is the container's own interface; here it must be loopback.
    return ["127.0.0.1" if a == "0.0.0.0" else a for a in out]


def _run_healthcheck(test: list[str], ports: dict[str, str]) -> bool:
    assert test[0] == "CMD"
    command = [sys.executable if test[1] == "python" else test[1], *test[2:]]
    for container_port, port in ports.items():
        command = [c.replace(f":{container_port}/", f":{port}/") for c in command]
    return subprocess.run(command, capture_output=True, timeout=30).returncode == 0


def _start(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen:
    if command[0] == "tdir":
        command = [sys.executable, "-m", "tdir.cli", *command[1:]]
    elif command[0] == "streamlit":
        command = [sys.executable, "-m", "streamlit", *command[1:]]
    return subprocess.Popen(
        command,
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            pass
    return process.stdout.read().decode(errors="replace") if process.stdout else ""


@pytest.mark.parametrize("name", ["demo-web", "dashboard", "scrapyd"])
def test_service_command_starts_and_passes_its_healthcheck(
    name: str, compose: dict[str, Any], tmp_path: Path
) -> None:
    service = compose["services"][name]
    base = _free_port_block(10)
    ports = {"8700": str(base), "8501": str(base), "6800": str(base)}
    command = _localised(service["command"], tmp_path, ports)
    env = {
        **os.environ,
        **{k: _localised([str(v)], tmp_path, ports)[0] for k, v in service["environment"].items()},
    }
    env.pop("TDIR_ES_URL")  # no Elasticsearch container here: the embedded backend serves
    process = _start(command, env, tmp_path)

    def healthy() -> bool:
        assert process.poll() is None, f"{name} exited:\n{_stop(process)}"
        return _run_healthcheck(service["healthcheck"]["test"], ports)

    try:
        wait_until(
            healthy,
            timeout=120,
            interval=0.5,
            ignore=subprocess.TimeoutExpired,  # a healthcheck that hung counts as "not yet"
            message=lambda: f"{name} to pass its healthcheck; its output:\n{_stop(process)}",
        )
        if name == "demo-web":
            manifest = json.loads((tmp_path / "sites.json").read_text())
            assert manifest["atlas"] == f"http://demo-web:{base}"  # what other services use
    finally:
        _stop(process)


def test_scheduler_command_starts_the_service(compose: dict[str, Any], tmp_path: Path) -> None:
    from crawler.scheduling import ScheduleBook
    from crawler.scheduling.leases import LeaseHolder

    service = compose["services"]["scheduler"]
    command = _localised(service["command"], tmp_path, {})
    env = {
        **os.environ,
        **{k: _localised([str(v)], tmp_path, {})[0] for k, v in service["environment"].items()},
    }
    env.pop("TDIR_ES_URL")
    # Nothing answers at the container host names here: runs fail and are recorded, and the
    # service itself must stay up.
    process = _start(command, env, tmp_path)
    book = ScheduleBook(tmp_path)

    def registered() -> LeaseHolder | None:
        assert process.poll() is None, f"the scheduler exited:\n{_stop(process)}"
        return book.service()

    try:
        service_lease = wait_until(
            registered,
            timeout=120,
            message=lambda: f"the scheduler to register its service; output:\n{_stop(process)}",
        )
        # Up is not enough: it must stay up while its runs fail. On a new data directory every
        # scheduled source is due at once, so each has a run that ends (failed) within moments.
        scheduled = {
            s.source for s in book.schedules() if s.enabled and s.schedule and not s.paused
        }
        assert scheduled

        def every_source_ran() -> list[Any]:
            registered()
            ended = [run for run in book.history(limit=500) if run.done]
            return ended if {run.source for run in ended} >= scheduled else []

        ended = wait_until(
            every_source_ran,
            timeout=180,
            message=lambda: f"a run of each scheduled source to end; output:\n{_stop(process)}",
        )
        assert {run.state for run in ended} == {"failed"}, ended
        assert process.poll() is None, _stop(process)
        still = book.service()
        assert still is not None and still.holder == service_lease.holder, still
    finally:
        _stop(process)
