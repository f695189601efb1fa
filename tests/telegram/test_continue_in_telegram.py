"""★ Continue in Telegram (issue 14): a visitor moves their conversation to the bot with a
single-use, expiring t.me start link bound to their thread; the bot sends them the history,
their Telegram messages reach the panel and the admin chat as the visitor's, agents'
replies reach both their Telegram chat and the web page exactly once, and /stop ends it.
A reused, expired or unknown token and a link for another visitor's thread are refused; an
unlinked private chat reaches nobody."""

from __future__ import annotations

import asyncio
import re

from tests.file_uploads import samples
from tests.support.clients import Browserish, Recorder, admin_socket
from tests.support.fake_telegram import Updates

from .conftest import (
    CHAT_ID,
    fake_private_photo,
    health,
    outbox_empty,
    post_update,
    sent,
    sign_in_with_telegram,
    telegram_env,
    visitor_with_page,
)

START_LINK = re.compile(r"^https://t\.me/chatdesk_bot\?start=(c_[A-Za-z0-9_-]+)$")


def to_chat(chat_id: int, needle: str):
    return lambda c: (
        c.method == "sendMessage"
        and str(c.params.get("chat_id")) == str(chat_id)
        and needle in c.params["text"]
    )


def texts_to(fake, chat_id: int, needle: str) -> list[str]:
    return [
        c.params["text"]
        for c in fake.sent("sendMessage")
        if str(c.params.get("chat_id")) == str(chat_id) and needle in c.params["text"]
    ]


def continue_link(page: Browserish, thread_id: str) -> str:
    answer = page.post("/api/telegram/continue", json={"thread_id": thread_id})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["success"] is True and body["expires_in"] == 3600
    token = START_LINK.match(body["url"]).group(1)
    assert len(token) <= 64
    return token


async def test_a_visitor_continues_in_telegram_and_stops(tg_server, tg_admin, fake, updates):
    client, thread_id, page = await visitor_with_page(tg_server.url, "Telegram Tuna")
    panel = await admin_socket(tg_server.url, tg_admin)
    sent_web = await client.call(
        "message_to_admin", {"thread_id": thread_id, "type": "text", "text": "hello from the web"}
    )
    assert sent_web["ok"] is True
    await sent(fake, to_chat(CHAT_ID, "hello from the web"))

    assert page.get("/api/telegram/continue").json() == {"available": True, "bot": "chatdesk_bot"}
    token = continue_link(page, thread_id)

    tuna = {"id": updates.user["id"] + 7, "is_bot": False, "first_name": "Tuna"}
    assert post_update(tg_server.url, updates.private(tuna, f"/start {token}")).status_code == 200
    await sent(fake, to_chat(tuna["id"], "talking with the support team"))
    history = await sent(fake, to_chat(tuna["id"], "Your conversation so far"))
    assert "You: hello from the web" in history.params["text"]

    # Their Telegram messages are the visitor's: the panel and the admin chat get them.
    post_update(tg_server.url, updates.private(tuna, "and now from Telegram"))
    got = await panel.wait_for("message_from_visitor", lambda m: m["content_text"] == "and now from Telegram")
    assert (got["thread_id"], got["sender"], got["type"]) == (thread_id, "visitor", "text")
    await sent(fake, to_chat(CHAT_ID, "and now from Telegram"))
    photo_update = fake_private_photo(fake, updates, tuna, samples.jpeg(), caption="the kettle")
    post_update(tg_server.url, photo_update)
    photo = await panel.wait_for("message_from_visitor", lambda m: m["type"] == "image")
    assert (photo["thread_id"], photo["content_text"]) == (thread_id, "the kettle")

    ogg = samples.ogg()
    voice_id = f"vv_{updates.update_id}"
    fake.add_file(f"voice/{voice_id}.oga", ogg)
    voice_update = updates.private(tuna, "")
    del voice_update["message"]["text"]
    voice_update["message"]["voice"] = {
        "file_id": voice_id,
        "file_unique_id": voice_id,
        "duration": 2,
        "mime_type": "audio/ogg",
        "file_size": len(ogg),
    }
    post_update(tg_server.url, voice_update)
    voice = await panel.wait_for("message_from_visitor", lambda m: m["type"] == "audio")
    assert voice["thread_id"] == thread_id and voice["sender"] == "visitor"

    # An agent's reply reaches the web page and their Telegram chat, once each.
    for text in ("Yes, it is in stock.", "Anything else?"):
        ack = await panel.call("message_to_visitor", {"thread_id": thread_id, "type": "text", "text": text})
        assert ack["ok"] is True
    await client.wait_for("message_from_admin", lambda m: m["content_text"] == "Anything else?")
    await sent(fake, to_chat(tuna["id"], "Anything else?"))
    await outbox_empty(tg_server.url)
    assert [m["content_text"] for m in client.received("message_from_admin")] == [
        "Yes, it is in stock.",
        "Anything else?",
    ]
    assert len(texts_to(fake, tuna["id"], "Yes, it is in stock.")) == 1
    assert len(texts_to(fake, tuna["id"], "Anything else?")) == 1

    # The same link again (by anyone) is refused and links nothing.
    other = {"id": updates.user["id"] + 8, "is_bot": False, "first_name": "Other"}
    post_update(tg_server.url, updates.private(other, f"/start {token}"))
    await sent(fake, to_chat(other["id"], "does not work any more"))
    post_update(tg_server.url, updates.private(other, "let me in"))
    await sent(fake, to_chat(other["id"], "Send /start to link this chat"))  # the agents' help, nothing else

    # /stop: later replies go to the web page only.
    post_update(tg_server.url, updates.private(tuna, "/stop"))
    await sent(fake, to_chat(tuna["id"], "Stopped"))
    ack = await panel.call(
        "message_to_visitor", {"thread_id": thread_id, "type": "text", "text": "After stop"}
    )
    assert ack["ok"] is True
    await client.wait_for("message_from_admin", lambda m: m["content_text"] == "After stop")
    await sent(fake, to_chat(CHAT_ID, "After stop"))  # mirrored to the admin chat as usual
    await outbox_empty(tg_server.url)
    assert texts_to(fake, tuna["id"], "After stop") == []
    assert texts_to(fake, other["id"], "After stop") == []
    # A message after /stop reaches nobody: the panel hears only what came before.
    post_update(tg_server.url, updates.private(tuna, "still there?"))
    await sent(fake, to_chat(tuna["id"], "Send /start to link this chat"))
    assert [m["content_text"] for m in panel.received("message_from_visitor")].count("still there?") == 0
    await panel.close()
    await client.close()


async def test_links_for_other_threads_and_unknown_tokens_are_refused(tg_server, tg_admin, fake, updates):
    _, thread_id, page = await visitor_with_page(tg_server.url, "Owner Oya")
    intruder_client, _, intruder = await visitor_with_page(tg_server.url, "Intruder")
    refused = intruder.post("/api/telegram/continue", json={"thread_id": thread_id})
    assert (refused.status_code, refused.json()["code"]) == (403, "not_your_thread")
    bad = page.post("/api/telegram/continue", json={"thread_id": "nope"})
    assert (bad.status_code, bad.json()["code"], bad.json()["field"]) == (400, "field_invalid", "thread_id")
    stranger = {"id": updates.user["id"] + 9, "is_bot": False, "first_name": "Guess"}
    post_update(tg_server.url, updates.private(stranger, "/start c_" + "A" * 32))
    await sent(fake, to_chat(stranger["id"], "does not work any more"))
    await intruder_client.close()


async def test_an_expired_link_is_refused(make_server, fake):
    live = make_server(env=telegram_env(fake, TELEGRAM_CONTINUE_TOKEN_SECONDS="1"))
    client, thread_id, page = await visitor_with_page(live.url, "Late Lale")
    token = continue_link_expiring(page, thread_id)
    await asyncio.sleep(1.5)
    updates = Updates(CHAT_ID, start=9_900_000)
    late = {"id": 4242, "is_bot": False, "first_name": "Lale"}
    post_update(live.url, updates.private(late, f"/start {token}"))
    await sent(fake, to_chat(late["id"], "does not work any more"))
    await client.close()


def continue_link_expiring(page: Browserish, thread_id: str) -> str:
    answer = page.post("/api/telegram/continue", json={"thread_id": thread_id})
    assert answer.status_code == 201 and answer.json()["expires_in"] == 1, answer.text
    return START_LINK.match(answer.json()["url"]).group(1)


async def test_a_visitor_who_blocks_the_bot_is_unlinked_and_the_desk_stays_healthy(
    tg_server, tg_admin, fake, updates
):
    client, thread_id, page = await visitor_with_page(tg_server.url, "Blocking Bora")
    panel = await admin_socket(tg_server.url, tg_admin)
    token = continue_link(page, thread_id)
    bora = {"id": updates.user["id"] + 11, "is_bot": False, "first_name": "Bora"}
    post_update(tg_server.url, updates.private(bora, f"/start {token}"))
    await sent(fake, to_chat(bora["id"], "talking with the support team"))
    fake.chat(bora["id"], bot_status="kicked")  # the visitor blocked the bot
    ack = await panel.call("message_to_visitor", {"thread_id": thread_id, "type": "text", "text": "Blocked?"})
    assert ack["ok"] is True
    await client.wait_for("message_from_admin", lambda m: m["content_text"] == "Blocked?")
    await sent(fake, to_chat(CHAT_ID, "Blocked?"))
    await outbox_empty(tg_server.url)
    refused = [c for c in fake.refused("sendMessage") if str(c.params.get("chat_id")) == str(bora["id"])]
    assert len(refused) == 1  # tried once, then unlinked: no retries
    report = health(tg_server.url)["telegram"]
    assert report["refusal"] is None and report["failed"] == 0
    # Unlinked: the next reply is not even tried there.
    ack = await panel.call("message_to_visitor", {"thread_id": thread_id, "type": "text", "text": "Still?"})
    await sent(fake, to_chat(CHAT_ID, "Still?"))
    await outbox_empty(tg_server.url)
    assert [
        c for c in fake.refused("sendMessage") if str(c.params.get("chat_id")) == str(bora["id"])
    ] == refused
    await panel.close()
    await client.close()


async def test_the_first_forwarded_message_and_the_card_carry_the_visitor_context(make_server, fake):
    live = make_server(env=telegram_env(fake, TELEGRAM_CARDS="1"))
    page = Browserish(live.url)
    page.get("/")
    client = await Recorder(live.url, page.cookie_header()).connect(
        headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}
    )
    context = {
        "page_url": "https://shop.example.com/kettle",
        "page_title": "Kettle <b>sale</b>",
        "timezone": "Europe/Istanbul",
        "language": "tr",
    }
    joined = await client.call("join", {"display_name": "Context Ceren", "context": context})
    thread_id = joined["thread_id"]
    for text in ("first question", "second question"):
        ack = await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": text})
        assert ack["ok"] is True
    first = await sent(fake, to_chat(CHAT_ID, "first question"))
    second = await sent(fake, to_chat(CHAT_ID, "second question"))
    assert "Page: https://shop.example.com/kettle (Kettle &lt;b&gt;sale&lt;/b&gt;)" in first.params["text"]
    assert "Browser: Firefox 128 on Linux" in first.params["text"]
    assert "Language / zone: tr, Europe/Istanbul" in first.params["text"]
    assert "Page:" not in second.params["text"] and "Browser:" not in second.params["text"]
    # The thread's control card (issue 13) shows the page too.
    card = await sent(fake, lambda c: to_chat(CHAT_ID, "Context Ceren")(c) and "Status:" in c.params["text"])
    assert "Page: https://shop.example.com/kettle" in card.params["text"]
    await client.close()


async def test_clearing_everything_unlinks_the_visitors_telegram_chat(make_server, fake):
    live = make_server(env=telegram_env(fake))
    admin = sign_in_with_telegram(live.url, fake)
    client, thread_id, page = await visitor_with_page(live.url, "Cleared Cem")
    token = continue_link(page, thread_id)
    updates = Updates(CHAT_ID, start=9_800_000)
    cem = {"id": 4343, "is_bot": False, "first_name": "Cem"}
    post_update(live.url, updates.private(cem, f"/start {token}"))
    await sent(fake, to_chat(cem["id"], "talking with the support team"))
    assert admin.post("/api/messages/clear_all", json={}).status_code == 200
    post_update(live.url, updates.private(cem, "hello?"))
    # Unlinked: the agents' help text (nothing about the deleted conversation).
    await sent(fake, to_chat(cem["id"], "Send /start to link this chat"))
    assert texts_to(fake, cem["id"], "closed on the chat page") == []
    await client.close()


async def test_the_bot_speaks_the_visitors_telegram_language(tg_server, tg_admin, fake, updates):
    """The desk speaks English here; a visitor whose Telegram is in Turkish hears the bot in
    Turkish (the link, the history's labels, /stop), an unlinked Turkish chat gets the help in
    Turkish, and an English one in English."""
    client, thread_id, page = await visitor_with_page(tg_server.url, "Türkçe Tuna")
    sent_web = await client.call(
        "message_to_admin", {"thread_id": thread_id, "type": "text", "text": "merhaba"}
    )
    assert sent_web["ok"] is True
    await sent(fake, to_chat(CHAT_ID, "merhaba"))
    token = continue_link(page, thread_id)

    tuna = {"id": updates.user["id"] + 21, "is_bot": False, "first_name": "Tuna", "language_code": "tr"}
    post_update(tg_server.url, updates.private(tuna, f"/start {token}"))
    await sent(fake, to_chat(tuna["id"], "Artık destek ekibiyle burada konuşuyorsunuz."))
    history = await sent(fake, to_chat(tuna["id"], "<b>Şimdiye kadarki sohbetiniz</b>"))
    assert "Siz: merhaba" in history.params["text"]
    post_update(tg_server.url, updates.private(tuna, "/stop"))
    await sent(fake, to_chat(tuna["id"], "Durduruldu: yeni yanıtlar yalnızca sohbet sayfasında gösterilir."))

    post_update(tg_server.url, updates.private(tuna, "hâlâ orada mısınız?"))
    await sent(fake, to_chat(tuna["id"], "Bu sohbeti bağlamak için /start gönderin"))
    john = {"id": updates.user["id"] + 22, "is_bot": False, "first_name": "John", "language_code": "en-GB"}
    post_update(tg_server.url, updates.private(john, "hello?"))
    await sent(fake, to_chat(john["id"], "Send /start to link this chat"))
    # Each heard their own language only.
    assert texts_to(fake, tuna["id"], "Send /start") == []
    assert texts_to(fake, john["id"], "/start gönderin") == []
    await client.close()
