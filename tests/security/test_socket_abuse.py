"""Socket.IO under attack: foreign origins, admin events without a session, other
visitors' threads, floods, and too many connections from one address."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid

import pytest
import requests
import socketio

from tests.support.addresses import http_from, refused_from, socket_from
from tests.support.clients import Browserish, Recorder, admin_socket, sign_in, visitor

ADMIN_ROOM_EVENTS = {
    "thread_created",
    "message_from_visitor",
    "visitor_online",
    "visitor_typing",
    "message_from_telegram",
    "thread_cleared",
    "admin_seen",
}


async def refused_connection(url: str, origin: str, transport: str) -> bool:
    client = socketio.AsyncClient(reconnection=False)
    try:
        await client.connect(url, headers={"Origin": origin}, transports=[transport], wait_timeout=5)
    except socketio.exceptions.ConnectionError:
        return True
    try:
        # A polling client would wait for its pending long-poll (up to pingInterval).
        await asyncio.wait_for(client.disconnect(), 1)
    except TimeoutError:
        pass
    return False


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_sockets_are_same_origin_by_default(server, transport):
    assert await refused_connection(server.url, "https://evil.example", transport)
    assert await refused_connection(server.url, "null", transport)
    assert not await refused_connection(server.url, server.url, transport)


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_configured_origins_and_no_others(configured_server, transport):
    url = configured_server.url
    assert not await refused_connection(url, "https://good.example", transport)
    assert await refused_connection(url, "https://evil.example", transport)
    assert await refused_connection(url, "https://good.example.evil.example", transport)
    assert await refused_connection(url, "http://good.example", transport)


def thread_row(admin_http, thread_id: str) -> dict:
    rows = {t["id"]: t for t in admin_http.get("/api/threads?limit=500").json()}
    return rows[thread_id]


def messages(admin_http, thread_id: str) -> list[dict]:
    return admin_http.get(f"/api/messages?thread_id={thread_id}").json()


async def test_admin_events_are_refused_and_nothing_leaks_without_an_admin_session(server, admin_http):
    admin = await admin_socket(server.url, admin_http)
    victim, thread_id = await visitor(server.url, "Victim")
    # Three kinds of outsider: no cookie, a visitor's session, a signed-out session.
    anonymous = await Recorder(server.url).connect()
    page = Browserish(server.url)
    page.get("/")
    visitor_session = await Recorder(server.url, page.cookie_header()).connect()
    outsiders = [anonymous, visitor_session]
    for outsider in outsiders:
        refused = await outsider.call("admin_join", {})
        assert refused == {"ok": False, "error": refused["error"], "code": "admin_required"}
        for event, payload in [
            ("message_to_visitor", {"thread_id": thread_id, "type": "text", "text": "I am staff"}),
            ("mark_seen", {"thread_id": thread_id}),
            ("typing", {"thread_id": thread_id, "typing": True}),
            ("admin_join", {"room": "admin_room"}),
        ]:
            ack = await outsider.call(event, payload)
            assert ack["ok"] is False and ack["error"], (event, ack)

    # Everything admins are told happens now; none of it reaches the outsiders.
    await victim.call("typing", {"thread_id": thread_id, "typing": True})
    await victim.call("heartbeat", {"thread_id": thread_id})
    await victim.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "secret"})
    newcomer, new_thread = await visitor(server.url, "Newcomer")
    await admin.call("message_to_visitor", {"thread_id": thread_id, "type": "text", "text": "answer"})
    await admin.wait_for("message_from_telegram", lambda d: d["thread_id"] == thread_id)
    await admin.wait_for("thread_created", lambda d: d["id"] == new_thread)
    # Proof by order: each outsider opens a thread of its own and the admin answers there;
    # that answer reaches the outsider after anything emitted before it.
    for outsider in outsiders:
        own = await outsider.call("join", {"display_name": "Outsider"})
        assert own["ok"] is True, own
        last = {"thread_id": own["thread_id"], "type": "text", "text": "last"}
        assert (await admin.call("message_to_visitor", last))["ok"] is True
        await outsider.wait_for("message_from_admin", lambda d, t=own["thread_id"]: d["thread_id"] == t)
        leaked = [
            (name, data)
            for name, data in outsider.events
            if name in ADMIN_ROOM_EVENTS | {"message_from_admin"}
            and data.get("thread_id") != own["thread_id"]
        ]
        assert leaked == [], leaked
    await victim.wait_for("message_from_admin", lambda d: d["content_text"] == "answer")
    assert victim.received("admin_typing") == [] and victim.received("admin_seen") == []
    assert [m["content_text"] for m in messages(admin_http, thread_id)] == ["secret", "answer"]
    for c in (admin, victim, anonymous, visitor_session, newcomer):
        await c.close()


async def test_a_visitor_never_reads_or_writes_another_thread(server, admin_http):
    victim, victim_thread = await visitor(server.url, "Victim")
    await victim.call("message_to_admin", {"thread_id": victim_thread, "type": "text", "text": "mine"})
    before = thread_row(admin_http, victim_thread)
    attacker, attacker_thread = await visitor(server.url, "Attacker")
    cookieless = await Recorder(server.url).connect()
    await asyncio.sleep(1.1)  # timestamps have 1 s resolution: a heartbeat would show

    own_thread: dict[Recorder, str] = {}
    for intruder in (attacker, cookieless):
        for target in (victim_thread, str(uuid.uuid4())):
            for event, payload in [
                ("message_to_admin", {"thread_id": target, "type": "text", "text": "spoofed"}),
                ("message_to_admin", {"thread_id": target, "type": "text", "text": "x", "client_id": "c-1"}),
                ("heartbeat", {"thread_id": target}),
                ("typing", {"thread_id": target, "typing": True}),
                ("mark_seen", {"thread_id": target}),
            ]:
                ack = await intruder.call(event, payload)
                assert ack["ok"] is False and ack["error"], (event, ack)
        # Asking to resume the victim's thread opens a fresh one: no history, no room.
        resumed = await intruder.call("join", {"display_name": "Me", "thread_id": victim_thread})
        assert resumed["ok"] is True and resumed["resumed"] is False
        own_thread[intruder] = resumed["thread_id"]
        assert resumed["thread_id"] != victim_thread and resumed["messages"] == []
        assert messages(admin_http, resumed["thread_id"]) == []
        # The new thread is theirs; the victim's still is not.
        ack = await intruder.call(
            "message_to_admin", {"thread_id": victim_thread, "type": "text", "text": "x"}
        )
        assert ack["ok"] is False

    admin = await admin_socket(server.url, admin_http)
    await admin.call("message_to_visitor", {"thread_id": victim_thread, "type": "text", "text": "for victim"})
    await victim.wait_for("message_from_admin", lambda d: d["content_text"] == "for victim")
    # Proof by order: an answer in each intruder's own thread reaches it after "for victim"
    # would have; only that answer arrived.
    for intruder in (attacker, cookieless):
        mine = {"thread_id": own_thread[intruder], "type": "text", "text": "yours"}
        assert (await admin.call("message_to_visitor", mine))["ok"] is True
        await intruder.wait_for("message_from_admin", lambda d: d["content_text"] == "yours")
        assert [d["content_text"] for d in intruder.received("message_from_admin")] == ["yours"]
    after = thread_row(admin_http, victim_thread)
    assert after["last_activity_at"] == before["last_activity_at"]
    assert [m["content_text"] for m in messages(admin_http, victim_thread)] == ["mine", "for victim"]
    assert messages(admin_http, attacker_thread) == []
    for c in (victim, attacker, cookieless, admin):
        await c.close()


async def test_per_connection_rate_limits_answer_an_error_and_keep_the_socket(make_server):
    live = make_server(
        env={
            "SOCKET_MESSAGES_PER_MINUTE": "5",
            "SOCKET_JOINS_PER_MINUTE": "3",
            "SOCKET_HEARTBEATS_PER_MINUTE": "4",
        }
    )
    admin = Browserish(live.url)
    admin.post("/verify-otp", json={"otp": admin.post("/request-otp", json={}).json()["otp"]})
    client, thread_id = await visitor(live.url)  # join 1 of 3
    for _ in range(2):
        assert (await client.call("join", {"display_name": "again", "thread_id": thread_id}))["ok"]
    flooded = await client.call("join", {"display_name": "flood"})
    assert flooded == {
        "ok": False,
        "error": flooded["error"],
        "code": "rate_limited",
        "retry_after": flooded["retry_after"],
    }
    assert 1 <= flooded["retry_after"] <= 60

    for _ in range(4):
        assert (await client.call("heartbeat", {"thread_id": thread_id}))["ok"]
    assert (await client.call("heartbeat", {"thread_id": thread_id}))["ok"] is False

    acks = [
        await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": f"m{i}"})
        for i in range(8)
    ]
    assert [a["ok"] for a in acks] == [True] * 5 + [False] * 3
    assert acks[-1]["code"] == "rate_limited"
    # Typing has a budget of its own, as large as the messages'.
    typing = [(await client.call("typing", {"thread_id": thread_id, "typing": True}))["ok"] for _ in range(6)]
    assert typing == [True] * 5 + [False]
    assert len(admin.get(f"/api/messages?thread_id={thread_id}").json()) == 5

    # The limits are per connection: the same visitor on a new socket is served.
    assert client.sio.connected
    page_cookie = client.cookie
    fresh = await Recorder(live.url, page_cookie).connect()
    ack = await fresh.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "new socket"})
    assert ack["ok"] is True
    await client.close()
    await fresh.close()


async def _connect(url: str) -> Recorder | None:
    client = Recorder(url)
    try:
        return await client.connect()
    except socketio.exceptions.ConnectionError:
        return None


async def _connect_eventually(url: str, timeout: float = 5) -> Recorder | None:
    """Disconnects are processed asynchronously by the server; give them a moment."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        client = await _connect(url)
        if client is not None:
            return client
        await asyncio.sleep(0.1)
    return None


async def test_connections_per_address_are_capped_and_the_count_does_not_leak(make_server):
    live = make_server(env={"SOCKETIO_MAX_CONNECTIONS_PER_IP": "3"})
    held = [await _connect(live.url) for _ in range(3)]
    assert all(held)
    for _ in range(4):
        assert await _connect(live.url) is None  # refused attempts must not count either
    await held.pop().close()
    replacement = await _connect_eventually(live.url)
    assert replacement is not None
    held.append(replacement)
    assert await _connect(live.url) is None

    # Churn: many opens and closes (clean and abrupt) leave the count where it was.
    await held.pop().close()
    for _ in range(10):
        churn = await _connect_eventually(live.url)
        assert churn is not None
        await churn.close()
    abrupt = await _connect_eventually(live.url)
    assert abrupt is not None
    await abrupt.sio.eio.disconnect(abort=True)  # the transport just drops
    for c in held:
        await c.close()
    await asyncio.sleep(0.5)
    final = [await _connect_eventually(live.url) for _ in range(3)]
    assert all(final), "the connection count leaked"
    assert await _connect(live.url) is None
    for c in final:
        await c.close()


async def test_the_connection_cap_counts_each_client_address_apart(make_server):
    """Fifty sockets from one address lock out nobody else: a visitor and an admin from
    another address still connect and talk (issue 18.1)."""
    live = make_server(env={"SOCKETIO_MAX_CONNECTIONS_PER_IP": "50"})
    admin_http = sign_in(live.url)
    flood = [await socket_from(live.url, "127.0.0.2") for _ in range(50)]
    assert await refused_from(live.url, "127.0.0.2") is not None

    page = http_from(live.url, "127.0.0.3")
    assert page.get("/").status_code == 200
    visitor_socket = await socket_from(live.url, "127.0.0.3", page.cookie_header())
    admin = await socket_from(live.url, "127.0.0.3", admin_http.cookie_header())
    assert await admin.call("admin_join", {}) == {"ok": True}
    joined = await visitor_socket.call("join", {"display_name": "Real visitor"})
    assert joined["ok"] is True
    sent = await visitor_socket.call(
        "message_to_admin", {"thread_id": joined["thread_id"], "type": "text", "text": "hello"}
    )
    assert sent["ok"] is True
    arrived = await admin.wait_for("message_from_visitor", lambda d: d["thread_id"] == joined["thread_id"])
    assert arrived["content_text"] == "hello"
    # The flood's address stays capped.
    assert await refused_from(live.url, "127.0.0.2") is not None
    for client in (*flood, visitor_socket, admin):
        await client.close()


async def test_behind_a_trusted_proxy_sockets_count_the_forwarded_client(make_server):
    """TRUSTED_PROXY_HOPS=1: the proxy's own entry (rightmost) is the client, for sockets
    as for HTTP; what the client wrote to the left of it changes nothing."""
    live = make_server(env={"SOCKETIO_MAX_CONNECTIONS_PER_IP": "2", "TRUSTED_PROXY_HOPS": "1"})
    held = [
        await socket_from(live.url, "127.0.0.2", headers={"X-Forwarded-For": f"10.9.9.{i}, 10.0.0.1"})
        for i in range(2)
    ]
    assert await refused_from(live.url, "127.0.0.2", {"X-Forwarded-For": "10.9.9.7, 10.0.0.1"}) is not None
    # Another client behind the same proxy (same peer address) is served.
    assert await refused_from(live.url, "127.0.0.2", {"X-Forwarded-For": "10.0.0.2"}) is None
    for client in held:
        await client.close()


async def clear_of_window_edge(window_seconds: int, margin: float = 10) -> None:
    """Limits count in fixed windows: start a counting test well inside one."""
    into = time.time() % window_seconds
    if into > window_seconds - margin:
        await asyncio.sleep(window_seconds - into + 0.1)


async def test_new_conversations_and_messages_are_limited_per_address_across_reconnects(make_server):
    """One address cannot open conversations or send messages without bound by
    reconnecting; its open conversation keeps working, other addresses are served (18.6)."""
    live = make_server(env={"CONVERSATIONS_PER_HOUR_PER_IP": "3", "MESSAGES_PER_MINUTE_PER_IP": "5"})
    admin_http = sign_in(live.url)
    await clear_of_window_edge(3600)
    await clear_of_window_edge(60)
    page = http_from(live.url, "127.0.0.2")
    page.get("/")
    first = await socket_from(live.url, "127.0.0.2", page.cookie_header())
    kept = await first.call("join", {"display_name": "Kept"})
    assert kept["ok"] is True
    await first.close()
    for i in range(2):  # a new connection each time, no cookie: a stranger every time
        flood = await socket_from(live.url, "127.0.0.2")
        assert (await flood.call("join", {"display_name": f"Flood {i}"}))["ok"] is True
        await flood.close()
    flood = await socket_from(live.url, "127.0.0.2")
    refused = await flood.call("join", {"display_name": "One too many"})
    assert refused["ok"] is False and refused["code"] == "conversation_limit", refused
    assert 1 <= refused["retry_after"] <= 3601
    await flood.close()

    # The open conversation goes on: resumed on a new connection, messages accepted ...
    again = await socket_from(live.url, "127.0.0.2", page.cookie_header())
    resumed = await again.call("join", {"display_name": "Kept", "thread_id": kept["thread_id"]})
    assert resumed["ok"] is True and resumed["resumed"] is True
    thread_id = kept["thread_id"]

    def text(n: int) -> dict:
        return {"thread_id": thread_id, "type": "text", "text": f"m{n}"}

    acks = [await again.call("message_to_admin", text(n)) for n in range(3)]
    assert [a["ok"] for a in acks] == [True] * 3
    await again.close()
    # ... up to the address's budget, which a reconnect does not renew.
    again = await socket_from(live.url, "127.0.0.2", page.cookie_header())
    assert (await again.call("join", {"display_name": "Kept", "thread_id": thread_id}))["resumed"] is True
    acks = [await again.call("message_to_admin", text(n)) for n in range(3, 6)]
    assert [a["ok"] for a in acks] == [True, True, False]
    assert acks[-1]["code"] == "rate_limited" and 1 <= acks[-1]["retry_after"] <= 61

    # Another address opens a conversation and writes.
    other = await socket_from(live.url, "127.0.0.3")
    joined = await other.call("join", {"display_name": "Neighbour"})
    assert joined["ok"] is True
    sent = await other.call(
        "message_to_admin", {"thread_id": joined["thread_id"], "type": "text", "text": "hi"}
    )
    assert sent["ok"] is True

    threads = admin_http.get("/api/threads").json()
    assert sorted(t["display_name"] for t in threads) == ["Flood 0", "Flood 1", "Kept", "Neighbour"]
    stored = admin_http.get(f"/api/messages?thread_id={thread_id}").json()
    assert [m["content_text"] for m in stored] == ["m0", "m1", "m2", "m3", "m4"]
    await again.close()
    await other.close()


def nested_lists(depth: int) -> list:
    outer: list = []
    inner = outer
    for _ in range(depth):
        inner.append([])
        inner = inner[0]
    return outer


async def test_a_payload_nested_too_deeply_is_refused_and_the_socket_goes_on(server):
    client, thread_id = await visitor(server.url, "Deep")
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20000)  # so that this client can encode what the server refuses
    try:
        ack = await client.call("message_to_admin", nested_lists(5000))
    finally:
        sys.setrecursionlimit(limit)
    assert ack == {"ok": False, "error": ack["error"], "code": "nested_too_deep"}
    sent = await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "after"})
    assert sent["ok"] is True and sent["message"]["content_text"] == "after"
    assert "RecursionError" not in server.log()
    await client.close()


def polling_session(url: str) -> tuple[requests.Session, str]:
    """An Engine.IO polling session connected to the Socket.IO namespace."""
    http = requests.Session()
    opened = http.get(f"{url}/socket.io/?EIO=4&transport=polling", timeout=5)
    sid = json.loads(opened.text[1:])["sid"]
    assert http.post(f"{url}/socket.io/?EIO=4&transport=polling&sid={sid}", data="40", timeout=5).text == "OK"
    return http, sid


@pytest.mark.parametrize("chunked", [False, True])
def test_a_polling_post_over_the_engineio_buffer_is_answered_413_at_once(server, chunked):
    http, sid = polling_session(server.url)
    body = b"4" + b"x" * (100 * 1024)
    data = iter([body[i : i + 8192] for i in range(0, len(body), 8192)]) if chunked else body
    answer = http.post(f"{server.url}/socket.io/?EIO=4&transport=polling&sid={sid}", data=data, timeout=5)
    assert answer.status_code == 413
    assert answer.json() == {"success": False, "error": answer.json()["error"], "code": "body_too_large"}
    # A POST within the buffer is still served.
    fresh, fresh_sid = polling_session(server.url)
    ok = fresh.post(f"{server.url}/socket.io/?EIO=4&transport=polling&sid={fresh_sid}", data="3", timeout=5)
    assert ok.status_code == 200


async def test_display_names_lose_invisible_and_direction_changing_characters(server, admin_http):
    client = await Recorder(server.url).connect()
    joined = await client.call("join", {"display_name": "\u202enimdA\u202c \u2066Ay\u200bşe\u2069\ufeff"})
    assert joined["ok"] is True and joined["display_name"] == "nimdA Ayşe"
    assert thread_row(admin_http, joined["thread_id"])["display_name"] == "nimdA Ayşe"
    blank = await client.call("join", {"display_name": "\u200b\u200e\u2060 \u202e"})
    assert blank == {"ok": False, "error": blank["error"], "code": "name_required"}
    await client.close()
