"""POST /api/upload/image|audio and GET /uploads/... on local disk, through the live server."""

from __future__ import annotations

import http.client as httplib
import socket
import time
from urllib.parse import urlparse

import pytest
import requests

from tests.file_uploads import samples
from tests.support.clients import Browserish, admin_socket, visitor

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
MB = 1024 * 1024


@pytest.fixture(scope="module")
def http(server) -> Browserish:
    return Browserish(server.url)


def upload(
    http: Browserish,
    kind: str,
    data: bytes,
    name: str = "file.bin",
    field: str = "file",
    content_type: str = "application/octet-stream",
) -> requests.Response:
    return http.post(f"/api/upload/{kind}", files={field: (name, data, content_type)})


def assert_refused(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and isinstance(body["error"], str) and body["error"], body
    assert body["code"] == code, body


@pytest.mark.parametrize("ext", sorted(samples.IMAGES))
def test_each_image_type_is_stored_and_served(http, ext):
    data = samples.IMAGES[ext]()
    answer = upload(http, "image", data, name=f"Holiday photo!.{ext}", content_type="image/whatever")
    assert answer.status_code == 200, answer.text
    url = answer.json()["url"]
    assert answer.json() == {"url": url}
    assert url.startswith("/uploads/images/")
    assert url.endswith(f"_Holiday_photo.{ext}")
    served = http.get(url)
    assert served.status_code == 200
    assert served.content == data
    assert served.headers["Content-Type"] == samples.CONTENT_TYPES[ext]
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert "default-src 'none'" in served.headers["Content-Security-Policy"]


@pytest.mark.parametrize("ext", sorted(samples.AUDIO))
def test_each_recording_keeps_its_real_format(http, ext):
    data = samples.AUDIO[ext]()
    # Whatever the browser calls it, the stored extension is what the bytes are.
    answer = upload(http, "audio", data, name="recording.webm", content_type="audio/webm")
    assert answer.status_code == 200, answer.text
    url = answer.json()["url"]
    path = urlparse(url).path
    assert path.startswith("/uploads/audio/") and path.endswith(f".{ext}")
    served = http.get(url)
    assert served.status_code == 200
    assert served.content == data
    assert served.headers["Content-Type"] == samples.CONTENT_TYPES[ext]
    assert served.headers["X-Content-Type-Options"] == "nosniff"


def test_mpeg_audio_without_id3_tag_is_an_mp3(http):
    answer = upload(http, "audio", samples.mp3_without_tag(), name="voice")
    assert answer.status_code == 200, answer.text
    assert answer.json()["url"].endswith(".mp3")


@pytest.mark.parametrize(
    "kind, data, name, code",
    [
        ("image", b"just some text, not a picture", "note.png", "unsupported_image"),
        ("image", samples.html(), "page.html", "unsupported_image"),
        ("image", samples.html(), "photo.png", "unsupported_image"),
        ("image", samples.svg(), "logo.svg", "unsupported_image"),
        ("image", samples.gif_html_polyglot(), "funny.gif", "markup_in_file"),
        ("image", samples.png() + b"<script>alert(1)</script>", "x.png", "markup_in_file"),
        ("image", samples.wav(), "sound.png", "unsupported_image"),
        ("audio", samples.png(), "voice.webm", "unsupported_audio"),
        ("audio", samples.heic(), "voice.m4a", "unsupported_audio"),
        ("audio", samples.html(), "voice.ogg", "unsupported_audio"),
        ("audio", b"\xff\xff\xff\xff" + bytes(100), "voice.mp3", "unsupported_audio"),
        ("image", b"", "empty.png", "empty_file"),
        ("audio", b"", "empty.webm", "empty_file"),
    ],
)
def test_refused_by_content(http, kind, data, name, code):
    assert_refused(upload(http, kind, data, name=name), 400, code)


def test_missing_file_field_is_refused(http):
    assert_refused(upload(http, "image", samples.png(), field="photo"), 400, "no_file")
    assert_refused(http.post("/api/upload/image", data={"file": "not a file"}), 400, "multipart_required")
    assert_refused(http.post("/api/upload/audio", json={"file": "x"}), 400, "multipart_required")


def test_upload_needs_csrf_but_no_sign_in(server):
    bare = requests.post(server.url + "/api/upload/image", files={"file": ("a.png", samples.png())})
    assert bare.status_code == 403
    assert bare.json()["success"] is False


def test_get_on_upload_route_is_refused(http):
    assert http.get("/api/upload/image").status_code == 405


def test_file_over_the_limit_is_413(http):
    data = samples.png() + bytes(16 * MB)
    assert_refused(upload(http, "image", data, name="big.png"), 413, "file_too_large")


def test_file_just_over_the_limit_inside_an_allowed_body_is_413(http):
    # The body fits the server's cap (file + multipart framing); the file itself does not.
    data = samples.png() + bytes(16 * MB - len(samples.png()) + 10)
    assert_refused(upload(http, "image", data, name="big.png"), 413, "file_too_large")


def test_file_at_the_limit_is_accepted(http):
    data = samples.png() + bytes(16 * MB - len(samples.png()))
    assert upload(http, "image", data, name="max.png").status_code == 200


def _multipart(data: bytes) -> tuple[bytes, bytes]:
    boundary = b"----chatdesktestboundary"
    head = (
        b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="a.webm"\r\n'
        b"Content-Type: audio/webm\r\n\r\n"
    )
    return head + data + b"\r\n--" + boundary + b"--\r\n", b"multipart/form-data; boundary=" + boundary


def _raw_request(server, headers: bytes, body_chunks, read_timeout: float = 10) -> bytes:
    port = urlparse(server.url).port
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout) as sock:
        sock.sendall(headers)
        try:
            for chunk in body_chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        try:
            while b"\r\n\r\n" not in answer or len(answer) < answer.index(b"\r\n\r\n") + 20:
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
        except (ConnectionResetError, TimeoutError):
            pass
        return answer


def _headers(http: Browserish, content_type: bytes, extra: bytes) -> bytes:
    if "csrftoken" not in http.cookies:
        http.get("/login")
    token = http.cookies["csrftoken"].encode()
    return (
        b"POST /api/upload/audio HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + content_type + b"\r\n"
        b"Cookie: csrftoken=" + token + b"\r\nX-CSRFToken: " + token + b"\r\n" + extra + b"\r\n"
    )


def test_chunked_body_over_the_limit_is_413(server, http):
    body, content_type = _multipart(samples.webm() + bytes(17 * MB))

    def chunks():
        for i in range(0, len(body), 256 * 1024):
            piece = body[i : i + 256 * 1024]
            yield b"%x\r\n" % len(piece) + piece + b"\r\n"
        yield b"0\r\n\r\n"

    answer = _raw_request(server, _headers(http, content_type, b"Transfer-Encoding: chunked\r\n"), chunks())
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"success": false' in answer


def test_chunked_body_under_the_limit_asks_for_a_length(server, http):
    # Django's multipart parser needs a Content-Length; browsers always send one.
    body, content_type = _multipart(samples.ogg())
    chunk = b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n"
    answer = _raw_request(server, _headers(http, content_type, b"Transfer-Encoding: chunked\r\n"), [chunk])
    assert answer.startswith(b"HTTP/1.1 411"), answer[:300]
    assert b"Content-Length" in answer


def test_huge_declared_length_is_refused_before_the_body(server, http):
    start = time.monotonic()
    answer = _raw_request(
        server, _headers(http, b"multipart/form-data; boundary=x", b"Content-Length: 10000000000\r\n"), []
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - start < 5


def test_content_length_that_lies_gets_a_clean_refusal(server, http):
    # It claims a small body and sends 17 MB: the server reads only what was claimed.
    body, content_type = _multipart(samples.webm() + bytes(17 * MB))
    answer = _raw_request(server, _headers(http, content_type, b"Content-Length: 2000\r\n"), [body])
    status = answer.split(b"\r\n", 1)[0]
    assert status in (b"HTTP/1.1 400 Bad Request",), answer[:300]
    # The server is fine afterwards.
    assert requests.get(server.url + "/favicon.ico", timeout=5).status_code == 204


def test_other_routes_have_a_body_limit_too(server, http):
    answer = http.post("/request-otp", data=b"x" * (5 * MB), headers={"Content-Type": "application/json"})
    assert answer.status_code == 413
    assert answer.json()["success"] is False


# --- Serving: only our two folders, no traversal --------------------------------------


def _raw_get(server, path: str) -> tuple[int, bytes, dict]:
    """GET a path exactly as written (requests would normalise dot segments)."""
    port = urlparse(server.url).port
    conn = httplib.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        conn.close()


@pytest.mark.parametrize(
    "path",
    [
        "/uploads/images/../../manage.py",
        "/uploads/images/..%2F..%2Fmanage.py",
        "/uploads/images/..%2f..%2fchatdesk%2fsettings.py",
        "/uploads/%2e%2e/manage.py",
        "/uploads/images/%2Fetc%2Fpasswd",
        "/uploads//etc/passwd",
        "/uploads/images/..\\..\\manage.py",
        "/uploads/images/..%5C..%5Cmanage.py",
        "/uploads/images/x.png%00.html",
        "/uploads/static/app.js",
        "/uploads/../manage.py",
        "/uploads/images/.hidden.png",
        "/uploads/images/db.sqlite3",
        "/uploads/audio/evil.html",
    ],
)
def test_traversal_and_other_folders_are_not_served(server, path):
    status, body, _ = _raw_get(server, path)
    assert status in (400, 404), (path, status)
    assert b"DJANGO_SECRET_KEY" not in body and b"root:" not in body and b"SQLite format" not in body


def test_an_image_is_not_served_from_the_audio_folder(server, http):
    url = upload(http, "image", samples.png(), name="p.png").json()["url"]
    name = url.rsplit("/", 1)[-1]
    assert http.get(url).status_code == 200
    assert http.get(f"/uploads/audio/{name}").status_code == 404


def test_unknown_file_is_404(http):
    assert http.get("/uploads/images/00000000-0000-0000-0000-000000000000_x.png").status_code == 404


# --- Uploads in messages -------------------------------------------------------------


async def test_photo_and_voice_note_reach_the_admin(server, admin_http, http):
    admin = await admin_socket(server.url, admin_http)
    client, thread_id = await visitor(server.url, "Deniz")
    image_url = upload(http, "image", samples.jpeg(), name="me.jpg").json()["url"]
    audio_url = upload(http, "audio", samples.m4a(), name="voice.mp4").json()["url"]
    ack = await client.call(
        "message_to_admin", {"thread_id": thread_id, "type": "image", "file_url": image_url}
    )
    assert ack["ok"] is True, ack
    ack = await client.call(
        "message_to_admin", {"thread_id": thread_id, "type": "audio", "file_url": audio_url}
    )
    assert ack["ok"] is True, ack
    event = await admin.wait_for("message_from_visitor", lambda d: d["file_path"] == audio_url)
    assert event["type"] == "audio"
    stored = admin_http.get(f"/api/messages?thread_id={thread_id}").json()
    assert [(m["type"], m["file_path"]) for m in stored] == [("image", image_url), ("audio", audio_url)]
    assert admin_http.get(image_url).headers["Content-Type"] == "image/jpeg"
    assert admin_http.get(audio_url).headers["Content-Type"] == "audio/mp4"
    await client.close()
    await admin.close()


async def test_foreign_file_urls_are_refused_and_nothing_is_stored(server, admin_http, http):
    client, thread_id = await visitor(server.url)
    image_url = upload(http, "image", samples.png(), name="p.png").json()["url"]
    audio_url = upload(http, "audio", samples.ogg()).json()["url"]
    foreign = [
        ("image", "https://evil.example/tracker.png"),
        ("image", "//evil.example/uploads/images/x.png"),
        ("image", "/uploads/images/../../manage.py"),
        ("image", "/uploads/images/x.html"),
        ("image", audio_url),
        ("audio", image_url),
        ("image", "javascript:alert(1)"),
        ("image", "/uploads/images/00000000-0000-0000-0000-000000000000_never_uploaded.png"),
        ("image", server.url + image_url + "?x=1"),
        ("image", "https://res.cloudinary.com/somecloud/image/upload/v1/chat_images/x.png"),
        ("image", None),
        ("image", ""),
    ]
    for kind, url in foreign:
        ack = await client.call("message_to_admin", {"thread_id": thread_id, "type": kind, "file_url": url})
        assert ack["ok"] is False, (kind, url, ack)
        assert "error" in ack
    assert admin_http.get(f"/api/messages?thread_id={thread_id}").json() == []
    await client.close()


def test_uploads_are_rate_limited_per_address(make_server):
    live = make_server(env={"UPLOADS_PER_MINUTE": "3"})
    # A fixed one-minute window: do not start right before it turns.
    if time.time() % 60 > 55:
        time.sleep(61 - time.time() % 60)
    client = Browserish(live.url)
    for _ in range(3):
        assert upload(client, "image", samples.png(), name="p.png").status_code == 200
    refused = upload(client, "image", samples.png(), name="p.png")
    assert_refused(refused, 429, "rate_limited")
    retry_after = refused.json()["retry_after"]
    assert 1 <= retry_after <= 61 and refused.headers["Retry-After"] == str(retry_after)
    # Another route is not affected.
    assert requests.get(live.url + "/favicon.ico", timeout=5).status_code == 204
