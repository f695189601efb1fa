"""axe-core (vendored, static/vendor/axe-core) on every page a visitor or an admin uses:
no serious or critical violation on /, /login, /admin and the open embed."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, send_text, sign_in_admin, start_visitor
from tests.browser.test_embed_reading import HostSite

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)

AXE = "/static/vendor/axe-core/axe.min.js"
RUN_AXE = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => ({ id: v.id, impact: v.impact, help: v.help,
                 nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + n.failureSummary) }));
}"""


def serious_violations(target, base_url: str) -> list[dict]:
    """Load axe into a page or frame (same origin as the chat, so its CSP allows it) and
    run it; the serious and critical violations it finds."""
    target.add_script_tag(url=base_url + AXE)
    return target.evaluate(RUN_AXE)


def assert_accessible(target, base_url: str, where: str) -> None:
    found = serious_violations(target, base_url)
    assert found == [], f"axe on {where}:\n" + "\n".join(
        f"{v['impact']} {v['id']}: {v['nodes']}" for v in found
    )


def assert_live_regions(page) -> None:
    """Connection state and typing are announced; the message list takes the keyboard."""
    for selector in ("#conn", "#typing"):
        assert page.locator(selector).evaluate(
            "e => [e.getAttribute('role'), e.getAttribute('aria-live')]"
        ) == [
            "status",
            "polite",
        ], selector
    assert page.locator("#live").get_attribute("aria-live") == "polite"
    assert page.locator("#messages").get_attribute("tabindex") == "0"


@pytest.mark.parametrize("locale", ["en-US", "tr-TR"])
def test_visitor_and_login_pages(server, open_context, locale):
    context = open_context(locale=locale)
    page = context.new_page()
    page.goto(server.url + "/")
    expect(page.locator("#conn")).to_have_attribute("data-state", "online")
    assert_accessible(page, server.url, f"/ (welcome, {locale})")

    visitor = start_visitor(context, server.url, f"Axe {uuid.uuid4().hex[:6]}")
    send_text(visitor, "Checking https://example.com please")
    expect(visitor.locator(".msg-mine").last).to_have_attribute("data-state", "sent")
    assert_accessible(visitor, server.url, f"/ (conversation, {locale})")
    assert_live_regions(visitor)

    login = context.new_page()
    login.goto(server.url + "/login")
    assert_accessible(login, server.url, f"/login ({locale})")


def test_admin_panel_with_an_open_conversation(server, open_context):
    admin = sign_in_admin(open_context(), server.url)
    tag = uuid.uuid4().hex[:6]
    visitor = start_visitor(open_context(), server.url, f"Axe panel {tag}")
    send_text(visitor, "Hello from the accessibility check")
    admin.locator(".thread", has_text=tag).click()
    expect(admin.locator("#messages .msg-theirs")).to_have_count(1)
    send_text(admin, "Hello back", "#reply")
    expect(admin.locator("#messages .msg-mine")).to_have_count(1)
    admin.locator("#filter").fill(tag)
    assert_accessible(admin, server.url, "/admin")
    assert_live_regions(admin)


def test_open_embed_on_a_phone(server, open_context):
    host = HostSite(server.url)
    try:
        page = open_context(viewport=PHONE, phone=True).new_page()
        page.goto(host.url + "/")
        page.locator("#chatdesk-launcher").click()
        frame_el = page.locator("#chatdesk-frame")
        expect(frame_el).to_be_visible()
        frame = frame_el.element_handle().content_frame()
        frame.locator("#conn[data-state=online]").wait_for(state="attached")
        assert_accessible(frame, server.url, "the open embed")
    finally:
        host.close()
