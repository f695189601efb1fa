"""Issue 15.9: sign-in codes are sent with protect_content, and a code that expired
unused does not stay readable in the admin chat: its message is deleted."""

from __future__ import annotations

import pytest

from tests.support.clients import Browserish
from tests.support.server import LiveServer

from .conftest import sent, telegram_env

CHAT = -1005040


@pytest.fixture(scope="module")
def short_code_server(fake):
    fake.chat(CHAT, "supergroup")
    live = LiveServer(env=telegram_env(fake, TELEGRAM_CHAT_ID=str(CHAT), OTP_TTL_SECONDS="1")).start()
    yield live
    live.cleanup()


async def test_an_expired_codes_message_is_deleted(short_code_server, fake):
    http = Browserish(short_code_server.url)
    http.get("/login")
    before = len(fake.calls)
    assert http.post("/request-otp", json={}).status_code == 200
    code_message = next(
        c for c in fake.calls[before:] if c.method == "sendMessage" and "sign-in code" in c.params["text"]
    )
    assert code_message.params["protect_content"] is True
    message_id = code_message.result["message_id"]
    deleted = await sent(
        fake,
        lambda c: c.method == "deleteMessage" and c.params["message_id"] == message_id,
        timeout=30,
    )
    assert str(deleted.params["chat_id"]) == str(CHAT)
