"""Recompute the insights' daily roll-ups (chat/rollups.py) from the threads table."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from chat import rollups
from chat.models import Thread


class Command(BaseCommand):
    help = (
        "Recompute the insights' daily roll-ups from the threads. Needed after changing "
        "TIME_ZONE (days are the desk's local days) or after changing threads outside the "
        "chat services (raw SQL, a restored backup); safe to run at any time. "
        "--check compares only, and fails when they differ."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="Compare the stored roll-ups with a recount; change nothing."
        )

    def handle(self, *args, **options):
        if options["check"]:
            expected = rollups.recount(rollups.thread_facts(Thread.objects.order_by()))
            expected = +expected  # without zero counters
            stored = rollups.stored()
            if stored != expected:
                differing = len(set(stored) ^ set(expected)) + sum(
                    1 for key in set(stored) & set(expected) if stored[key] != expected[key]
                )
                raise CommandError(
                    f"The insights roll-ups differ from the threads in {differing} counter(s); "
                    "run manage.py rebuild_insights."
                )
            self.stdout.write(f"The insights roll-ups match the threads ({len(stored)} counters).")
            return
        stored = rollups.rebuild()
        self.stdout.write(f"Rebuilt the insights roll-ups: {stored} counters.")
