"""Fairness and routing across conversations and chats, through the running server.

- A visitor's flood of queued forwards does not hold back another visitor's first message,
  an admin's answer mirrored from the panel, or the bot's notice (issue 18.7).
- Telegram numbers messages per chat: after a group is upgraded (a new chat id) two chats
  have messages with the same id, and a reply goes by (chat id, message id) (issue 19).
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid

import pytest

from tests.support.clients import admin_socket, visitor
from tests.support.server import LiveServer

from .conftest import CHAT_ID, outbox_empty, post_update, sent, sign_in_with_telegram, telegram_env

FLOOD = 200


@pytest.fixture
def paced_server(fake):
    """Ten messages a second to the admin chat: 200 queued forwards take 20 s to go out."""
    live = LiveServer(env=telegram_env(fake, TELEGRAM_SEND_INTERVAL_MS="100")).start()
    yield live
    live.cleanup()


def last_lines(calls) -> list[str]:
    return [c.params["text"].rsplit("\n", 1)[-1] for c in calls]


async def test_a_flood_from_one_visitor_does_not_delay_the_others(paced_server, fake, updates):
    tag = uuid.uuid4().hex[:6]
    admin_http = sign_in_with_telegram(paced_server.url, fake)
    admin = await admin_socket(paced_server.url, admin_http)
    flooder, flood_thread = await visitor(paced_server.url, f"Flood {tag}")
    late, late_thread = await visitor(paced_server.url, f"Late {tag}")
    answered, answered_thread = await visitor(paced_server.url, f"Answered {tag}")

    flood = [f"{tag} flood {i:03d}" for i in range(FLOOD)]
    for text in flood:
        ack = await flooder.call(
            "message_to_admin", {"thread_id": flood_thread, "type": "text", "text": text}
        )
        assert ack["ok"] is True, ack
    tail = flood[-1]
    assert tail not in last_lines(fake.sent("sendMessage")), "the flood went out before the test went on"

    ack = await late.call(
        "message_to_admin", {"thread_id": late_thread, "type": "text", "text": f"{tag} first words"}
    )
    assert ack["ok"] is True, ack
    ack = await admin.call(
        "message_to_visitor",
        {"thread_id": answered_thread, "type": "text", "text": f"{tag} answer from the panel"},
    )
    assert ack["ok"] is True, ack
    help_request = updates.message(text="/help")
    post_update(paced_server.url, help_request)

    await sent(fake, lambda c: c.method == "sendMessage" and f"{tag} first words" in c.params["text"])
    mirror = await sent(
        fake, lambda c: c.method == "sendMessage" and f"{tag} answer from the panel" in c.params["text"]
    )
    helped = await sent(
        fake,
        lambda c: (
            c.method == "sendMessage"
            and c.params.get("reply_parameters", {}).get("message_id")
            == help_request["message"]["message_id"]
        ),
    )
    assert "/threads" in helped.params["text"]
    assert "Admin (panel)" in mirror.params["text"] and f"Answered {tag}" in mirror.params["text"]
    order = [c for c in fake.sent("sendMessage") if str(c.params["chat_id"]) == str(CHAT_ID)]
    texts = last_lines(order)
    # All three went out while the flood was still queued: before its tail, not after it.
    assert tail not in texts[: texts.index(f"{tag} first words")]
    assert tail not in texts[: texts.index(f"{tag} answer from the panel")]
    assert tail not in texts[: order.index(helped)]
    # The flood itself goes out in the visitor's order.
    sent_flood = [t for t in texts if t in flood]
    assert sent_flood == flood[: len(sent_flood)]
    for client in (flooder, late, answered, admin):
        await client.close()


def forward_of(thread_id: str, text: str):
    return lambda c: (
        c.method == "sendMessage"
        and f"#{thread_id[:8]}" in c.params["text"]
        and c.params["text"].endswith(f"\n{text}")
    )


def stored_messages(live: LiveServer, thread_id: str) -> list[tuple[str, str]]:
    path = live.env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT sender, content_text FROM messages WHERE thread_id = ? ORDER BY created_at",
            (thread_id.replace("-", ""),),
        )
        return rows.fetchall()


async def test_a_reply_goes_by_chat_and_message_id_when_two_chats_share_ids(fake, updates):
    old_chat, new_chat = CHAT_ID, -1002
    old = LiveServer(env=telegram_env(fake))
    new = None
    try:
        await asyncio.to_thread(old.start)
        before, before_thread = await visitor(old.url, "Before the upgrade")
        ack = await before.call(
            "message_to_admin", {"thread_id": before_thread, "type": "text", "text": "in the old group"}
        )
        assert ack["ok"] is True, ack
        first = await sent(fake, forward_of(before_thread, "in the old group"))
        await outbox_empty(old.url)
        shared_id = first.result["message_id"]
        assert first.result["chat"]["id"] == old_chat
        await before.close()

        # The group became a supergroup: a new chat id, the same database. Telegram numbers
        # each chat on its own, so the new chat's messages reach the same id.
        await asyncio.to_thread(old.stop)
        new = LiveServer(
            env={
                **telegram_env(fake, TELEGRAM_CHAT_ID=str(new_chat)),
                "DATABASE_URL": old.env["DATABASE_URL"],
            },
            migrate=False,
        )
        await asyncio.to_thread(new.start)
        fake.next_message_id(new_chat, shared_id)
        after, after_thread = await visitor(new.url, "After the upgrade")
        ack = await after.call(
            "message_to_admin", {"thread_id": after_thread, "type": "text", "text": "in the new group"}
        )
        assert ack["ok"] is True, ack
        second = await sent(fake, forward_of(after_thread, "in the new group"))
        await outbox_empty(new.url)
        assert (second.result["chat"]["id"], second.result["message_id"]) == (new_chat, shared_id)

        # A reply in the new chat to message `shared_id` is for the new chat's visitor.
        post_update(new.url, updates.message(chat_id=new_chat, reply_to=shared_id, text="for after"))
        got = await after.wait_for("message_from_admin", timeout=10)
        assert (got["thread_id"], got["content_text"]) == (after_thread, "for after")
        assert stored_messages(new, after_thread) == [("visitor", "in the new group"), ("admin", "for after")]
        assert stored_messages(new, before_thread) == [("visitor", "in the old group")]
        await after.close()
    finally:
        if new is not None:
            new.stop()
        old.cleanup()
