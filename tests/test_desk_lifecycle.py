"""The desk's life cycle end to end through daphne (issue 13): two agents' panel sockets,
visitors from their own addresses. Claim / assign / resolve / reopen reach the other
panel as `thread_updated`; a visitor's message reopens a resolved thread; the views and
their counts; unread per agent; blocking; canned replies over HTTP."""

from __future__ import annotations

from tests.browser.media import png
from tests.support.addresses import http_from, socket_from
from tests.support.clients import Browserish, Recorder, admin_socket


def sign_in_as(server, name: str) -> Browserish:
    """An agent signed in through /request-otp {"agent": name} and /verify-otp (debug's
    development delivery: the code in the answer, the agent created on first use)."""
    http = Browserish(server.url)
    http.get("/login")
    answer = http.post("/request-otp", json={"agent": name}).json()
    assert answer["success"] is True, answer
    result = http.post("/verify-otp", json={"otp": answer["otp"]})
    assert result.status_code == 200, result.text
    return http


def me(http: Browserish) -> dict:
    return http.get("/api/desk").json()["me"]


async def visitor_from(server, address: str, name: str) -> tuple[Recorder, str, str]:
    """A visitor who opened the page and joined from `address`: (socket, thread id, cookie)."""
    page = http_from(server.url, address)
    page.get("/")
    cookie = page.cookie_header()
    client = await socket_from(server.url, address, cookie)
    ack = await client.call("join", {"display_name": name})
    assert ack["ok"] is True, ack
    return client, ack["thread_id"], cookie


def text(thread_id: str, body: str) -> dict:
    return {"thread_id": thread_id, "type": "text", "text": body}


def listed(http: Browserish, view: str | None = None) -> dict[str, dict]:
    path = "/api/threads" + (f"?view={view}" if view else "")
    answer = http.get(path)
    assert answer.status_code == 200, answer.text
    return {t["id"]: t for t in answer.json()}


async def test_claim_resolve_reopen_reach_the_other_panel(make_server):
    server = make_server()  # its own database: the views' counts are exact
    ayse_http, mert_http = sign_in_as(server, "Ayşe"), sign_in_as(server, "Mert")
    ayse, mert = me(ayse_http), me(mert_http)
    assert (ayse["name"], mert["name"]) == ("Ayşe", "Mert")
    ayse_panel = await admin_socket(server.url, ayse_http)
    mert_panel = await admin_socket(server.url, mert_http)
    client, thread_id, _ = await visitor_from(server, "127.0.0.2", "Ahmet")

    fresh = listed(mert_http)[thread_id]
    assert (fresh["status"], fresh["assignee"], fresh["first_response_at"], fresh["state_version"]) == (
        "open",
        None,
        None,
        0,
    )

    ack = await ayse_panel.call("claim_thread", {"thread_id": thread_id})
    assert (ack["ok"], ack["changed"], ack["thread"]["id"], ack["thread"]["assignee"]) == (
        True,
        True,
        thread_id,
        ayse,
    )
    seen = await mert_panel.wait_for(
        "thread_updated", lambda d: d["thread_id"] == thread_id and d["change"] == "claimed"
    )
    assert (seen["change"], seen["by"], seen["assignee"], seen["status"], seen["state_version"]) == (
        "claimed",
        ayse,
        ayse,
        "open",
        1,
    )
    # Mert cannot take it by claiming; assigning works.
    refused = await mert_panel.call("claim_thread", {"thread_id": thread_id})
    assert (refused["ok"], refused["code"]) == (False, "already_assigned")
    assert thread_id in listed(ayse_http, "mine")
    assert thread_id not in listed(mert_http, "mine")
    assert thread_id not in listed(mert_http, "unassigned")

    ack = await ayse_panel.call("resolve_thread", {"thread_id": thread_id})
    assert (ack["ok"], ack["changed"], ack["thread"]["status"]) == (True, True, "resolved")
    seen = await mert_panel.wait_for(
        "thread_updated", lambda d: d["thread_id"] == thread_id and d["change"] == "resolved"
    )
    assert (seen["status"], seen["by"]) == ("resolved", ayse)
    assert thread_id in listed(mert_http, "resolved")
    assert thread_id not in listed(mert_http, "open")
    assert mert_http.get("/api/desk").json()["counts"] == {
        "open": 0,
        "mine": 0,
        "unassigned": 0,
        "resolved": 1,
    }

    # The visitor writes again: the thread is open again, for every panel.
    ack = await client.call("message_to_admin", text(thread_id, "one more question"))
    assert ack["ok"] is True
    reopened = await mert_panel.wait_for(
        "thread_updated", lambda d: d["thread_id"] == thread_id and d["change"] == "reopened"
    )
    assert (reopened["status"], reopened["by"], reopened["assignee"]) == ("open", None, ayse)
    names = [
        name
        for name, data in mert_panel.events
        if name == "message_from_visitor" or (name == "thread_updated" and data["change"] != "context")
    ]
    assert names[-2:] == ["message_from_visitor", "thread_updated"]
    assert listed(mert_http, "open")[thread_id]["status"] == "open"

    # Reopen and resolve from the panel, and hand it to Mert.
    await ayse_panel.call("resolve_thread", {"thread_id": thread_id})
    ack = await mert_panel.call("reopen_thread", {"thread_id": thread_id})
    assert (ack["ok"], ack["changed"], ack["thread"]["status"]) == (True, True, "open")
    seen = await ayse_panel.wait_for(
        "thread_updated", lambda d: d["thread_id"] == thread_id and d["change"] == "reopened" and d["by"]
    )
    assert seen["by"] == mert
    ack = await ayse_panel.call("assign_thread", {"thread_id": thread_id, "agent_id": mert["id"]})
    assert (ack["ok"], ack["thread"]["assignee"]) == (True, mert)
    assert thread_id in listed(mert_http, "mine")
    refused = await ayse_panel.call("assign_thread", {"thread_id": thread_id, "agent_id": 987654})
    assert (refused["ok"], refused["code"]) == (False, "unknown_agent")

    # The first admin reply is the thread's first response.
    await mert_panel.call("message_to_visitor", text(thread_id, "Hello"))
    assert listed(mert_http)[thread_id]["first_response_at"] is not None
    for socket in (client, ayse_panel, mert_panel):
        await socket.close()


async def test_desk_events_need_a_signed_in_admin(server):
    client, thread_id, _ = await visitor_from(server, "127.0.0.2", "Ahmet")
    for event in ("claim_thread", "resolve_thread", "reopen_thread"):
        ack = await client.call(event, {"thread_id": thread_id})
        assert (ack["ok"], ack["code"]) == (False, "admin_required")
    ack = await client.call("block_visitor", {"thread_id": thread_id, "duration": "7d"})
    assert (ack["ok"], ack["code"]) == (False, "admin_required")
    stranger = Browserish(server.url)
    assert stranger.get("/api/desk").json()["code"] == "admin_required"
    assert stranger.get("/api/threads?view=open").status_code == 401
    await client.close()


async def test_a_blocked_visitor_is_refused_and_others_are_not(make_server):
    server = make_server()  # its own: the blocked addresses must not touch other tests
    agent_http = sign_in_as(server, "Ayşe")
    panel = await admin_socket(server.url, agent_http)
    spammer, spam_thread, spam_cookie = await visitor_from(server, "127.0.0.2", "Spammer")
    other, other_thread, _ = await visitor_from(server, "127.0.0.3", "Ayla")

    refused = await panel.call("block_visitor", {"thread_id": spam_thread, "duration": "forever"})
    assert (refused["ok"], refused["code"], refused["field"]) == (False, "field_invalid", "duration")
    ack = await panel.call("block_visitor", {"thread_id": spam_thread, "duration": "1h"})
    assert (ack["ok"], ack["thread"]["id"]) == (True, spam_thread)
    assert ack["thread"]["blocked_until"] is not None

    # The blocked visitor: a message and a new conversation are refused, politely, by code.
    ack = await spammer.call("message_to_admin", text(spam_thread, "buy now"))
    assert (ack["ok"], ack["code"]) == (False, "blocked")
    assert 3590 <= ack["retry_after"] <= 3600
    assert isinstance(ack["error"], str) and ack["error"]
    ack = await spammer.call("join", {"display_name": "Spammer 2"})
    assert (ack["ok"], ack["code"]) == (False, "blocked")
    # The same session from another address, and another browser from the same address.
    moved = await socket_from(server.url, "127.0.0.4", spam_cookie)
    ack = await moved.call("join", {"display_name": "Spammer 3"})
    assert (ack["ok"], ack["code"]) == (False, "blocked")
    same_address = await _join_refused(server, "127.0.0.2")
    # Nor files: an upload from the blocked address is refused before it is read.
    uploader = http_from(server.url, "127.0.0.2")
    uploader.get("/")
    upload = uploader.post("/api/upload/image", files={"file": ("a.png", png(), "image/png")})
    assert (upload.status_code, upload.json()["code"]) == (403, "blocked")
    elsewhere = http_from(server.url, "127.0.0.3")
    elsewhere.get("/")
    assert (
        elsewhere.post("/api/upload/image", files={"file": ("a.png", png(), "image/png")}).status_code == 200
    )

    # Someone else writes on: their message arrives; the blocked one never did (order).
    ack = await other.call("message_to_admin", text(other_thread, "hello"))
    assert ack["ok"] is True
    await panel.wait_for("message_from_visitor", lambda d: d["thread_id"] == other_thread)
    assert [d for d in panel.received("message_from_visitor") if d["thread_id"] == spam_thread] == []
    assert agent_http.get(f"/api/messages?thread_id={spam_thread}").json() == []
    for socket in (spammer, other, moved, same_address, panel):
        await socket.close()


async def _join_refused(server, address: str) -> Recorder:
    """A new browser (new session) joining from `address`, refused as blocked."""
    page = http_from(server.url, address)
    page.get("/")
    client = await socket_from(server.url, address, page.cookie_header())
    ack = await client.call("join", {"display_name": "New browser"})
    assert (ack["ok"], ack["code"]) == (False, "blocked")
    return client


async def test_unread_is_kept_per_agent_on_the_server(server):
    ayse_http, mert_http = sign_in_as(server, "Ayşe"), sign_in_as(server, "Mert")
    ayse = me(ayse_http)
    ayse_tab = await admin_socket(server.url, ayse_http)
    ayse_other_tab = await admin_socket(server.url, ayse_http)
    client, thread_id, _ = await visitor_from(server, "127.0.0.2", "Ahmet")
    for body in ("one", "two"):
        assert (await client.call("message_to_admin", text(thread_id, body)))["ok"] is True
    assert listed(ayse_http)[thread_id]["unread"] == 2

    assert await ayse_tab.call("mark_seen", {"thread_id": thread_id}) == {"ok": True}
    read = await ayse_other_tab.wait_for(
        "thread_updated", lambda d: d["thread_id"] == thread_id and d["change"] == "read"
    )
    assert read == {"thread_id": thread_id, "change": "read", "reader": ayse["id"], "unread": 0}
    assert listed(ayse_http)[thread_id]["unread"] == 0
    assert listed(mert_http)[thread_id]["unread"] == 2
    assert (await client.call("message_to_admin", text(thread_id, "three")))["ok"] is True
    assert listed(ayse_http)[thread_id]["unread"] == 1
    assert listed(mert_http)[thread_id]["unread"] == 3
    for socket in (client, ayse_tab, ayse_other_tab):
        await socket.close()


def test_views_are_validated(admin_http):
    http = admin_http
    answer = http.get("/api/threads?view=everything")
    assert (answer.status_code, answer.json()["code"], answer.json()["field"]) == (
        400,
        "field_invalid",
        "view",
    )


def test_canned_replies_over_http(server, admin_http):
    http = admin_http
    made = http.post("/api/canned", json={"shortcut": "/hours", "language": "en", "text": "9 to 5."})
    assert made.status_code == 201
    reply = made.json()["reply"]
    assert reply == {"id": reply["id"], "shortcut": "hours", "language": "en", "text": "9 to 5."}
    again = http.post("/api/canned", json={"shortcut": "hours", "language": "en", "text": "x"})
    assert (again.status_code, again.json()["code"]) == (409, "shortcut_taken")
    bad = http.post("/api/canned", json={"shortcut": "no spaces", "language": "en", "text": "x"})
    assert (bad.status_code, bad.json()["code"], bad.json()["field"]) == (400, "field_invalid", "shortcut")
    edited = http.post(
        f"/api/canned/{reply['id']}", json={"shortcut": "hours", "language": "en", "text": "9-6."}
    )
    assert edited.json()["reply"]["text"] == "9-6."
    assert [r["text"] for r in http.get("/api/canned").json() if r["id"] == reply["id"]] == ["9-6."]
    assert http.post(f"/api/canned/{reply['id']}/delete").json() == {"success": True}
    gone = http.post(f"/api/canned/{reply['id']}/delete")
    assert (gone.status_code, gone.json()["code"]) == (404, "unknown_canned_reply")
    stranger = Browserish(server.url)
    refused = stranger.post("/api/canned", json={"shortcut": "x", "language": "en", "text": "x"})
    assert (refused.status_code, refused.json()["code"]) == (401, "admin_required")
