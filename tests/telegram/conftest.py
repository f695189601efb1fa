"""One fake Bot API and one chatdesk server with Telegram on, shared by these tests."""

from __future__ import annotations

import asyncio
import re

import pytest

from tests.support.clients import Browserish, Recorder
from tests.support.fake_telegram import FakeTelegram, Updates
from tests.support.server import LiveServer

TOKEN = "123:abc"
CHAT_ID = -1001
SECRET = "s3cret"
HEALTHZ_TOKEN = "healthz-t0ken"


def telegram_env(fake: FakeTelegram, **extra: str) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_CHAT_ID": str(CHAT_ID),
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_API_BASE": fake.url,
        # Fast pace and retries, so tests of outages take seconds.
        "TELEGRAM_SEND_INTERVAL_MS": "20",
        "TELEGRAM_RETRY_BASE_MS": "300",
        "TELEGRAM_GROUP_MESSAGES_PER_MINUTE": "1000",
        # /healthz details (the outbox backlog) for the tests' monitoring.
        "HEALTHZ_TOKEN": HEALTHZ_TOKEN,
        **extra,
    }


@pytest.fixture(scope="package")
def fake():
    fake = FakeTelegram(token=TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def fresh_failures(request):
    """Failures a test scripted and did not use die with it: the next test starts clean."""
    if "fake" not in request.fixturenames:
        yield
        return
    fake = request.getfixturevalue("fake")
    fake.reset_failures()
    yield
    fake.reset_failures()


@pytest.fixture(scope="package")
def tg_server(fake):
    live = LiveServer(env=telegram_env(fake)).start()
    yield live
    log = live.log()
    live.cleanup()
    # The bridge's threads log crashes with a traceback; none may have happened.
    assert "Traceback" not in log and "crashed" not in log, log[-5000:]


@pytest.fixture
def updates() -> Updates:
    return Updates(CHAT_ID, start=_next_update_block())


_blocks = iter(range(10_000, 10_000_000, 10_000))


def _next_update_block() -> int:
    # update_ids are unique per bot: each test takes its own range.
    return next(_blocks)


def sign_in_with_telegram(base_url: str, fake: FakeTelegram) -> Browserish:
    """Sign in as an admin would: the code comes from the bot's message, not the page."""
    http = Browserish(base_url)
    http.get("/login")
    before = len(fake.calls)
    answer = http.post("/request-otp", json={})
    assert answer.status_code == 200, answer.text
    assert "otp" not in answer.json()
    delivered = [
        c for c in fake.calls[before:] if c.method == "sendMessage" and "sign-in code" in c.params["text"]
    ]
    assert len(delivered) == 1
    assert str(delivered[0].params["chat_id"]) == str(CHAT_ID)
    code = re.findall(r"\d{6}", delivered[0].params["text"])[0]
    result = http.post("/verify-otp", json={"otp": code})
    assert result.status_code == 200, result.text
    return http


@pytest.fixture(scope="package")
def tg_admin(tg_server, fake) -> Browserish:
    return sign_in_with_telegram(tg_server.url, fake)


async def sent(fake: FakeTelegram, predicate, timeout: float = 10.0):
    """Wait (off the event loop) for a Telegram call matching `predicate`."""
    return await asyncio.to_thread(fake.wait_for, predicate, timeout)


async def visitor_with_page(base_url: str, name: str) -> tuple[Recorder, str, Browserish]:
    """A visitor who opened the page (so may upload), connected and joined."""
    page = Browserish(base_url)
    page.get("/")
    client = await Recorder(base_url, page.cookie_header()).connect()
    ack = await client.call("join", {"display_name": name})
    assert ack["ok"], ack
    return client, ack["thread_id"], page


def health(base_url: str) -> dict:
    """/healthz with its details, as monitoring holding HEALTHZ_TOKEN sees it."""
    import requests

    headers = {"Authorization": f"Bearer {HEALTHZ_TOKEN}"}
    answer = requests.get(base_url + "/healthz", headers=headers, timeout=5)
    return answer.json()


async def outbox_empty(base_url: str, timeout: float = 10.0) -> None:
    """Wait until the server sent (and linked) everything it had to send."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        report = await asyncio.to_thread(health, base_url)
        if report["telegram"].get("pending") == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the outbox did not empty")


def upload(page: Browserish, kind: str, data: bytes, name: str) -> str:
    answer = page.post(f"/api/upload/{kind}", files={"file": (name, data)})
    assert answer.status_code == 200, answer.text
    return answer.json()["url"]


def post_update(base_url: str, update: dict, secret: str | None = SECRET):
    import requests

    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return requests.post(base_url + "/telegram/webhook", json=update, headers=headers, timeout=10)


def fake_private_photo(fake, updates: Updates, user: dict, jpeg: bytes, caption: str = "") -> dict:
    """A photo `user` sends the bot in their private chat (its file served by the fake)."""
    file_id = f"vp_{updates.update_id}"
    fake.add_file(f"photos/{file_id}.jpg", jpeg)
    update = updates.private(user, "")
    message = update["message"]
    del message["text"]
    message["photo"] = [
        {"file_id": file_id, "file_unique_id": file_id, "width": 80, "height": 80, "file_size": len(jpeg)}
    ]
    if caption:
        message["caption"] = caption
    return update
