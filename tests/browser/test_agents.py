"""Named agents in real browsers (issue 13, part A): the visitor sees who answered (name
and initials above the reply), the panels show it too, and one agent sees the other in
the thread ("Also here: Mert") and replying ("Mert is replying…")."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, send_text, shot, start_visitor
from tests.browser.test_desk import panel_as

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)


def test_visitor_sees_the_agents_name_and_agents_see_each_other(make_server, open_context, problems):
    server = make_server()
    visitor = start_visitor(open_context(viewport=PHONE, phone=True), server.url, "Ahmet")
    send_text(visitor, "Hello, is anyone there?")
    ayse = panel_as(open_context, server, "Ayşe Kaya")
    mert = panel_as(open_context, server, "Mert")

    ayse.locator(".thread", has_text="Ahmet").click()
    mert.locator(".thread", has_text="Ahmet").click()
    expect(ayse.locator("#agent-peers")).to_have_text("Also here: Mert")
    expect(mert.locator("#agent-peers")).to_have_text("Also here: Ayşe Kaya")

    # Mert types: Ayşe sees him replying (the visitor sees "Support is typing…").
    mert.locator("[data-role=text]:visible").press_sequentially("Merhaba", delay=20)
    expect(ayse.locator("#agent-peers")).to_have_text("Mert is replying…")
    expect(visitor.locator("#typing")).to_be_visible()
    shot(ayse, "agents-peer-typing-desktop")
    mert.locator("[data-role=text]:visible").press("Enter")

    # The visitor sees who answered, with his initials.
    reply = visitor.locator(".msg-theirs", has_text="Merhaba")
    expect(reply.locator(".author-name")).to_have_text("Mert")
    expect(reply.locator(".agent-initials")).to_have_text("ME")
    # Both panels show the author on the reply.
    for page in (ayse, mert):
        expect(page.locator(".msg", has_text="Merhaba").locator(".author-name")).to_have_text("Mert")
    send_text(ayse, "Ben de buradayım")
    expect(
        visitor.locator(".msg-theirs", has_text="Ben de buradayım").locator(".agent-initials")
    ).to_have_text("AK")
    shot(visitor, "agents-visitor-sees-names-phone")
    shot(mert, "agents-panel-authors-desktop")

    # Mert leaves the thread: Ayşe no longer sees him there.
    mert.close()
    expect(ayse.locator("#agent-peers")).to_be_hidden()

    # After a reload the names come from the history.
    visitor.reload()
    expect(visitor.locator(".msg-theirs", has_text="Merhaba").locator(".author-name")).to_have_text("Mert")


def test_login_page_offers_the_agent_field(server, open_context, problems):
    for locale, phone in (("en-US", False), ("tr-TR", True)):
        context = (
            open_context(locale=locale, viewport=PHONE, phone=True) if phone else open_context(locale=locale)
        )
        page = context.new_page()
        page.goto(server.url + "/login")
        page.fill("#agent", "Selin Dev")
        page.click("#request-code")
        expect(page.locator("#dev-code-value")).not_to_be_empty()
        shot(page, f"agents-login-{locale}-{'phone' if phone else 'desktop'}")
        page.fill("#otp", page.locator("#dev-code-value").inner_text().strip())
        page.click("#verify")
        page.wait_for_url(server.url + "/admin")


def test_approve_in_telegram_signs_the_waiting_login_page_in(make_server, open_context, problems):
    import requests

    from tests.support.fake_telegram import FakeTelegram, Updates

    fake = FakeTelegram().start()
    try:
        live = make_server(
            env={
                "TELEGRAM_BOT_TOKEN": fake.token,
                "TELEGRAM_CHAT_ID": "-1001",
                "TELEGRAM_API_BASE": fake.url,
                "TELEGRAM_WEBHOOK_SECRET": "s3cret",
            }
        )
        approver = {"id": 777001, "is_bot": False, "first_name": "Deniz"}
        fake.members[approver["id"]] = "member"
        page = open_context().new_page()
        page.goto(live.url + "/login")
        page.click("#request-code")
        expect(page.locator("#approval")).to_be_visible()
        call = fake.wait_for(
            lambda c: c.method == "sendMessage" and "sign-in code" in str(c.params.get("text"))
        )
        buttons = {b["text"]: b["callback_data"] for b in call.params["reply_markup"]["inline_keyboard"][0]}
        shot(page, "agents-login-waiting-for-approval-desktop")
        update = Updates(-1001, start=900_000).callback(call.result, buttons["Approve"], approver)
        answer = requests.post(
            live.url + "/telegram/webhook",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"},
            timeout=10,
        )
        assert answer.status_code == 200
        # Nobody types the code: the page learns of the approval and opens the panel.
        page.wait_for_url(live.url + "/admin", timeout=15_000)
        expect(page.locator("#conn")).to_have_attribute("data-state", "online")
    finally:
        fake.stop()
