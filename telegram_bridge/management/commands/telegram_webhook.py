"""manage.py telegram_webhook set URL | delete | info"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlparse

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from telegram_bridge import state
from telegram_bridge.client import ALLOWED_UPDATES, TelegramClient, TelegramError
from telegram_bridge.otp import is_configured


class Command(BaseCommand):
    help = (
        "Manage the Telegram webhook. `set URL` tells Telegram to POST updates to URL "
        "(https://your.host/telegram/webhook) with TELEGRAM_WEBHOOK_SECRET as its secret "
        "header; `delete` removes it (use `telegram_poll` then); `info` shows what Telegram "
        "has (URL, pending updates, last delivery error) and our outbox backlog."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        setter = sub.add_parser("set", help="point Telegram at URL")
        setter.add_argument("url", help="public https URL ending in /telegram/webhook")
        setter.add_argument(
            "--drop-pending", action="store_true", help="discard updates Telegram holds for the bot"
        )
        sub.add_parser("delete", help="remove the webhook")
        sub.add_parser("info", help="show the webhook and the bridge's state")

    def handle(self, *args, action: str, **options):
        if not is_configured():
            raise CommandError("Telegram is not configured: set TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID.")
        client = TelegramClient.from_settings()
        try:
            getattr(self, f"do_{action}")(client, **options)
        except TelegramError as exc:
            raise CommandError(f"Telegram refused: {exc}") from None

    def do_set(self, client: TelegramClient, url: str, drop_pending: bool = False, **options):
        if not settings.TELEGRAM_WEBHOOK_SECRET:
            raise CommandError("Set TELEGRAM_WEBHOOK_SECRET first: the webhook refuses updates without it.")
        parsed = urlparse(url)
        if parsed.scheme != "https" or not parsed.netloc:
            raise CommandError("Telegram only calls https URLs: give https://your.host/telegram/webhook.")
        if not parsed.path.rstrip("/").endswith("/telegram/webhook"):
            self.stderr.write("Warning: chatdesk receives updates at /telegram/webhook.")
        client.call(
            "setWebhook",
            url=url,
            secret_token=settings.TELEGRAM_WEBHOOK_SECRET,
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=drop_pending or None,
        )
        state.set_value("mode", "webhook")
        self.stdout.write(self.style.SUCCESS(f"Webhook set: {url}"))

    def do_delete(self, client: TelegramClient, **options):
        client.call("deleteWebhook")
        state.set_value("mode", "")
        self.stdout.write(
            self.style.SUCCESS("Webhook deleted. Run `manage.py telegram_poll` to receive updates.")
        )

    def do_info(self, client: TelegramClient, **options):
        info = client.call("getWebhookInfo") or {}
        self.stdout.write(f"webhook url: {info.get('url') or '(none: use telegram_poll)'}")
        self.stdout.write(f"pending updates at Telegram: {info.get('pending_update_count', 0)}")
        missing = [
            kind for kind in ALLOWED_UPDATES if kind not in (info.get("allowed_updates") or ALLOWED_UPDATES)
        ]
        if info.get("url") and missing:
            # Set before this version asked for them: edits, buttons, the bot's removal.
            self.stdout.write(f"not subscribed to: {', '.join(missing)} (run `telegram_webhook set` again)")
        if info.get("last_error_message"):
            when = datetime.fromtimestamp(info.get("last_error_date", 0), UTC).isoformat()
            self.stdout.write(f"last delivery error: {info['last_error_message']} ({when})")
        report = state.status()
        self.stdout.write(f"outbox: {report['pending']} pending, {report['failed']} failed")
        if report["last_error"]:
            self.stdout.write(f"last send error: {report['last_error']} ({report['last_error_at']})")
