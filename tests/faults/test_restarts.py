"""Redis and PostgreSQL restart under load: the desk answers (errors, never hangs) while
they are down, heals without a restart of its own, and keeps every acked message."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest
import requests
import socketio

from tests.faults.test_nothing_lost import ReliableVisitor
from tests.production.conftest import services  # noqa: F401  (fresh PostgreSQL database)
from tests.support.clients import Browserish, Recorder, admin_socket, sign_in, visitor
from tests.support.server import LiveServer

pytestmark = pytest.mark.services


async def paced(v: ReliableVisitor, count: int, interval: float, deadline: float) -> None:
    for i in range(count):
        await v.send(f"{v.name}-{i}", f"{v.name} says {i}", deadline)
        await asyncio.sleep(interval)


def assert_stored_once(admin: Browserish, visitors: list[ReliableVisitor], count: int) -> None:
    for v in visitors:
        stored = admin.get(f"/api/messages?thread_id={v.thread_id}").json()
        assert Counter(m["content_text"] for m in stored) == Counter(
            f"{v.name} says {i}" for i in range(count)
        )
        assert set(v.acked.values()) <= {m["id"] for m in stored}


async def timed(coro, limit: float):
    started = time.monotonic()
    result = await asyncio.wait_for(coro, limit)
    return result, time.monotonic() - started


async def refused_connect(url: str, cookie: str) -> bool:
    try:
        client = await Recorder(url, cookie).connect()
    except socketio.exceptions.ConnectionError:
        return True
    await client.close()
    return False


async def test_redis_restart_under_load(own_redis, services):  # noqa: F811
    env = {**services.env, "REDIS_URL": own_redis.url}
    first = LiveServer(env=env, migrate=True)
    second = LiveServer(env=env, migrate=False)
    try:
        await asyncio.to_thread(first.start)
        await asyncio.to_thread(second.start)
        await redis_restart(first, second, own_redis)
    finally:
        first.cleanup()
        second.cleanup()


async def redis_restart(first: LiveServer, second: LiveServer, own_redis) -> None:
    admin_http = sign_in(first.url)
    admin_b = await admin_socket(second.url, admin_http)
    probe, probe_thread = await visitor(first.url, "Probe")  # on A; its admin listens on B

    async def delivered_across(tag: str, within: float) -> None:
        payload = {"thread_id": probe_thread, "type": "text", "text": tag}
        assert (await probe.call("message_to_admin", payload, timeout=5))["ok"]
        await admin_b.wait_for("message_from_visitor", lambda d: d["content_text"] == tag, timeout=within)

    async def arrived_at_admin_b(tag: str, within: float) -> bool:
        """Whether the probe's message `tag` reached admin B within `within` seconds."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if any(name == "message_from_visitor" and d["content_text"] == tag for name, d in admin_b.events):
                return True
            await asyncio.sleep(0.05)
        return False

    await delivered_across("before", 5)
    crowd = [await ReliableVisitor((first, second)[n % 2].url, f"r{n}").start() for n in range(6)]
    per_visitor = 60
    deadline = time.monotonic() + 90
    senders = [asyncio.create_task(paced(v, per_visitor, 0.05, deadline)) for v in crowd]
    while sum(len(v.acked) for v in crowd) < 60:
        await asyncio.sleep(0.05)

    own_redis.kill()
    # While Redis is down each process keeps working on its own: sessions fall back to the
    # database, rate limits and the connection cap let traffic through. Only delivery
    # across processes waits for Redis.
    acked_at_kill = sum(len(v.acked) for v in crowd)
    ack, took = await timed(admin_b.call("mark_seen", {"thread_id": probe_thread}), 6)
    assert ack["ok"] is True and took < 3, (ack, took)
    (newcomer, newcomer_thread), took = await timed(visitor(second.url, "Newcomer"), 10)
    assert took < 6, took
    hello = {"thread_id": newcomer_thread, "type": "text", "text": "during the outage"}
    assert (await newcomer.call("message_to_admin", hello))["ok"] is True
    threads = await asyncio.to_thread(admin_http.get, "/api/threads", timeout=10)
    assert threads.status_code == 200
    health = await asyncio.to_thread(requests.get, first.url + "/healthz", timeout=10)
    assert health.status_code == 503 and health.json()["redis"]["ok"] is False
    await asyncio.sleep(2)
    assert sum(len(v.acked) for v in crowd) > acked_at_kill, "visitors kept chatting while Redis was down"

    await asyncio.to_thread(own_redis.start)
    restarted = time.monotonic()
    n = 0
    while True:  # realtime across processes again: a message on A reaches the admin on B
        n += 1
        tag = f"after {n}"
        payload = {"thread_id": probe_thread, "type": "text", "text": tag}
        assert (await probe.call("message_to_admin", payload, timeout=5))["ok"] is True
        if await arrived_at_admin_b(tag, within=0.5):
            break
        assert time.monotonic() - restarted < 8, "delivery across processes did not resume"
    resumed_after = time.monotonic() - restarted
    print(f"redis restart: cross-process delivery resumed after {resumed_after:.1f}s")
    assert resumed_after < 5
    # ...and new sockets and admin events work again.
    assert (await admin_b.call("mark_seen", {"thread_id": probe_thread}))["ok"]
    assert not await refused_connect(second.url, admin_http.cookie_header())

    await asyncio.gather(*senders)
    assert_stored_once(admin_http, crowd, per_visitor)
    for c in [*crowd, admin_b, probe, newcomer]:
        await c.close()


async def test_postgresql_restart_under_load(make_server, own_postgres):
    # A 3 s pool checkout timeout instead of the default 10 s keeps this test short; with the
    # default, events during the outage are answered (with an error) after ~10 s.
    live = make_server(env={"DATABASE_URL": own_postgres.url, "DATABASE_POOL_TIMEOUT": "3"})
    admin_http = sign_in(live.url)
    crowd = [await ReliableVisitor(live.url, f"p{n}").start() for n in range(4)]
    bystander, thread_id = await visitor(live.url, "Bystander")
    per_visitor = 60
    deadline = time.monotonic() + 90
    senders = [asyncio.create_task(paced(v, per_visitor, 0.05, deadline)) for v in crowd]
    while sum(len(v.acked) for v in crowd) < 40:
        await asyncio.sleep(0.05)

    await asyncio.to_thread(own_postgres.stop)
    stopped = time.monotonic()
    acked_at_stop = {cid: mid for v in crowd for cid, mid in v.acked.items()}
    # Errors, not hangs: a socket event gets an error ack, /healthz a 503.
    ack, took = await timed(bystander.call("heartbeat", {"thread_id": thread_id}, timeout=20), 20)
    print(f"postgresql down: heartbeat answered {ack} in {took:.1f}s")
    assert ack == {"ok": False, "error": ack["error"], "code": "temporarily_unavailable"}
    assert took < 5  # the pool's checkout timeout (DATABASE_POOL_TIMEOUT) and a little
    started = time.monotonic()
    health = await asyncio.to_thread(requests.get, live.url + "/healthz", timeout=10)
    assert health.status_code == 503 and health.json()["database"]["ok"] is False
    # 3 s database check, then the Telegram report waits for a free check thread (health.py).
    assert time.monotonic() - started < 8
    # The HTTP API answers too: a 503 in the API's JSON shape, within the pool timeout.
    started = time.monotonic()
    threads = await asyncio.to_thread(admin_http.get, "/api/threads", timeout=20)
    took = time.monotonic() - started
    print(f"postgresql down: /api/threads answered {threads.status_code} in {took:.1f}s")
    assert threads.status_code == 503 and threads.json()["success"] is False
    assert threads.headers["Retry-After"] == "5"
    assert took < 8

    await asyncio.to_thread(own_postgres.start)
    restarted = time.monotonic()
    while True:
        ack = await bystander.call("heartbeat", {"thread_id": thread_id}, timeout=20)
        if ack["ok"]:
            break
        assert time.monotonic() - restarted < 15, "never recovered"
        await asyncio.sleep(0.2)
    print(
        f"postgresql restart: down {restarted - stopped:.1f}s, events ok again "
        f"{time.monotonic() - restarted:.1f}s after it was back"
    )
    # /healthz checks out a connection of the pool, which after the outage may still be in
    # psycopg_pool's reconnect back-off when the first event is answered again (the event's
    # database thread kept a connection of its own): a load balancer's next probe, a few
    # seconds on, must find it healthy.
    while True:
        health = await asyncio.to_thread(requests.get, live.url + "/healthz", timeout=10)
        if health.status_code == 200:
            break
        assert time.monotonic() - restarted < 20, f"/healthz never recovered: {health.text}"
        await asyncio.sleep(0.5)
    print(f"postgresql restart: /healthz ok {time.monotonic() - restarted:.1f}s after it was back")

    await asyncio.gather(*senders)
    assert_stored_once(admin_http, crowd, per_visitor)
    stored_ids = {
        m["id"] for v in crowd for m in admin_http.get(f"/api/messages?thread_id={v.thread_id}").json()
    }
    assert set(acked_at_stop.values()) <= stored_ids
    for c in crowd:
        await c.close()
    await bystander.close()
