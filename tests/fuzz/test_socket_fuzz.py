"""Arbitrary JSON thrown at every Socket.IO event, as a visitor and as an admin.

Properties: every event answers an ack {"ok": bool, ...}; a refusal carries a reason and
changes nothing (message and thread counts through the admin API); the connection keeps
answering; the server never logs a handler crash.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.strategies import any_json, near_payloads
from tests.support.clients import Browserish, admin_socket, visitor

EVENTS = ["join", "admin_join", "heartbeat", "message_to_admin", "message_to_visitor", "typing", "mark_seen"]
FUZZ = settings(
    max_examples=70, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)


class Loop:
    """A private event loop for a synchronous hypothesis test driving async clients."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def __call__(self, coro: Coroutine) -> Any:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        self.loop.close()


def snapshot(admin: Browserish, *thread_ids: str) -> tuple:
    threads = admin.get("/api/threads?limit=500").json()
    assert len(threads) < 500, "the fuzz server outgrew one page"
    counts = tuple(len(admin.get(f"/api/messages?thread_id={t}").json()) for t in thread_ids)
    return len(threads), counts


def check_ack(ack: Any) -> None:
    assert isinstance(ack, dict), ack
    assert isinstance(ack.get("ok"), bool), ack
    if not ack["ok"]:
        assert isinstance(ack.get("error"), str) and ack["error"], ack
        assert ack["code"] != "server_error", ack


def payloads(*threads: str) -> st.SearchStrategy:
    one = any_json | near_payloads(*threads)
    # Mostly one argument; sometimes none, sometimes several (Socket.IO allows both).
    return one.map(lambda p: ("one", p)) | st.lists(one, min_size=2, max_size=3).map(lambda ps: ("many", ps))


def crashes_logged(server, since: int) -> list[str]:
    return [
        line for line in server.log()[since:].splitlines() if "socket_failed" in line or "Traceback" in line
    ]


def run_fuzz(role: str, fuzz_server, fuzz_admin) -> None:
    run = Loop()
    try:
        me, my_thread = run(visitor(fuzz_server.url, "Fuzzed"))
        other, other_thread = run(visitor(fuzz_server.url, "Bystander"))
        sender = me if role == "visitor" else run(admin_socket(fuzz_server.url, fuzz_admin))
        log_start = len(fuzz_server.log())
        call_timeout = 3

        @FUZZ
        @given(event=st.sampled_from(EVENTS), args=payloads(my_thread, other_thread))
        def check(event: str, args: tuple) -> None:
            before = snapshot(fuzz_admin, my_thread, other_thread)
            kind, value = args
            data = tuple(value) if kind == "many" else value
            ack = run(sender.call(event, data, timeout=call_timeout))
            check_ack(ack)
            after = snapshot(fuzz_admin, my_thread, other_thread)
            if not ack["ok"]:
                assert after == before, (event, data, ack)
            elif event in ("message_to_admin", "message_to_visitor") and not ack["duplicate"]:
                changed = [my_thread, other_thread].index(ack["message"]["thread_id"])
                expected = list(before[1])
                expected[changed] += 1
                assert after == (before[0], tuple(expected)), (event, data, ack)
                if role == "visitor":
                    assert ack["message"]["thread_id"] == my_thread
            elif event == "join" and not ack["resumed"]:
                assert after == (before[0] + 1, before[1]), (event, data, ack)
                assert ack["thread_id"] not in (other_thread,)
            else:
                assert after == before, (event, data, ack)
            # The same connection still answers a valid event.
            alive = run(me.call("heartbeat", {"thread_id": my_thread}))
            assert alive == {"ok": True}
            assert sender.sio.connected

        check()
        assert crashes_logged(fuzz_server, log_start) == []
        for client in {me, other, sender}:
            run(client.close())
    finally:
        run.close()


def test_arbitrary_events_as_a_visitor(fuzz_server, fuzz_admin):
    run_fuzz("visitor", fuzz_server, fuzz_admin)


def test_arbitrary_events_as_an_admin(fuzz_server, fuzz_admin):
    run_fuzz("admin", fuzz_server, fuzz_admin)
