"""The fake Bot API behaves as Telegram where the tests depend on it: message ids are
per chat, and failures a test scripted do not outlive that test."""

from __future__ import annotations

from telegram_bridge.client import TelegramClient
from tests.support.clients import visitor

from .conftest import TOKEN, outbox_empty, sent


def test_message_ids_are_numbered_per_chat(fake):
    bot = TelegramClient(TOKEN, fake.url)
    first_a = bot.send_message(-7001, "a")
    first_b = bot.send_message(-7002, "b")
    second_a = bot.send_message(-7001, "a again")
    assert (first_a["chat"]["id"], first_a["message_id"]) == (-7001, 1001)
    assert (first_b["chat"]["id"], first_b["message_id"]) == (-7002, 1001)
    assert (second_a["chat"]["id"], second_a["message_id"]) == (-7001, 1002)


def test_a_test_that_scripts_failures_and_leaves_them_unused(fake):
    fake.fail("sendMessage", 5, status=500)
    assert fake.failures == {"sendMessage": [(500, None)] * 5}


async def test_the_next_test_starts_without_them(tg_server, fake):
    assert fake.failures == {}
    await outbox_empty(tg_server.url)
    before = len(fake.calls)
    client, thread_id = await visitor(tg_server.url, "Clean Slate")
    ack = await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "first try"})
    assert ack["ok"] is True, ack
    await sent(fake, lambda c: c.method == "sendMessage" and "first try" in c.params["text"])
    assert [(c.method, c.ok) for c in fake.calls[before:]] == [("sendMessage", True)]
    await client.close()
