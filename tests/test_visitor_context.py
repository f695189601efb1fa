"""Visitor context (issue 14): what the visitor's page sends at join and on navigation
reaches the panel (thread_updated "context", /api/threads), with the browser and OS
parsed from the User-Agent and the earlier conversations of the session; bad values are
refused by code."""

from __future__ import annotations

from tests.support.clients import Browserish, Recorder, admin_socket

CHROME_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
SAFARI_ON_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Mobile/15E148 Safari/604.1"
)
SENT = {
    "page_url": "https://shop.example.com/products/42?color=red",
    "page_title": "Red kettle – Shop",
    "referrer": "https://www.google.com/",
    "language": "tr-TR",
    "timezone": "Europe/Istanbul",
    "utc_offset_minutes": 180,
}


async def _visitor(
    base_url: str, user_agent: str, page: Browserish | None = None
) -> tuple[Recorder, Browserish]:
    page = page or Browserish(base_url)
    page.get("/")
    client = await Recorder(base_url, page.cookie_header()).connect(headers={"User-Agent": user_agent})
    return client, page


def _context_event(thread_id: str):
    return lambda d: d.get("change") == "context" and d.get("thread_id") == thread_id


async def test_the_panel_sees_page_browser_and_local_zone_and_follows_navigation(server, admin_http):
    panel = await admin_socket(server.url, admin_http)
    visitor, page = await _visitor(server.url, CHROME_ON_WINDOWS)
    joined = await visitor.call("join", {"display_name": "Deniz", "context": SENT})
    assert joined["ok"] is True
    thread_id = joined["thread_id"]
    update = await panel.wait_for("thread_updated", _context_event(thread_id))
    context = update["context"]
    assert context.pop("updated_iso")
    assert context == {
        **SENT,
        "browser": "Chrome 120",
        "os": "Windows 10",
        "previous_conversations": 0,
    }
    listed = {t["id"]: t for t in admin_http.get("/api/threads").json()}
    assert listed[thread_id]["context"]["page_url"] == SENT["page_url"]
    assert listed[thread_id]["context"]["browser"] == "Chrome 120"

    # The visitor navigates: the launcher tells the frame, the frame sends `context`.
    moved = {**SENT, "page_url": "https://shop.example.com/checkout", "page_title": "Checkout"}
    ack = await visitor.call("context", {"thread_id": thread_id, "context": moved})
    assert ack["ok"] is True
    assert ack["context"]["page_url"] == "https://shop.example.com/checkout"
    assert ack["context"]["browser"] == "Chrome 120"  # kept from join
    second = await panel.wait_for(
        "thread_updated", lambda d: _context_event(thread_id)(d) and d["context"]["page_title"] == "Checkout"
    )
    assert second["context"]["page_url"] == "https://shop.example.com/checkout"
    listed = {t["id"]: t for t in admin_http.get("/api/threads").json()}
    assert listed[thread_id]["context"]["page_title"] == "Checkout"
    await visitor.close()

    # The same browser session opens another conversation later, on a phone's Safari.
    again, _ = await _visitor(server.url, SAFARI_ON_IPHONE, page)
    second_join = await again.call("join", {"display_name": "Deniz", "context": SENT})
    assert second_join["ok"] is True and second_join["thread_id"] != thread_id
    update = await panel.wait_for("thread_updated", _context_event(second_join["thread_id"]))
    assert update["context"]["previous_conversations"] == 1
    assert update["context"]["browser"] == "Mobile Safari 17"
    assert update["context"]["os"] == "iOS 17"
    await again.close()
    await panel.close()


async def test_bad_context_is_refused_by_code_and_changes_nothing(server, admin_http):
    visitor, _ = await _visitor(server.url, CHROME_ON_WINDOWS)
    # A join never fails for its context: the bad fields are left out.
    joined = await visitor.call(
        "join",
        {"display_name": "Ece", "context": {**SENT, "page_url": "javascript:alert(1)", "page_title": 5}},
    )
    assert joined["ok"] is True
    thread_id = joined["thread_id"]
    context = {t["id"]: t for t in admin_http.get("/api/threads").json()}[thread_id]["context"]
    assert context["page_url"] == "" and context["page_title"] == ""
    assert context["timezone"] == "Europe/Istanbul"

    cases = [
        ({"page_url": "javascript:alert(1)"}, "context.page_url"),
        ({"page_url": "ftp://example.com/a"}, "context.page_url"),
        ({"page_url": "https://example.com/" + "a" * 2030}, "context.page_url"),
        ({"page_title": "t" * 201}, "context.page_title"),
        ({"referrer": "data:text/html,hi"}, "context.referrer"),
        ({"timezone": "Europe/Istanbul; DROP"}, "context.timezone"),
        ({"utc_offset_minutes": 100000}, "context.utc_offset_minutes"),
        ({"language": "x" * 40}, "context.language"),
    ]
    for sent, field in cases:
        ack = await visitor.call("context", {"thread_id": thread_id, "context": sent})
        assert (ack["ok"], ack["code"], ack["field"]) == (False, "field_invalid", field), sent
    not_object = await visitor.call("context", {"thread_id": thread_id, "context": "https://x.example"})
    assert (not_object["ok"], not_object["code"]) == (False, "invalid_payload")
    # Limits are inclusive: a 200-character title and a 2 KB URL are taken.
    url = "https://example.com/" + "a" * (2048 - len("https://example.com/"))
    ok = await visitor.call(
        "context", {"thread_id": thread_id, "context": {"page_url": url, "page_title": "t" * 200}}
    )
    assert ok["ok"] is True and ok["context"]["page_url"] == url

    # Another visitor cannot write this thread's context.
    other, _ = await _visitor(server.url, CHROME_ON_WINDOWS)
    refused = await other.call("context", {"thread_id": thread_id, "context": SENT})
    assert (refused["ok"], refused["code"]) == (False, "not_your_thread")
    context = {t["id"]: t for t in admin_http.get("/api/threads").json()}[thread_id]["context"]
    assert context["page_url"] == url
    await other.close()
    await visitor.close()
