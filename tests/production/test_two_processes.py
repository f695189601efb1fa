"""Two daphne processes on PostgreSQL + Redis behave as one desk.

The visitor is on process A, the signed-in admin on process B; every event of the
contract has to cross between them through Redis. A third process (a management
shell, as a Telegram webhook worker or a cron job would be) reaches both.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import psycopg
import pytest

from tests.support.clients import Browserish, Recorder, admin_socket, sign_in, visitor

from .conftest import admin_connect

pytestmark = [pytest.mark.services, pytest.mark.slow]


def same_admin_on(url: str, http: Browserish) -> Browserish:
    """The admin's browser talking to another process (the proxy's choice, not the user's)."""
    other = Browserish(url)
    other.cookies.update(http.cookies)
    return other


async def test_every_event_crosses_between_processes(two_servers, services):
    a, b = two_servers
    admin_http = sign_in(b.url)
    # The session lives in PostgreSQL + Redis, so process A knows this admin too.
    assert same_admin_on(a.url, admin_http).get("/api/threads").status_code == 200
    admin = await admin_socket(b.url, admin_http)
    guest, thread_id = await visitor(a.url, "Ayşe")
    try:
        created = await admin.wait_for("thread_created", lambda d: d["id"] == thread_id)
        assert created["display_name"] == "Ayşe"

        ack = await guest.call(
            "message_to_admin", {"thread_id": thread_id, "type": "text", "text": "Merhaba"}
        )
        assert ack["ok"] is True, ack
        got = await admin.wait_for("message_from_visitor", lambda d: d["thread_id"] == thread_id)
        assert got["content_text"] == "Merhaba" and got["sender"] == "visitor"

        ack = await admin.call(
            "message_to_visitor", {"thread_id": thread_id, "type": "text", "text": "Buyurun"}
        )
        assert ack["ok"] is True, ack
        reply = await guest.wait_for("message_from_admin", lambda d: d["content_text"] == "Buyurun")
        assert reply["id"] == ack["message"]["id"]
        mirrored = await admin.wait_for("message_from_telegram", lambda d: d["id"] == reply["id"])
        assert mirrored["via"] == "panel"

        assert await guest.call("heartbeat", {"thread_id": thread_id}) == {"ok": True}
        assert (await admin.wait_for("visitor_online"))["thread_id"] == thread_id

        # Typing is relayed straight through the rooms, both ways.
        assert await guest.call("typing", {"thread_id": thread_id, "typing": True}) == {"ok": True}
        await admin.wait_for("visitor_typing", lambda d: d["thread_id"] == thread_id)
        assert await admin.call("typing", {"thread_id": thread_id, "typing": True}) == {"ok": True}
        await guest.wait_for("admin_typing", lambda d: d["thread_id"] == thread_id)

        # History is in the shared database: process A serves what process B stored.
        history = same_admin_on(a.url, admin_http).get(f"/api/messages?thread_id={thread_id}").json()
        assert [m["content_text"] for m in history] == ["Merhaba", "Buyurun"]

        cleared = admin_http.post(f"/api/messages/clear?thread_id={thread_id}")
        assert cleared.json() == {"success": True}
        await admin.wait_for("thread_cleared", lambda d: d["thread_id"] == thread_id)
        await guest.wait_for("thread_cleared", lambda d: d["thread_id"] == thread_id)
    finally:
        await guest.close()
        await admin.close()


async def test_reply_from_a_third_process_reaches_both(two_servers, services):
    """A process that serves no sockets (here `manage.py shell`, as a Telegram webhook
    worker or a cron job would be) posts an admin reply; the visitor on A and the admin
    on B both get it through Redis."""
    a, b = two_servers
    admin = await admin_socket(b.url, sign_in(b.url))
    guest, thread_id = await visitor(a.url, "Mehmet")
    try:
        code = (
            "from chat import services; from chat.validation import MessageInput; import uuid;"
            f"m, _ = services.post_admin_message(MessageInput(thread_id=uuid.UUID({thread_id!r}), "
            "type='text', text='from telegram', file_url=None, client_id=None), via='telegram');"
            "print(m.id)"
        )
        third = await asyncio.to_thread(a.manage, "shell", "-c", code)
        message_id = third.stdout.strip().splitlines()[-1]
        reply = await guest.wait_for("message_from_admin", lambda d: d["id"] == message_id)
        assert reply["content_text"] == "from telegram"
        mirrored = await admin.wait_for("message_from_telegram", lambda d: d["id"] == message_id)
        assert mirrored["via"] == "telegram"
    finally:
        await guest.close()
        await admin.close()


async def test_sign_out_on_one_process_drops_admin_sockets_on_the_other(two_servers):
    a, b = two_servers
    admin_http = sign_in(b.url)
    admin = await admin_socket(b.url, admin_http)
    guest, _ = await visitor(a.url)  # process A serves sockets too
    try:
        assert same_admin_on(a.url, admin_http).post("/logout").status_code == 302
        for _ in range(100):
            if not admin.sio.connected:
                break
            await asyncio.sleep(0.05)
        assert not admin.sio.connected, "the admin socket on process B survived the sign-out on A"
        assert admin_http.get("/api/threads").status_code in (401, 403)
    finally:
        await guest.close()
        await admin.close()


async def test_delivery_survives_an_idle_redis_listener(two_servers):
    """redis-py's pub/sub trap: a socket timeout on the listener kills or respins it when
    nothing is published for a while. Stay idle past the health-check interval (10 s)
    and Socket.IO's ping interval, then deliver."""
    a, b = two_servers
    admin = await admin_socket(b.url, sign_in(b.url))
    guest, thread_id = await visitor(a.url)
    try:
        await asyncio.sleep(12)
        ack = await guest.call(
            "message_to_admin", {"thread_id": thread_id, "type": "text", "text": "still there?"}
        )
        assert ack["ok"] is True, ack
        await admin.wait_for("message_from_visitor", lambda d: d["content_text"] == "still there?", timeout=3)
        for server in (a, b):
            assert "Cannot receive from redis" not in server.log(), server.log()[-2000:]
    finally:
        await guest.close()
        await admin.close()


async def test_connections_stay_bounded_and_heal_after_the_database_drops_them(two_servers, services):
    """Many concurrent socket events never open more connections than the pools allow,
    and when PostgreSQL drops every connection (as a restart does) the next events work."""
    a, b = two_servers
    admin = await admin_socket(b.url, sign_in(b.url))
    guests = await asyncio.gather(*(visitor(server.url, f"V{i}") for i, server in enumerate([a, b] * 10)))
    try:

        async def chatter(client: Recorder, thread_id: str, n: int) -> None:
            for i in range(n):
                ack = await client.call(
                    "message_to_admin", {"thread_id": thread_id, "type": "text", "text": f"m{i}"}
                )
                assert ack["ok"] is True, ack

        await asyncio.gather(*(chatter(client, tid, 10) for client, tid in guests))
        # Two processes, each: pool max 20 (DATABASE_POOL_MAX), plus the admin check here.
        assert services.backends() <= 2 * 20 + 1

        with admin_connect() as conn:
            dropped = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s",
                (services.database_name,),
            ).fetchone()[0]
        assert dropped > 0
        # Each pool checks a connection before lending it (DATABASE_CHECK_ON_CHECKOUT), so the
        # very next events work, on both processes, without waiting for the idle sweep.
        afters = []
        for client, tid in guests[:2]:  # one guest on each process
            ack = await client.call("message_to_admin", {"thread_id": tid, "type": "text", "text": "after"})
            assert ack["ok"] is True, ack
            afters.append(ack["message"]["id"])
        for message_id in afters:
            await admin.wait_for("message_from_visitor", lambda d, m=message_id: d["id"] == m)
        thread_ids = [tid for _, tid in guests]
        with psycopg.connect(services.database_url) as conn:
            rows = conn.execute(
                "SELECT thread_id::text, content_text FROM messages WHERE thread_id::text = ANY(%s)",
                (thread_ids,),
            ).fetchall()
        # Every message exactly once: duplicates would show in the counts.
        expected = Counter((tid, f"m{i}") for tid in thread_ids for i in range(10))
        expected.update((tid, "after") for tid in thread_ids[:2])
        assert Counter(rows) == expected
    finally:
        await asyncio.gather(*(client.close() for client, _ in guests))
        await admin.close()


def test_admin_session_is_shared_not_per_process(two_servers):
    a, b = two_servers
    http = sign_in(a.url)
    on_b = same_admin_on(b.url, http)
    threads = on_b.get("/api/threads")
    assert threads.status_code == 200
    assert isinstance(json.loads(threads.text), list)
