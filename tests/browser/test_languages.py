"""The pages speak Turkish to a Turkish browser, and switch language on request."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, send_text, shot

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)


def test_turkish_from_the_browser_language_and_the_switch(server, open_context):
    context = open_context(locale="tr-TR")
    page = context.new_page()
    page.goto(server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "tr")
    expect(page.locator("h1")).to_have_text("Bize yazın")
    expect(page.locator("#start")).to_have_text("Sohbeti başlat")
    expect(page.locator("#conn-text")).to_have_text("Çevrimiçi")  # from the JS catalogue
    page.fill("#name", "Ayşe Yılmaz")
    page.click("#start")
    expect(page.locator(".empty-chat")).to_have_text("Merhaba deyin: yanıtımız burada görünecek.")
    send_text(page, "Merhaba, siparişim nerede?")
    expect(page.locator(".msg-mine").last.locator(".status")).to_have_text("Gönderildi")
    shot(page, "visitor-chat-tr-desktop")

    login = context.new_page()
    login.goto(server.url + "/login")
    expect(login.locator("h1")).to_have_text("chatdesk’e giriş")
    login.click("#request-code")
    code = login.locator("#dev-code-value")
    expect(code).to_have_text(re.compile(r"^\d{6}$"))
    login.fill("#otp", f"{(int(code.inner_text()) + 1) % 1_000_000:06d}")
    login.click("#verify")
    expect(login.locator("#error")).to_have_text("Kod yanlış.")
    shot(login, "login-wrong-code-tr-desktop")

    # The visible switch: English, and it sticks for the next page.
    page.select_option("#lang-v", "en")
    page.wait_for_load_state()
    expect(page.locator("h1")).to_have_text("Chat with us")
    expect(page.locator("#messages .msg-mine .text")).to_have_text(["Merhaba, siparişim nerede?"])
    login.goto(server.url + "/login")
    expect(login.locator("h1")).to_have_text("Sign in to chatdesk")


def test_turkish_admin_panel_on_a_phone(server, open_context):
    context = open_context(locale="tr-TR", viewport=PHONE, phone=True)
    page = context.new_page()
    page.goto(server.url + "/login")
    page.click("#request-code")
    code = page.locator("#dev-code-value")
    expect(code).to_have_text(re.compile(r"^\d{6}$"))
    page.fill("#otp", code.inner_text())
    page.click("#verify")
    page.wait_for_url(re.compile(r"/admin$"))
    expect(page.locator(".side-title h1")).to_have_text("Sohbetler")
    expect(page.locator("#conn-text")).to_have_text("Çevrimiçi")
    expect(page.locator("#sign-out")).to_have_text("Çıkış yap")
    shot(page, "admin-list-tr-phone")
    # Signing out is a POST with the CSRF token (a cross-site GET can no longer sign out).
    with page.expect_request(re.compile(r"/logout$")) as signing_out:
        page.click("#sign-out")
    assert signing_out.value.method == "POST"
    assert "csrfmiddlewaretoken=" in (signing_out.value.post_data or "")
    page.wait_for_url(re.compile(r"/login$"))
    expect(page.locator("h1")).to_have_text("chatdesk’e giriş")
