"""An agent corrects a reply in the panel; the visitor's page shows the correction
live, marked "edited" (issue 15)."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, send_text, shot, sign_in_admin, start_visitor

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)


@pytest.mark.parametrize(
    ("viewport", "locale", "size"), [(DESKTOP, "en-US", "desktop"), (PHONE, "tr-TR", "phone")]
)
def test_the_agent_edits_a_reply_and_the_visitor_sees_it_marked_edited(
    server, open_context, problems, viewport, locale, size
):
    phone = size == "phone"
    admin = sign_in_admin(open_context(viewport=viewport, locale=locale, phone=phone), server.url)
    tag = uuid.uuid4().hex[:6]
    visitor = start_visitor(
        open_context(viewport=viewport, locale=locale, phone=phone), server.url, f"Edit {tag}"
    )
    send_text(visitor, "When do you open?")
    admin.locator(".thread", has_text=tag).click()
    expect(admin.locator("#messages .msg-theirs .text")).to_have_text(["When do you open?"])
    send_text(admin, "We open at 8", "#reply")
    reply = admin.locator("#messages .msg-mine").last
    # Acknowledged; the visitor's open page may already have read it ("seen").
    expect(reply).to_have_attribute("data-state", re.compile(r"^(sent|seen)$"))
    expect(visitor.locator(".msg-theirs .text")).to_have_text(["We open at 8"])
    # The visitor's own message has no Edit button; the agent's reply has one.
    expect(admin.locator("#messages .msg-theirs .edit-btn")).to_have_count(0)
    button = reply.locator(".edit-btn")
    expect(button).to_be_visible()

    button.click()
    field = reply.locator(".edit-text")
    expect(field).to_be_focused()
    expect(field).to_have_value("We open at 8")
    shot(admin, f"admin-edit-reply-{size}")
    field.fill("We open at 9")
    reply.locator(".edit-save").click()
    expect(reply.locator(".text")).to_have_text("We open at 9")
    expect(reply.locator(".edit-form")).to_have_count(0)
    expect(reply.locator(".edited")).to_be_visible()
    if not phone:  # the list's preview shows the newest message, corrected too
        expect(admin.locator(".thread", has_text=tag).locator(".t-preview")).to_have_text("We open at 9")

    theirs = visitor.locator(".msg-theirs").last
    expect(theirs.locator(".text")).to_have_text("We open at 9")
    expect(theirs.locator(".edited")).to_be_visible()
    shot(visitor, f"visitor-edited-reply-{size}")

    # A reload shows the corrected text, still marked.
    visitor.reload()
    expect(visitor.locator(".msg-theirs").last.locator(".text")).to_have_text("We open at 9")
    expect(visitor.locator(".msg-theirs").last.locator(".edited")).to_be_visible()

    # Escape closes the field without saving.
    reply.locator(".edit-btn").click()
    reply.locator(".edit-text").fill("never saved")
    reply.locator(".edit-text").press("Escape")
    expect(reply.locator(".edit-form")).to_have_count(0)
    expect(reply.locator(".text")).to_have_text("We open at 9")
