"""Nothing lost: resends never duplicate, and a server stopped or killed while visitors
are sending keeps every message it acknowledged; clients that reconnect by themselves
deliver the rest, each exactly once."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter

import pytest
import socketio

from tests.production.conftest import services  # noqa: F401  (fresh PostgreSQL database)
from tests.support.clients import Browserish, Recorder, sign_in


def new_visitor_cookie(url: str) -> str:
    page = Browserish(url)
    page.get("/")
    return page.cookie_header()


def stored_texts(admin: Browserish, thread_id: str) -> list[str]:
    return [m["content_text"] for m in admin.get(f"/api/messages?thread_id={thread_id}").json()]


async def test_a_resend_after_reconnect_is_stored_once(server, admin_http):
    cookie = new_visitor_cookie(server.url)
    first = await Recorder(server.url, cookie).connect()
    thread_id = (await first.call("join", {"display_name": "Resender"}))["thread_id"]
    payload = {"thread_id": thread_id, "type": "text", "text": "only once", "client_id": "m-1"}
    original = await first.call("message_to_admin", payload)
    assert original["ok"] is True and original["duplicate"] is False
    await first.close()
    again = await Recorder(server.url, cookie).connect()
    resumed = await again.call("join", {"display_name": "Resender", "thread_id": thread_id})
    assert resumed["resumed"] is True
    resent = await again.call("message_to_admin", payload)
    assert resent["ok"] is True and resent["duplicate"] is True
    assert resent["message"] == original["message"]
    # The id is scoped: the same id for another sender or another thread is a new message.
    admin = Recorder(server.url, admin_http.cookie_header())
    await admin.connect()
    reply = await admin.call("message_to_visitor", {**payload, "text": "admin side"})
    assert reply["ok"] is True and reply["duplicate"] is False
    other = (await again.call("join", {"display_name": "Second thread"}))["thread_id"]
    elsewhere = await again.call("message_to_admin", {**payload, "thread_id": other})
    assert elsewhere["ok"] is True and elsewhere["duplicate"] is False
    assert stored_texts(admin_http, thread_id) == ["only once", "admin side"]
    assert stored_texts(admin_http, other) == ["only once"]
    for c in (again, admin):
        await c.close()


async def race_resends(url: str, admin: Browserish, rounds: int = 25) -> None:
    """Two tabs of one visitor resend the same client ids at the same moment."""
    cookie = new_visitor_cookie(url)
    tab_one = await Recorder(url, cookie).connect()
    thread_id = (await tab_one.call("join", {"display_name": "Racer"}))["thread_id"]
    tab_two = await Recorder(url, cookie).connect()
    admin_tab = await Recorder(url, admin.cookie_header()).connect()
    assert await admin_tab.call("admin_join", {}) == {"ok": True}
    for i in range(rounds):
        payload = {"thread_id": thread_id, "type": "text", "text": f"race {i}", "client_id": f"race-{i}"}
        acks = await asyncio.gather(
            *(tab.call("message_to_admin", payload) for tab in (tab_one, tab_two, tab_one))
        )
        assert [a["ok"] for a in acks] == [True] * 3, acks
        assert len({a["message"]["id"] for a in acks}) == 1, acks
        assert sorted(a["duplicate"] for a in acks) == [False, True, True], acks
    assert stored_texts(admin, thread_id) == [f"race {i}" for i in range(rounds)]
    # Admins were told about each message once.
    await admin_tab.wait_for("message_from_visitor", lambda d: d["content_text"] == f"race {rounds - 1}")
    told = [
        d["content_text"] for d in admin_tab.received("message_from_visitor") if d["thread_id"] == thread_id
    ]
    assert sorted(told) == sorted(f"race {i}" for i in range(rounds))
    for c in (tab_one, tab_two, admin_tab):
        await c.close()


async def test_concurrent_resends_race_to_one_message(server, admin_http):
    await race_resends(server.url, admin_http)


@pytest.mark.services
async def test_concurrent_resends_race_to_one_message_on_postgresql(make_server, services):  # noqa: F811
    """Several database threads really run the two inserts at once here."""
    live = make_server(env={"DATABASE_URL": services.database_url, "DB_THREADS": "8"})
    await race_resends(live.url, sign_in(live.url))


# Refusals the visitor page answers by sending again (RETRY_LATER: an outage, a restart, a limit).
RETRYABLE = {"rate_limited", "temporarily_unavailable", "server_error"}  # static/chat/refusals.js


class ReliableVisitor:
    """Sends like the visitor page: every message has a client_id and is resent until acked,
    over a client that reconnects by itself (reconnection=True) and resumes its thread."""

    def __init__(self, url: str, name: str):
        self.url = url
        self.name = name
        self.cookie = new_visitor_cookie(url)
        self.sio = socketio.AsyncClient(
            reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1, randomization_factor=0
        )
        self.connects = 0
        self.resumed_at = 0
        self.thread_id: str | None = None
        self.acked: dict[str, str] = {}  # client_id -> stored message id
        self.last_refusal: dict | None = None
        self.sio.on("connect", self._connected)

    async def _connected(self) -> None:
        self.connects += 1

    async def start(self) -> ReliableVisitor:
        # A callable, not a dict: python-engineio moves a Cookie header out of the dict it is
        # given (into its HTTP session), so a reconnect would come back without the session.
        await self.sio.connect(self.url, headers=lambda: {"Cookie": self.cookie}, transports=["websocket"])
        ack = await self.sio.call("join", {"display_name": self.name}, timeout=5)
        self.thread_id = ack["thread_id"]
        self.resumed_at = self.connects
        return self

    async def _ready(self, deadline: float) -> bool:
        """Connected, with the thread resumed after a reconnect: True, or False when the
        connection went away meanwhile (the caller tries again)."""
        while not self.sio.connected:
            assert time.monotonic() < deadline, f"{self.name} never reconnected"
            await asyncio.sleep(0.05)
        if self.resumed_at == self.connects:
            return True
        try:
            ack = await self.sio.call(
                "join", {"display_name": self.name, "thread_id": self.thread_id}, timeout=3
            )
        except socketio.exceptions.SocketIOError:
            return False
        if not ack["ok"]:
            # Like the page: only a refusal that says "try again" is tried again.
            assert ack["code"] in RETRYABLE, ack
            self.last_refusal = ack
            return False
        # Resuming must give back the same thread, at once: a broken resume fails here,
        # not 60 s later as "never acked".
        assert (ack["resumed"], ack["thread_id"]) == (True, self.thread_id), ack
        self.resumed_at = self.connects
        return True

    async def send(self, client_id: str, text: str, deadline: float) -> None:
        payload = {"thread_id": self.thread_id, "type": "text", "text": text, "client_id": client_id}
        while time.monotonic() < deadline:
            if not await self._ready(deadline):
                await asyncio.sleep(0.1)
                continue
            try:
                ack = await self.sio.call("message_to_admin", payload, timeout=3)
            except socketio.exceptions.SocketIOError:  # disconnected or unanswered: resend
                await asyncio.sleep(0.1)
                continue
            if ack["ok"]:
                assert ack["message"]["content_text"] == text, ack
                self.acked[client_id] = ack["message"]["id"]
                return
            assert ack["code"] in RETRYABLE, ack
            self.last_refusal = ack
            await asyncio.sleep(0.1)  # "temporarily unavailable": retry, like the page
        raise AssertionError(f"{client_id} never acked; last refusal {self.last_refusal}")

    async def run(self, count: int, deadline: float) -> None:
        for i in range(count):
            await self.send(f"{self.name}-{i}", f"{self.name} says {i}", deadline)

    async def close(self) -> None:
        self.sio.reconnection = False
        if self.sio.connected:
            await self.sio.disconnect()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
async def test_acked_messages_survive_a_stop_and_clients_deliver_the_rest_once(make_server, sig):
    live = make_server()
    visitors = [await ReliableVisitor(live.url, f"v{n}").start() for n in range(6)]
    per_visitor = 40
    deadline = time.monotonic() + 60
    senders = [asyncio.create_task(v.run(per_visitor, deadline)) for v in visitors]
    while sum(len(v.acked) for v in visitors) < 40:
        await asyncio.sleep(0.02)

    # Stop the server mid-stream (in a thread: the wait must not block our clients' loop).
    await asyncio.to_thread(live.stop, sig)
    if sig == signal.SIGTERM:
        assert live.process.returncode is not None
    acked_before_stop = {cid: mid for v in visitors for cid, mid in v.acked.items()}
    # Start it again on the same port, with the same database.
    await asyncio.sleep(0.5)
    await asyncio.to_thread(live.start)
    await asyncio.gather(*senders)

    admin = sign_in(live.url)
    assert all(v.connects >= 2 for v in visitors), "every client reconnected by itself"
    stored_ids = set()
    for v in visitors:
        stored = admin.get(f"/api/messages?thread_id={v.thread_id}").json()
        texts = Counter(m["content_text"] for m in stored)
        assert texts == Counter(f"{v.name} says {i}" for i in range(per_visitor)), texts
        stored_ids |= {m["id"] for m in stored}
        assert set(v.acked.values()) <= stored_ids
    # Every message acked before the stop is there under the id its ack named.
    assert set(acked_before_stop.values()) <= stored_ids
    for v in visitors:
        await v.close()
