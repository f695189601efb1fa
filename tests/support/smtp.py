"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, and can be
stopped and started again on the same port (an outage)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import threading
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from .server import LiveServer, free_port

HEALTHZ_TOKEN = "email-tests-token"


class SMTPServer:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(
            envelope.original_content or envelope.content, policy=email.policy.default
        )
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted"

    def start(self) -> SMTPServer:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, ready_timeout=10)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if address in str(m["To"])]

    def wait_for(self, address: str, count: int, timeout: float = 45) -> list[EmailMessage]:
        """Wait until `address` has received `count` emails; return them (exactly those)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{address} got {len(self.to(address))} emails, not {count}, within {timeout}s")

    async def arrived(self, address: str, count: int, timeout: float = 45) -> list[EmailMessage]:
        """wait_for() for async tests: the event loop keeps serving their sockets."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found
            await asyncio.sleep(0.05)
        raise AssertionError(f"{address} got {len(self.to(address))} emails, not {count}, within {timeout}s")


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def links_in(message: EmailMessage) -> dict[str, str]:
    """The reopen and unsubscribe links of an email's plain text."""
    text = text_of(message)
    resume = re.search(r"https?://\S+/c/\S+", text)
    unsubscribe = re.search(r"https?://\S+/email/unsubscribe/\S+", text)
    return {
        "resume": resume.group(0) if resume else "",
        "unsubscribe": unsubscribe.group(0) if unsubscribe else "",
    }


def start_email_server(smtp: SMTPServer, **env: str) -> LiveServer:
    """A chatdesk server that emails through `smtp`, with the delays in seconds: replies
    are emailed 2 s after they went unseen, at most one email per thread per 4 s."""
    port = free_port()
    live = LiveServer(
        port=port,
        env={
            "EMAIL_URL": smtp.url,
            "DEFAULT_FROM_EMAIL": "Support <support@chatdesk.test>",
            "SITE_URL": f"http://127.0.0.1:{port}",
            "EMAIL_UNSEEN_SECONDS": "2",
            "EMAIL_BATCH_SECONDS": "4",
            "EMAIL_RETRY_BASE_SECONDS": "1",
            "EMAIL_RETRY_MAX_SECONDS": "1",
            "EMAIL_TIMEOUT": "5",
            "AVAILABILITY_CHECK_SECONDS": "1",
            "AVAILABILITY_MEDIAN_CACHE_SECONDS": "0",
            "HEALTHZ_TOKEN": HEALTHZ_TOKEN,
            **env,
        },
    )
    return live.start()
