"""Serving the demo web: one HTTP server per site, each on its own port, all in one process.

Every response carries ``ETag`` and ``Last-Modified``; ``If-None-Match`` / ``If-Modified-Since``
get a 304 so recrawls are cheap. Every request is logged as one JSON line (site, method, path and
query, status, bytes, user agent, time), which lets tests prove what a crawler did and did not
fetch.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

from crawler.demoweb.sites import Request, Response, Site, build_sites
from crawler.demoweb.store import Population

MANIFEST_NAME = "sites.json"

# Real sites run on different stacks; the Server header says which, as it would.
_SERVER_HEADERS = {
    "atlas": "nginx",
    "guild": "Apache/2.4.58 (Ubuntu)",
    "pages": "Apache",
    "reviews": "cloudflare",
    "certregistry": "Microsoft-IIS/10.0",
    "npi": "Apache-Coyote/1.1",
}


class RequestLog:
    """Appends one JSON object per request to a file (thread-safe)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("a", encoding="utf-8")

    def write(self, entry: dict[str, Any]) -> None:
        """Record one request."""
        if self._file is None:
            return
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._lock:
            self._file.write(line)
            self._file.flush()

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def etag_of(body: bytes) -> str:
    """A strong entity tag for a response body."""
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def _not_modified(headers: Any, etag: str, modified: datetime | None) -> bool:
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or etag in tags
    if_modified_since = headers.get("If-Modified-Since")
    if if_modified_since and modified is not None:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return modified <= since
    return False


def _handler_for(site: Site, log: RequestLog) -> type[BaseHTTPRequestHandler]:
    class SiteHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = _SERVER_HEADERS.get(site.name, "nginx")

        def version_string(self) -> str:
            return self.server_version

        def do_GET(self) -> None:
            self._serve(send_body=True)

        def do_HEAD(self) -> None:
            self._serve(send_body=False)

        def _refuse(self) -> None:
            started = time.perf_counter()
            body = b"Method Not Allowed"
            self.send_response(405)
            self.send_header("Allow", "GET, HEAD")
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self._log(405, len(body), started)

        do_POST = do_PUT = do_DELETE = do_PATCH = _refuse

        def _serve(self, *, send_body: bool) -> None:
            started = time.perf_counter()
            parts = urlsplit(self.path)
            host = (
                self.headers.get("Host")
                or f"{self.server.server_address[0]}:{self.server.server_address[1]}"
            )
            request = Request(
                method=self.command,
                path=parts.path or "/",
                query=parse_qs(parts.query, keep_blank_values=True),
                base_url=f"http://{host}",
            )
            try:
                response = site.handle(request)
            except Exception:  # a bug in one page must not take the site down; report a 500
                traceback.print_exc()
                response = Response(500, b"Internal Server Error", "text/plain; charset=utf-8")
            etag = etag_of(response.body)
            status = response.status
            body = response.body
            if status == 200 and _not_modified(self.headers, etag, response.last_modified):
                status, body = 304, b""
            self.send_response(status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            if status in (200, 304):
                self.send_header("ETag", etag)
                if response.last_modified is not None:
                    self.send_header(
                        "Last-Modified", formatdate(response.last_modified.timestamp(), usegmt=True)
                    )
                self.send_header("Cache-Control", "no-cache")
            if status != 304:
                self.send_header("Content-Type", response.content_type)
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            sent = 0
            if send_body and status != 304:
                self.wfile.write(body)
                sent = len(body)
            self._log(status, sent, started)

        def _log(self, status: int, sent: int, started: float) -> None:
            log.write(
                {
                    "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    "site": site.name,
                    "method": self.command,
                    "path": self.path,
                    "status": status,
                    "bytes": sent,
                    "user_agent": self.headers.get("User-Agent", ""),
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                }
            )

        def log_message(self, format: str, *args: Any) -> None:
            # The JSON request log replaces the default stderr lines.
            return

    return SiteHandler


class _SiteServer(ThreadingHTTPServer):
    # socketserver's default backlog of 5 overflows when a crawler opens many connections
    # while the server's threads are busy rendering; the kernel then refuses connections.
    request_queue_size = 128
    daemon_threads = True


class DemoWeb:
    """The running demo web. Use :meth:`start`; stop with :meth:`stop` or a ``with`` block."""

    def __init__(
        self,
        population: Population,
        *,
        host: str = "127.0.0.1",
        base_port: int = 8700,
        request_log: Path | str | None = None,
        manifest: Path | str | None = None,
        public_host: str | None = None,
    ) -> None:
        self.population = population
        self.host = host
        # The name other machines reach the sites by (a container's service name), for .urls.
        self.public_host = public_host or host
        self.base_port = base_port
        self.sites = build_sites(population)
        self.log = RequestLog(Path(request_log) if request_log else None)
        self.manifest = Path(manifest) if manifest else None
        self._servers: dict[str, _SiteServer] = {}
        self._threads: list[threading.Thread] = []
        self.urls: dict[str, str] = {}

    @classmethod
    def start(
        cls,
        world: Population | Path | str,
        *,
        host: str = "127.0.0.1",
        base_port: int = 0,
        request_log: Path | str | None = None,
        manifest: Path | str | None = None,
        public_host: str | None = None,
    ) -> DemoWeb:
        """Start every site and return the running demo web.

        ``base_port`` 0 picks free ports; otherwise site ``k`` (in :data:`SITE_NAMES` order)
        listens on ``base_port + k``. ``.urls`` maps site names to base URLs; ``manifest``, if
        given, receives the same mapping as JSON.
        """
        population = world if isinstance(world, Population) else Population(world)
        web = cls(
            population,
            host=host,
            base_port=base_port,
            request_log=request_log,
            manifest=manifest,
            public_host=public_host,
        )
        web._start()
        return web

    def _start(self) -> None:
        try:
            for k, (name, site) in enumerate(self.sites.items()):
                port = 0 if self.base_port == 0 else self.base_port + k
                server = _SiteServer((self.host, port), _handler_for(site, self.log))
                self._servers[name] = server
                self.urls[name] = f"http://{self.public_host}:{server.server_address[1]}"
        except OSError:
            self.stop()
            raise
        for name, server in self._servers.items():
            thread = threading.Thread(
                target=server.serve_forever,
                name=f"demoweb-{name}",
                kwargs={"poll_interval": 0.2},
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        if self.manifest is not None:
            self.manifest.parent.mkdir(parents=True, exist_ok=True)
            self.manifest.write_text(json.dumps(self.urls, indent=2) + "\n", encoding="utf-8")

    def stop(self) -> None:
        """Stop every server and close the request log."""
        for server in self._servers.values():
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers.clear()
        self._threads.clear()
        self.log.close()

    def wait(self, should_stop: Callable[[], bool] | None = None) -> None:
        """Block until interrupted (Ctrl-C) or until ``should_stop()`` returns true."""
        try:
            while should_stop is None or not should_stop():
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass

    def __enter__(self) -> DemoWeb:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve(
    world: Population | Path | str,
    *,
    host: str = "127.0.0.1",
    base_port: int = 8700,
    request_log: Path | str | None = None,
    manifest: Path | str | None = None,
) -> None:
    """Serve the demo web in the foreground until interrupted."""
    web = DemoWeb.start(
        world, host=host, base_port=base_port, request_log=request_log, manifest=manifest
    )
    try:
        web.wait()
    finally:
        web.stop()
