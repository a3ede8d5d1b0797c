"""What every tdir spider shares: its catalog entry, provenance, error counting, loop guards."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from scrapy import Spider
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import defer
from twisted.internet import error as net
from twisted.python.failure import Failure

from crawler.catalog import Source
from crawler.items import Provenance, body_hash
from crawler.ledger import page_failed
from crawler.redirects import LOOP_MESSAGE
from crawler.runs import utc_now

# Numbers are what changes between the pages of a pagination trap ("page 7 of 7", "?page=8").
_NUMBERS = re.compile(rb"\d+")


class SourceSpider(Spider):
    """A spider crawling one catalog source."""

    def __init__(self, source: Source, **kwargs: Any) -> None:
        super().__init__(name=source.name, **kwargs)
        self.source = source
        self.allowed_domains = list(source.allowed_domains)
        self._seen_bodies: set[str] = set()

    def provenance(self, response: Response) -> Provenance:
        """Where and when this response was fetched, and the hash of its body."""
        return Provenance(
            source=self.source.name,
            url=response.url,
            fetched_at=utc_now(),
            content_hash=body_hash(response.body),
        )

    def count_error(self, kind: str, count: int = 1) -> None:
        """Count a problem by kind; it shows in the run record's errors."""
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"tdir/error/{kind}", count)

    def text_response(self, response: Response) -> TextResponse | None:
        """Return the response if it is text, else count a ``page/not-text`` error."""
        if isinstance(response, TextResponse):
            return response
        self.count_error("page/not-text")
        return None

    def repeats_earlier_page(self, response: Response, *, ignore_numbers: bool = False) -> bool:
        """True if this body was already seen under another URL in this run.

        Pagination traps and mirrored pages serve the same body under endless URLs; links on a
        repeated page are not followed. ``ignore_numbers`` also takes a body that differs from
        an earlier one only in its numbers as a repeat: a trap's "page 8" that shows page 7's
        content, with a link to page 9.
        """
        body = _NUMBERS.sub(b"#", response.body) if ignore_numbers else response.body
        digest = ("n:" if ignore_numbers else "") + body_hash(body)
        if digest in self._seen_bodies:
            self.count_error("page/repeated-content")
            return True
        self._seen_bodies.add(digest)
        return False

    def on_error(self, failure: Failure) -> Iterable[Any]:
        """Errback: count the request's final failure by kind; nothing here ends the crawl.

        Called once per request, after retries; robots.txt refusals are counted apart from
        errors (``robots_disallowed`` in the run record).
        """
        kind = failure_kind(failure)
        if kind is not None:
            self.count_error(kind)
        exc = failure.value
        status = exc.response.status if isinstance(exc, HttpError) else None
        request = getattr(failure, "request", None)
        if request is not None:
            self.crawler.signals.send_catch_log(
                page_failed, request=request, kind=kind, status=status
            )
        return ()


# Transport errors by the kind they are counted as, checked in order (Scrapy's own exception
# and the Twisted one it wraps or replaces, depending on the Scrapy version).
_TRANSPORT_KINDS: tuple[tuple[tuple[type[BaseException], ...], str], ...] = (
    ((DownloadTimeoutError, net.TimeoutError, net.TCPTimedOutError), "download/timeout"),
    # Scrapy cancels a download that exceeds DOWNLOAD_MAXSIZE; nothing else of ours does.
    ((DownloadCancelledError, defer.CancelledError), "download/too-large"),
    ((DownloadConnectionRefusedError, net.ConnectionRefusedError), "download/connection-refused"),
    ((CannotResolveHostError, net.DNSLookupError), "download/dns-failed"),
    ((net.ConnectionLost, net.ConnectionDone), "download/connection-lost"),
)
# twisted.web client errors that mean the server hung up before answering (in full).
_NO_RESPONSE = ("ResponseNeverReceived", "ResponseFailed")


def failure_kind(failure: Failure) -> str | None:
    """The error kind of a request that failed for good, or None when it is no error of ours.

    Kinds read as what went wrong: ``http/500``, ``download/timeout``, ``download/too-large``,
    ``download/connection-refused``, ``download/cut-short`` (the server closed the connection
    mid-body), ``download/connection-lost`` (the connection was reset),
    ``download/no-response``, ``redirect/loop``, ``redirect/too-many``...
    """
    exc = failure.value
    if isinstance(exc, HttpError):
        # Scrapy counts an error status only for requests without an errback.
        return f"http/{exc.response.status}"
    if isinstance(exc, IgnoreRequest):
        return _ignored_kind(str(exc))
    for types, kind in _TRANSPORT_KINDS:
        if isinstance(exc, types):
            return kind
    # Scrapy wraps twisted.web's client errors, whose reasons say how the connection ended.
    if any(isinstance(reason, net.ConnectionLost) for reason in _close_reasons(exc)):
        # Reset by the server (not closed by it), before the response or in its body.
        return "download/connection-lost"
    if isinstance(exc, ResponseDataLossError):
        return "download/cut-short"  # the server closed the connection mid-body
    if isinstance(exc, DownloadFailedError) or type(exc).__name__ in _NO_RESPONSE:
        return "download/no-response"
    return f"download/{type(exc).__name__}"


def _ignored_kind(message: str) -> str | None:
    """The kind of a request the crawl dropped (IgnoreRequest), by its message."""
    if "robots.txt" in message or "offsite" in message.lower():
        return None  # the crawl declined the request on purpose; counted apart
    if "max redirections" in message:
        return "redirect/too-many"
    if message.startswith(LOOP_MESSAGE):
        return "redirect/loop"
    return "request/ignored"


def _close_reasons(exc: BaseException) -> list[BaseException]:
    """The reasons twisted.web gave for a failed response, found under Scrapy's wrapping."""
    found: list[BaseException] = []
    cause: BaseException | None = exc
    for _ in range(8):  # the chain is short; a cyclic one must not hang the errback
        if cause is None:
            break
        for reason in getattr(cause, "reasons", None) or ():
            found.append(getattr(reason, "value", reason))
        cause = cause.__cause__
    return found
