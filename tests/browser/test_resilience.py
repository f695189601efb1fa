"""The chat survives the server going away, the admins clearing everything, and being
embedded on another site."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, send_text, shot, sign_in_admin, start_visitor
from tests.support.clients import sign_in
from tests.support.server import free_port

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)


def thread_texts(http, name: str) -> list[str]:
    threads = [t for t in http.get("/api/threads").json() if t["display_name"] == name]
    assert len(threads) == 1, threads
    messages = http.get(f"/api/messages?thread_id={threads[0]['id']}").json()
    return [m["content_text"] for m in messages]


def test_messages_typed_offline_are_delivered_once(make_server, open_context):
    live = make_server()
    visitor = start_visitor(open_context(), live.url, "Offline Olga")
    send_text(visitor, "before the outage")
    expect(visitor.locator(".msg-mine").last).to_have_attribute("data-state", "sent")

    # The server really goes away (the WebSocket drops), then comes back on the same port.
    live.stop()
    expect(visitor.locator("#conn")).not_to_have_attribute("data-state", "online")
    send_text(visitor, "typed while offline 1")
    send_text(visitor, "typed while offline 2")
    expect(visitor.locator(".msg[data-state=pending]")).to_have_count(2)
    shot(visitor, "visitor-offline-desktop")
    live.start()
    expect(visitor.locator("#conn")).to_have_attribute("data-state", "online", timeout=30_000)
    expect(visitor.locator(".msg[data-state=pending]")).to_have_count(0)
    expect(visitor.locator(".msg-mine")).to_have_count(3)

    http = sign_in(live.url)
    assert thread_texts(http, "Offline Olga") == [
        "before the outage",
        "typed while offline 1",
        "typed while offline 2",
    ]

    # A reload after delivery shows each message once, and resends nothing.
    visitor.reload()
    expect(visitor.locator("#messages .msg-mine")).to_have_count(3)
    assert visitor.evaluate("() => JSON.parse(localStorage.getItem('chatdesk.outbox') || '[]').length") == 0

    # The admins clear everything: the visitor's next message opens a new thread, unnoticed.
    admin = sign_in_admin(open_context(), live.url)
    expect(admin.locator(".thread")).to_have_count(1)
    admin.click("#clear-all")
    expect(admin.locator("#confirm")).to_be_visible()
    admin.click("#confirm-ok")
    expect(admin.locator(".thread")).to_have_count(0)
    send_text(visitor, "after everything was cleared")
    expect(visitor.locator(".msg-mine").last).to_have_attribute("data-state", "sent")
    item = admin.locator(".thread", has_text="Offline Olga")
    expect(item.locator(".t-preview")).to_have_text("after everything was cleared")
    assert thread_texts(http, "Offline Olga") == ["after everything was cleared"]


class HostSite:
    """Another origin (a different port) with one page that embeds the chat."""

    def __init__(self, chat_url: str, port: int):
        page = (
            "<!doctype html><html><head><meta charset=utf-8><title>Example shop</title></head>"
            "<body><h1>Example shop</h1><p>Some products.</p>"
            f'<script src="{chat_url}/static/chatdesk-widget.js" async></script></body></html>'
        ).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args):
                pass

        self.port = port
        self.url = f"http://127.0.0.1:{self.port}"
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_embed_script_on_another_site(make_server, open_context):
    host_port = free_port()
    live = make_server(env={"WIDGET_ALLOWED_ORIGINS": f"http://127.0.0.1:{host_port}"})
    host = HostSite(live.url, host_port)
    try:
        page = open_context().new_page()
        page.goto(host.url + "/")
        launcher = page.locator("#chatdesk-launcher")
        expect(launcher).to_be_visible()
        shot(page, "embed-closed-desktop")
        launcher.click()
        expect(page.locator("#chatdesk-frame")).to_be_visible()
        frame = page.frame_locator("#chatdesk-frame")
        frame.locator("#name").fill("Embedded Emma")
        frame.locator("#start").click()
        expect(frame.locator("#conn")).to_have_attribute("data-state", "online")
        frame.locator("#text").fill("Hello from the shop")
        frame.locator("#text").press("Enter")
        expect(frame.locator(".msg-mine").last).to_have_attribute("data-state", "sent")
        shot(page, "embed-open-desktop")
        assert thread_texts(sign_in(live.url), "Embedded Emma") == ["Hello from the shop"]

        # The close button inside the frame hides it again.
        frame.locator("#embed-close").click()
        expect(page.locator("#chatdesk-frame")).to_be_hidden()
        expect(launcher).to_have_attribute("aria-expanded", "false")

        phone = open_context(viewport=PHONE, phone=True).new_page()
        phone.goto(host.url + "/")
        phone.locator("#chatdesk-launcher").click()
        expect(phone.frame_locator("#chatdesk-frame").locator("#name")).to_be_visible()
        shot(phone, "embed-open-phone")
    finally:
        host.close()
