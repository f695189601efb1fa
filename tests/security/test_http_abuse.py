"""HTTP under attack: forged cross-site POSTs, framing, sniffing, and the admin API
asked without a session."""

from __future__ import annotations

import io
import sys
import uuid

import pytest
import requests
from PIL import Image

from tests.support.addresses import http_from, refused_from, socket_from
from tests.support.clients import Browserish, sign_in, visitor

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


async def seeded(server, admin_http) -> str:
    client, thread_id = await visitor(server.url, "CSRF target")
    await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "keep me"})
    await client.close()
    return thread_id


def post_routes(thread_id: str) -> list[tuple[str, dict]]:
    return [
        ("/request-otp", {"json": {}}),
        ("/verify-otp", {"json": {"otp": "123456"}}),
        ("/logout", {}),
        (f"/api/messages/clear?thread_id={thread_id}", {}),
        ("/api/messages/clear_all", {}),
        ("/api/upload/image", {"files": {"file": ("a.png", PNG, "image/png")}}),
        (
            "/api/upload/audio",
            {"files": {"file": ("a.webm", b"\x1a\x45\xdf\xa3" + b"\0" * 60, "audio/webm")}},
        ),
    ]


def assert_nothing_changed(admin: Browserish, thread_id: str) -> None:
    assert admin.get("/api/threads").status_code == 200, "the admin was signed out"
    stored = admin.get(f"/api/messages?thread_id={thread_id}").json()
    assert [m["content_text"] for m in stored] == ["keep me"]


async def test_every_state_changing_route_needs_the_csrf_token(server):
    admin = sign_in(server.url)
    thread_id = await seeded(server, admin)
    token = admin.cookies["csrftoken"]
    for path, kwargs in post_routes(thread_id):
        attempts = {
            "no token": {},
            "wrong header": {"headers": {"X-CSRFToken": "x" * 32}},
            "token from another origin": {
                "headers": {"X-CSRFToken": token, "Origin": "https://evil.example"}
            },
            "token without its cookie": {"headers": {"X-CSRFToken": token}, "no_cookie": True},
        }
        for label, extra in attempts.items():
            headers = dict(extra.get("headers", {}))
            cookies = {"sessionid": admin.cookies["sessionid"]}
            if not extra.get("no_cookie"):
                cookies["csrftoken"] = token
            response = requests.post(
                server.url + path, cookies=cookies, headers=headers, allow_redirects=False, **kwargs
            )
            assert response.status_code == 403, (path, label, response.status_code)
            assert response.json()["success"] is False, (path, label)
        assert_nothing_changed(admin, thread_id)


def test_no_state_changing_route_accepts_a_cross_site_form_get(server):
    """The destructive API routes are POST-only: a link or <img> cannot trigger them."""
    admin = sign_in(server.url)
    for path in (
        "/api/messages/clear_all",
        f"/api/messages/clear?thread_id={uuid.uuid4()}",
        "/request-otp",
        "/verify-otp",
        "/api/upload/image",
        "/api/upload/audio",
    ):
        assert admin.get(path).status_code == 405, path


def assert_page_headers(response: requests.Response, frame_ancestors: str, x_frame: bool) -> None:
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["frame-ancestors"] == frame_ancestors
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers.get("Referrer-Policy")
    assert ("X-Frame-Options" in response.headers) is x_frame
    if x_frame:
        assert response.headers["X-Frame-Options"] == "DENY"


# Test servers run in debug, where the quickstart's embed page on localhost may frame the
# chat (issue 12); nothing else may, and no other page may be framed at all.
DEBUG_FRAMERS = "http://localhost:* http://127.0.0.1:* http://localhost http://127.0.0.1"


def test_pages_send_security_headers_and_refuse_framing_by_default(server, admin_http):
    chat = Browserish(server.url).get("/")
    assert chat.status_code == 200
    assert_page_headers(chat, DEBUG_FRAMERS, x_frame=False)
    for http, path in (
        (Browserish(server.url), "/login"),
        (admin_http, "/admin"),
    ):
        response = http.get(path)
        assert response.status_code == 200, path
        assert_page_headers(response, "'none'", x_frame=True)
    api = admin_http.get("/api/threads")
    assert api.headers["X-Content-Type-Options"] == "nosniff"


def test_the_widget_origins_may_frame_the_chat_and_nothing_else(configured_server):
    http = Browserish(configured_server.url)
    chat = http.get("/")
    assert_page_headers(chat, f"https://shop.example https://www.shop.example {DEBUG_FRAMERS}", x_frame=False)
    login = http.get("/login")
    assert_page_headers(login, "'none'", x_frame=True)


ADMIN_API = [
    ("get", "/api/threads"),
    ("get", "/api/threads?limit=5"),
    ("get", f"/api/threads?before={uuid.uuid4()}"),
    ("get", "/api/messages"),
    ("get", "/api/messages?thread_id={thread}"),
    ("get", f"/api/messages?thread_id={{thread}}&limit=1&before={uuid.uuid4()}"),
    ("post", "/api/messages/clear?thread_id={thread}"),
    ("post", "/api/messages/clear_all"),
]


@pytest.mark.parametrize("who", ["anonymous", "visitor", "signed out"])
async def test_every_admin_api_route_answers_401_json_without_a_session(server, admin_http, who):
    thread_id = await seeded(server, admin_http)
    http = Browserish(server.url)
    if who == "visitor":
        http.get("/")
    elif who == "signed out":
        http = sign_in(server.url)
        http.get("/logout")
        http.get("/login")
    for method, path in ADMIN_API:
        response = getattr(http, method)(path.replace("{thread}", thread_id))
        assert response.status_code == 401, (who, path, response.status_code)
        assert response.headers["Content-Type"].startswith("application/json")
        body = response.json()
        assert body == {"success": False, "error": body["error"], "code": "admin_required"}
    page = http.get("/admin")
    assert page.status_code == 302 and page.headers["Location"] == "/login"
    assert_nothing_changed(admin_http, thread_id)


def real_png() -> bytes:
    """A picture the upload route stores (it decodes and re-encodes what it accepts)."""
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (234, 88, 12)).save(out, "PNG")
    return out.getvalue()


def upload_statuses(http: Browserish, forwarded_for: list[str]) -> list[int]:
    return [
        http.post(
            "/api/upload/image",
            files={"file": ("a.png", real_png(), "image/png")},
            headers={"X-Forwarded-For": forwarded},
        ).status_code
        for forwarded in forwarded_for
    ]


async def test_the_production_entry_point_limits_the_real_address_whatever_the_client_forwards(
    make_server,
):
    """`python -m chatdesk.serve` with proxy trust off: a client writing a new
    X-Forwarded-For each time is still limited by its own address (issue 18.4)."""
    live = make_server(
        env={"UPLOADS_PER_MINUTE": "2", "SOCKETIO_MAX_CONNECTIONS_PER_IP": "2"},
        command=[sys.executable, "-m", "chatdesk.serve"],
    )
    forger = http_from(live.url, "127.0.0.2")
    assert upload_statuses(forger, [f"10.0.0.{i}" for i in range(4)]) == [200, 200, 429, 429]
    assert upload_statuses(http_from(live.url, "127.0.0.3"), ["10.0.0.1"]) == [200]

    held = [
        await socket_from(live.url, "127.0.0.2", headers={"X-Forwarded-For": f"10.1.0.{i}"}) for i in range(2)
    ]
    assert await refused_from(live.url, "127.0.0.2", {"X-Forwarded-For": "10.1.0.9"}) is not None
    assert await refused_from(live.url, "127.0.0.3") is None
    for client in held:
        await client.close()


def test_behind_one_trusted_proxy_the_rightmost_forwarded_address_counts(make_server):
    """TRUSTED_PROXY_HOPS=1 through the production entry point: the proxy's entry is the
    client; entries the client wrote to its left do not open new budgets."""
    live = make_server(
        env={"UPLOADS_PER_MINUTE": "2", "TRUSTED_PROXY_HOPS": "1"},
        command=[sys.executable, "-m", "chatdesk.serve"],
    )
    proxy = http_from(live.url, "127.0.0.2")
    forged = [f"10.9.9.{i}, 10.0.0.1" for i in range(3)]
    assert upload_statuses(proxy, forged) == [200, 200, 429]
    assert upload_statuses(proxy, ["10.0.0.2"]) == [200]


def test_json_nested_too_deeply_is_a_400_in_the_api_shape(server):
    http = Browserish(server.url)
    http.get("/login")
    answer = http.post(
        "/verify-otp", data="[" * 100_000 + "]" * 100_000, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400
    assert answer.json() == {"success": False, "error": answer.json()["error"], "code": "nested_too_deep"}
    assert "RecursionError" not in server.log()
