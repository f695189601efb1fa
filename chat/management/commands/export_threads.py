"""Export conversations with their messages as JSON or CSV, streaming."""

from __future__ import annotations

import csv
import json
import sys
import uuid
from datetime import UTC, datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from chat.models import Message, Thread

CHUNK = 2000
# Bookkeeping that is derived or secret, not data staff export: folded search copies,
# the keyed hash of the visitor's session key, counters that invalidate links and cards.
INTERNAL_FIELDS = {"search_name", "search_text", "visitor_key_hash", "generation", "state_version"}
THREAD_FIELDS = [f.attname for f in Thread._meta.concrete_fields if f.attname not in INTERNAL_FIELDS]
MESSAGE_FIELDS = [f.attname for f in Message._meta.concrete_fields if f.attname not in INTERNAL_FIELDS]
CSV_COLUMNS = [f"thread_{name}" if name != "id" else "thread_id" for name in THREAD_FIELDS] + [
    f"message_{name}" for name in MESSAGE_FIELDS if name != "thread_id"
]


def usage_error(message: str) -> CommandError:
    return CommandError(message, returncode=2)


def plain(value):
    """A field value as JSON/CSV carry it: times in ISO 8601 UTC, ids as strings."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def cell(value):
    """A CSV cell: structured values (the visitor context) as JSON text, never Python repr."""
    value = plain(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return inert(value)


# Spreadsheets run a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value):
    """A CSV cell a spreadsheet shows as text: visitors' words starting like a formula get a
    leading single quote (OWASP's rule). Numbers, times and ids are never text to defuse."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def row(values: dict, fields: list[str]) -> dict:
    return {name: plain(values[name]) for name in fields}


class Command(BaseCommand):
    help = (
        "Export threads with their messages, as JSON (default: a list of threads, each with "
        "its 'messages') or CSV (one row per message, with its thread's fields in thread_* "
        "columns; a thread without messages is one row with empty message_* columns; an "
        "empty cell is a null). Every field of every thread and message is written (not the "
        "derived search copies and internal counters); times "
        "in ISO 8601 UTC. In CSV, a text cell that starts with =, +, -, @, a tab or a carriage "
        "return gets a leading single quote (') so spreadsheets show it as text instead of "
        "running it as a formula; JSON keeps every value as it is. "
        "Streams: memory stays constant however many messages there are. "
        "Exit codes: 0 done, 1 error, 2 usage error."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["json", "csv"], default="json")
        parser.add_argument("--output", "-o", metavar="FILE", help="Write to FILE instead of stdout.")
        parser.add_argument(
            "--thread",
            action="append",
            metavar="ID",
            dest="threads",
            help="Only this thread (its id). Repeatable.",
        )
        parser.add_argument(
            "--since",
            metavar="DATE",
            help="Only threads active on or after DATE (YYYY-MM-DD in TIME_ZONE, or an "
            "ISO 8601 time): last activity, or creation when there was none.",
        )

    def handle(self, *args, **options):
        threads = self.select(options)
        out = None
        try:
            if options["output"]:
                try:
                    out = open(options["output"], "w", encoding="utf-8", newline="")
                except OSError as exc:
                    raise CommandError(f"Cannot write {options['output']}: {exc.strerror}.") from None
            # call_command(stdout=...) hands its stream in the options; otherwise sys.stdout.
            stream = out or options.get("stdout") or sys.stdout
            written = (self.write_json if options["format"] == "json" else self.write_csv)(threads, stream)
        finally:
            if out is not None:
                out.close()
        if options["output"]:
            self.stderr.write(
                f"Exported {written[0]} thread(s) and {written[1]} message(s) to {options['output']}."
            )

    def select(self, options):
        threads = Thread.objects.all()
        if options["threads"]:
            try:
                ids = [uuid.UUID(raw) for raw in options["threads"]]
            except ValueError:
                raise usage_error("--thread takes a thread id (a UUID).") from None
            threads = threads.filter(pk__in=ids)
        if options["since"]:
            since = self.parse_since(options["since"])
            threads = threads.filter(last_activity_at__gte=since) | threads.filter(
                last_activity_at__isnull=True, created_at__gte=since
            )
        return threads

    def parse_since(self, raw: str) -> datetime:
        try:
            moment = parse_datetime(raw)
            day = None if moment else parse_date(raw)
        except ValueError:
            moment = day = None
        if day is not None:
            moment = datetime.combine(day, time.min)
        if moment is None:
            raise usage_error(f"--since {raw!r} is not a date (YYYY-MM-DD) or an ISO 8601 time.")
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment

    def pairs(self, threads):
        """Each thread (in id order) with an iterator over its messages, from two streamed
        queries walked side by side: constant memory, two queries in all."""
        # Plain rows (values), not model instances: a third of the time and memory.
        messages = (
            Message.objects.filter(thread__in=threads.values("pk"))
            .order_by("thread_id", "created_at", "id")
            .values(*MESSAGE_FIELDS)
            .iterator(chunk_size=CHUNK)
        )
        pending = next(messages, None)

        def of(thread_id):
            nonlocal pending
            # Messages of threads that appeared after the thread query started are skipped.
            while pending is not None and pending["thread_id"] < thread_id:
                pending = next(messages, None)
            while pending is not None and pending["thread_id"] == thread_id:
                yield pending
                pending = next(messages, None)

        for thread in threads.order_by("id").values(*THREAD_FIELDS).iterator(chunk_size=CHUNK):
            yield thread, of(thread["id"])

    def write_json(self, threads, stream) -> tuple[int, int]:
        n_threads = n_messages = 0
        stream.write("[")
        for thread, messages in self.pairs(threads):
            head = json.dumps(row(thread, THREAD_FIELDS), ensure_ascii=False)
            stream.write(("," if n_threads else "") + "\n" + head[:-1] + ', "messages": [')
            for i, message in enumerate(messages):
                stream.write(
                    ("," if i else "") + "\n  " + json.dumps(row(message, MESSAGE_FIELDS), ensure_ascii=False)
                )
                n_messages += 1
            stream.write("]}")
            n_threads += 1
        stream.write("\n]\n")
        return n_threads, n_messages

    def write_csv(self, threads, stream) -> tuple[int, int]:
        writer = csv.writer(stream)
        writer.writerow(CSV_COLUMNS)
        n_threads = n_messages = 0
        for thread, messages in self.pairs(threads):
            thread_cells = [cell(thread[name]) for name in THREAD_FIELDS]
            wrote = False
            for message in messages:
                writer.writerow(
                    thread_cells + [cell(message[name]) for name in MESSAGE_FIELDS if name != "thread_id"]
                )
                wrote = True
                n_messages += 1
            if not wrote:
                writer.writerow(thread_cells + [None] * (len(CSV_COLUMNS) - len(thread_cells)))
            n_threads += 1
        return n_threads, n_messages
