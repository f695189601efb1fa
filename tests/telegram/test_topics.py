"""TELEGRAM_TOPICS=1: a forum topic per visitor thread, answered by writing in it."""

from __future__ import annotations

import pytest

from tests.support.clients import visitor
from tests.support.server import LiveServer

from .conftest import CHAT_ID, outbox_empty, post_update, sent, sign_in_with_telegram, telegram_env


@pytest.fixture(scope="module")
def topics_server(fake):
    live = LiveServer(env=telegram_env(fake, TELEGRAM_TOPICS="1")).start()
    yield live
    live.cleanup()


async def test_each_thread_gets_a_topic_that_admins_answer_in(topics_server, fake, updates):
    client, thread_id = await visitor(topics_server.url, "Zeynep")
    await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "topic hello"})
    created = await sent(fake, lambda c: c.method == "createForumTopic" and "Zeynep" in c.params["name"])
    topic_id = created.result["message_thread_id"]
    first = await sent(fake, lambda c: c.method == "sendMessage" and "topic hello" in c.params["text"])
    assert first.params["message_thread_id"] == topic_id
    await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "topic again"})
    second = await sent(fake, lambda c: c.method == "sendMessage" and "topic again" in c.params["text"])
    assert second.params["message_thread_id"] == topic_id
    assert len([c for c in fake.sent("createForumTopic") if "Zeynep" in c.params["name"]]) == 1
    await outbox_empty(topics_server.url)

    # Anything written in the topic goes to the visitor, no reply needed.
    post_update(
        topics_server.url,
        updates.message(text="written in the topic", message_thread_id=topic_id, is_topic_message=True),
    )
    got = await client.wait_for("message_from_admin", timeout=10)
    assert got["content_text"] == "written in the topic" and got["thread_id"] == thread_id

    # Clearing the thread in the panel deletes its topic; the next message opens a new one.
    admin_http = sign_in_with_telegram(topics_server.url, fake)
    assert admin_http.post(f"/api/messages/clear?thread_id={thread_id}").status_code == 200
    await sent(fake, lambda c: c.method == "deleteForumTopic" and c.params["message_thread_id"] == topic_id)
    await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "after the clear"})
    third = await sent(fake, lambda c: c.method == "sendMessage" and "after the clear" in c.params["text"])
    assert third.params["message_thread_id"] not in (None, topic_id)
    await client.close()


async def test_a_message_in_an_unknown_topic_gets_a_hint_in_that_topic(topics_server, fake, updates):
    fake.topic(CHAT_ID, 4242, created_by_bot=False)  # a topic an admin opened in the app
    update = updates.in_topic(4242, text="who is this for?")
    post_update(topics_server.url, update)
    hint = await sent(
        fake,
        lambda c: (
            c.method == "sendMessage"
            and "went to nobody" in c.params["text"]
            and c.params.get("message_thread_id") == 4242
        ),
    )
    assert "topic" in hint.params["text"]


async def test_a_closed_topic_is_reopened_and_the_message_delivered(topics_server, fake):
    client, thread_id = await visitor(topics_server.url, "Closed Case")
    await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "first word"})
    created = await sent(fake, lambda c: c.method == "createForumTopic" and "Closed Case" in c.params["name"])
    topic_id = created.result["message_thread_id"]
    await outbox_empty(topics_server.url)
    # An admin closes the topic in the app; the bot (no topic right, but its creator) may
    # not post there until it is reopened.
    fake.chat(CHAT_ID, can_manage_topics=False)
    fake.topic(CHAT_ID, topic_id, closed=True)
    try:
        await client.call(
            "message_to_admin", {"thread_id": thread_id, "type": "text", "text": "still there?"}
        )
        delivered = await sent(
            fake, lambda c: c.method == "sendMessage" and c.params["text"].endswith("still there?")
        )
        await outbox_empty(topics_server.url)
    finally:
        fake.chat(CHAT_ID, can_manage_topics=True)
    assert delivered.params["message_thread_id"] == topic_id
    with fake.lock:
        steps = [
            (c.method, c.ok, c.error and c.error["description"])
            for c in fake.calls
            if c.params.get("message_thread_id") == topic_id and c.method != "createForumTopic"
        ][-3:]
    assert steps == [
        ("sendMessage", False, "Bad Request: TOPIC_CLOSED"),
        ("reopenForumTopic", True, None),
        ("sendMessage", True, None),
    ]
    assert len([c for c in fake.sent("createForumTopic") if "Closed Case" in c.params["name"]]) == 1
    await client.close()


@pytest.fixture(scope="module")
def plain_group_server(fake):
    """TELEGRAM_TOPICS=1 on a supergroup that is not a forum (a misconfiguration)."""
    fake.chat(-1005031, "supergroup", is_forum=False)
    live = LiveServer(env=telegram_env(fake, TELEGRAM_TOPICS="1", TELEGRAM_CHAT_ID="-1005031")).start()
    yield live
    live.cleanup()


async def test_a_chat_without_topics_is_remembered_not_asked_before_every_message(plain_group_server, fake):
    client, thread_id = await visitor(plain_group_server.url, "No Forum")
    for text in ("one", "two", "three"):
        await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": text})
    await sent(fake, lambda c: c.method == "sendMessage" and c.params["text"].endswith("\nthree"))
    other, other_thread = await visitor(plain_group_server.url, "No Forum Either")
    await other.call("message_to_admin", {"thread_id": other_thread, "type": "text", "text": "four"})
    await sent(fake, lambda c: c.method == "sendMessage" and c.params["text"].endswith("\nfour"))
    with fake.lock:
        tries = [
            (c.ok, c.error["description"])
            for c in fake.calls
            if c.method == "createForumTopic" and c.params["chat_id"] == "-1005031"
        ]
    assert tries == [(False, "Bad Request: the chat is not a forum")]
    await client.close()
    await other.close()
