"""Every Socket.IO event of the contract (section 7), end to end through daphne."""

from __future__ import annotations

import re

from tests.support.clients import Recorder, admin_socket, visitor

TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
MESSAGE_KEYS = {"id", "thread_id", "sender", "type", "content_text", "file_path", "created_at"}


def assert_message_shape(data: dict, sender: str, text: str, thread_id: str) -> None:
    assert MESSAGE_KEYS <= set(data)
    assert data["sender"] == sender
    assert data["type"] == "text"
    assert data["content_text"] == text
    assert data["file_path"] is None
    assert data["thread_id"] == thread_id
    assert TIME_RE.match(data["created_at"])


async def test_join_creates_thread_and_answers_joined(server, admin_http):
    admin = await admin_socket(server.url, admin_http)
    client, thread_id = await visitor(server.url, "Ahmet")
    joined = await client.wait_for("joined")
    assert joined == {"thread_id": thread_id}
    created = await admin.wait_for("thread_created", lambda d: d["id"] == thread_id)
    assert created["display_name"] == "Ahmet"
    listed = {t["id"]: t for t in admin_http.get("/api/threads").json()}
    assert listed[thread_id]["display_name"] == "Ahmet"
    await client.close()
    await admin.close()


async def test_visitor_message_reaches_admin_room_and_is_stored(server, admin_http):
    admin = await admin_socket(server.url, admin_http)
    client, thread_id = await visitor(server.url)
    ack = await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "Merhaba"})
    assert ack["ok"] is True
    assert_message_shape(ack["message"], "visitor", "Merhaba", thread_id)
    event = await admin.wait_for("message_from_visitor", lambda d: d["thread_id"] == thread_id)
    assert_message_shape(event, "visitor", "Merhaba", thread_id)
    assert event["id"] == ack["message"]["id"]
    stored = admin_http.get(f"/api/messages?thread_id={thread_id}").json()
    assert [m["content_text"] for m in stored] == ["Merhaba"]
    await client.close()
    await admin.close()


async def test_admin_reply_reaches_visitor_room_and_syncs_admins(server, admin_http):
    admin = await admin_socket(server.url, admin_http)
    other_admin_tab = await admin_socket(server.url, admin_http)
    client, thread_id = await visitor(server.url)
    bystander, other_thread = await visitor(server.url, "Ayşe")
    ack = await admin.call("message_to_visitor", {"thread_id": thread_id, "type": "text", "text": "Selam"})
    assert ack["ok"] is True
    to_visitor = await client.wait_for("message_from_admin")
    assert_message_shape(to_visitor, "admin", "Selam", thread_id)
    synced = await other_admin_tab.wait_for("message_from_telegram", lambda d: d["thread_id"] == thread_id)
    assert_message_shape(synced, "admin", "Selam", thread_id)
    assert bystander.received("message_from_admin") == []
    for c in (admin, other_admin_tab, client, bystander):
        await c.close()


async def test_heartbeat_updates_activity_and_tells_admins(server, admin_http):
    admin = await admin_socket(server.url, admin_http)
    client, thread_id = await visitor(server.url)
    assert await client.call("heartbeat", {"thread_id": thread_id}) == {"ok": True}
    await admin.wait_for("visitor_online", lambda d: d == {"thread_id": thread_id})
    listed = {t["id"]: t for t in admin_http.get("/api/threads").json()}
    assert listed[thread_id]["online"] is True
    assert TIME_RE.match(listed[thread_id]["last_activity_at"])
    await client.close()
    await admin.close()


async def test_polling_transport_works_too(server, admin_http):
    client = await Recorder(server.url).connect(transports=["polling"])
    ack = await client.call("join", {"display_name": "Polly"})
    assert ack["ok"] is True and ack["resumed"] is False and ack["messages"] == []
    thread_id = ack["thread_id"]
    ack = await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "hi"})
    assert ack["ok"] is True and ack["duplicate"] is False, ack
    assert_message_shape(ack["message"], "visitor", "hi", thread_id)
    await client.close()


async def test_join_with_stored_thread_resumes_with_history(server):
    from tests.support.clients import Browserish

    page = Browserish(server.url)
    page.get("/")
    first = await Recorder(server.url, page.cookie_header()).connect()
    ack = await first.call("join", {"display_name": "Zeynep"})
    thread_id = ack["thread_id"]
    await first.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "ilk"})
    await first.close()
    # A reload: same session cookie, a new connection.
    again = await Recorder(server.url, page.cookie_header()).connect()
    ack = await again.call("join", {"display_name": "Zeynep", "thread_id": thread_id})
    assert ack["ok"] is True and ack["resumed"] is True and ack["thread_id"] == thread_id
    assert [m["content_text"] for m in ack["messages"]] == ["ilk"]
    sent = await again.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "ikinci"})
    assert sent["ok"] is True and sent["duplicate"] is False, sent
    assert_message_shape(sent["message"], "visitor", "ikinci", thread_id)
    await again.close()


async def test_clear_all_tells_every_admin_socket_once(make_server):
    """POST /api/messages/clear_all: each admin socket hears `all_cleared` ({}) once; a
    visitor socket does not (it is told by its next event's "unknown thread")."""
    from tests.support.clients import sign_in

    live = make_server()
    http = sign_in(live.url)
    admins = [await admin_socket(live.url, http) for _ in range(2)]
    client, thread_id = await visitor(live.url)
    sent = await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "x"})
    assert sent["ok"] is True
    response = http.post("/api/messages/clear_all")
    assert response.status_code == 200 and response.json() == {"success": True}
    for admin in admins:
        assert await admin.wait_for("all_cleared") == {}
    # Proof by order: a new visitor's thread_created reaches the admins after all_cleared.
    newcomer, new_thread = await visitor(live.url, "Yeni")
    for admin in admins:
        await admin.wait_for("thread_created", lambda d: d["id"] == new_thread)
        assert [name for name, _ in admin.events].count("all_cleared") == 1
    # The visitor's next event is answered after anything sent to its socket before.
    late = await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "y"})
    assert late["ok"] is False and late["code"] == "unknown_thread", late
    assert client.received("all_cleared") == []
    assert http.get("/api/threads").json()[0]["id"] == new_thread
    assert len(http.get("/api/threads").json()) == 1
    for c in (*admins, client, newcomer):
        await c.close()
