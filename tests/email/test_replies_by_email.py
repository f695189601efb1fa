"""Replies reach the visitor who left, by email: once, batched, through an SMTP outage,
with a link that reopens the conversation elsewhere, and an unsubscribe that works.

Against a real SMTP server (aiosmtpd on 127.0.0.1) and the real server under daphne.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import requests

from tests.support.clients import Browserish, Recorder, admin_socket, sign_in
from tests.support.smtp import HEALTHZ_TOKEN, html_of, links_in, text_of


def new_address() -> str:
    return f"visitor-{uuid.uuid4().hex[:8]}@example.com"


async def visitor_with_email(base_url: str, address: str, name: str = "Ayşe"):
    """A visitor who opened the page, joined, left `address` and wrote once."""
    page = Browserish(base_url)
    page.get("/")
    client = await Recorder(base_url, page.cookie_header()).connect()
    ack = await client.call("join", {"display_name": name})
    assert ack["ok"] is True, ack
    thread_id = ack["thread_id"]
    answer = await client.call("set_email", {"thread_id": thread_id, "email": address})
    assert answer == {"ok": True, "email": address}
    sent = await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "Hello?"})
    assert sent["ok"] is True, sent
    return client, page, thread_id


async def reply(admin: Recorder, thread_id: str, text: str) -> dict:
    ack = await admin.call("message_to_visitor", {"thread_id": thread_id, "type": "text", "text": text})
    assert ack["ok"] is True, ack
    return ack["message"]


def email_health(server) -> dict:
    answer = requests.get(
        server.url + "/healthz", headers={"Authorization": f"Bearer {HEALTHZ_TOKEN}"}, timeout=5
    )
    return answer.json()["email"]


async def test_two_replies_to_a_visitor_who_left_make_one_email_that_reopens_the_conversation(
    email_server, smtp
):
    address = new_address()
    admin_http = sign_in(email_server.url)
    admin = await admin_socket(email_server.url, admin_http)
    visitor, _page, thread_id = await visitor_with_email(email_server.url, address)
    await visitor.close()  # the visitor closed the tab

    await reply(admin, thread_id, "First answer")
    await reply(admin, thread_id, "Second answer")

    [message] = await smtp.arrived(address, 1)
    assert message["From"] == "Support <support@chatdesk.test>"
    assert message["Subject"] == "Admin replied to your message"  # the agent signed in as "Admin"
    assert message["List-Unsubscribe"].strip().startswith(f"<{email_server.url}/email/unsubscribe/")
    text, html = text_of(message), html_of(message)
    assert "First answer" in text and "Second answer" in text and "Hello?" not in text
    assert "First answer" in html and "Second answer" in html
    link = links_in(message)["resume"]
    assert link.startswith(email_server.url + "/c/")

    # Another browser (no cookie of the visitor's) follows the link and is in the conversation.
    elsewhere = Browserish(email_server.url)
    opened = elsewhere.get(link[len(email_server.url) :])
    assert opened.status_code == 302
    assert opened.headers["Location"] == f"/?thread={thread_id}&name=Ay%C5%9Fe"
    client = await Recorder(email_server.url, elsewhere.cookie_header()).connect()
    ack = await client.call("join", {"display_name": "Ayşe", "thread_id": thread_id})
    assert ack["ok"] is True and ack["thread_id"] == thread_id and ack["resumed"] is True, ack
    assert [m["content_text"] for m in ack["messages"]] == ["Hello?", "First answer", "Second answer"]
    assert ack["email"] == address

    # The 5-minute rule (4 s here): a third reply waits for the batch window, then goes alone.
    await client.close()
    first_at = time.monotonic()
    await reply(admin, thread_id, "Third answer")
    emails = await smtp.arrived(address, 2)
    assert len(emails) == 2
    assert time.monotonic() - first_at >= 2  # not before the window (sent ~4 s after the first)
    assert "Third answer" in text_of(emails[1]) and "First answer" not in text_of(emails[1])
    await admin.close()


async def test_a_reply_the_visitor_saw_is_not_emailed(email_server, smtp):
    address = new_address()
    admin = await admin_socket(email_server.url, sign_in(email_server.url))
    visitor, _page, thread_id = await visitor_with_email(email_server.url, address)

    await reply(admin, thread_id, "Seen live")
    await visitor.wait_for("message_from_admin", lambda m: m["content_text"] == "Seen live")
    assert (await visitor.call("heartbeat", {"thread_id": thread_id})) == {"ok": True}  # the page is open
    await visitor.close()
    await reply(admin, thread_id, "After you left")

    # The email that comes carries only the reply that was not seen.
    [message] = await smtp.arrived(address, 1)
    assert "After you left" in text_of(message)
    assert "Seen live" not in text_of(message)
    await admin.close()


async def test_an_smtp_outage_delays_the_email_but_neither_loses_nor_doubles_it(email_server, smtp):
    address = new_address()
    admin_http = sign_in(email_server.url)
    admin = await admin_socket(email_server.url, admin_http)
    visitor, page, thread_id = await visitor_with_email(email_server.url, address)
    await visitor.close()

    smtp.stop()
    try:
        await reply(admin, thread_id, "Sent during the outage")
        deadline = time.monotonic() + 20
        while email_health(email_server)["retrying"] < 1:  # the worker tried and failed
            assert time.monotonic() < deadline, email_health(email_server)
            await asyncio.sleep(0.1)
        health = email_health(email_server)
        assert health["configured"] is True and health["pending"] >= 1
        assert "Connection refused" in health["last_error"] or "Errno" in health["last_error"]
    finally:
        smtp.start()

    [message] = await smtp.arrived(address, 1)
    assert "Sent during the outage" in text_of(message)
    # Nothing doubled: the transcript asked for now arrives after it, and still one replies email.
    asked = page.post("/api/email/transcript", json={"thread_id": thread_id})
    assert asked.status_code == 202, asked.text
    emails = await smtp.arrived(address, 2)
    assert [m["Subject"] for m in emails] == ["Admin replied to your message", "Your conversation with us"]
    assert email_health(email_server)["retrying"] == 0
    await admin.close()


async def test_unsubscribe_stops_further_emails(email_server, smtp):
    address, other = new_address(), new_address()
    admin = await admin_socket(email_server.url, sign_in(email_server.url))
    visitor, _page, thread_id = await visitor_with_email(email_server.url, address)
    second, _p, second_thread = await visitor_with_email(email_server.url, other, name="Mehmet")
    await visitor.close()
    await second.close()
    await reply(admin, thread_id, "One")
    [message] = await smtp.arrived(address, 1)
    batch_window_over = time.monotonic() + 4.5  # EMAIL_BATCH_SECONDS after this email
    link = links_in(message)["unsubscribe"]
    path = link[len(email_server.url) :]

    # Opening the link only asks (mail scanners follow links); the button unsubscribes.
    anyone = requests.Session()
    assert anyone.get(email_server.url + path, timeout=5).status_code == 200
    assert anyone.post(email_server.url + path, timeout=5).status_code == 200
    assert anyone.get(email_server.url + "/email/unsubscribe/forged", timeout=5).status_code == 400

    # Proof by order: once the batch window is over, a reply to the unsubscribed visitor,
    # then one to another visitor; the worker takes them in that order, and the second
    # email arrives while the first visitor got nothing more.
    await asyncio.sleep(max(0.0, batch_window_over - time.monotonic()))
    await reply(admin, thread_id, "Two")
    await reply(admin, second_thread, "To the other visitor")
    await smtp.arrived(other, 1)
    assert len(smtp.to(address)) == 1
    await admin.close()


async def test_the_transcript_arrives_and_only_for_the_visitors_own_thread(email_server, smtp):
    address = new_address()
    admin = await admin_socket(email_server.url, sign_in(email_server.url))
    visitor, page, thread_id = await visitor_with_email(email_server.url, address, name="Zeynep")
    await reply(admin, thread_id, "Here is the answer")

    stranger = Browserish(email_server.url)
    stranger.get("/")
    refused = stranger.post("/api/email/transcript", json={"thread_id": thread_id})
    assert (refused.status_code, refused.json()["code"]) == (403, "not_your_thread")

    asked = page.post("/api/email/transcript", json={"thread_id": thread_id})
    assert (asked.status_code, asked.json()) == (202, {"success": True, "email": address})
    [message] = await smtp.arrived(address, 1)
    assert message["Subject"] == "Your conversation with us"
    text = text_of(message)
    assert text.index("Hello?") < text.index("Here is the answer")
    assert "Zeynep" in text

    # Without an address there is nothing to send to.
    assert (await visitor.call("set_email", {"thread_id": thread_id, "email": ""})) == {
        "ok": True,
        "email": None,
    }
    refused = page.post("/api/email/transcript", json={"thread_id": thread_id})
    assert (refused.status_code, refused.json()["code"]) == (409, "email_required")
    await visitor.close()
    await admin.close()


async def test_clearing_the_thread_revokes_its_links(email_server, smtp):
    address = new_address()
    admin_http = sign_in(email_server.url)
    admin = await admin_socket(email_server.url, admin_http)
    visitor, _page, thread_id = await visitor_with_email(email_server.url, address)
    await visitor.close()
    await reply(admin, thread_id, "Answer")
    link = links_in((await smtp.arrived(address, 1))[0])["resume"]
    path = link[len(email_server.url) :]
    assert Browserish(email_server.url).get(path).status_code == 302

    cleared = admin_http.post(f"/api/messages/clear?thread_id={thread_id}")
    assert cleared.status_code == 200, cleared.text
    assert Browserish(email_server.url).get(path).status_code == 410
    assert Browserish(email_server.url).get(path[:-3] + "abc").status_code == 410  # tampered
    await admin.close()


async def test_the_email_is_in_the_visitors_language_with_photos_as_links(email_server, smtp):
    from tests.browser.media import png

    address = new_address()
    admin_http = sign_in(email_server.url)
    admin = await admin_socket(email_server.url, admin_http)
    page = Browserish(email_server.url)
    page.get("/", headers={"Accept-Language": "tr-TR,tr;q=0.9"})
    visitor = await Recorder(email_server.url, page.cookie_header()).connect(
        headers={"Accept-Language": "tr"}
    )
    ack = await visitor.call("join", {"display_name": "Ayşe"})
    thread_id = ack["thread_id"]
    assert (await visitor.call("set_email", {"thread_id": thread_id, "email": address}))["ok"] is True
    await visitor.close()

    uploaded = admin_http.post("/api/upload/image", files={"file": ("kargo.png", png(), "image/png")})
    assert uploaded.status_code == 200, uploaded.text
    photo = uploaded.json()["url"]
    ack = await admin.call("message_to_visitor", {"thread_id": thread_id, "type": "image", "file_url": photo})
    assert ack["ok"] is True, ack
    await reply(admin, thread_id, "Kargonuz yolda.")

    [message] = await smtp.arrived(address, 1)
    assert message["Subject"] == "Admin mesajınızı yanıtladı"
    text = text_of(message)
    assert text.startswith("Merhaba Ayşe,")
    assert f"Fotoğraf: {email_server.url}{photo}" in text
    assert "Admin (" in text  # the agent's name, not "Destek"
    assert "Kargonuz yolda." in text and "Sohbete devam etmek için:" in text
    assert f'href="{email_server.url}{photo}"' in html_of(message)
    await admin.close()
