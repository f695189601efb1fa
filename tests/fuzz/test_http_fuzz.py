"""Arbitrary query strings and bodies at every route, arbitrary bytes at the uploads.

Properties: never a 5xx; the API answers JSON, and a refusal is {"success": false,
"error": ...}; a refused request changes nothing (thread and message counts).
"""

from __future__ import annotations

import asyncio
import json
import time

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.strategies import any_json
from tests.support.clients import Browserish, sign_in, visitor

FUZZ = settings(
    max_examples=60, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)

ROUTES = [
    "/",
    "/login",
    "/admin",
    "/logout",
    "/favicon.ico",
    "/healthz",
    "/request-otp",
    "/verify-otp",
    "/api/threads",
    "/api/messages",
    "/api/messages/clear",
    "/api/upload/image",
    "/api/upload/audio",
    "/uploads/images/x.png",
    "/uploads/audio/../x",
    "/i18n/setlang/",
    "/jsi18n/",
]
JSON_ROUTES = {
    "/request-otp",
    "/verify-otp",
    "/api/threads",
    "/api/messages",
    "/api/messages/clear",
    "/api/upload/image",
    "/api/upload/audio",
}
PARAM_NAMES = ["thread_id", "limit", "before", "otp", "next", "language"]


def seed(server, admin: Browserish) -> str:
    async def go() -> str:
        client, thread_id = await visitor(server.url, "Seeded")
        await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "seed"})
        await client.close()
        return thread_id

    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(go())
    finally:
        loop.close()


def counts(admin: Browserish, thread_id: str) -> tuple[int, int]:
    threads = admin.get("/api/threads?limit=500").json()
    return len(threads), len(admin.get(f"/api/messages?thread_id={thread_id}").json())


def check_answer(path: str, response: requests.Response) -> None:
    assert response.status_code < 500, (path, response.status_code, response.text[:300])
    if path in JSON_ROUTES and response.status_code not in (301, 302, 405):
        body = response.json()
        if response.status_code >= 400:
            assert body["success"] is False, body
            assert isinstance(body["error"], str) and isinstance(body["code"], str), body


scalars = st.text(max_size=30) | st.sampled_from(
    ["", "0", "-1", "999999999999999999999", "null", "00000000-0000-0000-0000-000000000000"]
)
queries = st.dictionaries(st.sampled_from(PARAM_NAMES) | st.text(max_size=8), scalars, max_size=4)
bodies = st.one_of(
    any_json.map(lambda j: ("json", json.dumps(j).encode())),
    st.binary(max_size=300).map(lambda b: ("bytes", b)),
)
content_types = st.sampled_from(
    [
        "application/json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=x",
        "",
    ]
)


def test_arbitrary_requests_at_every_route(fuzz_server, fuzz_admin):
    thread_id = seed(fuzz_server, fuzz_admin)
    known = st.sampled_from([thread_id])
    anonymous = Browserish(fuzz_server.url)
    anonymous.get("/")

    @FUZZ
    @given(
        path=st.sampled_from(ROUTES),
        method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
        query=queries,
        thread=st.booleans() | known,
        body=bodies,
        content_type=content_types,
        as_admin=st.booleans(),
    )
    def check(path, method, query, thread, body, content_type, as_admin):
        http = fuzz_admin if as_admin else anonymous
        if path == "/logout" and as_admin:
            http = sign_in(fuzz_server.url)  # a session of its own: signing it out is allowed
        if isinstance(thread, str):
            query = {**query, "thread_id": thread}
        before = counts(fuzz_admin, thread_id)
        headers = {"Content-Type": content_type} if content_type else {}
        kwargs = {"params": query, "data": body[1], "headers": headers}
        if method == "POST":
            response = http.post(path, **kwargs)
        else:
            response = http.request(
                method,
                http.url(path),
                allow_redirects=False,
                headers={"X-CSRFToken": http.cookies.get("csrftoken", ""), **headers},
                params=query,
                data=body[1],
            )
        twisted_refused = (
            content_type.startswith("multipart/form-data")
            and response.status_code == 400
            and not response.content
        )  # Twisted (under daphne) refuses a multipart body it cannot parse before the app runs
        if not twisted_refused:
            check_answer(path, response)
        cleared = (
            as_admin
            and method == "POST"
            and path == "/api/messages/clear"
            and response.status_code == 200
            and query.get("thread_id") == thread_id
        )
        if cleared:
            # The one change a fuzzed request may make: the admin cleared the seeded thread.
            assert response.json() == {"success": True}
            assert counts(fuzz_admin, thread_id) == (before[0], 0)
        else:
            assert counts(fuzz_admin, thread_id) == before, (path, method, response.status_code)

    check()
    assert fuzz_admin.get("/api/threads").status_code == 200


def test_arbitrary_bytes_at_the_upload_routes(fuzz_server):
    http = Browserish(fuzz_server.url)
    http.get("/")
    magic = st.sampled_from(
        [
            b"",
            b"\x89PNG\r\n\x1a\n",
            b"\xff\xd8\xff",
            b"GIF89a",
            b"RIFF\0\0\0\0WEBP",
            b"\x1a\x45\xdf\xa3",
            b"OggS",
            b"ID3",
            b"RIFF\0\0\0\0WAVE",
            b"<svg",
            b"<html>",
        ]
    )

    @FUZZ
    @given(
        route=st.sampled_from(["/api/upload/image", "/api/upload/audio"]),
        head=magic,
        tail=st.binary(max_size=2000),
        filename=st.text(max_size=40),
        mime=st.sampled_from(["image/png", "audio/webm", "text/html", "application/octet-stream", ""]),
        raw=st.booleans(),
    )
    def check(route, head, tail, filename, mime, raw):
        content = head + tail
        if raw:
            response = http.post(
                route, data=content, headers={"Content-Type": mime or "application/octet-stream"}
            )
        else:
            response = http.post(route, files={"file": (filename or "f", content, mime or None)})
        check_answer(route, response)
        body = response.json()
        if response.status_code == 200:
            served = requests.get(fuzz_server.url + body["url"], timeout=10)
            assert served.status_code == 200 and served.content == content
            assert served.headers["X-Content-Type-Options"] == "nosniff"
            assert served.headers["Content-Type"].split("/")[0] in ("image", "audio", "video")
        else:
            assert 400 <= response.status_code < 500 and body["success"] is False

    check()


def test_arbitrary_bytes_and_updates_at_the_telegram_webhook(make_server):
    # Telegram on, pointing at a port where nothing listens: outbound sends just fail and wait.
    live = make_server(
        env={
            "TELEGRAM_BOT_TOKEN": "123456:fuzz",
            "TELEGRAM_CHAT_ID": "-1001234",
            "TELEGRAM_WEBHOOK_SECRET": "fuzz-secret",
            "TELEGRAM_API_BASE": "http://127.0.0.1:9",
        }
    )
    admin = Browserish(live.url)
    code = live.manage("issue_login_code").stdout.strip()
    assert admin.post("/verify-otp", json={"otp": code}).status_code == 200
    thread_id = seed(live, admin)
    log_start = len(live.log())
    updates = (
        any_json.map(lambda j: json.dumps(j).encode())
        | st.binary(max_size=300)
        | st.fixed_dictionaries(
            {"update_id": st.integers()},
            optional={
                "message": st.fixed_dictionaries(
                    {},
                    optional={
                        "chat": st.fixed_dictionaries({}, optional={"id": any_json, "type": any_json}),
                        "from": st.fixed_dictionaries({}, optional={"id": any_json, "is_bot": any_json}),
                        "text": any_json,
                        "reply_to_message": any_json,
                        "message_id": any_json,
                        "message_thread_id": any_json,
                    },
                )
            },
        ).map(lambda j: json.dumps(j).encode())
    )

    @FUZZ
    @given(body=updates, secret=st.sampled_from(["fuzz-secret", "", "wrong", None]))
    def check(body, secret):
        before = counts(admin, thread_id)
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        response = requests.post(live.url + "/telegram/webhook", data=body, headers=headers, timeout=10)
        assert response.status_code < 500, response.text[:300]
        answer = response.json()
        if secret != "fuzz-secret":
            assert response.status_code == 403 and answer["success"] is False
        # Nothing from an unknown chat, or no chat at all, changes a conversation.
        assert counts(admin, thread_id) == before

    check()
    # The updates are handled on a worker thread: wait until it has handled every one of
    # them (a condition, not a guess at a delay), then look at what it did.
    deadline = time.monotonic() + 120
    while (progress := inbound_progress(live))["pending"]:
        assert time.monotonic() < deadline, progress
        time.sleep(0.5)
    assert progress["handled"] > 0 and progress["crashed"] == 0, progress
    assert "Traceback" not in live.log()[log_start:], live.log()[log_start:][-3000:]


def inbound_progress(live) -> dict[str, int]:
    """Updates recorded and not handled yet, and those whose handling crashed."""
    code = (
        "from telegram_bridge.models import InboundUpdate as U; import json; print(json.dumps({"
        "'pending': U.objects.filter(processed_at__isnull=True).count(), "
        "'crashed': U.objects.filter(outcome='error').count(), 'handled': U.objects.count()}))"
    )
    return json.loads(live.manage("shell", "-c", code).stdout.strip().splitlines()[-1])
