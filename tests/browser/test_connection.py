"""The pages keep working where the browser or the server says no: a private-mode browser
without localStorage, a socket the server refused (too many connections), a message
refused for its rate and a conversation refused for the address's limit."""

from __future__ import annotations

import re
import time

import pytest
from django.utils import translation
from playwright.sync_api import expect

from chatdesk.refusals import ConversationLimit
from tests.browser.conftest import PHONE, send_text, shot, start_visitor
from tests.browser.test_resilience import thread_texts
from tests.support.clients import sign_in

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)

# What Safari's private mode (and a full or disabled storage) does: every write throws.
BLOCK_STORAGE = """
Storage.prototype.setItem = function () {
  throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
};
"""
STORAGE_PROBE = (
    "() => { try { localStorage.setItem('probe', '1'); return 'stored'; } catch (e) { return e.name; } }"
)


def test_private_mode_without_storage_sends_and_queues(make_server, open_context):
    live = make_server()
    context = open_context()
    context.add_init_script(BLOCK_STORAGE)
    visitor = start_visitor(context, live.url, "Private Petra")
    assert visitor.evaluate(STORAGE_PROBE) == "QuotaExceededError"

    send_text(visitor, "sent without storage")
    expect(visitor.locator(".msg-mine")).to_have_count(1)
    expect(visitor.locator(".msg-mine").last).to_have_attribute("data-state", "sent")
    expect(visitor.locator(".msg-mine .status")).to_have_text(["Sent"])

    # Offline, the message waits in memory, and goes out once when the server is back.
    live.stop()
    expect(visitor.locator("#conn")).not_to_have_attribute("data-state", "online")
    send_text(visitor, "queued without storage")
    expect(visitor.locator(".msg[data-state=pending]")).to_have_count(1)
    live.start()
    expect(visitor.locator("#conn")).to_have_attribute("data-state", "online", timeout=30_000)
    expect(visitor.locator(".msg[data-state=pending]")).to_have_count(0)
    expect(visitor.locator(".msg-mine")).to_have_count(2)
    expect(visitor.locator(".msg-mine .status").last).to_have_text("Sent")
    shot(visitor, "visitor-private-mode-desktop")
    assert thread_texts(sign_in(live.url), "Private Petra") == [
        "sent without storage",
        "queued without storage",
    ]


def test_refused_socket_retries_and_connects_when_a_slot_frees(make_server, open_context):
    # One socket per address: the second page from this browser is refused at connect.
    live = make_server(env={"SOCKETIO_MAX_CONNECTIONS_PER_IP": "1"})
    first = open_context().new_page()
    first.goto(live.url + "/")
    expect(first.locator("#conn")).to_have_attribute("data-state", "online")

    second = open_context(viewport=PHONE, phone=True).new_page()
    sockets = []
    second.on("websocket", lambda ws: sockets.append(ws))
    second.goto(live.url + "/")
    expect(second.locator("#conn")).to_have_attribute("data-state", "reconnecting")
    expect(second.locator("#conn-text")).to_have_text("Reconnecting…")
    shot(second, "visitor-refused-reconnecting-phone")
    # It keeps trying (a new WebSocket per attempt), refused while the first page is open.
    deadline = time.monotonic() + 15
    while len(sockets) < 3 and time.monotonic() < deadline:
        second.wait_for_timeout(100)
    assert len(sockets) >= 3, sockets
    expect(second.locator("#conn")).to_have_attribute("data-state", "reconnecting")

    first.close()
    expect(second.locator("#conn")).to_have_attribute("data-state", "online", timeout=40_000)
    second.fill("#name", "Patient Pat")
    second.click("#start")
    send_text(second, "finally in")
    expect(second.locator(".msg-mine").last).to_have_attribute("data-state", "sent")
    assert thread_texts(sign_in(live.url), "Patient Pat") == ["finally in"]


def test_rate_limited_message_waits_and_is_sent_after_retry_after(make_server, open_context):
    # Two messages per connection and minute: the third is refused with `rate_limited`
    # and the seconds until the window ends; the page says so and sends it then.
    live = make_server(env={"SOCKET_MESSAGES_PER_MINUTE": "2"})
    visitor = start_visitor(open_context(), live.url, "Hasty Hana")
    for text in ("one", "two", "three"):
        send_text(visitor, text)
    bubbles = visitor.locator(".msg-mine")
    expect(bubbles).to_have_count(3)
    expect(bubbles.nth(1)).to_have_attribute("data-state", "sent")
    third = bubbles.nth(2)
    expect(third.locator(".status")).to_have_text(re.compile(r"^Slow down — sending in \d+ s$"))
    expect(third).to_have_attribute("data-state", "pending")
    shot(visitor, "visitor-rate-limited-desktop")
    # The server said when (at most a minute): then it goes out, once.
    expect(third).to_have_attribute("data-state", "sent", timeout=75_000)
    expect(third.locator(".status")).to_have_text("Sent")
    assert thread_texts(sign_in(live.url), "Hasty Hana") == ["one", "two", "three"]


def test_conversation_limit_is_shown_and_the_message_keeps_waiting(make_server, open_context):
    # One new conversation per hour from this address: a second browser is refused at join.
    live = make_server(env={"CONVERSATIONS_PER_HOUR_PER_IP": "1"})
    first = start_visitor(open_context(), live.url, "First Fatma")
    send_text(first, "I was here first")
    expect(first.locator(".msg-mine").last).to_have_attribute("data-state", "sent")

    second = start_visitor(open_context(viewport=PHONE, phone=True), live.url, "Second Sam")
    send_text(second, "me too")
    # The server's own words for this refusal (in the page's language, English here).
    with translation.override("en"):
        expected = str(ConversationLimit.message)
    expect(second.locator(".notice-line.error")).to_have_text(expected)
    shot(second, "visitor-conversation-limit-phone")
    # Not dropped, not shown as failed: it waits for a conversation.
    expect(second.locator(".msg-mine")).to_have_count(1)
    expect(second.locator(".msg-mine")).to_have_attribute("data-state", "pending")
    # The first visitor's conversation goes on.
    send_text(first, "still talking")
    expect(first.locator(".msg-mine").last).to_have_attribute("data-state", "sent")
    assert thread_texts(sign_in(live.url), "First Fatma") == ["I was here first", "still talking"]
