"""Serving the demo web: one HTTP server per site, each on its own port, all in one process.

Every response carries ``ETag`` and ``Last-Modified``; ``If-None-Match`` / ``If-Modified-Since``
get a 304 so recrawls are cheap. Every request is logged as one JSON line (site, method, path and
query, status, bytes, user agent, time), which lets tests prove what a crawler did and did not
fetch.

With a :class:`~crawler.demoweb.faults.FaultPlan` the sites also misbehave, reproducibly: server
errors, stalls, bodies cut short, connections reset, an endless calendar (see
:mod:`crawler.demoweb.faults`); each request's log line then says which fault it got.
"""

from __future__ import annotations

import hashlib
import json
import socket
import struct
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

from crawler.demoweb.eventcalendar import EventCalendar
from crawler.demoweb.faults import Fault, FaultInjector, FaultPlan
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


# A 5xx fault's answer by variant: status, body, extra headers.
_SERVER_ERRORS: dict[str | None, tuple[int, bytes, dict[str, str]]] = {
    "503": (
        503,
        b"<h1>Service Unavailable</h1><p>Please try again shortly.</p>",
        {"Retry-After": "1"},
    ),
    "500": (500, b"<h1>Internal Server Error</h1>", {}),
}


class _SiteHandler(BaseHTTPRequestHandler):
    """Serves one site of the demo web; :func:`_handler_for` makes a subclass per site."""

    site: Site
    log: RequestLog
    faults: FaultInjector | None
    calendar: EventCalendar
    protocol_version = "HTTP/1.1"
    _body = b""  # the current request's body (a POST's)

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._body = b""
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._body = b""
        self._serve(send_body=False)

    def do_POST(self) -> None:
        # Read first, also when refusing: an unread body would be taken for the next
        # request on this connection.
        length = self.headers.get("Content-Length", "0")
        self._body = self.rfile.read(int(length)) if length.isdigit() else b""
        if "POST" in self.site.methods:
            self._serve(send_body=True)
        else:
            self._refuse()

    def _refuse(self) -> None:
        started = time.perf_counter()
        body = b"Method Not Allowed"
        self.send_response(405)
        self.send_header("Allow", ", ".join(self.site.methods))
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self._log(405, len(body), started)

    do_PUT = do_DELETE = do_PATCH = _refuse

    def _serve(self, *, send_body: bool) -> None:
        started = time.perf_counter()
        if self.faults is None:
            self._answer(send_body=send_body, started=started)
            return
        with self.faults.in_flight():
            attempt, fault = self.faults.next_fault(self.site.name, self.path)
            notes: dict[str, Any] = {"fault": None, "attempt": attempt}
            if fault is not None and fault.kind == "5xx":
                self._server_error(fault, send_body=send_body, started=started, notes=notes)
            elif fault is not None and fault.kind == "stall":
                self._stall(started, notes)
            else:
                self._answer(send_body=send_body, started=started, fault=fault, notes=notes)

    def _request(self) -> Request:
        parts = urlsplit(self.path)
        address = self.server.server_address
        assert isinstance(address, tuple)  # an IP socket's (host, port)
        host = self.headers.get("Host") or f"{address[0]}:{address[1]}"
        return Request(
            method=self.command,
            path=parts.path or "/",
            query=parse_qs(parts.query, keep_blank_values=True),
            base_url=f"http://{host}",
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self._body,
        )

    def _render(self, request: Request) -> Response:
        try:
            if self.faults is not None and self.faults.calendar:
                page = self.calendar.page(self.site, request.path)
                if page is not None:
                    return page
            response = self.site.handle(request)
        except Exception:  # a bug in one page must not take the site down; report a 500
            traceback.print_exc()
            return Response(500, b"Internal Server Error", "text/plain; charset=utf-8")
        if (
            self.faults is not None
            and self.faults.calendar
            and response.status == 200
            and response.content_type.startswith("text/html")
        ):
            return replace(response, body=self.calendar.add_widget(response.body))
        return response

    def _answer(
        self,
        *,
        send_body: bool,
        started: float,
        fault: Fault | None = None,
        notes: dict[str, Any] | None = None,
    ) -> None:
        response = self._render(self._request())
        etag = etag_of(response.body)
        status = response.status
        body = response.body
        if status == 200 and _not_modified(self.headers, etag, response.last_modified):
            status, body = 304, b""
        has_body = send_body and status != 304 and len(body) >= 2
        # A fault that needs a body to spoil leaves a HEAD, a 304 or an empty page alone.
        if fault is not None and not (has_body and (fault.kind == "reset" or status == 200)):
            fault = None
        body, etag, declared = _spoiled(fault, body, etag)
        self._send_head(response, status, etag, declared)
        self.end_headers()
        sent = 0
        if fault is not None and fault.kind == "reset":
            self._reset()
        elif send_body and status != 304:
            self.wfile.write(body)
            sent = len(body)
            if fault is not None and fault.kind == "truncate":
                self.close_connection = True
        if notes is not None and fault is not None:
            notes["fault"] = fault.kind
            if fault.variant:
                notes["variant"] = fault.variant
        self._log(status, sent, started, notes)

    def _send_head(self, response: Response, status: int, etag: str, declared: int) -> None:
        """The status line and headers of a page (``declared``: its Content-Length)."""
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
            self.send_header("Content-Length", str(declared))

    def _server_error(
        self, fault: Fault, *, send_body: bool, started: float, notes: dict[str, Any]
    ) -> None:
        status, body, headers = _SERVER_ERRORS[fault.variant]
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)
        sent = len(body) if send_body else 0
        self._log(status, sent, started, {**notes, "fault": "5xx", "variant": fault.variant})

    def _stall(self, started: float, notes: dict[str, Any]) -> None:
        assert self.faults is not None
        self.faults.stall()
        self.close_connection = True
        self._log(None, 0, started, {**notes, "fault": "stall"})

    def _reset(self) -> None:
        # Closing with a zero linger time sends a RST instead of a FIN. Closed here, before
        # the server's own shutdown of the socket, which would send a FIN first.
        self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.rfile.close()
        self.connection.close()

    def _log(
        self,
        status: int | None,
        sent: int,
        started: float,
        notes: dict[str, Any] | None = None,
    ) -> None:
        self.log.write(
            {
                "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "site": self.site.name,
                "method": self.command,
                "path": self.path,
                "status": status,
                "bytes": sent,
                "user_agent": self.headers.get("User-Agent", ""),
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                **(notes or {}),
            }
        )

    def log_message(self, format: str, *args: Any) -> None:
        # The JSON request log replaces the default stderr lines.
        return


def _spoiled(fault: Fault | None, body: bytes, etag: str) -> tuple[bytes, str, int]:
    """The body a truncating fault sends, its ETag and the Content-Length declared for it."""
    if fault == Fault("truncate", "cut"):
        # The nasty case: headers that agree with the cut body, ETag included.
        cut = body[: len(body) // 2]
        return cut, etag_of(cut), len(cut)
    if fault == Fault("truncate", "short"):
        return body[: len(body) // 2], etag, len(body)
    return body, etag, len(body)


def _handler_for(
    site: Site, log: RequestLog, faults: FaultInjector | None
) -> type[BaseHTTPRequestHandler]:
    """A request handler class serving ``site``, logging to ``log``, misbehaving as ``faults``
    say."""
    attributes = {
        "site": site,
        "log": log,
        "faults": faults,
        "calendar": EventCalendar(site.as_of),
        "server_version": _SERVER_HEADERS.get(site.name, "nginx"),
    }
    return type(f"{site.name.title()}Handler", (_SiteHandler,), attributes)


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
        faults: FaultPlan | None = None,
    ) -> None:
        self.population = population
        self.host = host
        # The name other machines reach the sites by (a container's service name), for .urls.
        self.public_host = public_host or host
        self.base_port = base_port
        self.sites = build_sites(population)
        self.log = RequestLog(Path(request_log) if request_log else None)
        self.manifest = Path(manifest) if manifest else None
        self.faults = FaultInjector(faults) if faults is not None else None
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
        faults: FaultPlan | None = None,
    ) -> DemoWeb:
        """Start every site and return the running demo web.

        ``base_port`` 0 picks free ports; otherwise site ``k`` (in :data:`SITE_NAMES` order)
        listens on ``base_port + k``. ``.urls`` maps site names to base URLs; ``manifest``, if
        given, receives the same mapping as JSON. ``faults`` makes the sites misbehave as the
        plan says (see :mod:`crawler.demoweb.faults`).
        """
        population = world if isinstance(world, Population) else Population(world)
        web = cls(
            population,
            host=host,
            base_port=base_port,
            request_log=request_log,
            manifest=manifest,
            public_host=public_host,
            faults=faults,
        )
        web._start()
        return web

    def _start(self) -> None:
        try:
            for k, (name, site) in enumerate(self.sites.items()):
                port = 0 if self.base_port == 0 else self.base_port + k
                server = _SiteServer((self.host, port), _handler_for(site, self.log, self.faults))
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

    def heal(self) -> None:
        """From now on serve every request as it should be, on the same ports (the same URLs,
        so a recrawl meets its cache and its records again): no faults, no trap."""
        if self.faults is not None:
            self.faults.plan = FaultPlan()

    def stop(self) -> None:
        """Stop every server and close the request log."""
        if self.faults is not None:
            self.faults.stopping.set()  # ends every stall now
        # Each server notices a shutdown at its next poll; asked one after another, ten of
        # them would take ten polls. A server that never started serving (a later site's port
        # was taken) must not be asked: shutdown() waits for a serve_forever() that never runs.
        serving = list(self._servers.values()) if self._threads else []
        stoppers = [threading.Thread(target=s.shutdown, daemon=True) for s in serving]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        for server in self._servers.values():
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        if self.faults is not None:
            # Requests still in flight (a stall that just ended) get their log lines written.
            self.faults.wait_idle(timeout=5)
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
    faults: FaultPlan | None = None,
) -> None:
    """Serve the demo web in the foreground until interrupted."""
    web = DemoWeb.start(
        world,
        host=host,
        base_port=base_port,
        request_log=request_log,
        manifest=manifest,
        faults=faults,
    )
    try:
        web.wait()
    finally:
        web.stop()
