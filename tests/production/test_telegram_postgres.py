"""The Telegram bridge on PostgreSQL, where a conversation's first message makes its card
and queues the card's and the message's outbox items in statements that leave with the
COMMIT (chatdesk.prepared.write_at_commit): visitors writing their first words at the
same moment each get their card, once, ahead of their message, and a later message makes
no second card (tests/telegram run on SQLite)."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from tests.support.addresses import http_from, socket_from
from tests.support.fake_telegram import FakeTelegram
from tests.support.server import LiveServer
from tests.telegram.conftest import TOKEN, outbox_empty, sent, telegram_env

pytestmark = [pytest.mark.services, pytest.mark.slow]


@pytest.fixture(scope="module")
def fake():
    fake = FakeTelegram(token=TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def pg_card_server(services, fake):
    env = {**telegram_env(fake, TELEGRAM_CARDS="1"), "DATABASE_URL": services.database_url}
    live = LiveServer(env=env, migrate=True).start()
    yield live
    log = live.log()
    live.cleanup()
    assert "Traceback" not in log and "crashed" not in log, log[-5000:]


async def first_words(url: str, address: str, name: str):
    page = http_from(url, address)
    page.get("/")
    client = await socket_from(url, address, page.cookie_header())
    ack = await client.call("join", {"display_name": name})
    assert ack["ok"] is True, ack
    return client, ack["thread_id"]


async def test_first_messages_together_each_get_one_card_ahead_of_the_message(pg_card_server, fake, services):
    url = pg_card_server.url
    names = [f"Ziyaretçi {n}" for n in range(6)]
    visitors = [await first_words(url, f"127.0.3.{n + 10}", name) for n, name in enumerate(names)]
    acks = await asyncio.gather(
        *(
            client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": f"hello {n}"})
            for n, (client, thread_id) in enumerate(visitors)
        )
    )
    assert all(ack["ok"] is True for ack in acks), acks
    for n, (_client, thread_id) in enumerate(visitors):
        forward = await sent(
            fake, lambda c, n=n: c.method == "sendMessage" and c.params["text"].endswith(f"\nhello {n}")
        )
        cards = [
            c
            for c in fake.sent("sendMessage")
            if c.params["text"].startswith("🗂") and f"#{thread_id[:8]}" in c.params["text"]
        ]
        assert len(cards) == 1, [c.params["text"][:60] for c in fake.sent("sendMessage")]
        assert fake.calls.index(cards[0]) < fake.calls.index(forward)

    client, thread_id = visitors[0]
    ack = await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "and again"})
    assert ack["ok"] is True, ack
    await sent(fake, lambda c: c.method == "sendMessage" and c.params["text"].endswith("\nand again"))
    await outbox_empty(url)
    cards = [c for c in fake.sent("sendMessage") if c.params["text"].startswith("🗂")]
    assert len(cards) == len(visitors)
    with psycopg.connect(services.database_url) as db:
        made = db.execute("SELECT count(*) FROM telegram_cards").fetchone()[0]
        left = db.execute("SELECT count(*) FROM telegram_outbox").fetchone()[0]
    assert (made, left) == (len(visitors), 0)
    for client, _thread_id in visitors:
        await client.close()
