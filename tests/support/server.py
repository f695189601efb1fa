"""Start the real ASGI app under daphne, in its own process, for tests and benchmarks."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]

# What every test server runs with unless a test says otherwise: development mode
# without Telegram, generous limits so tests are not throttled by each other.
BASE_ENV = {
    "DJANGO_DEBUG": "1",
    "DJANGO_SECRET_KEY": "test-secret-key-not-for-production-0123456789abcdefghijklmnop",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "TELEGRAM_BOT_TOKEN": "",
    "TELEGRAM_CHAT_ID": "",
    "TELEGRAM_WEBHOOK_SECRET": "",
    # The control card (issue 13) is one more bot message per thread: off unless a test
    # is about it (tests/telegram/test_card.py), so other tests' exact call lists hold.
    "TELEGRAM_CARDS": "0",
    "CLOUDINARY_URL": "",
    "REDIS_URL": "",
    "OTP_REQUESTS_PER_WINDOW": "10000",
    "OTP_VERIFY_FAILURES_PER_IP": "10000",
    "OTP_REQUESTS_PER_SESSION": "10000",
    "OTP_REQUESTS_GLOBAL": "10000",
    "OTP_VERIFY_FAILURES_GLOBAL": "10000",
    "UPLOADS_PER_MINUTE": "10000",
    "SOCKET_MESSAGES_PER_MINUTE": "10000",
    "SOCKET_JOINS_PER_MINUTE": "10000",
    "SOCKET_HEARTBEATS_PER_MINUTE": "10000",
    "SOCKETIO_MAX_CONNECTIONS_PER_IP": "10000",
    "CONVERSATIONS_PER_HOUR_PER_IP": "1000000",
    "MESSAGES_PER_MINUTE_PER_IP": "1000000",
    "UPLOAD_BYTES_PER_DAY_PER_IP": str(1 << 40),
    "UPLOAD_MIN_FREE_BYTES": "0",
    "LOG_LEVEL": "INFO",
    "PYTHONUNBUFFERED": "1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """One daphne process serving chatdesk.asgi:application on 127.0.0.1."""

    def __init__(
        self,
        env: dict[str, str] | None = None,
        workdir: Path | None = None,
        migrate: bool = True,
        port: int | None = None,
        command: list[str] | None = None,
    ):
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="chatdesk-test-"))
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **BASE_ENV}
        self.env.setdefault("DATABASE_URL", "")
        if not (env or {}).get("DATABASE_URL"):
            self.env["DATABASE_URL"] = f"sqlite:///{self.workdir / 'db.sqlite3'}"
        self.env["UPLOADS_ROOT"] = str(self.workdir / "uploads")
        self.env.update(env or {})
        # The server's command line, without the port: daphne itself unless a test runs
        # another entry point (e.g. `python -m chatdesk.serve`, which gets --port).
        self.command = command
        self.log_path = self.workdir / f"server-{self.port}.log"
        self.process: subprocess.Popen | None = None
        if migrate:
            self.manage("migrate", "--noinput", "-v0")

    def manage(self, *args: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )

    def start(self) -> LiveServer:
        log = open(self.log_path, "ab")
        if self.command:
            command = [*self.command, "--port", str(self.port)]
        else:
            command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port)]
            command.append("chatdesk.asgi:application")
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if requests.get(self.url + "/favicon.ico", timeout=1).status_code == 204:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
