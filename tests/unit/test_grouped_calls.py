"""chat/realtime/db_worker.GroupedCalls, the group commit of visitor messages: while calls
come often, those that arrive within a group's linger leave together, in arrival order,
and each caller gets its own outcome; at a quiet desk a call does not wait for company."""

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


async def _come_often(grouped: db_worker.GroupedCalls, gap: float, count: int = 8) -> None:
    """A busy minute: `count` calls, `gap` seconds apart."""
    calls = []
    for n in range(count):
        calls.append(asyncio.ensure_future(grouped(f"busy{n}")))
        await asyncio.sleep(gap)
    await asyncio.gather(*calls)


def test_while_calls_come_often_those_within_the_linger_leave_as_one_group(one_worker):
    recorder = Recorder()
    grouped = db_worker.GroupedCalls(recorder, linger=0.2)

    async def scenario():
        await _come_often(grouped, gap=0.01)
        return await _arrive_apart(grouped, 0.01)

    assert asyncio.run(scenario()) == ["aa", "bb", "cc"]
    assert recorder.groups[-1] == ["a", "b", "c"]
    assert not any(name == threading.current_thread().name for name in recorder.threads)  # off the loop


def test_a_call_to_a_quiet_desk_does_not_wait_for_company(one_worker):
    """A message every few seconds: each leaves at once, not after the linger (a
    millisecond of every delivery at a quiet desk)."""
    recorder = Recorder()
    grouped = db_worker.GroupedCalls(recorder, linger=5.0)

    async def scenario():
        started = time.monotonic()
        first = await grouped("a")
        return first, time.monotonic() - started

    result, took = asyncio.run(scenario())
    assert result == "aa" and recorder.groups == [["a"]]
    assert took < 2.0


def test_after_a_quiet_spell_calls_leave_at_once_again(one_worker):
    """The linger follows the traffic: a call right behind another rides with it while
    calls come often, and leaves in a group of its own once a quiet spell showed."""
    recorder = Recorder(hold=0.05)  # a group is on the database thread for 50 ms
    grouped = db_worker.GroupedCalls(recorder, linger=0.1)  # busy: under 0.4 s between calls

    async def one_right_behind_another(first: str, second: str) -> None:
        leading = asyncio.ensure_future(grouped(first))
        await asyncio.sleep(0.01)
        await asyncio.gather(leading, grouped(second))

    async def scenario():
        await _come_often(grouped, gap=0.01)
        await one_right_behind_another("busy", "behind busy")
        for value in ("q1", "q2", "q3"):  # a message every 0.9 s: quiet
            await asyncio.sleep(0.9)
            await grouped(value)
        await asyncio.sleep(0.9)
        await one_right_behind_another("quiet", "behind quiet")

    asyncio.run(scenario())
    assert ["busy", "behind busy"] in recorder.groups
    assert recorder.groups[-2:] == [["quiet"], ["behind quiet"]]


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
