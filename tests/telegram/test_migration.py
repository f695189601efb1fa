"""Issue 15.1: Telegram upgrades the admin group to a supergroup (a new chat id). The
bridge follows it, from a send's 400 (parameters.migrate_to_chat_id) or from the service
messages, stores the new id, re-targets what waited, and forwarding, replies (also to
messages sent before the upgrade) and sign-in go on in the supergroup with nothing lost."""

from __future__ import annotations

import re

import pytest

from tests.support.clients import Browserish, visitor
from tests.support.fake_telegram import Updates
from tests.support.server import LiveServer

from .conftest import _next_update_block, health, outbox_empty, post_update, sent, telegram_env

GROUP = -4015
SUPERGROUP = -1004015
SERVICE_GROUP = -4016
SERVICE_SUPERGROUP = -1004016


@pytest.fixture(scope="module")
def group_server(fake):
    fake.chat(GROUP, "group")
    live = LiveServer(env=telegram_env(fake, TELEGRAM_CHAT_ID=str(GROUP))).start()
    yield live
    log = live.log()
    live.cleanup()
    assert "Traceback" not in log, log[-5000:]
    assert f"telegram_admin_chat_migrated from={GROUP} to={SUPERGROUP} via=send" in log


def texts_to(fake, chat_id: int, marker: str) -> list[tuple[bool, str]]:
    """(accepted, last line) of every sendMessage to `chat_id` carrying `marker`."""
    with fake.lock:
        return [
            (c.ok, c.params["text"].rsplit("\n", 1)[-1])
            for c in fake.calls
            if c.method == "sendMessage"
            and str(c.params.get("chat_id")) == str(chat_id)
            and marker in c.params["text"]
        ]


async def test_after_an_upgrade_forwarding_replies_and_sign_in_work_in_the_supergroup(group_server, fake):
    updates = Updates(GROUP, start=_next_update_block(), chat_type="group")
    client, thread_id = await visitor(group_server.url, "Upgraded")
    marker = f"#{thread_id[:8]}"
    ack = await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "before"})
    assert ack["ok"] is True, ack
    before = await sent(fake, lambda c: c.method == "sendMessage" and marker in c.params["text"])
    assert before.params["chat_id"] == str(GROUP)
    await outbox_empty(group_server.url)

    # Telegram upgrades the group; three messages wait while the first send is refused.
    fake.migrate(GROUP, SUPERGROUP)
    for text in ("after 1", "after 2", "after 3"):
        ack = await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": text})
        assert ack["ok"] is True, ack
    await sent(fake, lambda c: c.method == "sendMessage" and c.params["text"].endswith("\nafter 3"))
    await outbox_empty(group_server.url)
    assert texts_to(fake, GROUP, marker) == [(True, "before"), (False, "after 1")]
    assert texts_to(fake, SUPERGROUP, marker) == [(True, "after 1"), (True, "after 2"), (True, "after 3")]
    report = health(group_server.url)["telegram"]
    assert (report["pending"], report["failed"]) == (0, 0)

    # A reply in the supergroup reaches the visitor...
    in_supergroup = Updates(SUPERGROUP, start=_next_update_block())
    last = fake.sent_text("after 3").result["message_id"]
    post_update(group_server.url, in_supergroup.message(reply_to=last, text="answer in the supergroup"))
    got = await client.wait_for("message_from_admin", timeout=10)
    assert got["content_text"] == "answer in the supergroup"
    # ...and so does a reply to a message the bot sent before the upgrade (an external
    # reply to the old group's message: the ids of the two chats overlap).
    old = in_supergroup.message(text="answer to the old one")
    old["message"]["external_reply"] = {
        "origin": {"type": "chat", "date": 0, "sender_chat": {"id": GROUP, "type": "group"}},
        "chat": {"id": GROUP, "type": "group", "title": "Admins"},
        "message_id": before.result["message_id"],
    }
    post_update(group_server.url, old)
    got = await client.wait_for("message_from_admin", lambda d: d["content_text"] == "answer to the old one")
    assert got["thread_id"] == thread_id
    # Messages from the old group's id no longer count as the admin chat.
    post_update(group_server.url, updates.message(reply_to=before.result["message_id"], text="stale"))
    post_update(group_server.url, in_supergroup.message(reply_to=last, text="fresh"))
    await client.wait_for("message_from_admin", lambda d: d["content_text"] == "fresh")
    assert [m["content_text"] for m in client.received("message_from_admin")] == [
        "answer in the supergroup",
        "answer to the old one",
        "fresh",
    ]

    # Sign-in codes go to the supergroup, protected from forwarding.
    http = Browserish(group_server.url)
    http.get("/login")
    calls_before = len(fake.calls)
    answer = http.post("/request-otp", json={})
    assert answer.status_code == 200, answer.text
    codes = [
        c
        for c in fake.calls[calls_before:]
        if c.method == "sendMessage" and "sign-in code" in c.params["text"]
    ]
    assert [(c.ok, c.params["chat_id"], c.params.get("protect_content")) for c in codes] == [
        (True, str(SUPERGROUP), True)
    ]
    code = re.findall(r"<code>(\d{6})</code>", codes[0].params["text"])[0]
    assert http.post("/verify-otp", json={"otp": code}).status_code == 200
    await client.close()


@pytest.fixture(scope="module")
def service_server(fake):
    fake.chat(SERVICE_GROUP, "group")
    live = LiveServer(env=telegram_env(fake, TELEGRAM_CHAT_ID=str(SERVICE_GROUP))).start()
    yield live
    live.cleanup()


async def test_the_service_message_moves_the_admin_chat_before_any_send_fails(service_server, fake):
    updates = Updates(SERVICE_GROUP, start=_next_update_block(), chat_type="group")
    fake.migrate(SERVICE_GROUP, SERVICE_SUPERGROUP)
    post_update(service_server.url, updates.migrated_to(SERVICE_SUPERGROUP))
    post_update(service_server.url, updates.migrated_from(SERVICE_SUPERGROUP))
    # A /help in the supergroup is answered there: the update was handled after the move.
    in_supergroup = Updates(SERVICE_SUPERGROUP, start=_next_update_block())
    post_update(service_server.url, in_supergroup.message(text="/help"))
    await sent(
        fake, lambda c: c.params.get("chat_id") == str(SERVICE_SUPERGROUP) and "/threads" in c.params["text"]
    )
    client, thread_id = await visitor(service_server.url, "Moved")
    await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "straight there"})
    call = await sent(fake, lambda c: c.method == "sendMessage" and "straight there" in c.params["text"])
    assert call.params["chat_id"] == str(SERVICE_SUPERGROUP)
    assert [c for c in fake.refused() if str(c.params.get("chat_id")) == str(SERVICE_GROUP)] == []
    await client.close()
