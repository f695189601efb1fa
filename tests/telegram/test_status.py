"""Is Telegram behind? /healthz says up/down to anyone and details to staff, panel admins
and monitoring with HEALTHZ_TOKEN; GET /api/status tells the panel (admins only)."""

from __future__ import annotations

import asyncio

import pytest
import requests

from tests.support.clients import Browserish, visitor
from tests.support.fake_telegram import FakeTelegram
from tests.support.server import LiveServer

from .conftest import HEALTHZ_TOKEN, TOKEN, outbox_empty, sign_in_with_telegram, telegram_env

DETAIL_KEYS = {
    "configured",
    "mode",
    "last_error",
    "last_error_at",
    "last_ok_at",
    "pending",
    "failed",
    "oldest_pending_seconds",
    "behind",
    "refusal",
}
STATUS_KEYS = {
    "configured",
    "behind",
    "pending",
    "oldest_pending_seconds",
    "failed",
    "last_error",
    "last_error_at",
    "last_ok_at",
    "refusal",
}


def without_email(body: dict) -> dict:
    """The public answer minus the visitor-email check (notifications' own), which must
    be flags only as well."""
    body = dict(body)
    assert set(body.pop("email", {})) <= {"configured", "ok"}, body
    return body


def healthz(base_url: str, browser: Browserish | None = None, **headers: str) -> requests.Response:
    if browser is not None:
        return browser.get("/healthz", headers=headers, timeout=5)
    return requests.get(base_url + "/healthz", headers=headers, timeout=5)


async def test_anyone_gets_up_or_down_and_nothing_more(tg_server):
    await outbox_empty(tg_server.url)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": HEALTHZ_TOKEN}):
        answer = healthz(tg_server.url, **headers)
        assert answer.status_code == 200
        assert without_email(answer.json()) == {
            "status": "ok",
            "database": {"ok": True},
            "redis": {"configured": False},
            "telegram": {"configured": True, "ok": True},
        }, headers


async def test_monitoring_with_the_token_gets_the_details(tg_server):
    await outbox_empty(tg_server.url)
    body = healthz(tg_server.url, Authorization=f"Bearer {HEALTHZ_TOKEN}").json()
    assert body["status"] == "ok" and body["database"] == {"ok": True}
    telegram = body["telegram"]
    assert set(telegram) == DETAIL_KEYS
    assert (telegram["configured"], telegram["pending"], telegram["behind"]) == (True, 0, False)
    assert telegram["oldest_pending_seconds"] == 0
    assert TOKEN not in str(body) and "s3cret" not in str(body) and HEALTHZ_TOKEN not in str(body)


def test_a_panel_admin_and_a_staff_user_get_the_details_a_visitor_does_not(tg_server, tg_admin):
    assert set(healthz(tg_server.url, tg_admin).json()["telegram"]) == DETAIL_KEYS

    page = Browserish(tg_server.url)
    page.get("/")
    assert healthz(tg_server.url, page).json()["telegram"] == {"configured": True, "ok": True}

    tg_server.manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import User; "
        "User.objects.filter(username='health-staff').delete(); "
        "User.objects.create_user('health-staff', password='staff-pass-123', is_staff=True)",
    )
    staff = Browserish(tg_server.url)
    staff.get("/django-admin/login/")
    signed_in = staff.post(
        "/django-admin/login/?next=/django-admin/",
        data={
            "username": "health-staff",
            "password": "staff-pass-123",
            "csrfmiddlewaretoken": staff.cookies["csrftoken"],
            "next": "/django-admin/",
        },
        headers={"Referer": tg_server.url + "/django-admin/login/"},
    )
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/django-admin/", signed_in.text
    assert set(healthz(tg_server.url, staff).json()["telegram"]) == DETAIL_KEYS


def test_api_status_is_for_admins_only(tg_server, tg_admin):
    anonymous = requests.get(tg_server.url + "/api/status", timeout=5)
    assert anonymous.status_code == 401 and anonymous.json()["success"] is False
    page = Browserish(tg_server.url)
    page.get("/")
    assert page.get("/api/status").status_code == 401
    answer = tg_admin.get("/api/status")
    assert answer.status_code == 200
    assert set(answer.json()) == {"telegram"} and set(answer.json()["telegram"]) == STATUS_KEYS
    assert "no-cache" in answer.headers["Cache-Control"]


@pytest.fixture
def own_fake():
    fake = FakeTelegram(token=TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture
def strict_server(own_fake):
    """Behind as soon as anything waits (TELEGRAM_BEHIND_SECONDS=0); retries every ~0.2 s."""
    env = telegram_env(own_fake, TELEGRAM_BEHIND_SECONDS="0", TELEGRAM_RETRY_MAX_SECONDS="1")
    live = LiveServer(env=env).start()
    yield live
    live.cleanup()


async def test_when_telegram_is_down_the_panel_and_healthz_say_it_is_behind(strict_server, own_fake):
    admin = sign_in_with_telegram(strict_server.url, own_fake)
    assert admin.get("/api/status").json()["telegram"] == {
        "configured": True,
        "behind": False,
        "pending": 0,
        "oldest_pending_seconds": 0,
        "failed": 0,
        "last_error": None,
        "last_error_at": None,
        "last_ok_at": None,
        "refusal": None,
    }
    own_fake.fail("sendMessage", 1000, status=500)
    client, thread_id = await visitor(strict_server.url, "Waiting")
    for text in ("one", "two"):
        ack = await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": text})
        assert ack["ok"] is True, ack
    assert await _refused(own_fake) >= 1
    # The refusal is recorded once its answer is back: wait for the report to have it.
    status = await _status_when(admin, lambda t: t["last_error_at"] is not None)
    assert (status["configured"], status["behind"], status["pending"], status["failed"]) == (True, True, 2, 0)
    assert isinstance(status["oldest_pending_seconds"], int) and status["oldest_pending_seconds"] >= 0
    assert status["last_error"] == "sendMessage: HTTP 500 Internal Server Error"
    assert status["last_error_at"] is not None and status["last_ok_at"] is None
    # The public answer: still up (chatdesk works without Telegram), Telegram not ok.
    public = healthz(strict_server.url)
    assert public.status_code == 200
    assert without_email(public.json()) == {
        "status": "ok",
        "database": {"ok": True},
        "redis": {"configured": False},
        "telegram": {"configured": True, "ok": False},
    }

    # Telegram is back: the backlog goes out, in order, and nothing is behind any more.
    own_fake.reset_failures()
    await outbox_empty(strict_server.url, timeout=15)
    assert [c.params["text"].rsplit("\n", 1)[-1] for c in own_fake.sent("sendMessage")][-2:] == ["one", "two"]
    status = admin.get("/api/status").json()["telegram"]
    assert (status["behind"], status["pending"], status["oldest_pending_seconds"]) == (False, 0, 0)
    assert status["last_ok_at"] is not None
    assert healthz(strict_server.url).json()["telegram"] == {"configured": True, "ok": True}
    await client.close()


async def _status_when(admin: Browserish, predicate, timeout: float = 10.0) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        status = (await asyncio.to_thread(admin.get, "/api/status")).json()["telegram"]
        if predicate(status) or loop.time() > deadline:
            return status
        await asyncio.sleep(0.05)


async def _refused(fake: FakeTelegram) -> int:
    """Wait until Telegram has refused a forward; the number of refusals so far."""

    def wait() -> int:
        with fake.lock:
            while not [c for c in fake.calls if not c.ok]:
                if not fake.lock.wait(10):
                    break
            return len([c for c in fake.calls if not c.ok])

    return await asyncio.to_thread(wait)
