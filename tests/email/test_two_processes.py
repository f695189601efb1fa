"""Two server processes on one database both run an email worker: each email is claimed
by one of them and sent once."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from pathlib import Path

from tests.support.clients import admin_socket, sign_in
from tests.support.server import LiveServer
from tests.support.smtp import start_email_server, text_of

from .test_replies_by_email import reply, visitor_with_email


async def test_each_email_is_sent_once_by_one_of_two_processes(smtp):
    database = Path(tempfile.mkdtemp(prefix="chatdesk-email-")) / "shared.sqlite3"
    env = {"DATABASE_URL": f"sqlite:///{database}"}
    first = start_email_server(smtp, **env)
    second: LiveServer = start_email_server(smtp, **env)
    try:
        admin = await admin_socket(first.url, sign_in(first.url))
        addresses = [f"twice-{uuid.uuid4().hex[:8]}@example.com" for _ in range(6)]
        threads = []
        for address in addresses:
            visitor, _page, thread_id = await visitor_with_email(first.url, address)
            await visitor.close()
            threads.append(thread_id)
        # All due at the same moment: both workers wake for them.
        await asyncio.gather(*(reply(admin, thread_id, f"Answer {i}") for i, thread_id in enumerate(threads)))
        for i, address in enumerate(addresses):
            [message] = await smtp.arrived(address, 1)
            assert f"Answer {i}" in text_of(message)
        await admin.close()
        # Each process logs what it sent: six sends in all, and one email per address.
        sent = [line for line in (first.log() + second.log()).splitlines() if "email_sent" in line]
        assert len(sent) == len(addresses), sent
        for address in addresses:
            assert [m["Subject"] for m in smtp.to(address)] == ["Admin replied to your message"]
    finally:
        first.cleanup()
        second.cleanup()
