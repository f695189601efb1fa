"""Sign-in codes delivered by Telegram (the default backend when a bot is configured),
against the fake Bot API: a code Telegram did not take never signs anyone in."""

from __future__ import annotations

import re

import pytest

from tests.support.clients import Browserish
from tests.support.fake_telegram import FakeTelegram
from tests.support.server import LiveServer

TOKEN = "123:abc"
CHAT_ID = -1001


@pytest.fixture(scope="module")
def fake():
    fake = FakeTelegram(token=TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def fresh_failures(fake):
    fake.reset_failures()
    yield
    fake.reset_failures()


@pytest.fixture(scope="module")
def tg_server(fake):
    live = LiveServer(
        env={
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_CHAT_ID": str(CHAT_ID),
            "TELEGRAM_API_BASE": fake.url,
            "TELEGRAM_RETRY_BASE_MS": "300",
        }
    ).start()
    yield live
    live.cleanup()


def sent_codes(fake: FakeTelegram) -> list[tuple[bool, str]]:
    """(accepted by Telegram, code) of every sign-in message the bot tried to send."""
    found = []
    with fake.lock:
        calls = [c for c in fake.calls if c.method == "sendMessage"]
    for call in calls:
        match = re.search(r"sign-in code: <code>(\d{6})</code>", str(call.params.get("text", "")))
        if match:
            found.append((call.ok, match.group(1)))
    return found


def test_the_code_goes_to_telegram_not_into_the_answer(tg_server, fake):
    http = Browserish(tg_server.url)
    before = len(sent_codes(fake))
    answer = http.post("/request-otp", json={})
    assert answer.status_code == 200
    # The contract's answer, plus (issue 13) `approvable`: the page may wait for "Approve".
    assert answer.json() == {"success": True, "message": "OTP Telegram'a gönderildi", "approvable": True}
    accepted, code = sent_codes(fake)[before]
    assert accepted is True
    assert http.post("/verify-otp", json={"otp": code}).status_code == 200
    assert http.get("/api/threads").status_code == 200


def test_a_code_telegram_refused_is_never_valid(tg_server, fake):
    http = Browserish(tg_server.url)
    before = len(sent_codes(fake))
    fake.fail("sendMessage", 1, status=500)
    answer = http.post("/request-otp", json={})
    assert answer.status_code == 502 and answer.json()["success"] is False
    accepted, code = sent_codes(fake)[before]
    assert accepted is False
    # The code reached nobody (here: the test read it off the wire): it signs nobody in.
    refused = http.post("/verify-otp", json={"otp": code})
    assert refused.status_code == 400
    assert http.get("/api/threads").status_code == 401
    assert refused.json()["code"] == "code_not_requested"
    assert answer.json()["code"] == "delivery_failed"
