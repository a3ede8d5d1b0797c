"""Wait for something to happen by polling the real condition, never by sleeping a guess.

A test that sleeps a fixed time and then asserts fails on a loaded machine (the thing was not
done yet) and wastes time on an idle one (it was done long ago). :func:`wait_until` instead asks
the condition itself (a file exists, a process has exited, a row has a status, a server
answers) until it holds, and fails with a message saying what it waited for, how long, and what
the condition last returned or raised.

Exceptions raised by the condition propagate at once, so a condition can fail fast (``assert
process.poll() is None, output`` inside it stops the wait as soon as the process has died).
Only the exception types passed as ``ignore`` are retried: they count as "not yet", which is
what a server that is still starting looks like (``ignore=(ConnectionError,)``,
``ignore=(OSError,)`` for ``urllib``). The last one is named in the timeout message and chained
as its cause.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar, cast

T = TypeVar("T")

DEFAULT_TIMEOUT = 60.0
DEFAULT_INTERVAL = 0.05
MAX_INTERVAL = 0.5  # the pause between polls doubles from ``interval`` up to this
_REPR_LIMIT = 2000


class WaitTimeoutError(AssertionError):
    """The condition did not hold in time. An AssertionError, so a test reads as failed."""

    def __init__(
        self,
        message: str,
        *,
        waited: float,
        attempts: int,
        last_value: object = None,
        last_error: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self.waited = waited
        self.attempts = attempts
        self.last_value = last_value
        self.last_error = last_error


def wait_until(
    condition: Callable[[], T | bool | None],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = DEFAULT_INTERVAL,
    message: str | Callable[[], str],
    ignore: type[BaseException] | tuple[type[BaseException], ...] = (),
) -> T:
    """Call ``condition`` until it returns something truthy, and return that.

    ``condition`` is called at once, then again after pauses that start at ``interval`` and
    double up to half a second, and a last time when ``timeout`` seconds (measured with
    :func:`time.monotonic`) have passed. Then :class:`WaitTimeoutError` (an AssertionError) is
    raised, saying "waiting for <message>", how long it waited, and the condition's last value,
    or the last exception if its last call raised one of ``ignore``. ``message`` may be a
    callable, called only on timeout, to add what is known then: its first line names what was
    awaited, any further lines (a server's log, say) follow the summary.

    Exceptions of the types in ``ignore`` count as "not yet" and are retried; any other
    exception from ``condition`` propagates at once, ending the wait.
    """
    if timeout < 0:
        raise ValueError(f"timeout must be >= 0, not {timeout!r}")
    if interval <= 0:
        raise ValueError(f"interval must be > 0, not {interval!r}")
    started = time.monotonic()
    deadline = started + timeout
    pause = interval
    attempts = 0
    last_value: object = None
    last_error: BaseException | None = None
    while True:
        attempts += 1
        try:
            value = condition()
        except ignore as exc:
            last_value, last_error = None, exc
        else:
            if value:
                return cast(T, value)  # truthy: never None or False
            last_value, last_error = value, None
        now = time.monotonic()
        if now >= deadline:
            break
        time.sleep(min(pause, deadline - now))
        pause = min(pause * 2, max(MAX_INTERVAL, interval))
    waited = time.monotonic() - started
    raise WaitTimeoutError(
        _timeout_message(message, timeout, waited, attempts, last_value, last_error),
        waited=waited,
        attempts=attempts,
        last_value=last_value,
        last_error=last_error,
    ) from last_error


def _timeout_message(
    message: str | Callable[[], str],
    timeout: float,
    waited: float,
    attempts: int,
    last_value: object,
    last_error: BaseException | None,
) -> str:
    if callable(message):
        try:
            message = message()
        except Exception as exc:  # the wait's own failure must not be hidden by this one
            message = f"<the message could not be made: {type(exc).__name__}: {exc}>"
    if last_error is not None:
        last = f"last error: {type(last_error).__name__}: {last_error}"
    else:
        last = f"last value: {_short_repr(last_value)}"
    checks = "1 check" if attempts == 1 else f"{attempts} checks"
    awaited, _, details = message.partition("\n")
    text = (
        f"timed out after {waited:.1f} s (timeout {timeout:g} s, {checks}) "
        f"waiting for {awaited.rstrip(': ')}; {last}"
    )
    return f"{text}\n{details}" if details else text


def _short_repr(value: object) -> str:
    text = repr(value)
    if len(text) > _REPR_LIMIT:
        text = f"{text[:_REPR_LIMIT]}... ({len(text)} characters)"
    return text
