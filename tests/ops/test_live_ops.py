"""Ops against running servers: commands as `python manage.py` subprocesses, /healthz,
what the logs hold, and `check --deploy` with production settings."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import secrets
import select
import socket
import subprocess
import sys
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.ops.conftest import REDIS_ENV
from tests.support.clients import Browserish, Recorder, admin_socket, sign_in, visitor
from tests.support.server import BASE_ENV, ROOT, LiveServer


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def visitor_with_messages(url: str, name: str, *texts: str):
    client, thread_id = await visitor(url, name)
    ids = []
    for text in texts:
        ack = await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": text})
        assert ack["ok"] is True, ack
        ids.append(ack["message"]["id"])
    return client, thread_id, ids


def messages_of(http: Browserish, thread_id: str) -> list[dict]:
    return http.get(f"/api/messages?thread_id={thread_id}").json()


async def wait_for_log(server: LiveServer, line_part: str, timeout: float = 10) -> str:
    """The server's log once it holds `line_part` (a condition, not a guess at a delay)."""
    deadline = time.monotonic() + timeout
    while line_part not in (log := server.log()):
        assert time.monotonic() < deadline, f"{line_part!r} never logged"
        await asyncio.sleep(0.05)
    return log


# --- clear_threads as a subprocess -----------------------------------------------------


async def test_clear_thread_command_tells_connected_clients(redis_server, redis_admin_http):
    admin = await admin_socket(redis_server.url, redis_admin_http)
    client, thread_id, _ = await visitor_with_messages(redis_server.url, "Selin", "bir", "iki")
    bystander, other_id, _ = await visitor_with_messages(redis_server.url, "Bystander", "kalsın")
    done = await asyncio.to_thread(redis_server.manage, "clear_threads", "--thread", thread_id, "--yes")
    assert done.returncode == 0
    assert "Cleared 2 message(s) from 1 thread(s)." in done.stdout
    event = await admin.wait_for("thread_cleared", lambda d: d["thread_id"] == thread_id)
    assert event == {"thread_id": thread_id}
    assert await client.wait_for("thread_cleared") == {"thread_id": thread_id}
    assert messages_of(redis_admin_http, thread_id) == []
    assert [m["content_text"] for m in messages_of(redis_admin_http, other_id)] == ["kalsın"]
    assert bystander.received("thread_cleared") == []
    for c in (admin, client, bystander):
        await c.close()


async def test_older_than_command_deletes_and_tells_admins(redis_server, redis_admin_http):
    admin = await admin_socket(redis_server.url, redis_admin_http)
    client, thread_id, _ = await visitor_with_messages(redis_server.url, "Old timer", "eski")
    await client.close()
    # Make it old through the database the command sees, then delete by age.
    aged = await asyncio.to_thread(
        redis_server.manage,
        "shell",
        "-c",
        "from datetime import timedelta; from django.utils import timezone; from chat.models import Thread; "
        f"Thread.objects.filter(pk='{thread_id}').update(last_activity_at=timezone.now() - timedelta(days=400))",
    )
    assert aged.returncode == 0, aged.stderr
    done = await asyncio.to_thread(redis_server.manage, "clear_threads", "--older-than", "365", "--yes")
    assert "Deleted 1 thread(s)" in done.stdout, done.stdout + done.stderr
    assert await admin.wait_for("thread_deleted", lambda d: d["thread_id"] == thread_id)
    assert thread_id not in {t["id"] for t in redis_admin_http.get("/api/threads").json()}
    await admin.close()


async def test_clear_command_exit_codes_and_dry_run(redis_server, redis_admin_http):
    client, thread_id, _ = await visitor_with_messages(redis_server.url, "Careful", "dokunma")
    await client.close()
    before = redis_admin_http.get("/api/threads").json()

    def manage(*args):
        return redis_server.manage(*args, check=False, input="")

    usage = manage("clear_threads")
    assert usage.returncode == 2 and "one of the arguments" in usage.stderr
    missing = manage("clear_threads", "--thread", "2b1c8a52-3f0e-4c6e-9d7e-000000000000", "--yes")
    assert missing.returncode == 1 and "No such thread" in missing.stderr
    no_tty = manage("clear_threads", "--all")
    assert no_tty.returncode == 2 and "stdin is not a terminal" in no_tty.stderr
    dry = manage("clear_threads", "--all", "--dry-run")
    assert dry.returncode == 0 and "Careful" in dry.stdout and "nothing was changed" in dry.stdout
    assert redis_admin_http.get("/api/threads").json() == before
    assert [m["content_text"] for m in messages_of(redis_admin_http, thread_id)] == ["dokunma"]


def run_in_terminal(server: LiveServer, args: list[str], answer: str) -> tuple[int, str]:
    """Run a command with a pseudo-terminal as stdin, answer its prompt, return (code, output)."""
    primary, secondary = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=server.env,
        stdin=secondary,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    os.close(secondary)
    output = ""
    deadline = time.monotonic() + 60
    while "Type 'yes'" not in output and time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 1)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 4096).decode()
            if not chunk:
                break
            output += chunk
    os.write(primary, (answer + "\n").encode())
    rest, _ = proc.communicate(timeout=60)
    os.close(primary)
    return proc.returncode, output + rest


async def test_clear_command_asks_in_a_terminal(redis_server, redis_admin_http):
    client, thread_id, _ = await visitor_with_messages(redis_server.url, "Asked", "sor bana")
    await client.close()
    code, output = await asyncio.to_thread(
        run_in_terminal, redis_server, ["clear_threads", "--thread", thread_id], "no"
    )
    assert code == 1 and "Cancelled" in output
    assert len(messages_of(redis_admin_http, thread_id)) == 1
    code, output = await asyncio.to_thread(
        run_in_terminal, redis_server, ["clear_threads", "--thread", thread_id], "yes"
    )
    assert code == 0 and "Cleared 1 message(s)" in output
    assert messages_of(redis_admin_http, thread_id) == []


# --- export_threads as a subprocess ----------------------------------------------------


def local_time(iso_utc: str) -> str:
    return (
        datetime.fromisoformat(iso_utc).astimezone(ZoneInfo("Europe/Istanbul")).strftime("%Y-%m-%d %H:%M:%S")
    )


async def test_export_command_round_trips_what_the_api_serves(server, admin_http, tmp_path):
    client, thread_id, ids = await visitor_with_messages(
        server.url, "Exporter Eda", "bir", 'iki, "üç"\nsatır'
    )
    reply = await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "son"})
    ids.append(reply["message"]["id"])
    await client.close()
    api = messages_of(admin_http, thread_id)
    listed = {t["id"]: t for t in admin_http.get("/api/threads").json()}[thread_id]

    target = tmp_path / "export.json"
    done = server.manage("export_threads", "--thread", thread_id, "--output", str(target))
    assert done.returncode == 0 and "Exported 1 thread(s) and 3 message(s)" in done.stderr
    [thread] = json.loads(target.read_text(encoding="utf-8"))
    assert thread["id"] == thread_id and thread["display_name"] == "Exporter Eda"
    assert local_time(thread["created_at"]) == listed["created_at"]
    assert local_time(thread["last_message_at"]) == listed["last_message_time"]
    assert thread["last_message_text"] == "son" and thread["has_messages"] is True
    exported = [{**m, "created_at": local_time(m["created_at"])} for m in thread["messages"]]
    assert [m["client_id"] for m in exported] == [None, None, None]
    assert "search_text" not in exported[0] and "search_name" not in thread
    # Every field of the contract's message shape is exported as the API serves it.
    contract = ("id", "thread_id", "sender", "type", "content_text", "file_path", "created_at")
    assert [{k: m[k] for k in contract} for m in exported] == [{k: m[k] for k in contract} for m in api]
    # created_iso is the same instant, to the millisecond (the export keeps microseconds).
    exported_instants = [datetime.fromisoformat(m["created_at"]) for m in thread["messages"]]
    assert [datetime.fromisoformat(m["created_iso"]) for m in api] == [
        t.replace(microsecond=t.microsecond // 1000 * 1000) for t in exported_instants
    ]
    assert [m["id"] for m in exported] == ids

    as_csv = server.manage("export_threads", "--thread", thread_id, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [r["message_id"] for r in rows] == ids
    assert [r["message_content_text"] for r in rows] == ["bir", 'iki, "üç"\nsatır', "son"]
    assert {r["thread_display_name"] for r in rows} == {"Exporter Eda"}

    bad = server.manage("export_threads", "--since", "someday", check=False)
    assert bad.returncode == 2 and "is not a date" in bad.stderr


# --- issue_login_code ------------------------------------------------------------------


def test_issue_login_code_signs_an_admin_in(server):
    done = server.manage("issue_login_code")
    code = done.stdout.strip()
    assert len(code) == 6 and code.isdigit()
    http = Browserish(server.url)
    http.get("/login")
    assert http.post("/verify-otp", json={"otp": code}).json()["success"] is True
    assert http.get("/api/threads").status_code == 200
    assert code not in server.log()


# --- /healthz --------------------------------------------------------------------------


def test_health_without_redis(server):
    response = requests.get(server.url + "/healthz", timeout=5)
    assert response.status_code == 200
    body = response.json()
    assert (
        body["status"] == "ok" and body["database"] == {"ok": True} and body["redis"] == {"configured": False}
    )
    # The Telegram bridge adds its own report (mode, last error, backlog) when it has one.
    assert body["telegram"]["configured"] is False
    assert set(body["telegram"]) <= {
        "configured",
        "mode",
        "last_error",
        "last_error_at",
        "last_ok_at",
        "pending",
        "failed",
        "error",
    }
    assert "no-cache" in response.headers["Cache-Control"]
    assert requests.post(server.url + "/healthz", timeout=5).status_code in (403, 405)


def test_health_with_redis(redis_server):
    body = requests.get(redis_server.url + "/healthz", timeout=5).json()
    assert body["status"] == "ok" and body["redis"] == {"ok": True} and body["database"] == {"ok": True}


def test_health_is_503_when_redis_is_down_and_names_no_secret(make_server):
    port = closed_port()
    live = make_server(
        env={
            "REDIS_URL": f"redis://:r3dispass@127.0.0.1:{port}/0",
            "SOCKETIO_REDIS_CHANNEL": "chatdesk-ops-tests-down",
            "TELEGRAM_BOT_TOKEN": "123456:SECRET-TOKEN-abc",
            "TELEGRAM_CHAT_ID": "-100777",
        }
    )
    # Answered (503), not left hanging: a request that hung would fail at its timeout.
    response = requests.get(live.url + "/healthz", timeout=30)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["database"] == {"ok": True}
    assert body["redis"]["ok"] is False
    assert body["telegram"]["configured"] is True
    for secret in ("r3dispass", "SECRET-TOKEN", "123456", str(port), "-100777"):
        assert secret not in response.text


def test_health_is_503_when_the_database_is_down(make_server):
    port = closed_port()
    live = make_server(
        env={
            "DATABASE_URL": f"postgres://postgres:pgs3cret@127.0.0.1:{port}/chatdesk",
            "DJANGO_DEBUG": "0",
            "SECURE_SSL_REDIRECT": "0",
            "DATABASE_CONNECT_TIMEOUT": "2",
            "DATABASE_POOL_TIMEOUT": "2",
        },
        migrate=False,
    )
    # Answered (503), not left hanging: a request that hung would fail at its timeout.
    response = requests.get(live.url + "/healthz", timeout=30, allow_redirects=False)
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["database"]["ok"] is False and body["redis"] == {"configured": False}
    assert "pgs3cret" not in response.text and str(port) not in response.text


@pytest.mark.django_db
def test_health_is_not_redirected_to_https(client, settings):
    """Production redirects everything to HTTPS, except the load balancer's plain-HTTP probe."""
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/").status_code == 301
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["database"] == {"ok": True}


# --- logs ------------------------------------------------------------------------------


async def test_logs_have_sign_ins_but_no_codes_or_message_text(server):
    http = Browserish(server.url)
    http.get("/login")
    assert http.post("/verify-otp", json={"otp": "000000"}).status_code == 400
    code = http.post("/request-otp", json={}).json()["otp"]
    assert http.post("/verify-otp", json={"otp": code}).status_code == 200
    marker = f"secret-marker-{secrets.token_hex(8)}"
    client, thread_id, _ = await visitor_with_messages(server.url, f"name-{marker}", f"text {marker}")
    admin = await admin_socket(server.url, http)
    ack = await admin.call(
        "message_to_visitor", {"thread_id": thread_id, "type": "text", "text": f"re {marker}"}
    )
    assert ack["ok"] is True, ack
    await client.close()
    await admin.close()
    # Proof by order, not a sleep: the server logs a refused event of a last client after
    # everything above was acknowledged; once that line is in the log, so is anything the
    # messages above could have logged.
    last = await Recorder(server.url).connect()
    sid = last.sio.get_sid()
    refused = await last.call("heartbeat", {"thread_id": "not-an-id"})
    assert refused["ok"] is False
    await last.close()
    log = await wait_for_log(server, f"sid={sid}")
    assert "signin_success ip=127.0.0.1" in log
    assert "signin_failed ip=127.0.0.1 reason=" in log
    assert code not in log
    assert marker not in log
    lines = [line for line in log.splitlines() if "level=" in line]
    assert lines and all(" logger=" in line for line in lines)


# --- check --deploy --------------------------------------------------------------------


def test_check_deploy_is_clean_with_production_settings():
    env = {
        **os.environ,
        **BASE_ENV,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "chat.example.com",
        "DATABASE_URL": "sqlite:///:memory:",
    }
    for name in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "WARNINGS" not in done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_check_deploy_warns_when_production_is_weakened():
    """The check above could not fail if nothing were checked: turn a setting off and see."""
    env = {
        **os.environ,
        **BASE_ENV,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "chat.example.com",
        "DATABASE_URL": "sqlite:///:memory:",
        "SESSION_COOKIE_SECURE": "0",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "security.W012" in done.stdout + done.stderr


async def test_events_stay_on_the_servers_redis_channel(redis_server, redis_admin_http, make_server):
    """The ops servers publish on a channel of their own: a server on another channel of the
    same Redis never hears their events (and the other way round)."""
    other = make_server(env={**REDIS_ENV, "SOCKETIO_REDIS_CHANNEL": "chatdesk-ops-tests-other"})
    other_admin = await admin_socket(other.url, sign_in(other.url))
    ops_admin = await admin_socket(redis_server.url, redis_admin_http)
    ops_visitor, ops_thread, _ = await visitor_with_messages(redis_server.url, "Ops", "ops only")
    await ops_admin.wait_for("message_from_visitor", lambda d: d["thread_id"] == ops_thread)
    other_visitor, other_thread, _ = await visitor_with_messages(other.url, "Other", "other only")
    await other_admin.wait_for("message_from_visitor", lambda d: d["thread_id"] == other_thread)
    heard = [d["content_text"] for d in other_admin.received("message_from_visitor")]
    assert heard == ["other only"]
    assert [d["id"] for d in other_admin.received("thread_created")] == [other_thread]
    assert other_thread not in {d["thread_id"] for d in ops_admin.received("message_from_visitor")}
    for c in (other_admin, ops_admin, ops_visitor, other_visitor):
        await c.close()
