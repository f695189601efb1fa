"""The panel says when forwarding to Telegram is behind, and stops saying it once the
backlog is sent."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, send_text, shot, sign_in_admin, start_visitor
from tests.support.fake_telegram import FakeTelegram

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)


@pytest.fixture
def telegram():
    fake = FakeTelegram().start()
    yield fake
    fake.stop()


def test_panel_banner_while_telegram_is_behind(make_server, open_context, telegram):
    telegram.fail("sendMessage", times=10_000)  # Telegram answers 500 until told otherwise
    live = make_server(
        env={
            "TELEGRAM_BOT_TOKEN": telegram.token,
            "TELEGRAM_CHAT_ID": "-1001",
            "TELEGRAM_API_BASE": telegram.url,
            "TELEGRAM_SEND_INTERVAL_MS": "20",
            "TELEGRAM_RETRY_BASE_MS": "300",
            "TELEGRAM_RETRY_MAX_SECONDS": "1",
            "TELEGRAM_GROUP_MESSAGES_PER_MINUTE": "1000",
            "TELEGRAM_BEHIND_SECONDS": "1",
            # Sign-in codes on the page, not through the (failing) Telegram.
            "LOGIN_CODE_BACKEND": "accounts.delivery.DevelopmentDelivery",
        }
    )
    admin = sign_in_admin(open_context(), live.url)
    banner = admin.locator("#tg-behind")
    expect(banner).to_be_hidden()

    visitor = start_visitor(open_context(), live.url, "Queued Quinn")
    send_text(visitor, "is anyone there?")
    expect(visitor.locator(".msg-mine").last).to_have_attribute("data-state", "sent")
    expect(admin.locator(".thread", has_text="Queued Quinn")).to_be_visible()
    expect(banner).to_have_text(
        re.compile(r"^Telegram is behind: \d+ messages? (is|are) waiting to be forwarded\.$"), timeout=25_000
    )
    shot(admin, "admin-telegram-behind-desktop")

    telegram.reset_failures()
    telegram.sent_text("is anyone there?", timeout=15)
    expect(banner).to_be_hidden(timeout=25_000)


def test_panel_banner_when_telegram_removed_the_bot(make_server, open_context, telegram):
    """Issue 15.8: the reason Telegram refuses the bot shows in the panel, in the admin's
    language, until the bot is back."""
    import requests

    from tests.support.fake_telegram import Updates

    telegram.chat(-1001, "supergroup")
    live = make_server(
        env={
            "TELEGRAM_BOT_TOKEN": telegram.token,
            "TELEGRAM_CHAT_ID": "-1001",
            "TELEGRAM_API_BASE": telegram.url,
            "TELEGRAM_WEBHOOK_SECRET": "s3cret",
            "LOGIN_CODE_BACKEND": "accounts.delivery.DevelopmentDelivery",
        }
    )
    updates = Updates(-1001)

    def tell(update):
        answer = requests.post(
            live.url + "/telegram/webhook",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text

    english = sign_in_admin(open_context(), live.url)
    turkish = sign_in_admin(open_context(viewport=PHONE, locale="tr-TR", phone=True), live.url)
    telegram.chat(-1001, bot_status="kicked")
    tell(updates.my_chat_member("administrator", "kicked"))
    for page in (english, turkish):
        page.reload()  # the panel asks /api/status when it opens
    expect(english.locator("#tg-behind")).to_have_text(
        "Telegram: the bot was removed from the admin chat. Add it back to receive messages there."
    )
    expect(turkish.locator("#tg-behind")).to_have_text(
        "Telegram: bot yönetici sohbetinden çıkarıldı. Mesajları orada almak için botu yeniden ekleyin."
    )
    shot(english, "admin-telegram-bot-removed-desktop")
    shot(turkish, "admin-telegram-bot-removed-phone-tr")

    telegram.chat(-1001, bot_status="administrator")
    tell(updates.my_chat_member("kicked", "administrator"))
    english.reload()
    expect(english.locator("#tg-behind")).to_be_hidden()
