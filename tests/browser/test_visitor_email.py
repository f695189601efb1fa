"""With nobody to answer, the visitor sees the desk away and leaves an email inline; the
agent's replies after they closed the tab come as one email, whose link reopens the
conversation in another browser (a fresh context, no cookies, no storage)."""

from __future__ import annotations

import asyncio
import re
import threading
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, send_text, shot, sign_in_admin
from tests.support.clients import admin_socket, sign_in
from tests.support.smtp import SMTPServer, links_in, start_email_server, text_of

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)


@pytest.fixture(scope="module")
def smtp():
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def email_server(smtp):
    live = start_email_server(smtp)
    yield live
    live.cleanup()


def in_thread(coroutine_function):
    """Run an async socket client beside Playwright's sync API (which owns this thread's loop)."""
    outcome = {}

    def run():
        try:
            outcome["value"] = asyncio.run(coroutine_function())
        except BaseException as exc:  # handed back to the test
            outcome["error"] = exc

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(60)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def settled(page) -> None:
    """Wait for the desk's availability to be drawn. The away welcome text is longer and,
    on a phone, moves the start button down: a click aimed before that lands beside it
    (CI once clicked the form's empty space and the chat never started)."""
    expect(page.locator("#availability")).to_be_visible()


def agent_replies(server_url: str, thread_id: str, texts: list[str]) -> None:
    async def reply():
        admin = await admin_socket(server_url, sign_in(server_url))
        for text in texts:
            ack = await admin.call(
                "message_to_visitor", {"thread_id": thread_id, "type": "text", "text": text}
            )
            assert ack["ok"] is True, ack
        await admin.close()

    in_thread(reply)


def test_away_visitor_leaves_an_email_and_the_reply_link_reopens_the_conversation(
    email_server, smtp, open_context
):
    address = f"guest-{uuid.uuid4().hex[:8]}@example.com"
    visitor = open_context().new_page()
    visitor.goto(email_server.url + "/")
    # Before the name step already: nobody is there, and the welcome card says so.
    expect(visitor.locator("#availability")).to_have_text("We're away — we'll reply by email")
    expect(visitor.locator("#welcome-text")).to_have_text(
        "We're away right now. Write to us and leave your email: we'll reply there."
    )
    shot(visitor, "visitor-away-welcome-desktop")
    visitor.fill("#name", "Ayşe")
    visitor.click("#start")
    expect(visitor.locator("#availability")).to_have_text("We're away — we'll reply by email")
    expect(visitor.locator("#conn")).to_be_hidden()  # connected: the connection line is not shown
    send_text(visitor, "Is my order on its way?")

    card = visitor.locator("#email-card")
    expect(card).to_be_visible()
    expect(card.locator(".email-card-prompt")).to_contain_text("We're away right now")
    card.locator("input[type=email]").fill("not-an-address")
    card.locator("button[type=submit]").click()
    expect(card.locator(".field-error")).to_have_text("Please enter a valid email address.")
    card.locator("input[type=email]").fill(address)
    card.locator("button[type=submit]").click()
    expect(card.locator(".email-card-address")).to_have_text(f"Replies will also reach you at {address}.")
    expect(visitor.locator("#email-transcript")).to_be_visible()
    shot(visitor, "visitor-away-email-saved-desktop")
    thread_id = visitor.evaluate("() => localStorage.getItem('chatdesk.thread_id')")
    visitor.close()  # the visitor closed the tab

    # Agents see the address beside the visitor's name.
    panel = sign_in_admin(open_context(), email_server.url)
    panel.locator(f".thread[data-id='{thread_id}']").click()
    expect(panel.locator("#conv-email")).to_have_text(f"Email: {address}")
    panel.close()

    agent_replies(email_server.url, thread_id, ["Yes, it left today.", "Tracking: TR123"])
    [message] = smtp.wait_for(address, 1)
    assert "Yes, it left today." in text_of(message) and "Tracking: TR123" in text_of(message)
    link = links_in(message)["resume"]

    # Any browser: a fresh context with nothing of the visitor's, on a phone.
    phone = open_context(viewport=PHONE, phone=True).new_page()
    phone.goto(link)
    expect(phone).to_have_url(email_server.url + "/")  # the link's query is gone from the address bar
    texts = phone.locator("#messages .text")
    expect(texts).to_have_text(["Is my order on its way?", "Yes, it left today.", "Tracking: TR123"])
    expect(phone.locator("#email-card .email-card-address")).to_have_text(
        f"Replies will also reach you at {address}."
    )
    send_text(phone, "Thanks!")
    expect(phone.locator(".msg-mine").last).to_have_attribute("data-state", re.compile("sent|seen"))
    shot(phone, "visitor-reopened-from-email-phone")
    assert len(smtp.to(address)) == 1


def test_an_email_left_in_the_name_step_is_kept_and_editable_in_turkish(email_server, open_context):
    page = open_context(locale="tr-TR", viewport=PHONE, phone=True).new_page()
    page.goto(email_server.url + "/")
    settled(page)
    expect(page.locator("label[for=start-email]")).to_have_text("E-posta (isteğe bağlı)")
    page.fill("#name", "Ayşe")
    page.fill("#start-email", "ayse@example.com")
    page.click("#start")
    expect(page.locator("#availability")).to_have_text("Şu an burada değiliz — e-postayla yanıtlarız")
    card = page.locator("#email-card")
    expect(card.locator(".email-card-address")).to_have_text(
        "Yanıtlar ayse@example.com adresine de gönderilecek."
    )
    card.locator(".email-card-change").click()
    card.locator("input[type=email]").fill("ayse@ornek.com.tr")
    card.locator("button[type=submit]").click()
    expect(card.locator(".email-card-address")).to_have_text(
        "Yanıtlar ayse@ornek.com.tr adresine de gönderilecek."
    )
    shot(page, "visitor-email-saved-tr-phone")

    # A reload keeps the stored address (from the join ack).
    page.reload()
    expect(page.locator("#email-card .email-card-address")).to_have_text(
        "Yanıtlar ayse@ornek.com.tr adresine de gönderilecek."
    )


def test_the_away_card_in_turkish(email_server, open_context):
    page = open_context(locale="tr-TR", viewport=PHONE, phone=True).new_page()
    page.goto(email_server.url + "/")
    settled(page)
    page.fill("#name", "Ayşe")
    page.click("#start")
    expect(page.locator("#email-card .email-card-prompt")).to_have_text(
        "Şu an burada değiliz. E-postanızı bırakın, yanıtımızı oraya gönderelim."
    )
    shot(page, "visitor-away-email-card-tr-phone")


def test_an_answer_withdraws_the_unanswered_email_card(email_server, open_context):
    """The card asks while nobody is there; once an agent is online and answers, "No one has
    answered yet" would be false, so it goes."""
    visitor = open_context(locale="en-US", viewport=PHONE, phone=True).new_page()
    visitor.goto(email_server.url + "/")
    settled(visitor)
    visitor.fill("#name", f"Asked {uuid.uuid4().hex[:6]}")
    visitor.click("#start")
    card = visitor.locator("#email-card")
    expect(card.locator(".email-card-prompt")).to_contain_text("We're away right now")

    panel = sign_in_admin(open_context(), email_server.url)  # an agent comes online
    expect(card.locator(".email-card-prompt")).to_contain_text("No one has answered yet")
    send_text(visitor, "Is anyone there?")
    thread_id = visitor.evaluate("() => localStorage.getItem('chatdesk.thread_id')")
    panel.locator(f".thread[data-id='{thread_id}']").click()
    panel.locator("#reply").fill("Yes, I'm here.")
    panel.locator("#reply").press("Enter")
    expect(visitor.locator(".msg-theirs .text").last).to_have_text("Yes, I'm here.")
    expect(card).to_be_hidden()
    shot(visitor, "visitor-answered-no-email-card-phone")
    panel.close()
