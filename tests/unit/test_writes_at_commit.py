"""Writes sent with the COMMIT on PostgreSQL (chatdesk.prepared.write_at_commit and
chatdesk.postgresql_backend): with the Telegram bridge on, a visitor message's outbox row
travels in its transaction's COMMIT round trip, and nothing in the transaction can tell
that it waited: a read sees it, a savepoint's rollback undoes it, a rollback drops it, and
when it fails the COMMIT fails and nothing of the transaction is stored.

PostgreSQL only (SQLite writes at once); tests/production/test_group_commit_postgres.py
runs this module against the real server in CI."""

from __future__ import annotations

import uuid

import pytest
from django.db import DataError, connection, transaction
from django.test.utils import CaptureQueriesContext

from chat import blocks, services
from chat.models import Message, Thread
from chat.validation import MessageInput
from chatdesk import prepared
from telegram_bridge import outbox
from telegram_bridge.models import OutboxItem

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="writes with the COMMIT: PostgreSQL"),
    pytest.mark.django_db(transaction=True),  # the transactions commit, as on the server
]


@pytest.fixture(autouse=True)
def bridge(settings, monkeypatch):
    """The bridge as configured in production (cards off: one outbox row per message)."""
    from chat.realtime import publishing

    settings.TELEGRAM_BOT_TOKEN = "123:TEST"
    settings.TELEGRAM_CHAT_ID = "-1001"
    settings.TELEGRAM_CARDS = False
    monkeypatch.setattr(publishing, "publish", lambda event, data, room: None)


def text(thread_id, body: str) -> MessageInput:
    return MessageInput(uuid.UUID(str(thread_id)), "text", body, None, None)


def queue_notice(thread_id, kind: str = OutboxItem.Kind.NOTICE) -> None:
    outbox.enqueue_each(kind, [thread_id], payload={"text": "hello"})


def test_a_groups_outbox_rows_go_with_its_commit():
    one, two = services.create_thread("Ayşe"), services.create_thread("Mert")
    visitor = blocks.Visitor.of("10.0.0.2", "key")
    with CaptureQueriesContext(connection) as queries:
        outcomes = services.post_visitor_messages(
            [(text(one.id, "a"), visitor), (text(two.id, "b"), visitor)]
        )
    logged = [q["sql"] for q in queries.captured_queries]
    outbox_statements = [sql for sql in logged if "INSERT INTO telegram_outbox" in sql]
    assert len(outbox_statements) == 1
    assert outbox_statements[0].startswith("with the COMMIT: INSERT INTO telegram_outbox")
    assert logged[-1] == "COMMIT" and logged[-2] == outbox_statements[0]
    messages = [message for message, created in outcomes]
    assert list(
        OutboxItem.objects.filter(kind=OutboxItem.Kind.MESSAGE)
        .order_by("id")
        .values_list("thread_id", "message_id")
    ) == [(m.thread_id, m.id) for m in messages]
    assert not connection.writes_at_commit


def test_a_group_with_a_message_that_matches_no_row_is_stored_one_by_one():
    """A message to a resolved thread fails the group's statements (_GROUP_STORE_SQL): the
    COMMIT sent after them does not run, and the group is stored again message by message,
    each once, with the resolved thread reopened and an outbox row each."""
    one, resolved = services.create_thread("Ayşe"), services.create_thread("Mert")
    services.resolve_thread(resolved.id)
    visitor = blocks.Visitor.of("10.0.0.2", "key")
    items = [(text(one.id, "a"), visitor), (text(resolved.id, "b"), visitor), (text(one.id, "c"), visitor)]
    outcomes = services.post_visitor_messages(items)
    assert [(m.content_text, created) for m, created in outcomes] == [("a", True), ("b", True), ("c", True)]
    assert sorted(Message.objects.values_list("content_text", flat=True)) == ["a", "b", "c"]
    assert Thread.objects.get(pk=resolved.pk).status == Thread.Status.OPEN
    messages = [m.id for m, _created in outcomes]
    assert sorted(
        OutboxItem.objects.filter(kind=OutboxItem.Kind.MESSAGE).values_list("message_id", flat=True)
    ) == (sorted(messages))


def test_a_read_in_the_transaction_sees_the_waiting_write():
    thread = services.create_thread("Ayşe")
    with transaction.atomic():
        queue_notice(thread.id)
        assert len(connection.writes_at_commit) == 1
        assert OutboxItem.objects.filter(thread_id=thread.id).count() == 1
        assert not connection.writes_at_commit
    assert OutboxItem.objects.filter(thread_id=thread.id).count() == 1


def test_a_write_that_fails_fails_the_commit_and_stores_nothing():
    with pytest.raises(DataError):
        with transaction.atomic():
            thread = services.create_thread("Ayşe")
            queue_notice(thread.id, kind="k" * 100)  # longer than the column allows
    assert not Thread.objects.filter(display_name="Ayşe").exists()
    assert not connection.in_atomic_block and not connection.writes_at_commit
    thread = services.create_thread("Mert")  # the connection goes on
    services.post_visitor_message(text(thread.id, "hello"))
    assert OutboxItem.objects.filter(thread_id=thread.id).count() == 1


def test_a_rollback_drops_the_waiting_writes():
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            gone = services.create_thread("Ayşe")
            queue_notice(gone.id)
            raise RuntimeError("the request failed")
    assert not connection.writes_at_commit
    with transaction.atomic():
        kept = services.create_thread("Mert")
        queue_notice(kept.id)
    assert list(OutboxItem.objects.values_list("thread_id", flat=True)) == [kept.id]


def test_a_savepoints_rollback_undoes_the_writes_made_inside_it():
    with transaction.atomic():
        thread = services.create_thread("Ayşe")
        queue_notice(thread.id)
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                queue_notice(thread.id)
                raise RuntimeError("the inner step failed")
    assert OutboxItem.objects.filter(thread_id=thread.id).count() == 1


def test_outside_a_transaction_a_write_runs_at_once():
    thread = services.create_thread("Ayşe")
    queue_notice(thread.id)
    assert not connection.writes_at_commit
    assert OutboxItem.objects.filter(thread_id=thread.id).count() == 1
    connection.close()  # a write is what opens it
    prepared.write_at_commit(
        connection, "UPDATE threads SET display_name = %s WHERE id = %s", [["Mert", thread.id]]
    )
    assert Thread.objects.get(pk=thread.pk).display_name == "Mert"


def test_a_message_is_stored_after_psycopg_deallocated_its_prepared_statements():
    """psycopg deallocates every prepared statement of a connection after a rollback. The
    writes that wait for the COMMIT are not prepared, so none of them can find its
    statement gone (the transaction it fails could not be retried)."""
    thread = services.create_thread("Ayşe")
    for i in range(3):
        services.post_visitor_message(text(thread.id, f"m{i}"))
    import psycopg

    for _ in range(6):  # psycopg prepares a statement after a few uses
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute("SELECT %s::int", [1])
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            Thread.objects.count()
            raise RuntimeError("rolled back")
    message, created = services.post_visitor_message(text(thread.id, "after the rollback"))
    assert created and Message.objects.filter(id=message.id).exists()
    assert OutboxItem.objects.filter(message_id=message.id).count() == 1
