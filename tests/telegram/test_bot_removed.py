"""Issue 15.8: refusals that retrying will not heal. A bot removed from the admin chat
shows in /healthz and the panel's status within one update (my_chat_member), its items
fail at once instead of being retried for a day, and once it is back staff requeue the
failed items from the Django admin (an action) and ops with `manage.py telegram_outbox`."""

from __future__ import annotations

import asyncio
import re

import pytest
import requests

from tests.support.clients import Browserish, visitor
from tests.support.fake_telegram import Updates
from tests.support.server import LiveServer

from .conftest import _next_update_block, health, outbox_empty, post_update, sent, telegram_env

CHAT = -1005020
PASSWORD = "right-horse-battery-staple"


@pytest.fixture(scope="module")
def removal_server(fake):
    fake.chat(CHAT, "supergroup")
    live = LiveServer(env=telegram_env(fake, TELEGRAM_CHAT_ID=str(CHAT))).start()
    live.env["DJANGO_SUPERUSER_PASSWORD"] = PASSWORD
    live.manage("createsuperuser", "--noinput", "--username", "staff", "--email", "staff@example.com")
    yield live
    fake.chat(CHAT, bot_status="administrator")
    live.cleanup()


async def report_until(base_url: str, predicate, timeout: float = 10.0) -> dict:
    """/healthz's Telegram details once they satisfy `predicate`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        report = (await asyncio.to_thread(health, base_url))["telegram"]
        if predicate(report):
            return report
        if loop.time() > deadline:
            raise AssertionError(f"Telegram's report never matched: {report!r}")
        await asyncio.sleep(0.05)


def panel_admin(base_url: str, fake) -> Browserish:
    http = Browserish(base_url)
    http.get("/login")
    before = len(fake.calls)
    assert http.post("/request-otp", json={}).status_code == 200
    text = next(c.params["text"] for c in fake.calls[before:] if "sign-in code" in str(c.params.get("text")))
    assert (
        http.post("/verify-otp", json={"otp": re.findall(r"<code>(\d{6})</code>", text)[0]}).status_code
        == 200
    )
    return http


def staff_admin(base_url: str) -> Browserish:
    http = Browserish(base_url)
    http.get("/django-admin/login/")
    answer = http.post(
        "/django-admin/login/?next=/django-admin/",
        data={"username": "staff", "password": PASSWORD, "csrfmiddlewaretoken": http.cookies["csrftoken"]},
    )
    assert answer.status_code == 302, answer.text[:500]
    return http


def failed_ids(server) -> list[int]:
    listed = server.manage("telegram_outbox", "list").stdout
    return [int(line.split("\t", 1)[0]) for line in listed.splitlines() if "\tfailed\t" in line]


def tries(fake, text: str) -> list[bool]:
    with fake.lock:
        return [
            c.ok for c in fake.calls if c.method == "sendMessage" and str(c.params.get("text")).endswith(text)
        ]


async def test_a_removed_bot_shows_at_once_and_its_failed_items_can_be_requeued(removal_server, fake):
    url = removal_server.url
    updates = Updates(CHAT, start=_next_update_block())
    panel = panel_admin(url, fake)
    client, thread_id = await visitor(url, "Stranded")

    # Admins remove the bot; Telegram tells it with one my_chat_member update.
    fake.chat(CHAT, bot_status="kicked")
    post_update(url, updates.my_chat_member("administrator", "kicked"))
    report = await report_until(url, lambda r: r["refusal"] is not None)
    assert (report["refusal"]["code"], report["refusal"]["reason"]) == (
        "bot_removed",
        "the bot was removed from the admin chat",
    )
    assert panel.get("/api/status").json()["telegram"]["refusal"]["code"] == "bot_removed"
    public = requests.get(url + "/healthz", timeout=5).json()["telegram"]
    assert public == {"configured": True, "ok": False}

    # Visitor messages now fail at once, without a call that cannot succeed.
    for text in ("stranded one", "stranded two"):
        ack = await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": text})
        assert ack["ok"] is True, ack
    report = await report_until(url, lambda r: r["failed"] == 2)
    assert report["pending"] == 0
    assert (tries(fake, "stranded one"), tries(fake, "stranded two")) == ([], [])
    first, second = failed_ids(removal_server)

    # The bot is added back: the refusal is over; failed items wait for staff.
    fake.chat(CHAT, bot_status="administrator")
    post_update(url, updates.my_chat_member("kicked", "administrator", can_manage_topics=True))
    report = await report_until(url, lambda r: r["refusal"] is None)
    assert report["failed"] == 2

    # Staff requeue one from the Django admin...
    staff = staff_admin(url)
    changelist = "/django-admin/telegram_bridge/outboxitem/"
    assert "Send the selected failed items again" in staff.get(changelist).text
    answer = staff.post(
        changelist,
        data={
            "action": "requeue",
            "_selected_action": [str(first)],
            "index": "0",
            "csrfmiddlewaretoken": staff.cookies["csrftoken"],
        },
    )
    assert answer.status_code == 302, answer.text[:500]
    await sent(fake, lambda c: c.method == "sendMessage" and c.params["text"].endswith("stranded one"))
    # ...and ops the other with the command.
    done = removal_server.manage("telegram_outbox", "retry")
    assert done.stdout.strip() == "1 failed item(s) requeued."
    await sent(fake, lambda c: c.method == "sendMessage" and c.params["text"].endswith("stranded two"))
    await outbox_empty(url)
    assert (tries(fake, "stranded one"), tries(fake, "stranded two")) == ([True], [True])
    assert (await asyncio.to_thread(health, url))["telegram"]["failed"] == 0
    assert failed_ids(removal_server) == [] and second not in failed_ids(removal_server)
    await client.close()


async def test_a_403_without_an_update_stops_retrying_at_once(removal_server, fake):
    url = removal_server.url
    client, thread_id = await visitor(url, "Unnoticed")
    # Removed while the update was lost (a webhook with old allowed_updates): the first
    # send's 403 says it, and the item is not retried.
    fake.chat(CHAT, bot_status="kicked")
    try:
        await client.call(
            "message_to_admin", {"thread_id": thread_id, "type": "text", "text": "refused once"}
        )
        await client.call(
            "message_to_admin", {"thread_id": thread_id, "type": "text", "text": "not even tried"}
        )
        report = await report_until(url, lambda r: r["failed"] == 2)
        assert report["refusal"]["code"] == "bot_removed" and report["pending"] == 0
        assert (tries(fake, "refused once"), tries(fake, "not even tried")) == ([False], [])
        refused = fake.refused("sendMessage")[-1]
        assert refused.error == {
            "ok": False,
            "error_code": 403,
            "description": "Forbidden: bot was kicked from the supergroup chat",
        }
    finally:
        fake.chat(CHAT, bot_status="administrator")
    assert removal_server.manage("telegram_outbox", "retry").stdout.strip() == "2 failed item(s) requeued."
    await outbox_empty(url)
    assert (tries(fake, "refused once"), tries(fake, "not even tried")) == ([False, True], [True])
    await client.close()
