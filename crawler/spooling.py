"""Downloads too large to hold in memory, written to a file as they arrive (spooled).

Scrapy keeps a response body in memory until it is complete, and this project cancels a
download past ``DOWNLOAD_MAXSIZE`` (10 MB). A registry's bulk file is gigabytes. A request whose
meta carries :data:`SPOOL` (``{"dir": ..., "max_bytes": ...}``) is therefore fetched by this
downloader middleware instead of Scrapy's download handler: the body goes straight to a file in
``dir``, up to ``max_bytes``, and its SHA-256 is computed on the way. The response that reaches
the spider has an empty body and the file's path in ``response.meta[SPOOLED]``; from then on the
file is the spider's to read and delete.

Placed last among the downloader middlewares (closest to the network), so that everything before
it still applies: robots.txt, the user agent, retries (a transfer that fails raises the
exception Scrapy's handler would, which RetryMiddleware and the spiders' errback understand), and
redirects (a 3xx comes back as a response for RedirectMiddleware to follow). A spooled request is
never cached (``dont_cache``) and its response is marked fetched in full (the page ledger's
``REFRESH``): there is no cached copy to doubt. When the crawl is being stopped (a first Ctrl+C),
a transfer in progress is abandoned and its request handed back to the scheduler, so the stop
does not wait for gigabytes and the resumed run fetches the file again. Scrapy's proxy
settings do not apply to a spooled download.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    ResponseDataLossError,
)
from scrapy.http import Headers as ScrapyHeaders
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import defer
from twisted.internet import error as net
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure
from twisted.web.client import (
    Agent,
    HTTPConnectionPool,
    ResponseDone,
    ResponseFailed,
    ResponseNeverReceived,
)
from twisted.web.client import Response as TxResponse
from twisted.web.http import PotentialDataLoss
from twisted.web.http_headers import Headers
from twisted.web.iweb import UNKNOWN_LENGTH

from crawler.httpcache import NETWORK_BYTES, REFRESH

SPOOL = "tdir_spool"  # request meta: {"dir": directory for the file, "max_bytes": size limit}
SPOOLED = "tdir_spooled"  # response meta: the path of the file holding the body
SPOOLED_SHA256 = "tdir_spooled_sha256"  # response meta: the SHA-256 of the body, in hex
DEFAULT_TIMEOUT = 180.0
# A body other than a 200's (an error page) is read into memory, up to this size.
MAX_OTHER_BODY = 1024 * 1024


class _Writable(typing.Protocol):
    def write(self, data: bytes, /) -> int: ...


class _Stopped(Exception):
    """The crawl is being stopped: the transfer is abandoned."""


class _Sink(Protocol):
    """Receives a body: into a file (or memory), with a size limit and an idle timeout."""

    def __init__(
        self, out: _Writable, limit: int, idle: float, stopping: Callable[[], bool]
    ) -> None:
        self.out = out
        self.limit = limit
        self.idle = idle
        self.stopping = stopping
        self.size = 0
        self.digest = hashlib.sha256()
        self.done: defer.Deferred[tuple[int, str]] = defer.Deferred()
        self._timer: Any = None  # the idle timeout, a reactor's DelayedCall

    def connectionMade(self) -> None:
        self._touch()

    def dataReceived(self, data: bytes) -> None:
        if self.done.called:
            return
        self.out.write(data)
        self.digest.update(data)
        self.size += len(data)
        if self.size > self.limit:
            self._abort(DownloadCancelledError(f"body larger than {self.limit} bytes"))
        elif self.stopping():
            self._abort(_Stopped())
        else:
            self._touch()

    def connectionLost(self, reason: Failure) -> None:  # type: ignore[override]
        self._cancel_timer()
        if self.done.called:
            return
        if reason.check(ResponseDone, PotentialDataLoss):
            # PotentialDataLoss: a body without a length, ended by closing the connection.
            self.done.callback((self.size, self.digest.hexdigest()))
        else:
            self.done.errback(reason)

    def _abort(self, exc: BaseException) -> None:
        self._cancel_timer()
        if not self.done.called:
            self.done.errback(exc)
        if self.transport is not None:
            self.transport.stopProducing()  # type: ignore[attr-defined]

    def _touch(self) -> None:
        from twisted.internet import reactor

        self._cancel_timer()
        clock: Any = reactor
        self._timer = clock.callLater(
            self.idle,
            self._abort,
            DownloadTimeoutError(f"no data for {self.idle:g} seconds"),
        )

    def _cancel_timer(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None


class SpoolingMiddleware:
    """Downloader middleware fetching requests marked :data:`SPOOL` into files."""

    def __init__(self, crawler: Crawler) -> None:
        from twisted.internet import reactor

        self.crawler = crawler
        # One transfer at a time per file; no connection is kept for the next one.
        self.agent = Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SpoolingMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> Response | Request | None:
        """Fetch a spooled request here; leave every other request to Scrapy."""
        spool = request.meta.get(SPOOL)
        if not spool:
            return None
        try:
            return await self._fetch(request, spool)
        except _Stopped:
            # Handed back to the scheduler, which keeps it in the job directory for the
            # resumed run.
            return request.replace(dont_filter=True)

    async def _fetch(self, request: Request, spool: dict[str, Any]) -> Response:
        from twisted.internet import reactor

        timeout = float(request.meta.get("download_timeout") or DEFAULT_TIMEOUT)
        headers = Headers()
        for name, values in request.headers.items():
            if name.lower() != b"accept-encoding":
                headers.setRawHeaders(name, list(values))
        # The file is stored as sent: a compressed transfer would have to be decoded whole.
        headers.setRawHeaders(b"Accept-Encoding", [b"identity"])
        pending = self.agent.request(request.method.encode(), request.url.encode(), headers)
        pending.addTimeout(timeout, reactor)
        with _scrapy_errors():
            answer = await maybe_deferred_to_future(
                typing.cast("defer.Deferred[TxResponse]", pending)
            )
        response_headers = ScrapyHeaders(
            {name: values for name, values in answer.headers.getAllRawHeaders()}
        )
        response_headers.pop(b"Content-Encoding", None)
        if answer.code != 200:
            body = await self._receive_in_memory(answer, timeout)
            return Response(
                request.url,
                status=answer.code,
                headers=response_headers,
                body=body,
                request=request,
            )
        directory = Path(spool["dir"])
        directory.mkdir(parents=True, exist_ok=True)
        handle, spooled = tempfile.mkstemp(prefix="spool-", suffix=".part", dir=directory)
        path = Path(spooled)
        try:
            with os.fdopen(handle, "wb") as out:
                sink = _Sink(out, int(spool["max_bytes"]), timeout, self._stopping)
                answer.deliverBody(sink)
                with _scrapy_errors():
                    size, digest = await maybe_deferred_to_future(sink.done)
            if answer.length is not UNKNOWN_LENGTH and size < int(answer.length):
                raise ResponseDataLossError(f"got {size} of {answer.length} bytes")
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(NETWORK_BYTES, size)
        request.meta[SPOOLED] = str(path)
        request.meta[SPOOLED_SHA256] = digest
        request.meta[REFRESH] = 1  # fetched in full: the page ledger has no cached copy to doubt
        return Response(
            request.url, status=200, headers=response_headers, request=request, flags=["spooled"]
        )

    async def _receive_in_memory(self, answer: TxResponse, timeout: float) -> bytes:
        buffer = _Buffer()
        sink = _Sink(buffer, MAX_OTHER_BODY, timeout, lambda: False)
        answer.deliverBody(sink)
        with contextlib.suppress(DownloadCancelledError), _scrapy_errors():
            await maybe_deferred_to_future(sink.done)
        return bytes(buffer.data)

    def _stopping(self) -> bool:
        return not self.crawler.crawling


class _Buffer:
    """A file-like sink in memory."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> int:
        self.data += data
        return len(data)


@contextlib.contextmanager
def _scrapy_errors() -> Any:
    """Raise Scrapy's exception for a failed transfer, as its own download handler would."""
    try:
        yield
    except defer.TimeoutError as exc:
        raise DownloadTimeoutError(str(exc) or "timed out") from exc
    except net.ConnectionRefusedError as exc:
        raise DownloadConnectionRefusedError(str(exc)) from exc
    except net.DNSLookupError as exc:
        raise CannotResolveHostError(str(exc)) from exc
    except (ResponseFailed, ResponseNeverReceived) as exc:
        raise DownloadFailedError(str(exc)) from exc
