"""The per-address connection cap survives failures, and admin events are rate-limited too."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest
import socketio

from tests.support.clients import Browserish, Recorder, admin_socket, sign_in, visitor


async def connect_or_refusal(url: str, cookie: str | None = None) -> tuple[Recorder | None, dict | None]:
    """(a connected client, None), or (None, the refusal's data) when the server refused
    the connection: {"code": ...} from the server's connect_error, or None when the client
    gave up waiting for an answer."""
    client = Recorder(url, cookie)
    refusals: list = []
    client.sio.on("connect_error", lambda data=None: refusals.append(data))
    try:
        return await client.connect(), None
    except socketio.exceptions.ConnectionError:
        data = refusals[-1] if refusals else None
        return None, data.get("data") if isinstance(data, dict) else None


async def try_connect(url: str, cookie: str | None = None) -> Recorder | None:
    """A connected client, or None when the server refused the connection."""
    client, _ = await connect_or_refusal(url, cookie)
    return client


async def test_a_failed_connect_does_not_use_up_the_address_cap(make_server, own_postgres):
    """The database is down while sockets connect: each is refused (answered, not left
    hanging until the client gives up), and none of them keeps counting against the
    address once the database is back."""
    # A short pool timeout: a checkout against a dead database fails after it (default 10 s).
    live = make_server(
        env={
            "DATABASE_URL": own_postgres.url,
            "SOCKETIO_MAX_CONNECTIONS_PER_IP": "2",
            "DATABASE_POOL_TIMEOUT": "2",
        }
    )
    unknown_session = "sessionid=" + "x" * 32  # not in the cache: connect must read the database
    own_postgres.stop()
    for _ in range(3):
        client, refusal = await connect_or_refusal(live.url, unknown_session)
        assert (client, refusal) == (None, {"code": "temporarily_unavailable"})
    own_postgres.start()
    clients = [await try_connect(live.url) for _ in range(2)]
    assert all(clients), "the refused connects still counted"
    assert await connect_or_refusal(live.url) == (None, {"code": "too_many_connections"}), "the cap holds"
    for c in clients:
        await c.close()


@pytest.mark.services
async def test_a_killed_process_does_not_lock_an_address_out(make_server, own_redis):
    env = {
        "REDIS_URL": own_redis.url,
        "SOCKETIO_REDIS_CHANNEL": "guards",
        "SOCKETIO_MAX_CONNECTIONS_PER_IP": "3",
        "SOCKETIO_CONNECTION_TTL": "3",
    }
    first, second = make_server(env=env), make_server(env=env)
    held = [await try_connect(first.url) for _ in range(3)]
    assert all(held)
    assert await try_connect(second.url) is None, "the cap is shared by both processes"
    # A live process keeps its sockets counted past the TTL (it refreshes them).
    await asyncio.sleep(4.5)
    assert await try_connect(second.url) is None
    await asyncio.to_thread(first.stop, signal.SIGKILL)  # never gets to uncount
    assert await try_connect(second.url) is None, "counted until their entries expire"
    started = time.monotonic()
    while (client := await try_connect(second.url)) is None:
        assert time.monotonic() - started < 10, "the dead process's sockets never expired"
        await asyncio.sleep(0.5)
    others = [await try_connect(second.url) for _ in range(2)]
    assert all(others)
    assert await try_connect(second.url) is None
    for c in [client, *others]:
        await c.close()


async def test_admin_events_are_rate_limited_per_connection(make_server):
    live = make_server(env={"SOCKET_MESSAGES_PER_MINUTE": "5", "SOCKET_JOINS_PER_MINUTE": "3"})
    admin_http = sign_in(live.url)
    guest, thread_id = await visitor(live.url, "Limited")
    admin = await admin_socket(live.url, admin_http)  # one admin_join
    for _ in range(2):
        assert await admin.call("admin_join", {}) == {"ok": True}
    flooded = await admin.call("admin_join", {})
    assert flooded["ok"] is False and flooded["code"] == "rate_limited"

    def reply(i: int) -> dict:
        return {"thread_id": thread_id, "type": "text", "text": f"reply {i}"}

    acks = [await admin.call("message_to_visitor", reply(i)) for i in range(7)]
    assert [a["ok"] for a in acks] == [True] * 5 + [False] * 2
    assert acks[-1]["code"] == "rate_limited"
    stored = admin_http.get(f"/api/messages?thread_id={thread_id}").json()
    assert [m["content_text"] for m in stored] == [f"reply {i}" for i in range(5)]

    seen = [await admin.call("mark_seen", {"thread_id": thread_id}) for _ in range(6)]
    assert [a["ok"] for a in seen] == [True] * 5 + [False]
    assert seen[-1]["code"] == "rate_limited"
    typing = [await admin.call("typing", {"thread_id": thread_id, "typing": True}) for _ in range(6)]
    assert [a["ok"] for a in typing] == [True] * 5 + [False]
    assert typing[-1]["code"] == "rate_limited"

    # Someone without an admin session is cut off cheaply too, before any session lookup.
    page = Browserish(live.url)
    page.get("/")
    stranger = await Recorder(live.url, page.cookie_header()).connect()
    refusals = [await stranger.call("message_to_visitor", reply(9)) for _ in range(6)]
    assert [a["code"] for a in refusals] == ["admin_required"] * 5 + ["rate_limited"]
    # Other connections are not affected by this one's limits.
    fresh = await admin_socket(live.url, admin_http)
    answered = await fresh.call("message_to_visitor", reply(5))
    assert answered["ok"] is True and answered["message"]["content_text"] == "reply 5", answered
    for c in (guest, admin, stranger, fresh):
        await c.close()
