"""Telegram down for minutes, compressed: visitors keep chatting, the server restarts in the
middle, and once Telegram is back every visitor message reaches it exactly once, in order
per thread, linked for replies. A send cut short by a SIGKILL is retried by the next process.

The outbox lives in the database, so these tests restart the server on the same port and
database and look at what the fake Bot API recorded and what the database holds.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler

import pytest

from tests.faults.test_nothing_lost import ReliableVisitor
from tests.support import local_http
from tests.support.fake_telegram import FakeTelegram
from tests.support.server import LiveServer
from tests.telegram.conftest import CHAT_ID, TOKEN, outbox_empty, telegram_env
from tests.telegram.conftest import health as telegram_health


class FlakyTelegram(FakeTelegram):
    """The fake Bot API, plus the ways Telegram goes away: answering 500 to everything,
    not listening at all (the same port comes back later), and a call that never answers."""

    def start(self, port: int = 0) -> FlakyTelegram:
        if not hasattr(self, "lock"):
            self.lock = threading.Condition()
            self.erroring = False
            self.hold: str | None = None  # method whose next call never answers
            self.held = threading.Event()
            self.release = threading.Event()

        self.httpd = local_http.serve(self._serve, port)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        return self

    def go_offline(self) -> None:
        """Connections refused from now on."""
        self.stop()

    def go_online(self) -> None:
        self.start(port=self.httpd.server_address[1])

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        method = request.path.split("?", 1)[0].rsplit("/", 1)[-1]
        if self.erroring:
            self._record(_failed_call(method, request))
            self._reply(
                request, 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}
            )
            return
        with self.lock:
            hold, self.hold = (self.hold == method), (None if self.hold == method else self.hold)
        if hold:
            # The call reached "Telegram" but its answer never comes back: not delivered.
            self._record(_failed_call(method, request))
            self.held.set()
            self.release.wait(60)
            request.close_connection = True
            return
        self._handle(request)


def _failed_call(method: str, request: BaseHTTPRequestHandler):
    from tests.support.fake_telegram import Call

    length = int(request.headers.get("Content-Length", 0) or 0)
    request.rfile.read(length)
    return Call(method, {}, {}, ok=False)


def forwarded(fake: FakeTelegram) -> list[str]:
    """The visitor texts Telegram received, in the order it received them."""
    return [
        c.params["text"].rsplit("\n", 1)[-1] for c in fake.sent("sendMessage") if " says " in c.params["text"]
    ]


def db_rows(live: LiveServer, sql: str) -> list[tuple]:
    path = live.env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return conn.execute(sql).fetchall()


def assert_linked(live: LiveServer, fake: FakeTelegram, visitors: list[ReliableVisitor]) -> None:
    """Every forwarded message is a TelegramLink to its visitor's thread (replies reach them)."""
    links = {
        (chat, mid): str(thread).replace("-", "")
        for chat, mid, thread in db_rows(live, "SELECT chat_id, message_id, thread_id FROM telegram_links")
    }
    by_name = {v.name: v.thread_id.replace("-", "") for v in visitors}
    for call in fake.sent("sendMessage"):
        text = call.params["text"].rsplit("\n", 1)[-1]
        if " says " in text:
            key = (CHAT_ID, call.result["message_id"])
            assert links.get(key) == by_name[text.split(" says ")[0]], (text, key)


def chat_env(fake: FakeTelegram, **extra: str) -> dict[str, str]:
    # Retries every 100 ms doubling to at most 1 s: the backlog goes out within a second
    # or so of Telegram coming back, instead of after a backoff as long as the outage.
    return telegram_env(fake, TELEGRAM_RETRY_BASE_MS="100", TELEGRAM_RETRY_MAX_SECONDS="1", **extra)


@pytest.fixture
def flaky():
    fake = FlakyTelegram(token=TOKEN).start()
    yield fake
    fake.release.set()
    fake.erroring = False
    try:
        fake.stop()
    except Exception:
        pass  # already offline


async def chat(visitors: list[ReliableVisitor], sent: dict[str, list[str]], until: float) -> None:
    """Every visitor sends a message about every 0.25 s until `until` (monotonic); each
    is in `sent` once the server acknowledged it."""

    async def one(v: ReliableVisitor) -> None:
        while time.monotonic() < until:
            i = len(sent[v.name])
            await v.send(f"{v.name}-{i}", f"{v.name} says {i}", time.monotonic() + 20)
            sent[v.name].append(f"{v.name} says {i}")
            await asyncio.sleep(0.25)

    await asyncio.gather(*(one(v) for v in visitors))


async def test_telegram_down_with_a_restart_in_the_middle_loses_and_repeats_nothing(flaky):
    live = LiveServer(env=chat_env(flaky))
    try:
        await asyncio.to_thread(live.start)
        visitors = [await ReliableVisitor(live.url, f"v{n}").start() for n in range(4)]
        sent: dict[str, list[str]] = defaultdict(list)

        # Telegram answers 500 to everything: visitors are acked all the same, every one of
        # their messages while nothing at all has reached Telegram.
        flaky.erroring = True
        await chat(visitors, sent, time.monotonic() + 6)
        assert all(len(sent[v.name]) >= 3 for v in visitors), sent
        assert forwarded(flaky) == []
        failures = [c for c in flaky.calls if c.method == "sendMessage" and not c.ok]
        assert len(failures) >= 3  # retried all along, not given up

        # The server is stopped and started again mid-outage; Telegram now refuses connections.
        talking = asyncio.create_task(chat(visitors, sent, time.monotonic() + 8))
        flaky.go_offline()
        flaky.erroring = False
        await asyncio.sleep(1)
        await asyncio.to_thread(live.stop, signal.SIGTERM)
        assert live.process.returncode is not None
        await asyncio.sleep(0.5)
        await asyncio.to_thread(live.start)
        await talking
        assert all(v.connects >= 2 for v in visitors), "visitors reconnected by themselves"
        health = (await asyncio.to_thread(telegram_health, live.url))["telegram"]
        total = sum(len(texts) for texts in sent.values())
        assert health["pending"] == total and health["failed"] == 0, (health, total)
        assert "unreachable" in health["last_error"], health

        # Telegram is back: the whole backlog goes out once, in order per thread.
        flaky.go_online()
        await outbox_empty(live.url, timeout=15)
        received = forwarded(flaky)
        assert len(received) == total
        for v in visitors:
            assert [t for t in received if t.startswith(f"{v.name} says ")] == sent[v.name]
        assert_linked(live, flaky, visitors)
        stored = db_rows(live, "SELECT count(*) FROM messages")[0][0]
        assert stored == total
        for v in visitors:
            await v.close()
        assert "Traceback" not in live.log(), live.log()[-5000:]
    finally:
        live.cleanup()


async def test_a_send_cut_short_by_sigkill_is_retried_by_the_next_process(flaky):
    live = LiveServer(env=chat_env(flaky, TELEGRAM_CLAIM_TIMEOUT_SECONDS="3"))
    try:
        await asyncio.to_thread(live.start)
        visitor = await ReliableVisitor(live.url, "k").start()
        deadline = time.monotonic() + 30
        await visitor.send("k-0", "k says 0", deadline)
        await outbox_empty(live.url)

        # The next send reaches Telegram and hangs; the process dies holding its claim.
        flaky.hold = "sendMessage"
        await visitor.send("k-1", "k says 1", deadline)
        assert await asyncio.to_thread(flaky.held.wait, 10)
        await asyncio.to_thread(live.stop, signal.SIGKILL)
        claimed = db_rows(live, "SELECT claimed_by FROM telegram_outbox")
        assert len(claimed) == 1 and claimed[0][0], claimed  # claimed by the dead process

        await asyncio.to_thread(live.start)
        await visitor.send("k-2", "k says 2", deadline)
        await visitor.send("k-3", "k says 3", deadline)
        await outbox_empty(live.url, timeout=15)
        # The cut-short send was made again, once, and the later ones waited for it.
        assert forwarded(flaky) == [f"k says {i}" for i in range(4)]
        assert [c.method for c in flaky.calls if not c.ok] == ["sendMessage"]  # the held one
        assert_linked(live, flaky, [visitor])
        await visitor.close()
    finally:
        flaky.release.set()
        live.cleanup()
