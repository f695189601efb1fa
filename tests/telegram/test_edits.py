"""Edits both ways (issue 15): an admin who corrects a reply in Telegram corrects it for
the visitor; an agent who corrects a reply in the panel corrects it in Telegram."""

from __future__ import annotations

import uuid

from tests.support.clients import admin_socket, visitor

from .conftest import outbox_empty, post_update, sent
from .test_inbound import forwarded, history


async def test_an_edit_in_telegram_updates_the_visitors_page_and_the_panels(
    tg_server, tg_admin, fake, updates
):
    admin = await admin_socket(tg_server.url, tg_admin)
    client, thread_id = await visitor(tg_server.url, "Corrected")
    message_id = await forwarded(fake, client, thread_id, "when do you open?")
    reply = updates.message(reply_to=message_id, text="We open at 8")
    assert post_update(tg_server.url, reply).status_code == 200
    got = await client.wait_for("message_from_admin", timeout=10)
    assert got["content_text"] == "We open at 8" and "edited_iso" not in got

    assert post_update(tg_server.url, updates.edited(reply, text="We open at 9")).status_code == 200
    edited = await client.wait_for("message_edited", timeout=10)
    assert set(edited) == {"id", "thread_id", "content_text", "edited_iso", "via"}
    assert (edited["id"], edited["thread_id"], edited["content_text"], edited["via"]) == (
        got["id"],
        thread_id,
        "We open at 9",
        "telegram",
    )
    assert await admin.wait_for("message_edited", lambda d: d["id"] == got["id"]) == edited
    # A reload shows the corrected text, marked edited.
    [stored] = [m for m in history(tg_admin, thread_id) if m["sender"] == "admin"]
    assert (stored["content_text"], stored["edited_iso"]) == ("We open at 9", edited["edited_iso"])
    # Not mirrored back into Telegram (it was made there): the visitor's next message is
    # sent after anything the edit could have queued, and no edit call came.
    await forwarded(fake, client, thread_id, "thanks")
    assert fake.sent("editMessageText") == [] or all(
        c.params.get("message_id") != reply["message"]["message_id"] for c in fake.sent("editMessageText")
    )
    # An edit of a message that reached nobody changes nothing for anyone.
    stray = updates.message(text="just chatting")
    assert post_update(tg_server.url, stray).status_code == 200
    assert post_update(tg_server.url, updates.edited(stray, text="just chatting!")).status_code == 200
    await forwarded(fake, client, thread_id, "bye")
    assert len(client.received("message_edited")) == 1
    await client.close()
    await admin.close()


async def test_an_edit_in_the_panel_is_mirrored_with_edit_message_text(tg_server, tg_admin, fake):
    admin = await admin_socket(tg_server.url, tg_admin)
    client, thread_id = await visitor(tg_server.url, "Panel edit")
    ack = await admin.call(
        "message_to_visitor", {"thread_id": thread_id, "type": "text", "text": "See you at 8"}
    )
    assert ack["ok"], ack
    reply_id = ack["message"]["id"]
    mirrored = await sent(
        fake, lambda c: c.method == "sendMessage" and c.params["text"].endswith("\nSee you at 8")
    )
    await outbox_empty(tg_server.url)

    ack = await admin.call("edit_message", {"message_id": reply_id, "text": "See you at 9"})
    assert ack["ok"] is True and ack["changed"] is True, ack
    assert ack["message"]["content_text"] == "See you at 9" and ack["message"]["id"] == reply_id
    edited = await client.wait_for("message_edited", timeout=10)
    assert (edited["id"], edited["content_text"], edited["via"]) == (reply_id, "See you at 9", "panel")
    call = await sent(
        fake,
        lambda c: (
            c.method == "editMessageText" and int(c.params["message_id"]) == mirrored.result["message_id"]
        ),
    )
    assert call.ok
    assert str(call.params["chat_id"]) == str(mirrored.params["chat_id"])
    assert call.params["text"] == mirrored.params["text"].rsplit("\n", 1)[0] + "\nSee you at 9"
    # The same text again changes nothing and sends nothing.
    again = await admin.call("edit_message", {"message_id": reply_id, "text": "See you at 9"})
    assert again["ok"] is True and again["changed"] is False
    await client.close()
    await admin.close()


async def test_a_panel_edit_of_a_photo_reply_edits_the_caption(tg_server, tg_admin, fake):
    from tests.file_uploads import samples

    from .conftest import upload

    admin = await admin_socket(tg_server.url, tg_admin)
    client, thread_id = await visitor(tg_server.url, "Caption edit")
    url = upload(tg_admin, "image", samples.png(), "map.png")
    ack = await admin.call(
        "message_to_visitor", {"thread_id": thread_id, "type": "image", "file_url": url, "text": "old map"}
    )
    assert ack["ok"], ack
    photo = await sent(fake, lambda c: c.method == "sendPhoto" and c.params["caption"].endswith("\nold map"))
    await outbox_empty(tg_server.url)
    ack = await admin.call("edit_message", {"message_id": ack["message"]["id"], "text": "new map"})
    assert ack["ok"], ack
    call = await sent(
        fake,
        lambda c: (
            c.method == "editMessageCaption" and int(c.params["message_id"]) == photo.result["message_id"]
        ),
    )
    assert call.ok
    assert call.params["caption"].endswith("\nnew map")
    await client.close()
    await admin.close()


async def test_edits_are_refused_for_visitors_messages_unknown_ids_and_visitors(tg_server, tg_admin, fake):
    admin = await admin_socket(tg_server.url, tg_admin)
    client, thread_id = await visitor(tg_server.url, "No edits")
    ack = await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "mine"})
    visitor_message = ack["message"]["id"]
    answer = await admin.call("edit_message", {"message_id": visitor_message, "text": "changed"})
    assert (answer["ok"], answer["code"]) == (False, "not_your_message")
    answer = await admin.call("edit_message", {"message_id": str(uuid.uuid4()), "text": "changed"})
    assert (answer["ok"], answer["code"]) == (False, "unknown_message")
    reply = await admin.call("message_to_visitor", {"thread_id": thread_id, "type": "text", "text": "hi"})
    answer = await admin.call("edit_message", {"message_id": reply["message"]["id"], "text": "  "})
    assert (answer["ok"], answer["code"]) == (False, "not_editable")
    # A visitor cannot edit anything, not even the admins' replies in their own thread.
    answer = await client.call("edit_message", {"message_id": reply["message"]["id"], "text": "hacked"})
    assert (answer["ok"], answer["code"]) == (False, "admin_required")
    assert [m["content_text"] for m in history(tg_admin, thread_id)] == ["mine", "hi"]
    await client.close()
    await admin.close()
