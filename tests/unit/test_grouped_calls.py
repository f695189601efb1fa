"""chat/realtime/db_worker.GroupedCalls, the group commit of visitor messages: calls that
arrive within a group's linger leave together, in arrival order, and each caller gets
its own outcome."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from chat.realtime import db_worker


@pytest.fixture
def one_worker(monkeypatch):
    threads = db_worker.DatabaseThreads(1)
    monkeypatch.setattr(db_worker, "_executor", threads)
    yield
    threads.shutdown()


class Recorder:
    """The grouped function: records each group it is given, takes `hold` seconds (as a
    transaction would), and answers each call with its value doubled, or refuses "bad"."""

    def __init__(self, hold: float = 0.0) -> None:
        self.groups: list[list[str]] = []
        self.hold = hold
        self.threads: set[str] = set()

    def __call__(self, calls: list[tuple]) -> list:
        self.threads.add(threading.current_thread().name)
        self.groups.append([value for (value,) in calls])
        time.sleep(self.hold)
        return [ValueError(value) if value == "bad" else value * 2 for (value,) in calls]


async def _arrive_apart(grouped: db_worker.GroupedCalls, first_gap: float) -> list:
    """One call while nothing is queued, the others `first_gap` seconds later."""
    first = asyncio.ensure_future(grouped("a"))
    await asyncio.sleep(first_gap)
    rest = [asyncio.ensure_future(grouped(value)) for value in ("b", "c")]
    return await asyncio.gather(first, *rest)


def test_calls_arriving_within_the_linger_leave_as_one_group(one_worker):
    recorder = Recorder()
    grouped = db_worker.GroupedCalls(recorder, linger=0.2)
    assert asyncio.run(_arrive_apart(grouped, 0.01)) == ["aa", "bb", "cc"]
    assert recorder.groups == [["a", "b", "c"]]
    assert not any(name == threading.current_thread().name for name in recorder.threads)  # off the loop


def test_without_a_linger_the_first_call_leaves_alone(one_worker):
    recorder = Recorder(hold=0.1)
    grouped = db_worker.GroupedCalls(recorder, linger=0.0)
    assert asyncio.run(_arrive_apart(grouped, 0.01)) == ["aa", "bb", "cc"]
    # The two that came while the first group was stored went together after it.
    assert recorder.groups == [["a"], ["b", "c"]]


def test_each_caller_gets_its_own_outcome_in_arrival_order(one_worker):
    recorder = Recorder()
    grouped = db_worker.GroupedCalls(recorder, linger=0.05)

    async def scenario():
        calls = [grouped(value) for value in ["x", "bad", "y", "z"]]
        return await asyncio.gather(*calls, return_exceptions=True)

    outcomes = asyncio.run(scenario())
    assert outcomes[0] == "xx" and outcomes[2] == "yy" and outcomes[3] == "zz"
    assert isinstance(outcomes[1], ValueError) and str(outcomes[1]) == "bad"
    assert recorder.groups == [["x", "bad", "y", "z"]]


def test_a_full_group_does_not_wait(one_worker):
    """At max_group queued calls there is nothing to wait for: the linger is skipped."""
    recorder = Recorder()
    grouped = db_worker.GroupedCalls(recorder, max_group=3, linger=5.0)

    async def scenario():
        started = time.monotonic()
        results = await asyncio.gather(*(grouped(value) for value in "abc"))
        return results, time.monotonic() - started

    results, took = asyncio.run(scenario())
    assert results == ["aa", "bb", "cc"] and recorder.groups == [["a", "b", "c"]]
    assert took < 2.0
