"""The Telegram and email reports (telegram_bridge/state.py and notifications/sender.py,
status()) each read their backlog as one snapshot: an item the sender fails while the
report is being read counts once, as pending or as failed, never as both (CI saw pending
1 and failed 2 for two items)."""

from __future__ import annotations

import pytest
from django.db import connection

from telegram_bridge import state
from telegram_bridge.models import OutboxItem

pytestmark = pytest.mark.django_db


def test_an_item_failing_while_the_report_is_read_counts_once(settings):
    settings.TELEGRAM_CHAT_ID = "-4001"
    OutboxItem.objects.create(kind="message", chat_id="-4001", state="failed", attempts=1)
    refused = OutboxItem.objects.create(kind="message", chat_id="-4001")
    table = OutboxItem._meta.db_table
    reads = []

    def sender_fails_it_after_the_first_read(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.lstrip().upper().startswith("SELECT") and table in sql and not reads:
            reads.append(sql)
            # What the sender does at this moment, between two statements of the report.
            OutboxItem.objects.filter(pk=refused.pk).update(state="failed")
        return result

    with connection.execute_wrapper(sender_fails_it_after_the_first_read):
        report = state.status()
    assert reads, "the report read no outbox rows"
    assert report["pending"] + report["failed"] == 2, report
    assert OutboxItem.objects.filter(state="failed").count() == 2
    assert state.status()["pending"] == 0 and state.status()["failed"] == 2


def test_an_email_failing_while_the_email_report_is_read_counts_once():
    """The same for the email outbox's report (notifications/sender.py status())."""
    import uuid

    from notifications import sender
    from notifications.models import EmailOutboxItem

    EmailOutboxItem.objects.create(kind="replies", thread_id=uuid.uuid4(), state="failed", attempts=1)
    refused = EmailOutboxItem.objects.create(kind="replies", thread_id=uuid.uuid4())
    table = EmailOutboxItem._meta.db_table
    reads = []

    def sender_fails_it_after_the_first_read(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        # After the report's first count, where the sender's own UPDATE would land worst.
        if (
            sql.lstrip().upper().startswith("SELECT")
            and table in sql
            and "COUNT" in sql.upper()
            and not reads
        ):
            reads.append(sql)
            EmailOutboxItem.objects.filter(pk=refused.pk).update(state="failed")
        return result

    with connection.execute_wrapper(sender_fails_it_after_the_first_read):
        report = sender.status()
    assert reads, "the report read no email rows"
    assert report["pending"] + report["failed"] == 2, report
    assert (sender.status()["pending"], sender.status()["failed"]) == (0, 2)
