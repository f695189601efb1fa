"""The desk's life cycle in real browsers (issue 13): two agents and a visitor. Claim,
resolve and reopen from one panel update the other live; a visitor's message reopens a
resolved conversation; a canned reply is inserted with "/"; a blocked visitor is refused."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, send_text, shot, sign_in_admin, start_visitor
from tests.test_desk_lifecycle import sign_in_as

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)


def panel_as(open_context, server, name: str, **context_options):
    """A panel page of the agent `name` (signed in over HTTP, its cookies in the browser)."""
    http = sign_in_as(server, name)
    context = open_context(**context_options)
    context.add_cookies([{"name": c.name, "value": c.value, "url": server.url} for c in http.cookies])
    page = context.new_page()
    page.goto(server.url + "/admin")
    expect(page.locator("#conn")).to_have_attribute("data-state", "online")
    return page


def view(page, name: str):
    return page.locator(f'.view-btn[data-view="{name}"]')


def test_two_agents_follow_each_other_live(make_server, open_context, problems):
    server = make_server()  # its own database: the views' counts are exact
    visitor = start_visitor(open_context(), server.url, "Ahmet")
    send_text(visitor, "Hello, is anyone there?")
    ayse = panel_as(open_context, server, "Ayşe")
    mert = panel_as(open_context, server, "Mert")

    for page in (ayse, mert):
        expect(view(page, "open")).to_have_attribute("aria-pressed", "true")
        expect(view(page, "open").locator(".view-count")).to_have_text("1")
        expect(view(page, "unassigned").locator(".view-count")).to_have_text("1")
    expect(mert.locator(".thread", has_text="Ahmet").locator(".badge")).to_have_text("1")

    # Ayşe opens and claims it: Mert's panel follows live.
    ayse.locator(".thread", has_text="Ahmet").click()
    expect(ayse.locator("#desk-state")).to_have_text("Open")
    mert.locator(".thread", has_text="Ahmet").click()
    ayse.locator("#desk-claim").click()
    expect(ayse.locator("#desk-claim")).to_be_hidden()
    expect(mert.locator("#desk-assignee option:checked")).to_have_text("Ayşe")
    expect(mert.locator("#desk-claim")).to_be_disabled()
    expect(view(mert, "unassigned").locator(".view-count")).to_have_text("0")
    expect(view(ayse, "mine").locator(".view-count")).to_have_text("1")
    shot(mert, "desk-claimed-by-other-desktop")

    # Ayşe resolves it with the keyboard: Mert sees it resolved, and it leaves his Open view.
    ayse.keyboard.press("Alt+Shift+KeyR")
    expect(ayse.locator("#desk-state")).to_have_text("Resolved")
    expect(mert.locator("#desk-state")).to_have_text("Resolved")
    expect(mert.locator("#desk-resolve")).to_have_text("Reopen")
    expect(mert.locator(".thread", has_text="Ahmet")).to_be_hidden()
    expect(view(mert, "resolved").locator(".view-count")).to_have_text("1")
    view(mert, "resolved").click()
    expect(mert.locator(".thread", has_text="Ahmet")).to_be_visible()
    shot(mert, "desk-resolved-view-desktop")

    # The visitor writes again: the conversation is open again on both panels.
    send_text(visitor, "One more thing")
    expect(mert.locator("#desk-state")).to_have_text("Open")
    expect(ayse.locator("#desk-state")).to_have_text("Open")
    expect(mert.locator(".thread", has_text="Ahmet")).to_be_hidden()  # Mert is on "Resolved"
    expect(view(mert, "resolved").locator(".view-count")).to_have_text("0")
    mert.keyboard.press("Alt+Shift+Digit1")
    expect(mert.locator(".thread", has_text="Ahmet")).to_be_visible()

    # Mert resolves from his panel, Ayşe reopens from hers: the other panel follows both ways.
    mert.locator("#desk-resolve").click()
    expect(ayse.locator("#desk-state")).to_have_text("Resolved")
    ayse.locator("#desk-resolve").click()
    expect(mert.locator("#desk-state")).to_have_text("Open")
    expect(view(ayse, "resolved").locator(".view-count")).to_have_text("0")


def test_canned_reply_and_blocking_in_the_panel(make_server, open_context, problems):
    # Its own server: the block covers the browsers' address (127.0.0.1) for a day.
    server = make_server()
    tag = uuid.uuid4().hex[:6]
    visitor = start_visitor(open_context(), server.url, f"Buyer {tag}")
    send_text(visitor, "Hello")
    ayse = sign_in_admin(open_context(), server.url)
    mert = sign_in_admin(open_context(), server.url)
    for page in (ayse, mert):
        page.locator(".thread", has_text=tag).click()
        expect(page.locator("#desk-state")).to_have_text("Open")

    # Resolved with the keyboard; the visitor's next message opens it again, live.
    ayse.keyboard.press("Alt+Shift+KeyR")
    expect(mert.locator("#desk-state")).to_have_text("Resolved")
    send_text(visitor, "Still there?")
    expect(mert.locator("#desk-state")).to_have_text("Open")
    expect(ayse.locator("#desk-state")).to_have_text("Open")
    expect(ayse.locator("#desk-resolve")).to_have_text("Resolve")

    # A canned reply, made in the dialog, inserted with "/".
    shortcut = f"hours-{tag}"
    ayse.locator("#canned-manage").click()
    ayse.locator("#canned-shortcut").fill(shortcut)
    ayse.locator("#canned-language").select_option("en")
    ayse.locator("#canned-text").fill("We answer from 9:00 to 18:00, Monday to Friday.")
    ayse.locator("#canned-save").click()
    expect(ayse.locator("#canned-list .canned-key", has_text=f"/{shortcut}")).to_have_count(1)
    shot(ayse, "desk-canned-dialog-desktop")
    ayse.keyboard.press("Escape")
    reply = ayse.locator("#reply")
    reply.press_sequentially(f"/hours-{tag[:3]}", delay=20)
    expect(ayse.locator("#canned-suggest .canned-option")).to_have_count(1)
    shot(ayse, "desk-canned-suggest-desktop")
    reply.press("Enter")
    expect(reply).to_have_value("We answer from 9:00 to 18:00, Monday to Friday.")
    reply.press("Enter")
    expect(visitor.locator(".msg-theirs .text").last).to_have_text(
        "We answer from 9:00 to 18:00, Monday to Friday."
    )

    # Mert blocks the visitor for 24 hours: their next message is refused, politely.
    mert.locator("#desk-block").click()
    mert.locator('#block-dialog input[value="24h"]').check()
    shot(mert, "desk-block-dialog-desktop")
    mert.locator("#block-ok").click()
    expect(mert.locator("#desk-block")).to_have_text("Blocked")
    expect(ayse.locator("#desk-block")).to_be_disabled()
    send_text(visitor, "buy cheap watches")
    expect(visitor.locator("#messages")).to_contain_text("you cannot send messages here right now")
    expect(visitor.locator(".msg-mine").last).to_have_attribute("data-state", "failed")
    shot(visitor, "desk-visitor-blocked-desktop")
    expect(ayse.locator("#messages .msg-theirs .text")).not_to_contain_text(["buy cheap watches"])


def test_the_desk_on_a_phone_in_turkish(make_server, open_context, problems):
    server = make_server()
    visitor = start_visitor(open_context(), server.url, "Zeynep")
    send_text(visitor, "Merhaba")
    page = panel_as(open_context, server, "Ayşe", viewport=PHONE, phone=True, locale="tr-TR")
    expect(view(page, "open").locator(".view-count")).to_have_text("1")
    shot(page, "desk-list-phone-tr")
    page.locator(".thread", has_text="Zeynep").click()
    page.locator("#desk-claim").click()
    expect(page.locator("#desk-assignee option:checked")).to_have_text(re.compile("Ayşe"))
    shot(page, "desk-thread-phone-tr")
