"""Issue 12, server side: ISO instants on every payload, search over every message,
stored seen marks, photo sizes and voice-note lengths, clear-all reaching visitors."""

from __future__ import annotations

import uuid
from datetime import datetime

from tests.support.clients import Recorder, admin_socket, sign_in, visitor


def _iso_ok(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() is not None, value
    return parsed


async def test_messages_and_threads_carry_iso_instants(server, admin_http):
    sock, thread_id = await visitor(server.url, "Iso")
    ack = await sock.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "hi"})
    message = ack["message"]
    instant = _iso_ok(message["created_iso"])
    # The contract's string is the same instant in TIME_ZONE (Europe/Istanbul, +03:00).
    assert message["created_at"] == instant.astimezone(_istanbul()).strftime("%Y-%m-%d %H:%M:%S")
    [row] = [t for t in admin_http.get("/api/threads").json() if t["id"] == thread_id]
    assert _iso_ok(row["last_message_iso"]) == instant
    _iso_ok(row["created_iso"])
    _iso_ok(row["last_activity_iso"])
    [stored] = admin_http.get(f"/api/messages?thread_id={thread_id}").json()
    assert stored["created_iso"] == message["created_iso"]
    await sock.close()


def search_fold_hit(text: str, word: str) -> str:
    from chat.search import snippet

    piece, start, end = snippet(text, [word])
    return piece[start:end]


def _istanbul():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Istanbul")


async def test_search_finds_any_message_folded_with_snippet(server, admin_http):
    tag = uuid.uuid4().hex[:8]
    sock, thread_id = await visitor(server.url, "Ayşe Yılmaz")
    first = f"Siparişim {tag} nerede, Ayşe yazıyor"
    for text in (first, "ikinci mesaj", "üçüncü mesaj"):
        ack = await sock.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": text})
        assert ack["ok"] is True
    other, other_id = await visitor(server.url, "Other")
    await other.call("message_to_admin", {"thread_id": other_id, "type": "text", "text": "unrelated"})

    # A word of the first message (not the last one) finds the thread, with its snippet.
    found = admin_http.get("/api/threads", params={"q": f"SIPARISIM {tag}"}).json()
    assert [t["id"] for t in found] == [thread_id]
    match = found[0]["match"]
    assert match["text"] == first
    assert match["text"][match["start"] : match["end"]] in ("Siparişim", tag)
    # Accents and Turkish letters are folded both ways; the name is searched too.
    by_accent = admin_http.get("/api/threads", params={"q": f"ayse {tag}"}).json()
    assert [t["id"] for t in by_accent] == [thread_id]
    hit = by_accent[0]["match"]
    assert hit["text"][hit["start"] : hit["end"]] == tag  # the first hit in the text
    # Dotless ı and the cedilla fold: "yaziyor" highlights "yazıyor".
    dotless = admin_http.get("/api/threads", params={"q": f"{tag} yaziyor"}).json()
    hit = dotless[0]["match"]
    assert hit["text"][hit["start"] :].startswith(tag)
    assert search_fold_hit(hit["text"], "yaziyor") == "yazıyor"
    by_name = admin_http.get("/api/threads", params={"q": "yilmaz"}).json()
    assert thread_id in [t["id"] for t in by_name]
    assert other_id not in [t["id"] for t in by_name]
    assert admin_http.get("/api/threads", params={"q": f"nothing{tag}"}).json() == []
    # Without q the answer keeps the contract's shape (no match field).
    assert all("match" not in t for t in admin_http.get("/api/threads").json())
    await sock.close()
    await other.close()


async def test_search_pages_like_the_list(server, admin_http):
    tag = uuid.uuid4().hex[:8]
    ids = []
    for i in range(3):
        sock, thread_id = await visitor(server.url, f"Pager {i}")
        await sock.call(
            "message_to_admin", {"thread_id": thread_id, "type": "text", "text": f"page{tag} {i}"}
        )
        ids.append(thread_id)
        await sock.close()
    first = admin_http.get("/api/threads", params={"q": f"page{tag}", "limit": 2})
    assert [t["id"] for t in first.json()] == [ids[2], ids[1]]
    assert first.headers["X-Next-Before"] == ids[1]
    rest = admin_http.get("/api/threads", params={"q": f"page{tag}", "limit": 2, "before": ids[1]})
    assert [t["id"] for t in rest.json()] == [ids[0]]


async def test_seen_marks_are_stored_both_ways(server, admin_http):
    sock, thread_id = await visitor(server.url, "Seer")
    admin = await admin_socket(server.url, admin_http)
    ack = await sock.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "read me"})
    visitor_time = ack["message"]["created_iso"]
    assert await admin.call("mark_seen", {"thread_id": thread_id}) == {"ok": True}
    reply = await admin.call("message_to_visitor", {"thread_id": thread_id, "type": "text", "text": "ok"})
    assert await sock.call("mark_seen", {"thread_id": thread_id}) == {"ok": True}
    event = await admin.wait_for("visitor_seen", lambda d: d["thread_id"] == thread_id)
    assert event == {"thread_id": thread_id, "seen_iso": reply["message"]["created_iso"]}
    [row] = [t for t in admin_http.get("/api/threads").json() if t["id"] == thread_id]
    assert row["admin_seen_iso"] == visitor_time
    assert row["visitor_seen_iso"] == reply["message"]["created_iso"]
    # A resumed visitor learns how far the admins have read.
    cookie = sock.cookie
    await sock.close()
    again = await Recorder(server.url, cookie).connect()
    joined = await again.call("join", {"display_name": "Seer", "thread_id": thread_id})
    assert joined["resumed"] is True
    assert joined["admin_seen_iso"] == visitor_time
    await again.close()
    await admin.close()


async def test_clear_all_reaches_open_visitor_sockets(make_server):
    own = make_server()  # clearing everything must not empty the shared server
    sock, thread_id = await visitor(own.url, "Card")
    await sock.call(
        "message_to_admin", {"thread_id": thread_id, "type": "text", "text": "4111 1111 1111 1111"}
    )
    assert sign_in(own.url).post("/api/messages/clear_all").json() == {"success": True}
    event = await sock.wait_for("thread_deleted", lambda d: d["thread_id"] == thread_id)
    assert event == {"thread_id": thread_id}
    await sock.close()
