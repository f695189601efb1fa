"""The fake Bot API behaves as Telegram where the tests depend on it: message ids are
per chat, and failures a test scripted do not outlive that test."""

from __future__ import annotations

import pytest

from telegram_bridge.client import TelegramClient, TelegramError
from tests.file_uploads import samples
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
    fake.fail("sendPhoto", 1, status=400, when={"chat_id": -1})
    assert fake.failures == {"sendMessage": [(500, None)] * 5, "sendPhoto": [(400, None)]}


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


# --- the fake refuses what Telegram refuses, with Telegram's bodies (issue 15) ---------------


def refusal(call) -> tuple[int, str, dict]:
    """(status, description, parameters) of a refused call, read from the real HTTP answer."""
    with pytest.raises(TelegramError) as caught:
        call()
    return caught.value.status, str(caught.value).split(" ", 3)[-1], caught.value


def test_text_is_checked_after_entity_parsing(fake):
    bot = TelegramClient(TOKEN, fake.url)
    # 4096 visible characters pass, though the HTML is longer; one more does not.
    assert bot.send_message(-7101, "<b>" + "&amp;" * 4096 + "</b>", parse_mode="HTML")["message_id"] == 1001
    status, text, _ = refusal(lambda: bot.send_message(-7101, "x" * 4097))
    assert (status, text) == (400, "Bad Request: message is too long")
    assert refusal(lambda: bot.send_message(-7101, ""))[:2] == (400, "Bad Request: message text is empty")
    assert refusal(lambda: bot.send_message(-7101, "<b></b>", parse_mode="HTML"))[:2] == (
        400,
        "Bad Request: message text is empty",
    )
    status, text, _ = refusal(lambda: bot.send_message(-7101, "1 < 2", parse_mode="HTML"))
    assert status == 400 and text.startswith("Bad Request: can't parse entities: Unsupported start tag")
    status, text, _ = refusal(lambda: bot.send_message(-7101, "<script>x</script>", parse_mode="HTML"))
    assert text == 'Bad Request: can\'t parse entities: Unsupported start tag "script" at byte offset 0'
    status, text, _ = refusal(lambda: bot.send_message(-7101, "<b>open", parse_mode="HTML"))
    assert text == "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\""
    # Without a parse mode, markup is plain text.
    assert bot.send_message(-7101, "1 < 2 <script>")["text"] == "1 < 2 <script>"


def test_captions_photos_and_voice_formats(fake):
    bot = TelegramClient(TOKEN, fake.url)
    photo = {"photo": ("p.png", samples.png())}
    status, text, _ = refusal(lambda: bot.call("sendPhoto", chat_id=-7102, caption="c" * 1025, files=photo))
    assert (status, text) == (400, "Bad Request: message caption is too long")
    assert bot.call("sendPhoto", chat_id=-7102, caption="c" * 1024, files=photo)["photo"][0]["file_size"] > 0
    status, text, _ = refusal(
        lambda: bot.call("sendPhoto", chat_id=-7102, files={"photo": ("p", b"not a picture")})
    )
    assert (status, text) == (400, "Bad Request: IMAGE_PROCESS_FAILED")
    # OGG/Opus, MP3 and M4A play as voice notes; a WebM recording arrives as a file.
    for sample, kind in (
        (samples.ogg, "voice"),
        (samples.mp3, "voice"),
        (samples.m4a, "voice"),
        (samples.webm, "document"),
    ):
        sent = bot.call("sendVoice", chat_id=-7102, files={"voice": ("v", sample())})
        assert kind in sent and ("voice" if kind == "document" else "document") not in sent, sample
    # By URL, a document must be a GIF, PDF or ZIP.
    status, text, _ = refusal(
        lambda: bot.call("sendDocument", chat_id=-7102, document="http://127.0.0.1:9/x.webm")
    )
    assert (status, text) == (400, "Bad Request: failed to get HTTP URL content")


def test_chats_have_state_and_refuse_as_telegram_does(fake):
    bot = TelegramClient(TOKEN, fake.url)
    fake.chat(-7103, "group")
    assert bot.send_message(-7103, "in the group")["chat"] == {
        "id": -7103,
        "type": "group",
        "title": "Admins",
    }
    fake.migrate(-7103, -1007103)
    error = refusal(lambda: bot.send_message(-7103, "after the upgrade"))[2]
    assert (error.status, error.migrate_to_chat_id) == (400, -1007103)
    assert "group chat was upgraded to a supergroup chat" in str(error)
    assert bot.send_message(-1007103, "in the supergroup")["chat"]["type"] == "supergroup"
    fake.chat(-1007103, bot_status="kicked")
    error = refusal(lambda: bot.send_message(-1007103, "kicked"))[2]
    assert (error.status, error.lasting) == (403, "bot_removed")
    assert str(error).endswith("Forbidden: bot was kicked from the supergroup chat")
    fake.chat(7104, "private", bot_status="kicked")
    assert refusal(lambda: bot.send_message(7104, "hi"))[2].lasting == "bot_blocked"
    # Topics: only in forums; a closed one refuses posts until reopened; a deleted one is gone.
    fake.chat(-1007105, "supergroup", is_forum=False)
    assert refusal(lambda: bot.call("createForumTopic", chat_id=-1007105, name="x"))[1] == (
        "Bad Request: the chat is not a forum"
    )
    fake.chat(-1007106, "supergroup", is_forum=True, can_manage_topics=False)
    assert refusal(lambda: bot.call("createForumTopic", chat_id=-1007106, name="x"))[1] == (
        "Bad Request: not enough rights to create a topic"
    )
    fake.chat(-1007106, can_manage_topics=True)
    topic = bot.call("createForumTopic", chat_id=-1007106, name="Visitor")["message_thread_id"]
    fake.chat(-1007106, can_manage_topics=False)
    fake.topic(-1007106, topic, closed=True)
    error = refusal(lambda: bot.send_message(-1007106, "closed", message_thread_id=topic))[2]
    assert error.topic_closed and error.status == 400
    assert bot.call("reopenForumTopic", chat_id=-1007106, message_thread_id=topic) is True  # its creator
    assert bot.send_message(-1007106, "open again", message_thread_id=topic)["message_thread_id"] == topic
    fake.topic(-1007106, topic, deleted=True)
    assert refusal(lambda: bot.send_message(-1007106, "gone", message_thread_id=topic))[1] == (
        "Bad Request: message thread not found"
    )


def test_targeted_failures_and_the_webhook_state(fake):
    bot = TelegramClient(TOKEN, fake.url)
    # The second call with these parameters fails; other calls are not touched.
    fake.fail("sendMessage", 1, status=429, retry_after=3, when={"chat_id": -7107}, after=1)
    assert bot.send_message(-7108, "other chat")["message_id"] == 1001
    assert bot.send_message(-7107, "first")["message_id"] == 1001
    error = refusal(lambda: bot.send_message(-7107, "second"))[2]
    assert (error.status, error.retry_after) == (429, 3)
    assert bot.send_message(-7107, "third")["message_id"] == 1002
    assert fake.failures == {}
    # getUpdates answers 409 while a webhook is set; getWebhookInfo says what was set.
    bot.call("setWebhook", url="https://chat.example.com/telegram/webhook", allowed_updates=["message"])
    try:
        error = refusal(lambda: bot.call("getUpdates", timeout=0))[2]
        assert error.status == 409 and "can't use getUpdates method while webhook is active" in str(error)
        info = bot.call("getWebhookInfo")
        assert (info["url"], info["allowed_updates"]) == (
            "https://chat.example.com/telegram/webhook",
            ["message"],
        )
    finally:
        bot.call("deleteWebhook")
    assert bot.call("getWebhookInfo")["url"] == ""
    # getMe: the token's number is the bot's id.
    assert bot.call("getMe")["id"] == int(TOKEN.split(":")[0])
