"""Serve the foreign population's two sites over real HTTP on 127.0.0.1, for crawl tests.

Each site gets its own ``ThreadingHTTPServer`` on an ephemeral port, in a daemon thread. URLs
with a query (``/member.php?id=7``) are served from the file :func:`page_file` names; sitemaps
and robots.txt get the site's origin in place of :data:`ORIGIN`. Every request path is logged.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from tests.foreign.generator import CATALOG, generate
from tests.foreign.render import ORIGIN, page_file

SITES = ("healers", "bodyworkers")


@dataclass
class ForeignWeb:
    """The generated population being served: site URLs, the truth file, the catalog."""

    root: Path
    urls: dict[str, str]
    truth: Path
    catalog: Path = CATALOG
    requests: dict[str, list[str]] = field(default_factory=dict)

    def catalog_vars(self) -> list[str]:
        """``--var`` arguments filling the catalog's ``${HEALERS_URL}`` and the like."""
        args: list[str] = []
        for site, url in self.urls.items():
            args += ["--var", f"{site.upper()}_URL={url}"]
        return args


class _SiteServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path, log: list[str]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = root.resolve()
        self.log = log

    @property
    def origin(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class _Handler(BaseHTTPRequestHandler):
    server: _SiteServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve(with_body=True)

    def do_HEAD(self) -> None:
        self._serve(with_body=False)

    def _serve(self, *, with_body: bool) -> None:
        self.server.log.append(self.path)
        parts = urlsplit(self.path)
        target = page_file(
            self.server.root, parts.path + (f"?{parts.query}" if parts.query else "")
        )
        try:
            inside = target.resolve().is_relative_to(self.server.root)
        except OSError:
            inside = False
        if not inside or not target.is_file():
            body = b"<!DOCTYPE html><title>Not found</title><h1>Not found</h1>"
            self._respond(404, "text/html; charset=utf-8", body, with_body)
            return
        body = target.read_bytes()
        if target.suffix == ".xml" or target.name == "robots.txt":
            body = body.replace(ORIGIN.encode(), self.server.origin.encode())
        if target.suffix == ".xml":
            kind = "application/xml"
        elif target.suffix == ".txt":
            kind = "text/plain; charset=utf-8"
        else:
            kind = "text/html; charset=utf-8"
        self._respond(200, kind, body, with_body)

    def _respond(self, status: int, kind: str, body: bytes, with_body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve_sites(root: Path) -> Iterator[ForeignWeb]:
    """Serve an already generated population under ``root``; stop the servers after."""
    servers: list[_SiteServer] = []
    requests: dict[str, list[str]] = {}
    try:
        for site in SITES:
            requests[site] = []
            server = _SiteServer(root / site, requests[site])
            servers.append(server)
            threading.Thread(
                target=server.serve_forever, name=f"foreign-{site}", daemon=True
            ).start()
        yield ForeignWeb(
            root=root,
            urls={site: s.origin for site, s in zip(SITES, servers, strict=True)},
            truth=root / "truth.json",
            requests=requests,
        )
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


@contextmanager
def running_foreign_web(root: Path, seed: int = 7, people: int = 260) -> Iterator[ForeignWeb]:
    """Generate the population into ``root`` and serve both sites while the block runs.

    Use it in a session-scoped fixture::

        @pytest.fixture(scope="session")
        def foreign_web(tmp_path_factory):
            with running_foreign_web(tmp_path_factory.mktemp("foreign")) as web:
                yield web
    """
    generate(root, seed=seed, people=people)
    with serve_sites(root) as web:
        yield web
