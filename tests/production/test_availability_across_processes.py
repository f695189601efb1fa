"""Availability across two processes on PostgreSQL + Redis: an agent's panel on process A
makes the desk available to a visitor on process B, and stops counting when A dies."""

from __future__ import annotations

import signal

from tests.support.clients import Browserish, Recorder, admin_socket, sign_in
from tests.support.server import LiveServer

FAST = {"AVAILABILITY_CHECK_SECONDS": "1", "SOCKETIO_CONNECTION_TTL": "3"}


async def visitor_on(url: str) -> tuple[Recorder, dict]:
    page = Browserish(url)
    page.get("/")
    client = await Recorder(url, page.cookie_header()).connect()
    ack = await client.call("join", {"display_name": "Across"})
    assert ack["ok"] is True, ack
    return client, ack


async def test_a_panel_on_one_process_makes_the_desk_available_on_the_other(services):
    first = LiveServer(env={**services.env, **FAST}, migrate=True)
    second = LiveServer(env={**services.env, **FAST}, migrate=False)
    try:
        first.start()
        second.start()
        visitor, ack = await visitor_on(second.url)
        assert ack["availability"]["available"] is False

        admin = await admin_socket(first.url, sign_in(first.url))
        await visitor.wait_for("availability", lambda d: d["available"] is True)
        await admin.close()
        await visitor.wait_for("availability", lambda d: d["available"] is False)

        # A process that dies with a panel open: its socket stops counting by itself.
        await admin_socket(first.url, sign_in(first.url))
        await visitor.wait_for(
            "availability", lambda d: d["available"] is True and len(visitor.received("availability")) == 3
        )
        first.stop(signal.SIGKILL)
        await visitor.wait_for(
            "availability",
            lambda d: d["available"] is False and len(visitor.received("availability")) == 4,
            timeout=15,
        )
        assert [d["available"] for d in visitor.received("availability")] == [True, False, True, False]
        await visitor.close()
    finally:
        first.cleanup()
        second.cleanup()
