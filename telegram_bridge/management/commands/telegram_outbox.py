"""manage.py telegram_outbox list | retry: what waits for Telegram, and sending failed items again."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from telegram_bridge import admin_chat, outbox
from telegram_bridge.models import OutboxItem


class Command(BaseCommand):
    help = (
        "The Telegram outbox. `list` shows items (failed ones by default) with their attempts "
        "and last error; `retry` sends failed items again from now (all of them, or the ids "
        "given), once the cause is fixed: the bot added back to the admin chat, the chat id "
        "or token corrected. Safe to re-run: only failed items are touched."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        lister = sub.add_parser("list", help="show outbox items")
        lister.add_argument(
            "--state",
            choices=["failed", "pending", "all"],
            default="failed",
            help="which items (default failed)",
        )
        lister.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
        retry = sub.add_parser("retry", help="send failed items again")
        retry.add_argument("ids", nargs="*", type=int, help="item ids (default: every failed item)")

    def handle(self, *args, action: str, **options):
        getattr(self, f"do_{action}")(**options)

    def do_list(self, state: str = "failed", limit: int = 50, **options):
        items = OutboxItem.objects.order_by("id")
        if state != "all":
            items = items.filter(state=state)
        total = items.count()
        for item in items[: max(0, limit)]:
            error = item.last_error.replace("\n", " ")[:120]
            self.stdout.write(
                f"{item.pk}\t{item.state}\t{item.kind}\tchat={item.chat_id}\tattempts={item.attempts}\t"
                f"created={item.created_at.isoformat(timespec='seconds')}\t{error}"
            )
        self.stdout.write(f"{total} {state if state != 'all' else ''} item(s).".replace("  ", " "))
        refusal = admin_chat.refusal()
        if refusal:
            self.stdout.write(f"Telegram refuses the bot: {refusal['reason']} (since {refusal['since']}).")

    def do_retry(self, ids: list[int] | None = None, **options):
        items = OutboxItem.objects.all()
        if ids:
            items = items.filter(pk__in=ids)
            unknown = set(ids) - set(items.filter(state=OutboxItem.State.FAILED).values_list("pk", flat=True))
            if unknown:
                raise CommandError(f"Not failed items: {', '.join(map(str, sorted(unknown)))}")
        count = outbox.requeue(items)
        self.stdout.write(self.style.SUCCESS(f"{count} failed item(s) requeued."))
