"""Refusals speak the client's language and keep one code: a socket's acks and handshake
refusals in the language it connected with (django_language cookie, else
Accept-Language), HTTP answers in the request's, the server's raw 413 too."""

from __future__ import annotations

import uuid

import requests
import socketio

from tests.support.clients import Browserish, Recorder, visitor

NOT_YOURS_EN = "This thread does not belong to this visitor."
NOT_YOURS_TR = "Bu konuşma bu ziyaretçiye ait değil."


async def test_a_turkish_socket_gets_turkish_acks_with_the_same_code(server):
    _, thread_id = await visitor(server.url, "Owner")
    forged = {"thread_id": thread_id, "type": "text", "text": "not mine"}
    by_cookie = await Recorder(server.url, "theme=dark; django_language=tr").connect()
    by_header = await Recorder(server.url).connect(headers={"Accept-Language": "tr-TR,tr;q=0.9,en;q=0.5"})
    english = await Recorder(server.url).connect(headers={"Accept-Language": "en-US,en;q=0.9"})
    # The cookie (the page's language switch) wins over the browser's header.
    cookie_over_header = await Recorder(server.url, "django_language=en").connect(
        headers={"Accept-Language": "tr"}
    )
    turkish = {"ok": False, "error": NOT_YOURS_TR, "code": "not_your_thread"}
    assert await by_cookie.call("message_to_admin", forged) == turkish
    assert await by_header.call("message_to_admin", forged) == turkish
    assert await english.call("message_to_admin", forged) == {
        "ok": False,
        "error": NOT_YOURS_EN,
        "code": "not_your_thread",
    }
    assert (await cookie_over_header.call("message_to_admin", forged))["error"] == NOT_YOURS_EN
    # Refusals decided in the validation and the domain are rendered the same way.
    assert await by_cookie.call("join", {"display_name": "  "}) == {
        "ok": False,
        "error": "Ad (display_name) gerekli.",
        "code": "name_required",
    }
    # Two arguments (a tuple is sent as separate arguments).
    assert await by_cookie.sio.call("message_to_admin", ("text", "extra"), timeout=10) == {
        "ok": False,
        "error": "Tek bir JSON nesnesi gönderin.",
        "code": "invalid_payload",
    }
    assert await by_cookie.call("heartbeat", {"thread_id": "nope"}) == {
        "ok": False,
        "error": "thread_id geçerli bir kimlik değil.",
        "code": "field_invalid",
        "field": "thread_id",
    }
    for client in (by_cookie, by_header, english, cookie_over_header):
        await client.close()


def test_a_turkish_http_request_gets_a_turkish_error(server):
    turkish = Browserish(server.url)
    turkish.headers["Accept-Language"] = "tr"
    english = Browserish(server.url)
    english.headers["Accept-Language"] = "en"
    for client, text in ((turkish, "Yönetici girişi gerekli."), (english, "Admin sign-in required.")):
        response = client.get("/api/threads")
        assert response.status_code == 401
        assert response.json() == {"success": False, "error": text, "code": "admin_required"}
    # Uploads are refused on their own threads; the language follows them there.
    turkish.get("/")
    empty = turkish.post("/api/upload/image", files={"file": ("e.png", b"", "image/png")})
    assert empty.status_code == 400
    assert empty.json() == {"success": False, "error": "Dosya boş.", "code": "empty_file"}
    # A CSRF failure is answered by Django's failure view, in the same shape.
    bare = requests.post(
        server.url + "/api/upload/image", headers={"Accept-Language": "tr"}, files={"file": ("a", b"x")}
    )
    assert bare.status_code == 403
    assert bare.json() == {
        "success": False,
        "error": "CSRF denetimi başarısız: sayfayı yenileyip yeniden deneyin.",
        "code": "csrf_failed",
    }


async def test_a_refused_handshake_carries_its_code_and_the_clients_language(make_server):
    live = make_server(env={"SOCKETIO_MAX_CONNECTIONS_PER_IP": "1", "REQUEST_MAX_BYTES": "1024"})
    holder = await Recorder(live.url).connect()
    refusals = []
    client = socketio.AsyncClient(reconnection=False)
    client.on("connect_error", lambda data: refusals.append(data))
    try:
        await client.connect(
            live.url, headers={"Cookie": "django_language=tr"}, transports=["websocket"], wait_timeout=5
        )
        raise AssertionError("a second connection from the address was accepted")
    except socketio.exceptions.ConnectionError:
        pass
    assert refusals == [
        {"message": "Bu adresten çok fazla bağlantı var.", "data": {"code": "too_many_connections"}}
    ]
    await holder.close()
    # The server's own body limit answers before the application, in the same shape.
    too_big = requests.post(
        live.url + "/request-otp",
        data=b"{" + b" " * 2000 + b"}",
        headers={"Content-Type": "application/json", "Accept-Language": "tr"},
        timeout=10,
    )
    assert too_big.status_code == 413
    assert too_big.json() == {"success": False, "error": "İstek gövdesi çok büyük.", "code": "body_too_large"}


async def test_an_unknown_thread_is_refused_with_its_code(server, admin_http):
    client, _ = await visitor(server.url)
    missing = str(uuid.uuid4())
    response = admin_http.get(f"/api/messages?thread_id={missing}")
    assert response.status_code == 404
    assert response.json() == {"success": False, "error": "Unknown thread.", "code": "unknown_thread"}
    cleared = admin_http.post(f"/api/messages/clear?thread_id={missing}")
    assert cleared.status_code == 404 and cleared.json()["code"] == "unknown_thread"
    await client.close()
