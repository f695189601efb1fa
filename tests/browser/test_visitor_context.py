"""Issue 14, visitor context: a visitor chatting from a shop's page (the embed) shows the
agent that page (a link with its title), their browser and OS, and their local time and
zone; when the visitor moves to another page of the shop, the panel follows."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, send_text, shot, sign_in_admin
from tests.browser.test_embed_reading import host_site  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)


def test_panel_shows_page_browser_and_local_time_and_follows_navigation(server, open_context, host_site):  # noqa: F811
    host = host_site(server.url)
    admin = sign_in_admin(open_context(), server.url)
    visitor = open_context(timezone_id="Asia/Tokyo", locale="tr-TR").new_page()
    visitor.goto(host.url + "/")
    visitor.locator("#chatdesk-launcher").click()
    frame = visitor.frame_locator("#chatdesk-frame")
    frame.locator("#name").fill("Context Cem")
    frame.locator("#start").click()
    expect(frame.locator("#conn")).to_have_attribute("data-state", "online")
    send_text(frame, "Is this kettle in stock?", "#text")
    expect(frame.locator(".msg-mine").last).to_have_attribute("data-state", "sent")

    admin.locator(".thread", has_text="Context Cem").click()
    box = admin.locator("#visitor-context")
    expect(box).to_be_visible()
    link = box.locator("a.ctx-page")
    expect(link).to_have_text("Example shop")
    expect(link).to_have_attribute("href", host.url + "/")
    expect(box.locator(".ctx-item", has_text="Browser")).to_contain_text("Chrome")
    expect(box.locator(".ctx-item", has_text="Browser")).to_contain_text("Linux")
    expect(box.locator(".ctx-time")).to_contain_text("(Asia/Tokyo)")
    tokyo = admin.evaluate(
        "() => new Date().toLocaleTimeString('en', {timeZone: 'Asia/Tokyo', hour: '2-digit', minute: '2-digit'})"
    )
    expect(box.locator(".ctx-time")).to_contain_text(tokyo[:2])
    expect(box.locator(".ctx-item", has_text="Language")).to_contain_text("tr-TR")
    expect(box).to_contain_text("First conversation")
    shot(admin, "panel-visitor-context")

    # The visitor moves to the cart: the launcher tells the frame, the panel follows.
    visitor.goto(host.url + "/cart")
    expect(link).to_have_text("Your cart")
    expect(link).to_have_attribute("href", host.url + "/cart")
    admin.set_viewport_size(PHONE)
    shot(admin, "panel-visitor-context-phone")

    # An agent who opens the panel now (the context from /api/threads, not from live
    # events) reads the same; their panel is in Turkish.
    turkish = sign_in_admin(open_context(locale="tr-TR"), server.url)
    turkish.locator(".thread", has_text="Context Cem").click()
    box_tr = turkish.locator("#visitor-context")
    expect(box_tr).to_be_visible()
    expect(box_tr.locator(".ctx-item", has_text="Sayfa").locator("a")).to_have_text("Your cart")
    expect(box_tr).to_contain_text("Yerel saat")
    expect(box_tr).to_contain_text("İlk sohbet")
    shot(turkish, "panel-visitor-context-tr")
