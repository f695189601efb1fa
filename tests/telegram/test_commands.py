"""manage.py telegram_poll and telegram_webhook, run as an operator would (subprocesses)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.support.clients import visitor
from tests.support.server import LiveServer

from .conftest import SECRET, outbox_empty, sent, telegram_env


@pytest.fixture(scope="module")
def redis_server(fake):
    """Telegram on, rooms shared through Redis: a command's emits reach the sockets."""
    env = telegram_env(
        fake,
        REDIS_URL="redis://127.0.0.1:6379/0",
        SOCKETIO_REDIS_CHANNEL=f"chatdesk-tg-{uuid.uuid4().hex[:8]}",
    )
    live = LiveServer(env=env).start()
    yield live
    live.cleanup()


async def test_poll_once_delivers_replies_and_keeps_its_offset(redis_server, fake, updates):
    client, thread_id = await visitor(redis_server.url, "Polled")
    await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "poll me"})
    call = await sent(fake, lambda c: c.method == "sendMessage" and "poll me" in c.params["text"])
    await outbox_empty(redis_server.url)
    reply = updates.message(reply_to=call.result["message_id"], text="answered by polling")
    fake.queue_update(reply)
    fake.queue_update(updates.message(text="not a reply"))
    before = len(fake.calls)

    done = await asyncio.to_thread(redis_server.manage, "telegram_poll", "--once", check=False)
    assert done.returncode == 0, done.stderr
    assert "2 update(s) received" in done.stdout
    got = await client.wait_for("message_from_admin", timeout=10)
    assert got["content_text"] == "answered by polling"
    methods = [c.method for c in fake.calls[before:]]
    assert methods.index("deleteWebhook") < methods.index("getUpdates")

    # A restart asks for the updates after the last one: nothing is handled twice.
    again = await asyncio.to_thread(redis_server.manage, "telegram_poll", "--once", check=False)
    assert again.returncode == 0 and "0 update(s) received" in again.stdout, again.stderr
    polls = [c for c in fake.calls if c.method == "getUpdates"]
    assert int(polls[-1].params["offset"]) == reply["update_id"] + 2
    # A new reply, polled after that: once it arrives, a second copy of the first would have.
    fake.queue_update(updates.message(reply_to=call.result["message_id"], text="polled later"))
    third = await asyncio.to_thread(redis_server.manage, "telegram_poll", "--once", check=False)
    assert third.returncode == 0 and "1 update(s) received" in third.stdout, third.stderr
    await client.wait_for("message_from_admin", lambda d: d["content_text"] == "polled later", timeout=10)
    assert [m["content_text"] for m in client.received("message_from_admin")] == [
        "answered by polling",
        "polled later",
    ]
    await client.close()


def test_webhook_command_sets_the_secret_and_refuses_plain_http(redis_server, fake):
    refused = redis_server.manage(
        "telegram_webhook", "set", "http://example.com/telegram/webhook", check=False
    )
    assert refused.returncode == 1 and "https" in refused.stderr
    done = redis_server.manage("telegram_webhook", "set", "https://chat.example.com/telegram/webhook")
    assert "Webhook set" in done.stdout
    setter = fake.sent("setWebhook")[-1]
    assert setter.params["secret_token"] == SECRET
    assert setter.params["url"] == "https://chat.example.com/telegram/webhook"
    info = redis_server.manage("telegram_webhook", "info")
    assert "outbox:" in info.stdout and "123:abc" not in info.stdout
    assert fake.sent("setWebhook")[-1].params["allowed_updates"] == [
        "message",
        "edited_message",
        "callback_query",
        "my_chat_member",
    ]
    assert "not subscribed" not in info.stdout
    # A webhook set by an older version (messages only) is pointed out.
    fake.webhook["url"], fake.allowed_updates = "https://chat.example.com/telegram/webhook", ["message"]
    info = redis_server.manage("telegram_webhook", "info")
    assert "not subscribed to: edited_message, callback_query, my_chat_member" in info.stdout
    assert redis_server.manage("telegram_webhook", "delete").returncode == 0


def test_commands_explain_when_telegram_is_not_configured(server):
    for command in (["telegram_poll", "--once"], ["telegram_webhook", "info"]):
        result = server.manage(*command, check=False)
        assert result.returncode == 1
        assert "TELEGRAM_BOT_TOKEN" in result.stderr
    assert "long polling" in server.manage("telegram_poll", "--help").stdout


async def test_a_new_bot_token_polls_from_its_own_start(redis_server, fake, updates):
    """The offset belongs to the bot (getMe's id): after a token change, the old bot's
    offset would skip the new bot's updates (or hand over Telegram's confirmation)."""
    fake.queue_update(updates.message(text="/help"))
    first = await asyncio.to_thread(redis_server.manage, "telegram_poll", "--once", check=False)
    assert first.returncode == 0, first.stderr
    old_bot = [c for c in fake.calls if c.method == "getUpdates"][-1]
    assert old_bot.params["allowed_updates"] == [
        "message",
        "edited_message",
        "callback_query",
        "my_chat_member",
    ]
    again = await asyncio.to_thread(redis_server.manage, "telegram_poll", "--once", check=False)
    assert again.returncode == 0, again.stderr
    assert int([c for c in fake.calls if c.method == "getUpdates"][-1].params["offset"]) > 0

    fake.tokens.add("456:other-bot")
    token = redis_server.env["TELEGRAM_BOT_TOKEN"]
    redis_server.env["TELEGRAM_BOT_TOKEN"] = "456:other-bot"
    try:
        other = await asyncio.to_thread(redis_server.manage, "telegram_poll", "--once", check=False)
    finally:
        redis_server.env["TELEGRAM_BOT_TOKEN"] = token
    assert other.returncode == 0, other.stderr
    new_bot = [c for c in fake.calls if c.method == "getUpdates"][-1]
    assert "offset" not in new_bot.params
