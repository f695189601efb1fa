"""Visitor messages reach the admin chat: text, photos, voice notes; sign-in codes too."""

from __future__ import annotations

import asyncio
import re

from tests.file_uploads import samples
from tests.support.clients import admin_socket, visitor
from tests.support.server import LiveServer

from .conftest import CHAT_ID, outbox_empty, sent, telegram_env, upload, visitor_with_page


def test_sign_in_code_arrives_on_telegram_and_never_in_the_page(tg_server, fake):
    from tests.support.clients import Browserish

    http = Browserish(tg_server.url)
    assert http.get("/api/threads").status_code == 401
    login_page = http.get("/login")
    before = len(fake.calls)
    answer = http.post("/request-otp", json={})
    assert answer.status_code == 200, answer.text
    codes = [
        re.findall(r"<code>(\d{6})</code>", c.params["text"])
        for c in fake.calls[before:]
        if c.method == "sendMessage" and "sign-in code" in c.params.get("text", "")
    ]
    assert len(codes) == 1 and len(codes[0]) == 1, codes  # one message, one code
    code = codes[0][0]
    assert [str(c.params["chat_id"]) for c in fake.calls[before:] if c.method == "sendMessage"] == [
        str(CHAT_ID)
    ]
    # Neither the answer nor the sign-in page carries the code.
    assert "otp" not in answer.json() and code not in answer.text
    assert code not in login_page.text and code not in http.get("/login").text
    assert http.post("/verify-otp", json={"otp": code}).status_code == 200
    threads = http.get("/api/threads")
    assert threads.status_code == 200 and isinstance(threads.json(), list)


def test_code_that_telegram_refuses_is_a_502_without_the_code(tg_server, fake):
    from tests.support.clients import Browserish

    asyncio.run(outbox_empty(tg_server.url))  # nothing else may take the failure
    fake.fail("sendMessage", 1, status=500)
    http = Browserish(tg_server.url)
    answer = http.post("/request-otp", json={})
    assert answer.status_code == 502
    assert "otp" not in answer.json() and answer.json()["success"] is False


async def test_text_is_forwarded_escaped_naming_the_visitor_and_thread(tg_server, fake):
    client, thread_id = await visitor(tg_server.url, "Ali <b>")
    ack = await client.call(
        "message_to_admin", {"thread_id": thread_id, "type": "text", "text": "1 < 2 & <script>x</script>"}
    )
    assert ack["ok"]
    call = await sent(fake, lambda c: c.method == "sendMessage" and "1 &lt; 2" in c.params["text"])
    assert call.params["parse_mode"] == "HTML"
    assert str(call.params["chat_id"]) == str(CHAT_ID)
    assert "&lt;script&gt;x&lt;/script&gt;" in call.params["text"]
    assert "<b>Ali &lt;b&gt;</b>" in call.params["text"]
    assert f"#{thread_id[:8]}" in call.params["text"]
    await client.close()


async def test_photo_is_sent_with_send_photo_as_the_uploaded_bytes(tg_server, fake):
    client, thread_id, page = await visitor_with_page(tg_server.url, "Photo Fan")
    png = samples.png()
    url = upload(page, "image", png, "cat.png")
    ack = await client.call(
        "message_to_admin", {"thread_id": thread_id, "type": "image", "file_url": url, "text": "look"}
    )
    assert ack["ok"], ack
    call = await sent(fake, lambda c: c.method == "sendPhoto" and "Photo Fan" in c.params.get("caption", ""))
    assert call.files["photo"][1] == png
    assert "look" in call.params["caption"]
    await client.close()


async def test_voice_notes_go_as_voice_audio_or_document_by_format(tg_server, fake):
    client, thread_id, page = await visitor_with_page(tg_server.url, "Voice Fan")
    expected = {
        "ogg": ("sendVoice", "voice"),
        # Safari's M4A plays as a voice note too (issue 15); this WebM is a header only, no
        # Opus inside to remux (tests/telegram/test_voice_and_gifs.py sends a real one).
        "m4a": ("sendVoice", "voice"),
        "webm": ("sendDocument", "document"),
    }
    for ext, (method, field) in expected.items():
        data = getattr(samples, ext)()
        url = upload(page, "audio", data, f"note.{ext}")
        ack = await client.call(
            "message_to_admin", {"thread_id": thread_id, "type": "audio", "file_url": url}
        )
        assert ack["ok"], ack
        # Other tests send the same sample bytes: match this thread's caption too.
        call = await sent(
            fake,
            lambda c, m=method, f=field, d=data: (
                c.method == m
                and f"#{thread_id[:8]}" in str(c.params.get("caption"))
                and c.files.get(f, ("", b""))[1] == d
            ),
        )
        assert "Voice Fan" in call.params["caption"]
    await client.close()


async def test_panel_answers_are_mirrored_so_telegram_admins_see_them(tg_server, tg_admin, fake):
    client, thread_id = await visitor(tg_server.url, "Mirror")
    admin = await admin_socket(tg_server.url, tg_admin)
    ack = await admin.call(
        "message_to_visitor", {"thread_id": thread_id, "type": "text", "text": "from the panel"}
    )
    assert ack["ok"]
    call = await sent(
        fake,
        lambda c: (
            c.method == "sendMessage"
            and f"#{thread_id[:8]}" in c.params["text"]
            and c.params["text"].endswith("\nfrom the panel")
        ),
    )
    assert "Admin (panel)" in call.params["text"] and "Mirror" in call.params["text"]
    await client.close()
    await admin.close()


async def test_flood_control_429_delays_but_loses_nothing(tg_server, tg_admin, fake):
    admin = await admin_socket(tg_server.url, tg_admin)
    client, thread_id = await visitor(tg_server.url, "Patient")
    await outbox_empty(tg_server.url)
    before = len(fake.calls)
    # Telegram asks for a pause twice (retry_after is whole seconds).
    fake.fail("sendMessage", 2, status=429, retry_after=1)
    ack = await client.call(
        "message_to_admin", {"thread_id": thread_id, "type": "text", "text": "during a flood"}
    )
    # Stored and acknowledged before Telegram took it: the visitor does not wait for it.
    assert ack["ok"] is True, ack
    assert not [c for c in fake.calls[before:] if c.ok and "during a flood" in str(c.params.get("text"))]
    await admin.wait_for("message_from_visitor", lambda d: d["content_text"] == "during a flood")
    await sent(fake, lambda c: c.method == "sendMessage" and "during a flood" in c.params["text"], timeout=15)
    # Refused twice, then sent once: nothing lost, nothing doubled.
    attempts = [(c.ok, c.params.get("text", "").rsplit("\n", 1)[-1]) for c in fake.calls[before:]]
    assert attempts == [(False, "during a flood"), (False, "during a flood"), (True, "during a flood")]
    health = tg_admin.get("/healthz").json()["telegram"]
    assert health["configured"] is True
    assert "429" in health["last_error"] and "123:abc" not in str(health)
    await client.close()
    await admin.close()


async def test_outage_500_is_retried_until_telegram_is_back(tg_server, fake):
    client, thread_id = await visitor(tg_server.url, "Outage")
    await outbox_empty(tg_server.url)
    fake.fail("sendMessage", 3, status=500)
    ack = await client.call(
        "message_to_admin", {"thread_id": thread_id, "type": "text", "text": "while down"}
    )
    assert ack["ok"]
    await sent(fake, lambda c: c.method == "sendMessage" and "while down" in c.params["text"], timeout=20)
    # The thread's next message goes out after that one: once it is there, a second copy
    # of the first would be too.
    ack = await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "back up"})
    assert ack["ok"] is True, ack
    await sent(fake, lambda c: c.method == "sendMessage" and "back up" in c.params["text"], timeout=20)
    texts = [
        c.params["text"].rsplit("\n", 1)[-1] for c in fake.sent("sendMessage") if "Outage" in c.params["text"]
    ]
    assert texts == ["while down", "back up"]  # sent once, not once per retry
    failed = [
        c for c in fake.calls if c.method == "sendMessage" and not c.ok and "while down" in c.params["text"]
    ]
    assert len(failed) == 3
    await client.close()


async def test_two_server_processes_send_each_message_once_and_in_order(tg_server, fake):
    # A second process on the same database, with its own sender thread.
    second = LiveServer(
        env={**telegram_env(fake), "DATABASE_URL": tg_server.env["DATABASE_URL"]}, migrate=False
    ).start()
    try:
        client, thread_id = await visitor(second.url, "Busy")
        texts = [f"burst {i:02d}" for i in range(12)]
        for text in texts:
            assert (
                await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": text})
            )["ok"]
        await sent(fake, lambda c: c.method == "sendMessage" and "burst 11" in c.params["text"], timeout=15)
        await outbox_empty(second.url)
        bursts = [
            c.params["text"].rsplit("\n", 1)[-1]
            for c in fake.sent("sendMessage")
            if "burst" in c.params["text"]
        ]
        assert bursts == texts
        await client.close()
    finally:
        second.cleanup()
