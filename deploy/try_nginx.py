"""Try the deployment files on this machine: nginx (deploy/nginx-chatdesk.conf, with a
self-signed certificate and high ports) in front of two daphne processes on PostgreSQL
and Redis, then Socket.IO over WebSocket and over polling through it.

    .venv/bin/python deploy/try_nginx.py

It also checks that a client which never finishes its request headers is cut off by
nginx (client_header_timeout) and never reaches daphne.

Needs nginx, openssl, PostgreSQL (postgres@127.0.0.1:5432, trust) and Redis on this
host. Creates a scratch database and drops it afterwards; stops everything it started.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import socketio
import urllib3

ROOT = Path(__file__).resolve().parent.parent
DB = f"chatdesk_deploy_trial_{secrets.token_hex(4)}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1, verify=False)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def site_config(app_ports: list[int], http_port: int, https_port: int, cert: Path, key: Path) -> str:
    """The shipped site file with this machine's ports and a self-signed certificate."""
    text = (ROOT / "deploy" / "nginx-chatdesk.conf").read_text()
    servers = "".join(f"    server 127.0.0.1:{p};\n" for p in app_ports)
    text = re.sub(r"(    server 127\.0\.0\.1:\d+;\n)+", servers, text)
    text = text.replace("listen 80;", f"listen 127.0.0.1:{http_port};").replace("listen [::]:80;", "")
    text = text.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
    text = text.replace("listen [::]:443 ssl http2;", "")
    text = text.replace("/etc/letsencrypt/live/chat.example.com/fullchain.pem", str(cert))
    text = text.replace("/etc/letsencrypt/live/chat.example.com/privkey.pem", str(key))
    text = text.replace(
        "return 301 https://$host$request_uri;", f"return 301 https://$host:{https_port}$request_uri;"
    )
    return text


async def through_proxy(base: str, http: requests.Session, transport: str) -> None:
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    admin = socketio.AsyncClient(ssl_verify=False, reconnection=False)
    got: list = []
    admin.on("message_from_visitor", lambda data: got.append(data))
    await admin.connect(base, headers={"Cookie": cookie}, transports=[transport], wait_timeout=10)
    assert await admin.call("admin_join", {}, timeout=10) == {"ok": True}
    guest = socketio.AsyncClient(ssl_verify=False, reconnection=False)
    await guest.connect(base, transports=[transport], wait_timeout=10)
    joined = await guest.call("join", {"display_name": f"via nginx ({transport})"}, timeout=10)
    ack = await guest.call(
        "message_to_admin",
        {"thread_id": joined["thread_id"], "type": "text", "text": "hello through nginx"},
        timeout=10,
    )
    assert ack["ok"], ack
    for _ in range(50):
        if got:
            break
        await asyncio.sleep(0.1)
    assert got and got[0]["thread_id"] == joined["thread_id"], got
    print(f"  {transport}: admin got the visitor's message through nginx (sid {admin.get_sid()})")
    await guest.disconnect()
    await admin.disconnect()


def slow_client_cut_after(https_port: int) -> float:
    """Seconds until nginx hangs up on a client that never finishes its request headers
    (client_header_timeout; daphne alone would wait forever)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", https_port), timeout=60) as raw:
        with context.wrap_socket(raw) as tls:
            tls.sendall(b"GET /slow-client-probe HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            start = time.monotonic()
            while tls.recv(1024):  # nginx may answer 408 before closing; wait for the close
                pass
            return time.monotonic() - start


def main() -> int:
    urllib3.disable_warnings()
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    work = Path(tempfile.mkdtemp(prefix="chatdesk-nginx-"))
    app_ports, http_port, https_port = [free_port(), free_port()], free_port(), free_port()
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CSRF_TRUSTED_ORIGINS": f"https://127.0.0.1:{https_port}",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "SOCKETIO_REDIS_CHANNEL": f"chatdesk-deploy-trial-{secrets.token_hex(4)}",
        "TRUSTED_PROXY_HOPS": "1",
        "USE_X_FORWARDED_PROTO": "1",
        "UPLOADS_ROOT": str(work / "uploads"),
        "TELEGRAM_BOT_TOKEN": "",
        "TELEGRAM_CHAT_ID": "",
    }
    procs: list[subprocess.Popen] = []
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB], check=True)
    try:
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        for port in app_ports:
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "daphne",
                        "-b",
                        "127.0.0.1",
                        "-p",
                        str(port),
                        "chatdesk.asgi:application",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=open(work / f"daphne-{port}.log", "wb"),
                    stderr=subprocess.STDOUT,
                )
            )
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=127.0.0.1",
                "-keyout",
                str(work / "key.pem"),
                "-out",
                str(work / "cert.pem"),
            ],
            check=True,
            capture_output=True,
        )
        (work / "logs").mkdir()
        (work / "site.conf").write_text(
            site_config(app_ports, http_port, https_port, work / "cert.pem", work / "key.pem")
        )
        (work / "nginx.conf").write_text(
            f"pid {work}/nginx.pid;\nerror_log {work}/logs/error.log;\nevents {{}}\n"
            f"http {{\n  include /etc/nginx/mime.types;\n  access_log {work}/logs/access.log;\n"
            f"  client_body_temp_path {work}/body; proxy_temp_path {work}/proxy;\n"
            f"  include {work}/site.conf;\n}}\n"
        )
        subprocess.run([nginx, "-t", "-p", str(work), "-c", str(work / "nginx.conf")], check=True)
        procs.append(
            subprocess.Popen([nginx, "-p", str(work), "-c", str(work / "nginx.conf"), "-g", "daemon off;"])
        )
        for port in app_ports:
            wait_http(f"http://127.0.0.1:{port}/healthz")
        base = f"https://127.0.0.1:{https_port}"
        wait_http(base + "/healthz")

        probe = requests.get(f"http://127.0.0.1:{http_port}/healthz", timeout=5)
        print(f"http  /healthz -> {probe.status_code} {probe.json()}")
        assert probe.status_code == 200 and probe.json()["redis"] == {"ok": True}
        redirect = requests.get(f"http://127.0.0.1:{http_port}/login", timeout=5, allow_redirects=False)
        print(f"http  /login   -> {redirect.status_code} {redirect.headers.get('Location')}")
        assert redirect.status_code == 301
        page = requests.get(base + "/", timeout=5, verify=False)
        static = re.search(r'src="(/static/[^"]+\.js)"', page.text)
        assert page.status_code == 200 and static, page.status_code
        js = requests.get(base + static.group(1), timeout=5, verify=False)
        print(
            f"https /        -> {page.status_code}; {static.group(1)} -> {js.status_code} "
            f"({js.headers.get('Cache-Control')})"
        )
        assert js.status_code == 200

        # Sign in as an operator would without Telegram: issue_login_code.
        code = subprocess.run(
            [*manage, "issue_login_code"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        ).stdout.strip()
        http = requests.Session()
        http.get(base + "/login", timeout=5, verify=False)
        signed = http.post(
            base + "/verify-otp",
            json={"otp": code},
            timeout=5,
            verify=False,
            headers={"X-CSRFToken": http.cookies["csrftoken"], "Referer": base + "/login"},
        )
        print(f"https sign-in  -> {signed.status_code} {signed.json()}")
        assert signed.status_code == 200

        for transport in ("websocket", "polling"):
            asyncio.run(through_proxy(base, http, transport))
        access = (work / "logs" / "access.log").read_text()
        upgrades = access.count("transport=websocket") and access.count(" 101 ")
        polls = len(re.findall(r"transport=polling\S* HTTP/1\.1\" 200", access))
        print(f"nginx access log: {upgrades} websocket upgrade(s) (101), {polls} polling request(s) (200)")
        waited = slow_client_cut_after(https_port)
        reached = [p for p in app_ports if "/slow-client-probe" in (work / f"daphne-{p}.log").read_text()]
        print(
            f"slow client: nginx hung up after {waited:.1f} s of unfinished headers; daphne saw it: {reached}"
        )
        assert waited < 15 and reached == []
        print("OK: the nginx site, two daphne processes, PostgreSQL and Redis work together.")
        return 0
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB], check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
