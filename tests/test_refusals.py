"""What the contract left open, refused: admin events without a session, other visitors'
threads, and malformed payloads. A refusal is an error ack; nothing is stored and the
connection stays up."""

from __future__ import annotations

import uuid

import pytest

from tests.support.clients import Browserish, Recorder, admin_socket, visitor


async def message_count(admin_http, thread_id: str) -> int:
    return len(admin_http.get(f"/api/messages?thread_id={thread_id}").json())


async def test_admin_events_need_an_admin_session(server, admin_http):
    admin = await admin_socket(server.url, admin_http)
    client, thread_id = await visitor(server.url)
    intruder = await Recorder(server.url).connect()
    refused = await intruder.call("admin_join", {})
    assert refused == {"ok": False, "error": refused["error"], "code": "admin_required"}
    reply = {"thread_id": thread_id, "type": "text", "text": "I am the admin"}
    assert (await intruder.call("message_to_visitor", reply))["ok"] is False
    assert (await intruder.call("mark_seen", {"thread_id": thread_id}))["ok"] is False
    # The intruder is not in admin_room: a visitor message does not reach it.
    await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "private"})
    await admin.wait_for("message_from_visitor", lambda d: d["thread_id"] == thread_id)
    assert intruder.received("message_from_visitor") == []
    assert client.received("message_from_admin") == []
    assert await message_count(admin_http, thread_id) == 1
    # The connection still works for what it may do.
    assert (await intruder.call("join", {"display_name": "Still here"}))["ok"] is True
    for c in (admin, client, intruder):
        await c.close()


async def test_visitor_cannot_touch_another_thread(server, admin_http):
    victim, victim_thread = await visitor(server.url, "Victim")
    attacker, _ = await visitor(server.url, "Attacker")
    forged = {"thread_id": victim_thread, "type": "text", "text": "spoofed"}
    refused = await attacker.call("message_to_admin", forged)
    assert refused == {"ok": False, "error": refused["error"], "code": "not_your_thread"}
    assert (await attacker.call("heartbeat", {"thread_id": victim_thread}))["ok"] is False
    assert (await attacker.call("typing", {"thread_id": victim_thread, "typing": True}))["ok"] is False
    # Asking to resume someone else's thread opens a new one instead; no history leaks.
    resumed = await attacker.call("join", {"display_name": "Attacker", "thread_id": victim_thread})
    assert resumed["ok"] and resumed["thread_id"] != victim_thread and resumed["messages"] == []
    guessed = {"thread_id": str(uuid.uuid4()), "type": "text", "text": "guess"}
    assert (await attacker.call("message_to_admin", guessed))["ok"] is False
    assert await message_count(admin_http, victim_thread) == 0
    await victim.close()
    await attacker.close()


async def test_a_visitor_session_owns_its_threads_across_connections(server):
    page = Browserish(server.url)
    page.get("/")
    first = await Recorder(server.url, page.cookie_header()).connect()
    thread_id = (await first.call("join", {"display_name": "Tab one"}))["thread_id"]
    second_tab = await Recorder(server.url, page.cookie_header()).connect()
    ack = await second_tab.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "tab 2"})
    assert ack["ok"] is True
    await first.close()
    await second_tab.close()


BAD_MESSAGES = [
    None,
    "text",
    [],
    42,
    {},
    {"type": "text", "text": "no thread"},
    {"thread_id": "not-a-uuid", "type": "text", "text": "x"},
    {"thread_id": 12, "type": "text", "text": "x"},
    {"thread_id": "{thread}", "type": "video", "text": "x"},
    {"thread_id": "{thread}", "type": "text"},
    {"thread_id": "{thread}", "type": "text", "text": ""},
    {"thread_id": "{thread}", "type": "text", "text": "   "},
    {"thread_id": "{thread}", "type": "text", "text": ["list"]},
    {"thread_id": "{thread}", "type": "text", "text": "x" * 4001},
    {"thread_id": "{thread}", "type": "image"},
    {"thread_id": "{thread}", "type": "image", "file_url": "https://evil.example/x.png"},
    {"thread_id": "{thread}", "type": "audio", "file_url": "/uploads/images/a.png"},
    {"thread_id": "{thread}", "type": "image", "file_url": "/uploads/images/../../etc/passwd"},
    {"thread_id": "{thread}", "type": "image", "file_url": "javascript:alert(1)"},
    {"thread_id": "{thread}", "type": "text", "text": "ok", "client_id": "has spaces"},
    {"thread_id": "{thread}", "type": "text", "text": "ok", "client_id": "x" * 65},
]


def fill(payload, thread_id):
    if isinstance(payload, dict):
        return {k: (thread_id if v == "{thread}" else v) for k, v in payload.items()}
    return payload


@pytest.mark.parametrize("event", ["message_to_admin", "message_to_visitor"])
async def test_malformed_messages_are_refused(server, admin_http, event):
    client, thread_id = await visitor(server.url)
    sender = client if event == "message_to_admin" else await admin_socket(server.url, admin_http)
    for payload in BAD_MESSAGES:
        ack = await sender.call(event, fill(payload, thread_id))
        assert ack["ok"] is False and isinstance(ack["error"], str) and ack["error"], payload
    assert await message_count(admin_http, thread_id) == 0
    longest = {"thread_id": thread_id, "type": "text", "text": "x" * 4000}
    assert (await sender.call(event, longest))["ok"] is True
    await client.close()
    if sender is not client:
        await sender.close()


async def test_malformed_join_and_heartbeat_are_refused(server):
    client = await Recorder(server.url).connect()
    for payload in (
        None,
        "Ahmet",
        {},
        {"display_name": ""},
        {"display_name": "   "},
        {"display_name": 5},
        {"display_name": "x" * 81},
        {"display_name": "ok", "thread_id": "not-a-uuid"},
    ):
        ack = await client.call("join", payload)
        assert ack["ok"] is False, payload
    assert client.received("joined") == []
    for payload in (None, {}, {"thread_id": None}, {"thread_id": "zzz"}, [1, 2]):
        assert (await client.call("heartbeat", payload))["ok"] is False, payload
    assert (await client.call("join", {"display_name": "Recovered"}))["ok"] is True
    await client.close()


def test_admin_api_refuses_without_session(server):
    anon = Browserish(server.url)
    for path in ("/api/threads", f"/api/messages?thread_id={uuid.uuid4()}"):
        response = anon.get(path)
        assert response.status_code == 401
        body = response.json()
        assert body == {"success": False, "error": body["error"], "code": "admin_required"}
    for path in (f"/api/messages/clear?thread_id={uuid.uuid4()}", "/api/messages/clear_all"):
        response = anon.post(path)
        assert response.status_code == 401 and response.json()["success"] is False


def test_upload_over_the_size_limit_is_413(make_server):
    live = make_server(env={"UPLOAD_MAX_BYTES": "1024"})
    page = Browserish(live.url)
    page.get("/")
    big = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2048
    response = page.post("/api/upload/image", files={"file": ("big.png", big, "image/png")})
    assert response.status_code == 413
    body = response.json()
    assert body == {"success": False, "error": body["error"], "code": "file_too_large"}


def test_uploads_refuse_empty_missing_and_wrong_files(server):
    page = Browserish(server.url)
    page.get("/")

    def refusal(response) -> tuple[int, bool, str]:
        return response.status_code, response.json()["success"], response.json()["code"]

    assert refusal(page.post("/api/upload/image")) == (400, False, "multipart_required")
    empty = page.post("/api/upload/image", files={"file": ("e.png", b"", "image/png")})
    assert refusal(empty) == (400, False, "empty_file")
    html = page.post("/api/upload/image", files={"file": ("x.png", b"<html><script>", "image/png")})
    assert refusal(html) == (400, False, "unsupported_image")
    polyglot = page.post("/api/upload/image", files={"file": ("x.gif", b"GIF89a<script>", "image/gif")})
    assert refusal(polyglot) == (400, False, "markup_in_file")
    other_field = page.post("/api/upload/audio", files={"photo": ("v.ogg", b"OggS", "audio/ogg")})
    assert refusal(other_field) == (400, False, "no_file")
    assert page.get("/uploads/images/..%2F..%2Fmanage.py").status_code == 404
    assert page.get("/uploads/secrets/x.png").status_code == 404
