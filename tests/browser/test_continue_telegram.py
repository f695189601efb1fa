"""★ Continue in Telegram (issue 14) in the browser: with the bot configured, the visitor
page offers the button once there is a conversation; a press opens t.me/<bot>?start=<token>
in a new tab, and that token links the visitor's Telegram chat (the bot sends the history).
Without Telegram the button stays hidden."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, send_text, shot, start_visitor
from tests.support.fake_telegram import FakeTelegram, Updates
from tests.telegram.conftest import CHAT_ID, TOKEN, post_update, telegram_env

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)


@pytest.fixture
def fake():
    fake = FakeTelegram(token=TOKEN).start()
    yield fake
    fake.stop()


def test_continue_in_telegram_button_links_the_chat(make_server, fake, open_context):
    live = make_server(env=telegram_env(fake))
    context = open_context()
    # No internet here: t.me answers with a stub page.
    context.route(
        re.compile(r"^https://t\.me/"),
        lambda route: route.fulfill(body="Telegram", content_type="text/plain"),
    )
    page = start_visitor(context, live.url, "Button Berk")
    button = page.locator("#continue-telegram")
    expect(button).to_be_hidden()  # no conversation yet
    send_text(page, "Can I continue on my phone?")
    expect(page.locator(".msg-mine").last).to_have_attribute("data-state", "sent")
    expect(button).to_be_visible()
    expect(button).to_have_attribute("aria-label", "Continue in Telegram")
    shot(page, "visitor-continue-in-telegram")
    with context.expect_page() as opened:
        button.click()
    tab = opened.value
    tab.wait_for_url(re.compile(r"^https://t\.me/chatdesk_bot\?start=c_[A-Za-z0-9_-]+$"))
    token = tab.url.split("start=", 1)[1]
    assert len(token) <= 64
    expect(page.locator(".notice-line").last).to_contain_text("Press Start in Telegram")

    user = {"id": 5151, "is_bot": False, "first_name": "Berk"}
    assert (
        post_update(live.url, Updates(CHAT_ID, start=5_500_000).private(user, f"/start {token}")).status_code
        == 200
    )
    history = fake.wait_for(
        lambda c: (
            c.method == "sendMessage"
            and c.params.get("chat_id") in (5151, "5151")
            and "Your conversation so far" in c.params["text"]
        )
    )
    assert "You: Can I continue on my phone?" in history.params["text"]


def test_without_telegram_the_button_stays_hidden(server, open_context):
    page = start_visitor(open_context(viewport=PHONE, locale="tr-TR", phone=True), server.url, "Gizli Gül")
    send_text(page, "merhaba")
    expect(page.locator(".msg-mine").last).to_have_attribute("data-state", "sent")
    expect(page.locator("#continue-telegram")).to_be_hidden()
