"""chat/realtime/db_worker.DatabaseThreads, the database worker threads the socket handlers
hand their calls to: each outcome reaches its caller on the caller's loop, a call whose
caller is gone still has its result handled (what it published after a commit goes out),
and the calls queued when the process ends still run."""

from __future__ import annotations

import asyncio
import threading

import pytest

from chat.realtime.db_worker import DatabaseThreads


@pytest.fixture
def two_threads():
    threads = DatabaseThreads(2, name="test-db")
    yield threads
    threads.shutdown()


def _where(value):
    return value, threading.current_thread().name


def _refuse(value):
    raise LookupError(f"no {value}")


def test_a_result_and_a_refusal_come_back_to_the_caller(two_threads):
    async def calls():
        loop = asyncio.get_running_loop()
        result = await two_threads.submit(loop, _where, "hello")
        with pytest.raises(LookupError, match="no thread"):
            await two_threads.submit(loop, _refuse, "thread")
        return result

    value, ran_on = asyncio.run(calls())
    assert value == "hello"
    assert ran_on.startswith("test-db_")  # off the loop's thread, on one of ours


def test_concurrent_callers_each_get_their_own_outcome(two_threads):
    async def calls():
        loop = asyncio.get_running_loop()
        return await asyncio.gather(*(two_threads.submit(loop, _where, n) for n in range(50)))

    outcomes = asyncio.run(calls())
    assert [value for value, _ in outcomes] == list(range(50))
    assert {name for _, name in outcomes} <= {"test-db_0", "test-db_1"}


def test_a_cancelled_callers_result_goes_to_orphaned_on_the_loop(two_threads):
    """The handler was cancelled (its socket went away) while its call ran: the call may
    have committed, so its result is still handed over, on the loop's thread."""
    started, release = threading.Event(), threading.Event()

    def slow_store():
        started.set()
        release.wait(5)
        return "stored"

    async def calls():
        loop = asyncio.get_running_loop()
        handed: asyncio.Future = loop.create_future()

        def orphaned(result):
            handed.set_result((result, threading.current_thread() is threading.main_thread()))

        future = two_threads.submit(loop, slow_store, orphaned=orphaned)
        await asyncio.to_thread(started.wait, 5)
        future.cancel()
        release.set()
        return await asyncio.wait_for(handed, 5)

    assert asyncio.run(calls()) == ("stored", True)


def test_calls_queued_before_shutdown_still_run():
    threads = DatabaseThreads(1, name="test-db-exit")
    ran: list[int] = []
    gate = threading.Event()

    async def queue_calls():
        loop = asyncio.get_running_loop()
        threads.submit(loop, gate.wait, 5)
        for n in range(3):
            threads.submit(loop, ran.append, n)

    asyncio.run(queue_calls())  # the loop is closed: nobody waits for these outcomes
    gate.set()
    threads.shutdown()
    assert ran == [0, 1, 2]
    assert not any(t.name.startswith("test-db-exit") for t in threading.enumerate())
