"""Replies from the admin chat reach the visitor: the webhook, routing, photos, refusals."""

from __future__ import annotations

import requests

from tests.file_uploads import samples
from tests.support.clients import admin_socket, visitor

from .conftest import outbox_empty, post_update, sent


async def forwarded(fake, client, thread_id: str, text: str) -> int:
    """The visitor says `text`; returns the Telegram message_id the bot sent it as."""
    ack = await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": text})
    assert ack["ok"]
    call = await sent(
        fake,
        lambda c: (
            c.method == "sendMessage"
            and f"#{thread_id[:8]}" in c.params["text"]
            and c.params["text"].endswith(f"\n{text}")
        ),
    )
    await outbox_empty(client.base_url)  # the link is stored once the item is done
    return call.result["message_id"]


def history(admin_http, thread_id: str) -> list[dict]:
    answer = admin_http.get(f"/api/messages?thread_id={thread_id}")
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_webhook_without_the_right_secret_is_refused_and_changes_nothing(
    tg_server, tg_admin, fake, updates
):
    client, thread_id = await visitor(tg_server.url, "Guarded")
    message_id = await forwarded(fake, client, thread_id, "guard me")
    for secret in (None, "", "wrong", "s3cre", "s3cretX", "S3CRET"):
        update = updates.message(reply_to=message_id, text="forged")
        answer = post_update(tg_server.url, update, secret=secret)
        assert answer.status_code == 403, (secret, answer.text)
        assert answer.json()["success"] is False
    # Telegram's own (GET) probe, a CSRF-less POST of garbage: refused too, never a 500.
    assert requests.get(tg_server.url + "/telegram/webhook", timeout=5).status_code == 405
    assert post_update(tg_server.url, "not json at all").status_code == 400
    # The same reply with the secret goes through; the refused ones were never recorded,
    # so once it arrives nothing else can.
    assert post_update(tg_server.url, updates.message(reply_to=message_id, text="genuine")).status_code == 200
    await client.wait_for("message_from_admin", timeout=10)
    assert [m["content_text"] for m in client.received("message_from_admin")] == ["genuine"]
    assert [m["content_text"] for m in history(tg_admin, thread_id) if m["sender"] == "admin"] == ["genuine"]
    await client.close()


async def test_reply_reaches_the_visitor_socket_and_the_admin_room(tg_server, tg_admin, fake, updates):
    admin = await admin_socket(tg_server.url, tg_admin)
    client, thread_id = await visitor(tg_server.url, "Replied")
    message_id = await forwarded(fake, client, thread_id, "anyone there?")
    answer = post_update(tg_server.url, updates.message(reply_to=message_id, text="Yes, <hello> & welcome"))
    assert answer.status_code == 200 and answer.json()["success"] is True
    got = await client.wait_for("message_from_admin", timeout=10)
    assert got["content_text"] == "Yes, <hello> & welcome"
    assert got["sender"] == "admin" and got["type"] == "text" and got["thread_id"] == thread_id
    synced = await admin.wait_for("message_from_telegram", lambda d: d["id"] == got["id"])
    assert synced["content_text"] == got["content_text"]
    assert [m["content_text"] for m in history(tg_admin, thread_id)] == [
        "anyone there?",
        "Yes, <hello> & welcome",
    ]
    # Not mirrored back into Telegram: it came from there. A mirror would have been queued
    # in this thread before the visitor's next message, so once that one is sent...
    await forwarded(fake, client, thread_id, "thanks!")
    assert [c for c in fake.sent() if "welcome" in str(c.params.get("text"))] == []
    await client.close()
    await admin.close()


async def test_a_repeated_update_is_handled_once(tg_server, tg_admin, fake, updates):
    client, thread_id = await visitor(tg_server.url, "Twice")
    message_id = await forwarded(fake, client, thread_id, "say it once")
    update = updates.message(reply_to=message_id, text="only once")
    first = post_update(tg_server.url, update)
    second = post_update(tg_server.url, update)
    assert first.json()["duplicate"] is False and second.json()["duplicate"] is True
    # Updates are handled in update_id order: once a later one arrived, a second copy of
    # the first would have too.
    post_update(tg_server.url, updates.message(reply_to=message_id, text="and then this"))
    await client.wait_for("message_from_admin", lambda d: d["content_text"] == "and then this", timeout=10)
    assert [m["content_text"] for m in client.received("message_from_admin")] == [
        "only once",
        "and then this",
    ]
    assert [m["content_text"] for m in history(tg_admin, thread_id)] == [
        "say it once",
        "only once",
        "and then this",
    ]
    await client.close()


async def test_a_reply_to_the_admins_own_message_goes_to_the_same_visitor(tg_server, fake, updates):
    # Two visitors, so a reply that went to the wrong one would show.
    chain, chain_thread = await visitor(tg_server.url, "Chain")
    other, other_thread = await visitor(tg_server.url, "Other")
    chain_message = await forwarded(fake, chain, chain_thread, "first")
    other_message = await forwarded(fake, other, other_thread, "me too")
    reply = updates.message(reply_to=chain_message, text="answer one")
    post_update(tg_server.url, reply)
    await chain.wait_for("message_from_admin", lambda d: d["content_text"] == "answer one", timeout=10)
    post_update(tg_server.url, updates.message(reply_to=reply["message"]["message_id"], text="answer two"))
    await chain.wait_for("message_from_admin", lambda d: d["content_text"] == "answer two", timeout=10)
    post_update(tg_server.url, updates.message(reply_to=other_message, text="for the other"))
    await other.wait_for("message_from_admin", timeout=10)
    # The last reply was handled after the first two: each visitor has exactly their own.
    assert [(m["thread_id"], m["content_text"]) for m in chain.received("message_from_admin")] == [
        (chain_thread, "answer one"),
        (chain_thread, "answer two"),
    ]
    assert [(m["thread_id"], m["content_text"]) for m in other.received("message_from_admin")] == [
        (other_thread, "for the other")
    ]
    await chain.close()
    await other.close()


async def test_a_message_that_replies_to_nothing_known_goes_nowhere_and_gets_a_hint(
    tg_server, tg_admin, fake, updates
):
    client, thread_id = await visitor(tg_server.url, "Known")
    known = await forwarded(fake, client, thread_id, "a known message")
    admin = await admin_socket(tg_server.url, tg_admin)
    lost = updates.message(text="hello everybody")
    post_update(tg_server.url, lost)
    hint = await sent(
        fake,
        lambda c: (
            c.method == "sendMessage"
            and c.params.get("reply_parameters", {}).get("message_id") == lost["message"]["message_id"]
        ),
    )
    assert "went to nobody" in hint.params["text"]
    unknown_reply = updates.message(reply_to=1, text="to a message the bot never sent")
    unknown_reply["message"]["from"]["id"] += 1  # another admin: hints go once per person
    post_update(tg_server.url, unknown_reply)
    await sent(
        fake,
        lambda c: (
            c.method == "sendMessage"
            and c.params.get("reply_parameters", {}).get("message_id")
            == unknown_reply["message"]["message_id"]
        ),
    )
    # A reply that does reach someone, handled after those two: the admins hear of it alone.
    post_update(tg_server.url, updates.message(reply_to=known, text="to the known visitor"))
    got = await admin.wait_for("message_from_telegram", timeout=10)
    assert (got["thread_id"], got["content_text"]) == (thread_id, "to the known visitor")
    assert len(admin.received("message_from_telegram")) == 1
    await admin.close()
    await client.close()


async def test_messages_from_another_chat_are_ignored(tg_server, tg_admin, fake, updates):
    client, thread_id = await visitor(tg_server.url, "Private")
    message_id = await forwarded(fake, client, thread_id, "secret stuff")
    before = len(fake.calls)
    stranger = updates.message(chat_id=-999, reply_to=message_id, text="I am not an admin")
    assert post_update(tg_server.url, stranger).status_code == 200
    # The admins' own reply, handled after the stranger's update, arrives alone.
    post_update(tg_server.url, updates.message(reply_to=message_id, text="from the admins"))
    await client.wait_for("message_from_admin", timeout=10)
    assert [m["content_text"] for m in client.received("message_from_admin")] == ["from the admins"]
    assert [c for c in fake.calls[before:] if str(c.params.get("chat_id")) == "-999"] == []
    assert [(m["sender"], m["content_text"]) for m in history(tg_admin, thread_id)] == [
        ("visitor", "secret stuff"),
        ("admin", "from the admins"),
    ]
    await client.close()


async def test_a_photo_reply_is_copied_into_our_uploads_and_delivered_as_an_image(tg_server, fake, updates):
    client, thread_id = await visitor(tg_server.url, "Gallery")
    message_id = await forwarded(fake, client, thread_id, "send me a picture")
    jpeg = samples.jpeg()
    fake.add_file("photos/file_77.jpg", jpeg)
    photo = [
        {"file_id": "file_7", "file_unique_id": "s", "width": 90, "height": 90, "file_size": 10},
        {"file_id": "file_77", "file_unique_id": "b", "width": 800, "height": 800, "file_size": len(jpeg)},
    ]
    post_update(tg_server.url, updates.message(reply_to=message_id, photo=photo, caption="here you go"))
    got = await client.wait_for("message_from_admin", timeout=10)
    assert got["type"] == "image" and got["content_text"] == "here you go"
    url = got["file_path"]
    assert url.startswith("/uploads/images/") and url.endswith(".jpg")
    assert "123:abc" not in url and "file_77" not in url and "_telegram." in url
    served = requests.get(tg_server.url + url, timeout=5)
    assert served.status_code == 200 and served.content == jpeg
    await client.close()


async def test_a_voice_reply_is_delivered_as_an_audio_message(tg_server, fake, updates):
    client, thread_id = await visitor(tg_server.url, "Listener")
    message_id = await forwarded(fake, client, thread_id, "say something")
    ogg = samples.ogg()
    fake.add_file("voice/file_88.oga", ogg)
    voice = {
        "file_id": "file_88",
        "file_unique_id": "v",
        "duration": 2,
        "mime_type": "audio/ogg",
        "file_size": len(ogg),
    }
    post_update(tg_server.url, updates.message(reply_to=message_id, voice=voice))
    got = await client.wait_for("message_from_admin", timeout=10)
    assert got["type"] == "audio" and got["file_path"].endswith(".ogg")
    assert requests.get(tg_server.url + got["file_path"], timeout=5).content == ogg
    await client.close()


async def test_a_sticker_reply_is_not_delivered_and_the_admin_is_told(tg_server, fake, updates):
    client, thread_id = await visitor(tg_server.url, "Sticky")
    message_id = await forwarded(fake, client, thread_id, "sticker lover here")
    post_update(tg_server.url, updates.message(reply_to=message_id, sticker={"file_id": "st"}))
    await sent(
        fake, lambda c: c.method == "sendMessage" and "Only text, photos and voice notes" in c.params["text"]
    )
    assert not client.received("message_from_admin")
    await client.close()


async def test_threads_and_thread_commands(tg_server, fake, updates):
    client, thread_id = await visitor(tg_server.url, "Listed <Visitor>")
    await forwarded(fake, client, thread_id, "am I on the list?")
    post_update(tg_server.url, updates.message(text="/threads@chatdesk_bot 5"))
    listing = await sent(
        fake, lambda c: c.method == "sendMessage" and "Recent conversations" in c.params["text"]
    )
    assert (
        "Listed &lt;Visitor&gt;" in listing.params["text"] and f"#{thread_id[:8]}" in listing.params["text"]
    )
    assert "am I on the list?" in listing.params["text"] and "🟢" in listing.params["text"]
    post_update(tg_server.url, updates.message(text=f"/thread {thread_id[:8]}"))
    shown = await sent(
        fake, lambda c: c.method == "sendMessage" and "Reply to this message" in c.params["text"]
    )
    await outbox_empty(tg_server.url)
    # Replying to the /thread answer reaches that visitor.
    post_update(tg_server.url, updates.message(reply_to=shown.result["message_id"], text="via /thread"))
    await client.wait_for("message_from_admin", lambda d: d["content_text"] == "via /thread", timeout=10)
    post_update(tg_server.url, updates.message(text="/help"))
    await sent(
        fake,
        lambda c: (
            c.method == "sendMessage" and "/threads" in c.params["text"] and "chatdesk" in c.params["text"]
        ),
    )
    await client.close()


def test_status_names_no_secret(tg_admin):
    report = tg_admin.get("/healthz").json()["telegram"]
    assert report["configured"] is True
    assert "s3cret" not in str(report) and "123:abc" not in str(report)
    assert isinstance(report["pending"], int)


async def test_the_hint_goes_to_each_person_once_an_hour_in_a_group(tg_server, fake, updates):
    """Admins talking among themselves in the group get one hint each, not one per message."""
    first = updates.message(text="morning all")
    second = updates.message(text="coffee?")
    other = updates.message(text="yes please")
    other["message"]["from"] = {"id": updates.user["id"] + 1, "is_bot": False, "first_name": "Can"}
    for update in (first, second, other):
        post_update(tg_server.url, update)

    def hint_for(update):
        return lambda c: (
            c.method == "sendMessage"
            and c.params.get("reply_parameters", {}).get("message_id") == update["message"]["message_id"]
        )

    # Updates are handled in order: once Can's hint is out, a hint for "coffee?" would be too.
    await sent(fake, hint_for(other))
    await sent(fake, hint_for(first))
    assert [c for c in fake.sent("sendMessage") if hint_for(second)(c)] == []
