"""``wait_until``: the one way the tests wait for something to happen.

Most cases run on a fake clock (the helper's ``time`` replaced), so they take no real time and
show exactly when the condition is asked.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest

from tests.support import waiting
from tests.support.waiting import WaitTimeoutError, wait_until


@dataclass
class FakeClock:
    """Monotonic time that moves only when the helper sleeps."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(
        waiting, "time", SimpleNamespace(monotonic=fake.monotonic, sleep=fake.sleep)
    )
    return fake


def answers(*values: object) -> Callable[[], object]:
    """A condition answering ``values`` in turn (an exception instance is raised)."""
    queue: Iterator[object] = iter(values)

    def condition() -> object:
        value = next(queue)
        if isinstance(value, BaseException):
            raise value
        return value

    return condition


def test_returns_the_first_truthy_value(clock: FakeClock) -> None:
    found = wait_until(answers(None, [], 0, {"id": 7}), message="the record")
    assert found == {"id": 7}
    assert clock.sleeps == [0.05, 0.1, 0.2]  # three "not yet" answers, three pauses


def test_a_condition_that_holds_at_once_never_sleeps(clock: FakeClock) -> None:
    assert wait_until(lambda: True, message="nothing") is True
    assert clock.sleeps == []


def test_the_pause_doubles_up_to_half_a_second_and_the_last_check_is_at_the_deadline(
    clock: FakeClock,
) -> None:
    calls: list[float] = []

    def never() -> bool:
        calls.append(clock.now - 1000.0)
        return False

    with pytest.raises(WaitTimeoutError):
        wait_until(never, timeout=2.0, message="never")
    assert clock.sleeps[:5] == [0.05, 0.1, 0.2, 0.4, 0.5]
    assert max(clock.sleeps) == 0.5
    assert calls[0] == 0.0
    assert calls[-1] == pytest.approx(2.0)  # asked once more when the time was up
    assert sum(clock.sleeps) == pytest.approx(2.0)


def test_a_larger_interval_is_kept(clock: FakeClock) -> None:
    with pytest.raises(WaitTimeoutError):
        wait_until(lambda: None, timeout=3.0, interval=1.0, message="never")
    assert clock.sleeps == [1.0, 1.0, 1.0]


def test_a_condition_true_at_the_deadline_still_counts(clock: FakeClock) -> None:
    assert wait_until(lambda: clock.now >= 1001.0 and "late", timeout=1.0, message="x") == "late"


def test_a_timeout_says_what_was_awaited_how_long_and_the_last_value(clock: FakeClock) -> None:
    with pytest.raises(WaitTimeoutError) as caught:
        wait_until(answers(None, None, 0, []), timeout=0.3, message="run #4 to finish")
    text = str(caught.value)
    assert text == (
        "timed out after 0.3 s (timeout 0.3 s, 4 checks) waiting for run #4 to finish; "
        "last value: []"
    )
    assert isinstance(caught.value, AssertionError)
    assert (caught.value.last_value, caught.value.attempts) == ([], 4)


def test_a_callable_message_is_made_only_on_timeout_and_may_add_lines(clock: FakeClock) -> None:
    made: list[int] = []

    def message() -> str:
        made.append(1)
        return "the server to answer; its log:\nline one\nline two"

    assert wait_until(answers(None, "up"), message=message) == "up"
    assert made == []
    with pytest.raises(WaitTimeoutError) as caught:
        wait_until(lambda: None, timeout=0.1, message=message)
    assert made == [1]
    assert str(caught.value).splitlines() == [
        "timed out after 0.1 s (timeout 0.1 s, 3 checks) waiting for the server to answer; "
        "its log; last value: None",
        "line one",
        "line two",
    ]


def test_ignored_exceptions_are_retried(clock: FakeClock) -> None:
    refused = ConnectionRefusedError(111, "Connection refused")
    condition = answers(refused, refused, "ok")
    assert wait_until(condition, ignore=(ConnectionError,), message="the server") == "ok"
    assert len(clock.sleeps) == 2


def test_a_timeout_on_an_ignored_exception_names_it_and_chains_it(clock: FakeClock) -> None:
    refused = ConnectionRefusedError(111, "Connection refused")
    with pytest.raises(WaitTimeoutError) as caught:
        wait_until(
            answers(None, refused, refused, refused, refused),
            timeout=0.3,
            ignore=ConnectionError,
            message="the server",
        )
    last = "last error: ConnectionRefusedError: [Errno 111] Connection refused"
    assert str(caught.value).endswith(f"waiting for the server; {last}")
    assert caught.value.__cause__ is refused and caught.value.last_error is refused


def test_a_value_after_an_ignored_exception_is_what_the_timeout_names(clock: FakeClock) -> None:
    with pytest.raises(WaitTimeoutError, match=r"last value: \{\}$") as caught:
        wait_until(
            answers(OSError("refused"), {}, {}, {}),
            timeout=0.3,
            ignore=OSError,
            message="health",
        )
    assert caught.value.__cause__ is None


def test_other_exceptions_propagate_at_once(clock: FakeClock) -> None:
    calls: list[int] = []

    def condition() -> None:
        calls.append(1)
        raise ValueError("the process died")

    with pytest.raises(ValueError, match="the process died"):
        wait_until(condition, ignore=(ConnectionError,), message="the server")
    assert calls == [1] and clock.sleeps == []


def test_an_assertion_inside_the_condition_fails_the_wait_at_once(clock: FakeClock) -> None:
    with pytest.raises(AssertionError, match="exited with 1") as caught:
        wait_until(answers(None, AssertionError("exited with 1")), message="the service")
    assert not isinstance(caught.value, WaitTimeoutError)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="timeout"):
        wait_until(lambda: True, timeout=-1, message="x")
    with pytest.raises(ValueError, match="interval"):
        wait_until(lambda: True, interval=0, message="x")


def test_on_the_real_clock_it_waits_for_the_condition_not_longer() -> None:
    ready_at = time.monotonic() + 0.2
    started = time.monotonic()
    assert wait_until(lambda: time.monotonic() >= ready_at, timeout=30, message="the moment")
    assert time.monotonic() - started < 10  # half a second's pause at most, on any machine
    with pytest.raises(WaitTimeoutError, match=r"^timed out after 0\.\d s \(timeout 0\.1 s"):
        wait_until(lambda: False, timeout=0.1, message="nothing")
