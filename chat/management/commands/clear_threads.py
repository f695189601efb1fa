"""Clear or delete conversations from the command line, as the panel does."""

from __future__ import annotations

import sys
import uuid
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from chat import services
from chat.models import Message, Thread

BATCH = 500


def usage_error(message: str) -> CommandError:
    return CommandError(message, returncode=2)


class Command(BaseCommand):
    help = (
        "Clear or delete conversations through the same domain operations as the admin "
        "panel, so connected panels and visitors are told (with REDIS_URL set; without it "
        "this process cannot reach the server's sockets and only the database changes).\n"
        "What goes:\n"
        "  --thread ID      that thread's messages; the thread stays (the panel's 'Clear'). "
        "Repeatable.\n"
        "  --older-than D   whole threads, with their messages and Telegram links, whose last "
        "activity is more than D days ago.\n"
        "  --all            every thread, message and Telegram link (the panel's 'Clear all').\n"
        "With --keep-threads, --older-than and --all clear the messages and keep the threads.\n"
        "Asks for confirmation unless --yes; refuses without a terminal and without --yes. "
        "Exit codes: 0 done (or nothing to do), 1 error, 2 usage error."
    )

    def add_arguments(self, parser):
        what = parser.add_mutually_exclusive_group(required=True)
        what.add_argument("--all", action="store_true", help="Everything: every thread, message and link.")
        what.add_argument(
            "--thread",
            action="append",
            metavar="ID",
            dest="threads",
            help="Clear the messages of this thread (its id). Repeatable.",
        )
        what.add_argument(
            "--older-than",
            type=int,
            metavar="DAYS",
            help="Threads whose last activity is more than DAYS days ago.",
        )
        parser.add_argument(
            "--keep-threads",
            action="store_true",
            help="With --all or --older-than: clear messages, keep the threads.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Print what would go; change nothing.")
        parser.add_argument("--yes", "-y", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args, **options):
        if options["keep_threads"] and options["threads"]:
            raise usage_error("--keep-threads goes with --all or --older-than (--thread always keeps it).")
        if options["older_than"] is not None and options["older_than"] < 0:
            raise usage_error("--older-than must be 0 or more days.")
        selected, delete, summary = self.select(options)
        threads = selected.count()
        messages = Message.objects.filter(thread__in=selected).count()
        verb = "delete" if delete else "clear the messages of"
        self.stdout.write(f"Would {verb} {threads} thread(s) holding {messages} message(s): {summary}.")
        if options["dry_run"] or options["verbosity"] >= 2:
            self.list_threads(selected)
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing was changed.")
            return
        if threads == 0:
            self.stdout.write("Nothing to do.")
            return
        if not options["yes"]:
            self.confirm(f"{verb.capitalize()} {threads} thread(s) and {messages} message(s)?")
        if options["all"] and delete:
            services.clear_all()
            self.stdout.write(
                self.style.SUCCESS(f"Deleted everything: {threads} thread(s), {messages} message(s).")
            )
        elif delete:
            deleted = self.delete_in_batches(selected)
            self.stdout.write(self.style.SUCCESS(f"Deleted {deleted} thread(s) and their messages."))
        else:
            cleared = 0
            for thread_id in selected.values_list("pk", flat=True).iterator(chunk_size=BATCH):
                try:
                    cleared += services.clear_thread(thread_id)
                except services.ThreadNotFound:
                    continue  # deleted meanwhile
            self.stdout.write(self.style.SUCCESS(f"Cleared {cleared} message(s) from {threads} thread(s)."))

    def select(self, options):
        """The threads concerned, whether they are deleted (or only cleared), and a summary."""
        if options["threads"]:
            ids = []
            for raw in options["threads"]:
                try:
                    ids.append(uuid.UUID(raw))
                except ValueError:
                    raise usage_error(f"--thread {raw!r} is not a thread id (a UUID).") from None
            found = set(Thread.objects.filter(pk__in=ids).values_list("pk", flat=True))
            missing = [str(i) for i in ids if i not in found]
            if missing:
                raise CommandError(f"No such thread: {', '.join(missing)}. Nothing was changed.")
            return Thread.objects.filter(pk__in=ids), False, "the given threads"
        delete = not options["keep_threads"]
        if options["all"]:
            return Thread.objects.all(), delete, "all threads"
        cutoff = timezone.now() - timedelta(days=options["older_than"])
        old = Thread.objects.annotate(active_at=Coalesce("last_activity_at", "created_at")).filter(
            Q(active_at__lt=cutoff)
        )
        return (
            Thread.objects.filter(pk__in=old.values("pk")),
            delete,
            (f"last activity before {timezone.localtime(cutoff):%Y-%m-%d %H:%M:%S}"),
        )

    def list_threads(self, selected):
        rows = (
            selected.annotate(n=Count("messages"))
            .order_by("last_activity_at")
            .values_list("pk", "display_name", "last_activity_at", "n")
        )
        for pk, name, active, n in rows.iterator(chunk_size=BATCH):
            when = f"{timezone.localtime(active):%Y-%m-%d %H:%M:%S}" if active else "never"
            self.stdout.write(f"  {pk}  {name!r}  last activity {when}  {n} message(s)")

    def delete_in_batches(self, selected) -> int:
        deleted = 0
        while True:
            batch = list(selected.values_list("pk", flat=True)[:BATCH])
            if not batch:
                return deleted
            deleted += services.delete_threads(batch)

    def confirm(self, question: str) -> None:
        if not sys.stdin.isatty():
            raise usage_error(
                "Refusing to change data without confirmation: stdin is not a terminal. "
                "Pass --yes to confirm (or --dry-run to look first)."
            )
        answer = input(f"{question} Type 'yes' to continue: ")
        if answer.strip().lower() not in ("yes", "y"):
            raise CommandError("Cancelled; nothing was changed.")
