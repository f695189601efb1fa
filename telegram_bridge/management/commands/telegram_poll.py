"""manage.py telegram_poll: receive updates by long polling, for hosts without a public URL."""

from __future__ import annotations

import signal
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from telegram_bridge import admin_chat, state, worker
from telegram_bridge.client import ALLOWED_UPDATES, TelegramClient, TelegramError
from telegram_bridge.inbound import Receiver, record_update
from telegram_bridge.otp import is_configured
from telegram_bridge.sender import LEASE, WORKER_ID, Sender

# The offset belongs to one bot: its key carries the bot's id (getMe), so a new token
# (another bot) starts from its own first update, not from the old bot's number.
OFFSET_KEY = "poll_offset:{bot_id}"


class Command(BaseCommand):
    help = (
        "Receive Telegram updates with getUpdates long polling (instead of a webhook) and "
        "send the outbox. Removes any webhook first (Telegram allows only one of the two). "
        "The offset is stored in the database, so after a restart no update is handled "
        "twice. Runs until stopped (Ctrl-C / SIGTERM) unless --once is given. Needs "
        "TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID; set REDIS_URL so replies reach the "
        "visitors' sockets held by the server processes."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="fetch updates once, handle them, send what is due, then exit"
        )
        parser.add_argument(
            "--timeout",
            type=int,
            default=None,
            help="long-poll seconds per getUpdates (default 25; 0 with --once)",
        )

    def handle(self, *args, once: bool = False, timeout: int | None = None, **options):
        if not is_configured():
            raise CommandError("Telegram is not configured: set TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID.")
        poll_timeout = timeout if timeout is not None else (0 if once else 25)
        if poll_timeout < 0 or poll_timeout > 50:
            raise CommandError("--timeout must be between 0 and 50 seconds.")
        client = TelegramClient.from_settings()
        try:
            client.call("deleteWebhook", drop_pending_updates=False)
            self.offset_key = OFFSET_KEY.format(bot_id=int(client.call("getMe")["id"]))
        except TelegramError as exc:
            raise CommandError(f"Could not remove the webhook: {exc}") from None
        state.set_value("mode", "polling")
        if once:
            received = self.fetch(client, poll_timeout)
            self.drain()
            self.stdout.write(f"{received} update(s) received.")
            return
        stopping = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stopping.append(True))
        worker.start_in_background()
        self.stdout.write(f"Polling Telegram (chat {admin_chat.current()}); Ctrl-C to stop.")
        failures = 0
        while not stopping:
            try:
                self.fetch(client, poll_timeout)
                failures = 0
            except TelegramError as exc:
                failures += 1
                state.record_error(str(exc))
                self.stderr.write(f"getUpdates failed: {exc}")
                time.sleep(min(60, 2**failures))
            finally:
                close_old_connections()
        worker.stop()
        self.stdout.write("Stopped.")

    def fetch(self, client: TelegramClient, poll_timeout: int) -> int:
        """One getUpdates: record each update, then store the next offset."""
        offset = int(state.get_value(self.offset_key) or 0)
        updates = (
            client.call(
                "getUpdates",
                offset=offset or None,
                timeout=poll_timeout,
                allowed_updates=ALLOWED_UPDATES,
                http_timeout=poll_timeout + 15,
            )
            or []
        )
        newest = None
        for update in updates:
            try:
                record_update(update)
            except ValueError:
                continue
            newest = max(newest or 0, update["update_id"])
        if newest is not None:
            # Recorded first, then confirmed: a crash in between re-fetches, and the
            # update_id key makes the second copy a no-op.
            state.set_value(self.offset_key, str(newest + 1))
        return len(updates)

    def drain(self) -> None:
        """--once: handle every recorded update, then send what is due (if no server is)."""
        receiver = Receiver()
        while receiver.step():
            pass
        sender = Sender()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            done = sender.delivered
            wait = sender.step(idle=0.0)
            # Stop when nothing moved and nothing is about to: another process holds the
            # lease, the outbox is empty, or what is left waits for a retry.
            if sender.delivered == done and (wait == 0.0 or wait > 1.0):
                break
            time.sleep(wait)
        state.release_lease(LEASE, WORKER_ID)
