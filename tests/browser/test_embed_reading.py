"""Issue 12, the embed: Escape inside the frame closes it, data-color themes the chat, the
unread badge counts replies and survives a page change on the host site, debug allows a
localhost test page, and a site that may not embed gets a clear console message."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import send_text, shot, sign_in_admin
from tests.browser.media import png
from tests.support.server import free_port

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)

TEAL = "rgb(15, 118, 110)"  # #0f766e


class HostSite:
    """Another origin with two pages that embed the chat (a shop and its cart)."""

    def __init__(self, chat_url: str, address: str = "127.0.0.1", attrs: str = ""):
        def page(title: str) -> bytes:
            return (
                f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{title}</title></head>"
                f"<body><h1>{title}</h1><p>Some products.</p>"
                f'<script src="{chat_url}/static/chatdesk-widget.js" {attrs} async></script></body></html>'
            ).encode()

        pages = {"/": page("Example shop"), "/cart": page("Your cart")}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                body = pages.get(self.path)
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.url = f"http://{address}:{self.port}"
        self.httpd = ThreadingHTTPServer((address, self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def host_site():
    sites: list[HostSite] = []

    def make(chat_url: str, **kwargs) -> HostSite:
        site = HostSite(chat_url, **kwargs)
        sites.append(site)
        return site

    yield make
    for site in sites:
        site.close()


def test_embed_escape_theme_and_unread_badge_across_pages(server, open_context, host_site):
    # No WIDGET_ALLOWED_ORIGINS: in debug, 127.0.0.1 on any port may embed (the quickstart).
    host = host_site(server.url, attrs='data-color="#0f766e"')
    admin = sign_in_admin(open_context(), server.url)
    page = open_context().new_page()
    page.goto(host.url + "/")
    launcher = page.locator("#chatdesk-launcher")
    expect(launcher).to_have_attribute("aria-label", "Open the chat")
    launcher.click()
    frame = page.frame_locator("#chatdesk-frame")
    frame.locator("#name").fill("Embedded Ece")
    frame.locator("#start").click()
    expect(frame.locator("#conn")).to_have_attribute("data-state", "online")
    send_text(frame, "Do you ship to Izmir?", "#text")
    expect(frame.locator(".msg-mine").last).to_have_attribute("data-state", "sent")

    # data-color themes the chat: header, the visitor's bubbles, the send button.
    for selector in (".vchat-head", ".msg-mine .bubble", ".send-btn"):
        expect(frame.locator(selector).first).to_have_css("background-color", TEAL)
    shot(page, "embed-themed-open")

    # Escape in the photo preview cancels the photo only; then, in the text box, closes.
    frame.locator("#chat [data-role=file]").set_input_files(
        files=[{"name": "p.png", "mimeType": "image/png", "buffer": png()}]
    )
    frame.locator("#chat [data-role=preview-send]").press("Escape")
    expect(frame.locator("#chat [data-role=preview]")).to_be_hidden()
    expect(page.locator("#chatdesk-frame")).to_be_visible()
    frame.locator("#text").focus()
    frame.locator("#text").press("Escape")
    expect(page.locator("#chatdesk-frame")).to_be_hidden()
    expect(launcher).to_have_attribute("aria-expanded", "false")

    # Two replies while closed: counted on the bubble, and not marked read.
    admin.locator(".thread", has_text="Embedded Ece").click()
    send_text(admin, "Yes, we do.", "#reply")
    send_text(admin, "Delivery takes two days.", "#reply")
    badge = page.locator("#chatdesk-unread")
    expect(badge).to_have_text("2")
    expect(launcher).to_have_attribute("aria-label", "Open the chat, 2 unread replies")
    expect(admin.locator("#messages .msg-mine").last).to_have_attribute("data-state", "sent")
    shot(page, "embed-unread-badge")

    # Another page of the shop: the count is still there, and the next reply adds to it.
    page.goto(host.url + "/cart")
    expect(page.locator("#chatdesk-unread")).to_have_text("2")
    expect(page.locator("#chatdesk-launcher")).to_have_attribute(
        "aria-label", "Open the chat, 2 unread replies"
    )
    expect(page.locator("#chatdesk-frame")).to_be_attached()  # loaded, hidden, to count
    page.frame_locator("#chatdesk-frame").locator("#conn[data-state=online]").wait_for(state="attached")
    send_text(admin, "Anything else?", "#reply")
    expect(page.locator("#chatdesk-unread")).to_have_text("3")

    # Opening reads them: the badge goes, the panel sees "Seen".
    page.locator("#chatdesk-launcher").click()
    expect(page.locator("#chatdesk-unread")).to_be_hidden()
    expect(admin.locator("#messages .msg-mine").last).to_have_attribute("data-state", "seen")
    expect(page.frame_locator("#chatdesk-frame").locator(".msg-theirs")).to_have_count(3)
    shot(page, "embed-open-after-page-change")


def test_site_not_allowed_gets_a_console_message_and_no_frame(server, open_context, host_site):
    # 127.0.0.2 is neither listed nor one of debug's localhost names.
    host = host_site(server.url, address="127.0.0.2")
    page = open_context().new_page()
    warnings = []
    page.on("console", lambda msg: warnings.append(msg.text) if msg.type == "warning" else None)
    with page.expect_console_message(lambda msg: "chatdesk" in msg.text):
        page.goto(host.url + "/")
    assert warnings == [
        f"chatdesk: this site ({host.url}) may not embed the chat from {server.url}. "
        "Add it to WIDGET_ALLOWED_ORIGINS on the chat server."
    ]
    expect(page.locator("#chatdesk-launcher")).to_have_count(0)
    expect(page.locator("iframe")).to_have_count(0)
