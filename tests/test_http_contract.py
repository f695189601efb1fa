"""Every HTTP route of the contract (sections 6.1-6.3) with its exact answer."""

from __future__ import annotations

import re

from tests.file_uploads import samples
from tests.support.clients import Browserish, admin_socket, visitor

TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
THREAD_KEYS = {"id", "display_name", "created_at", "last_activity_at", "last_message", "last_message_time"}


def test_pages_render(server, admin_http):
    anon = Browserish(server.url)
    assert anon.get("/").status_code == 200
    assert "text/html" in anon.get("/").headers["Content-Type"]
    assert anon.get("/login").status_code == 200
    assert admin_http.get("/admin").status_code == 200


def test_favicon_is_no_content(server):
    response = Browserish(server.url).get("/favicon.ico")
    assert response.status_code == 204
    assert response.content == b""


def test_admin_page_redirects_to_login_without_session(server):
    response = Browserish(server.url).get("/admin")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"


async def test_threads_listed_by_last_message_time_with_silent_threads_last(server, admin_http):
    first, first_id = await visitor(server.url, "First")
    silent, silent_id = await visitor(server.url, "Silent")
    second, second_id = await visitor(server.url, "Second")
    await first.call("message_to_admin", {"thread_id": first_id, "type": "text", "text": "one"})
    await second.call("message_to_admin", {"thread_id": second_id, "type": "text", "text": "two"})
    await first.call("message_to_admin", {"thread_id": first_id, "type": "text", "text": "three"})

    threads = admin_http.get("/api/threads").json()
    assert THREAD_KEYS <= set(threads[0])
    order = [t["id"] for t in threads]
    assert order.index(first_id) < order.index(second_id)
    with_messages = [t for t in threads if t["last_message_time"] is not None]
    without = [t for t in threads if t["last_message_time"] is None]
    assert threads == with_messages + without
    assert silent_id in [t["id"] for t in without]
    row = next(t for t in threads if t["id"] == first_id)
    assert row["display_name"] == "First"
    assert row["last_message"] == "three"
    assert TIME_RE.match(row["last_message_time"]) and TIME_RE.match(row["created_at"])
    for c in (first, silent, second):
        await c.close()


async def test_threads_pagination_walks_every_thread_once(server, admin_http):
    clients = [await visitor(server.url, f"Page {i}") for i in range(5)]
    for client, thread_id in clients[:3]:
        await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "hi"})
    everything = [t["id"] for t in admin_http.get("/api/threads").json()]
    seen, before = [], None
    while True:
        query = "/api/threads?limit=2" + (f"&before={before}" if before else "")
        response = admin_http.get(query)
        page = response.json()
        seen += [t["id"] for t in page]
        before = response.headers.get("X-Next-Before")
        if not before:
            break
    assert seen == everything
    for client, _ in clients:
        await client.close()


async def test_messages_oldest_first_with_contract_shape(server, admin_http):
    client, thread_id = await visitor(server.url)
    for text in ("a", "b", "c"):
        await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": text})
    messages = admin_http.get(f"/api/messages?thread_id={thread_id}").json()
    assert [m["content_text"] for m in messages] == ["a", "b", "c"]
    assert set(messages[0]) >= {
        "id",
        "thread_id",
        "sender",
        "type",
        "content_text",
        "file_path",
        "created_at",
    }
    older = admin_http.get(f"/api/messages?thread_id={thread_id}&limit=2")
    assert [m["content_text"] for m in older.json()] == ["b", "c"]
    rest = admin_http.get(
        f"/api/messages?thread_id={thread_id}&limit=2&before={older.headers['X-Next-Before']}"
    )
    assert [m["content_text"] for m in rest.json()] == ["a"]
    await client.close()


def test_messages_needs_a_valid_thread_id(server, admin_http):
    assert admin_http.get("/api/messages").status_code == 400
    bad = admin_http.get("/api/messages?thread_id=not-a-uuid")
    assert bad.status_code == 400 and bad.json()["success"] is False
    unknown = admin_http.get("/api/messages?thread_id=00000000-0000-0000-0000-000000000000")
    assert unknown.status_code == 404 and unknown.json()["success"] is False


async def test_clear_thread_deletes_its_messages_and_tells_clients(server, admin_http):
    admin = await admin_socket(server.url, admin_http)
    client, thread_id = await visitor(server.url)
    other, other_id = await visitor(server.url)
    await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "bye"})
    await other.call("message_to_admin", {"thread_id": other_id, "type": "text", "text": "stay"})
    response = admin_http.post(f"/api/messages/clear?thread_id={thread_id}")
    assert response.status_code == 200 and response.json() == {"success": True}
    assert admin_http.get(f"/api/messages?thread_id={thread_id}").json() == []
    assert len(admin_http.get(f"/api/messages?thread_id={other_id}").json()) == 1
    await admin.wait_for("thread_cleared", lambda d: d == {"thread_id": thread_id})
    await client.wait_for("thread_cleared")
    listed = {t["id"]: t for t in admin_http.get("/api/threads").json()}
    assert listed[thread_id]["last_message"] is None
    for c in (admin, client, other):
        await c.close()


async def test_clear_all_deletes_everything(make_server):
    from tests.support.clients import sign_in

    live = make_server()
    http = sign_in(live.url)
    client, thread_id = await visitor(live.url)
    await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "x"})
    response = http.post("/api/messages/clear_all")
    assert response.status_code == 200 and response.json() == {"success": True}
    assert http.get("/api/threads").json() == []
    # The visitor's old thread is gone: the server says so instead of storing into nothing.
    ack = await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "y"})
    assert ack == {"ok": False, "error": ack["error"], "code": "unknown_thread"}
    await client.close()


def test_upload_image_and_audio_to_local_disk(server):
    page = Browserish(server.url)
    page.get("/")
    png = samples.png()  # a real picture (uploads are decoded and re-encoded), stored as it is
    image = page.post("/api/upload/image", files={"file": ("kedi.png", png, "image/png")})
    assert image.status_code == 200, image.text
    assert re.match(r"^/uploads/images/[0-9a-f-]{36}_kedi\.png$", image.json()["url"])
    served = page.get(image.json()["url"])
    assert served.status_code == 200 and served.content == png
    assert served.headers["Content-Type"] == "image/png"

    webm = b"\x1a\x45\xdf\xa3" + b"\x00" * 64
    audio = page.post("/api/upload/audio", files={"file": ("blob", webm, "audio/webm")})
    assert audio.status_code == 200, audio.text
    assert re.match(r"^/uploads/audio/[0-9a-f-]{36}\.webm$", audio.json()["url"])
    assert page.get(audio.json()["url"]).content == webm


def test_logout_ends_the_admin_session(server):
    from tests.support.clients import sign_in

    http = sign_in(server.url)
    assert http.get("/api/threads").status_code == 200
    response = http.get("/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert http.get("/api/threads").status_code == 401
    assert http.get("/admin").status_code == 302
