"""The JSON API of one Scrapyd node: the few calls the dispatcher makes.

Every answer is checked: a node that does not answer (refused, unreachable, too slow, or not
Scrapyd at all) raises :class:`NodeUnavailableError`; a node that answers with an error raises
:class:`ScrapydError` with its own message. Messages name the node by its URL without the
credentials a URL may carry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests

JobState = Literal["pending", "running", "finished"]
LOG_TAIL_BYTES = 1024 * 1024


class ScrapydError(Exception):
    """A Scrapyd node could not do what was asked; the message names the node."""


class NodeUnavailableError(ScrapydError):
    """A node did not answer: down, unreachable, too slow, or not a Scrapyd."""


@dataclass(frozen=True)
class NodeLoad:
    """How busy a node is (``daemonstatus.json``)."""

    running: int
    pending: int

    @property
    def jobs(self) -> int:
        """Jobs running or waiting for a slot."""
        return self.running + self.pending


@dataclass(frozen=True)
class JobStatus:
    """Where a job is on its node; ``state`` is None when the node does not know the job."""

    state: JobState | None
    log_url: str | None = None


class ScrapydNode:
    """One Scrapyd node, by its base URL (``http://user:password@host:6800`` for basic auth)."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        parts = urlsplit(self.url)
        # Credentials stay out of messages and logs.
        netloc = parts.hostname or ""
        if parts.port is not None:
            netloc = f"{netloc}:{parts.port}"
        self.label = urlunsplit(parts._replace(netloc=netloc))

    def __repr__(self) -> str:
        return f"ScrapydNode({self.label!r})"

    def load(self) -> NodeLoad:
        """The node's running and pending jobs."""
        data = self._call("GET", "daemonstatus.json")
        return NodeLoad(running=int(data.get("running", 0)), pending=int(data.get("pending", 0)))

    def versions(self, project: str) -> list[str]:
        """The versions of a project deployed on the node (none for an unknown project)."""
        data = self._call("GET", "listversions.json", params={"project": project})
        return [str(v) for v in data.get("versions", [])]

    def add_version(self, project: str, version: str, egg: Path) -> int:
        """Upload an egg as a version of the project; return how many spiders the node found
        in it (Scrapyd lists them, which proves the egg loads there)."""
        with egg.open("rb") as handle:
            data = self._call(
                "POST",
                "addversion.json",
                data={"project": project, "version": version},
                files={"egg": (egg.name, handle, "application/octet-stream")},
                timeout=max(self.timeout, 120.0),  # the node imports the egg before answering
            )
        return int(data.get("spiders", 0))

    def schedule(
        self,
        project: str,
        spider: str,
        *,
        job: str,
        version: str | None = None,
        settings: Mapping[str, str] | None = None,
        arguments: Mapping[str, str] | None = None,
    ) -> None:
        """Queue a crawl: ``settings`` become ``-s NAME=VALUE`` and ``arguments`` spider
        arguments (``-a``) of its ``scrapy crawl``."""
        form: list[tuple[str, str]] = [("project", project), ("spider", spider), ("jobid", job)]
        if version is not None:
            form.append(("_version", version))
        form.extend(("setting", f"{name}={value}") for name, value in (settings or {}).items())
        for name, value in (arguments or {}).items():
            if name in ("project", "spider", "jobid", "_version", "setting", "priority"):
                raise ValueError(f"{name!r} is a schedule.json parameter, not a spider argument")
            form.append((name, value))
        self._call("POST", "schedule.json", data=form)

    def job_status(self, project: str, job: str) -> JobStatus:
        """Where the job is: pending, running, finished, or unknown to the node."""
        data = self._call("GET", "listjobs.json", params={"project": project})
        for state in ("finished", "running", "pending"):
            for entry in data.get(state, []):
                if entry.get("id") == job:
                    return JobStatus(state=state, log_url=entry.get("log_url"))
        return JobStatus(state=None)

    def cancel(self, project: str, job: str, *, signal: str = "INT") -> str | None:
        """Stop a job: a pending one is dropped; a running one gets ``signal`` (INT, as a
        Ctrl+C: Scrapy closes the run gracefully). Returns the state it was in, or None."""
        data = self._call(
            "POST", "cancel.json", data={"project": project, "job": job, "signal": signal}
        )
        return data.get("prevstate")

    def read_log(self, log_url: str) -> str | None:
        """The end of a job's log (its last megabyte), or None if the node has none to give."""
        try:
            response = requests.get(urljoin(self.url + "/", log_url), timeout=self.timeout)
        except requests.RequestException:
            return None
        if response.status_code != 200:
            return None
        return response.content[-LOG_TAIL_BYTES:].decode("utf-8", errors="replace")

    def _call(self, method: str, endpoint: str, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("timeout", self.timeout)
        try:
            response = requests.request(method, f"{self.url}/{endpoint}", **kwargs)
        except requests.Timeout:
            raise NodeUnavailableError(
                f"Scrapyd node {self.label} did not answer {endpoint} within {kwargs['timeout']:g}s"
            ) from None
        except requests.ConnectionError as exc:
            raise NodeUnavailableError(
                f"Scrapyd node {self.label} cannot be reached: {_reason(exc)}"
            ) from None
        except requests.RequestException as exc:
            raise NodeUnavailableError(f"Scrapyd node {self.label}: {exc}") from None
        if response.status_code in (401, 403):
            raise ScrapydError(
                f"Scrapyd node {self.label} refused {endpoint} (HTTP {response.status_code}): "
                "check the user and password in TDIR_SCRAPYD_URL"
            )
        try:
            data = response.json()
        except ValueError:
            raise NodeUnavailableError(
                f"{self.label} answered {endpoint} with HTTP {response.status_code} and no "
                "JSON: is it a Scrapyd node?"
            ) from None
        if not isinstance(data, dict) or data.get("status") != "ok":
            message = data.get("message") if isinstance(data, dict) else None
            raise ScrapydError(
                f"Scrapyd node {self.label}: {endpoint} failed: "
                f"{message or f'HTTP {response.status_code}'}"
            )
        return data


def _reason(exc: requests.ConnectionError) -> str:
    """The cause of a connection error in a few words, not urllib3's whole chain."""
    text = str(exc)
    for known in ("Connection refused", "Name or service not known", "No route to host"):
        if known in text:
            return known.lower()
    return text.rsplit(": ", 1)[-1].rstrip("')") or type(exc).__name__
