"""Issue 15.2 and 15.9: updates in the shapes real bots get, and the smaller breakages:
anonymous admins, replies carrying message_thread_id in a non-forum supergroup, link
previews, /threads under Telegram's 4096 characters."""

from __future__ import annotations

from tests.support.clients import admin_socket, visitor

from .conftest import outbox_empty, post_update, sent


async def forwarded(fake, client, thread_id: str, text: str):
    ack = await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": text})
    assert ack["ok"] is True, ack
    call = await sent(fake, lambda c: c.method == "sendMessage" and c.params["text"].endswith(f"\n{text}"))
    await outbox_empty(client.base_url)
    return call


async def test_an_anonymous_admins_reply_reaches_the_visitor(tg_server, tg_admin, fake, updates):
    admin = await admin_socket(tg_server.url, tg_admin)
    client, thread_id = await visitor(tg_server.url, "Anonymously Answered")
    call = await forwarded(fake, client, thread_id, "is anyone there?")
    # The admin writes as the group: from = GroupAnonymousBot (a bot), sender_chat = the chat.
    update = updates.anonymous(reply_to=call.result["message_id"], text="Yes, the team is here")
    assert update["message"]["from"] == {
        "id": 1087968824,
        "is_bot": True,
        "first_name": "Group",
        "username": "GroupAnonymousBot",
    }
    post_update(tg_server.url, update)
    got = await client.wait_for("message_from_admin", timeout=10)
    assert (got["content_text"], got["sender"], got["thread_id"]) == (
        "Yes, the team is here",
        "admin",
        thread_id,
    )
    synced = await admin.wait_for("message_from_telegram", lambda d: d["id"] == got["id"])
    assert synced["content_text"] == "Yes, the team is here"
    # Another bot's message (sender_chat absent) is still ignored; proven by order: the
    # next genuine reply arrives alone.
    other_bot = updates.message(reply_to=call.result["message_id"], text="I am a bot")
    other_bot["message"]["from"] = {"id": 777, "is_bot": True, "first_name": "Spam"}
    post_update(tg_server.url, other_bot)
    post_update(tg_server.url, updates.message(reply_to=call.result["message_id"], text="and a person"))
    await client.wait_for("message_from_admin", lambda d: d["content_text"] == "and a person")
    assert [m["content_text"] for m in client.received("message_from_admin")] == [
        "Yes, the team is here",
        "and a person",
    ]
    await client.close()
    await admin.close()


async def test_a_reply_with_a_thread_id_in_a_plain_supergroup_is_a_reply(tg_server, fake, updates):
    client, thread_id = await visitor(tg_server.url, "Threaded Reply")
    call = await forwarded(fake, client, thread_id, "plain supergroup")
    # Telegram puts message_thread_id on replies in non-forum supergroups (no is_topic_message).
    post_update(tg_server.url, updates.reply_in_thread(call.result["message_id"], text="answered"))
    got = await client.wait_for("message_from_admin", timeout=10)
    assert (got["content_text"], got["thread_id"]) == ("answered", thread_id)
    await client.close()


async def test_visitor_links_get_no_preview(tg_server, fake):
    client, thread_id = await visitor(tg_server.url, "Linker")
    call = await forwarded(fake, client, thread_id, "see https://example.com/page")
    assert call.params["link_preview_options"] == {"is_disabled": True}
    await client.close()


async def test_threads_fits_in_one_telegram_message(tg_server, fake, updates):
    # 30 conversations whose names and last messages are all ampersands (escaped five-fold).
    clients = []
    for n in range(30):
        client, thread_id = await visitor(tg_server.url, f"{n:02d}" + "&" * 78)
        ack = await client.call(
            "message_to_admin", {"thread_id": thread_id, "type": "text", "text": "&" * 200}
        )
        assert ack["ok"] is True, ack
        clients.append(client)
    await outbox_empty(tg_server.url, timeout=30)
    command = updates.message(text="/threads 30")
    post_update(tg_server.url, command)
    answer = await sent(
        fake,
        lambda c: (
            c.method == "sendMessage"
            and c.params.get("reply_parameters", {}).get("message_id") == command["message"]["message_id"]
        ),
    )
    # Accepted by the fake, which refuses more than 4096 characters after parsing.
    text = answer.params["text"]
    assert len(text) <= 4096 and text.startswith("<b>Recent conversations</b> (")
    assert " of 30)" in text.split("\n", 1)[0]
    for client in clients:
        await client.close()
