"""Group commit of visitor messages (chat.services.post_visitor_messages): the messages
that queued up together are stored in one transaction, each with the outcome
post_visitor_message would give it, in order; the rare cases fall back to one by one."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import blocks, services
from chat.events import ADMIN_ROOM
from chat.models import Message, Thread, VisitorBlock
from chat.serializers import message_payload
from chat.validation import MessageInput
from chatdesk.refusals import Blocked

pytestmark = pytest.mark.django_db


def text(thread_id, body: str, client_id: str | None = None) -> MessageInput:
    return MessageInput(uuid.UUID(str(thread_id)), "text", body, None, client_id)


def stored_texts(thread: Thread) -> list[str]:
    return list(
        Message.objects.filter(thread=thread)
        .order_by("created_at", "pk")
        .values_list("content_text", flat=True)
    )


def test_a_group_is_stored_in_order_with_one_event_each_after_commit(published):
    one, two = services.create_thread("Ayşe"), services.create_thread("Mert")
    items = [(text(one.id, "a1"), None), (text(two.id, "b1"), None), (text(one.id, "a2"), None)]
    outcomes = published.commit(services.post_visitor_messages, items)
    assert [(m.content_text, created) for m, created in outcomes] == [
        ("a1", True),
        ("b1", True),
        ("a2", True),
    ]
    assert stored_texts(one) == ["a1", "a2"]
    assert stored_texts(two) == ["b1"]
    assert published.named("message_from_visitor") == [(message_payload(m), ADMIN_ROOM) for m, _ in outcomes]
    assert Thread.objects.get(pk=one.pk).last_message_text == "a2"


def test_a_group_of_common_messages_is_one_transaction(published):
    thread = services.create_thread("Ayşe")
    items = [(text(thread.id, f"m{i}"), blocks.Visitor.of("10.0.0.2", "key")) for i in range(5)]
    with CaptureQueriesContext(connection) as queries:
        published.commit(services.post_visitor_messages, items)
    logged = [q["sql"] for q in queries.captured_queries]
    statements = [sql.split(": ")[-1].split()[0].upper() for sql in logged]
    # (Inside the test's own transaction the group's is a savepoint.) The five rows go in
    # one INSERT (executemany, logged by Django as "5 times: INSERT ...").
    if connection.vendor == "postgresql":  # each UPDATE and INSERT one statement, in one trip
        assert statements == ["SAVEPOINT", "WITH", "RELEASE"]
        assert logged[1].startswith("5 times, in one trip: WITH updated AS (UPDATE threads")
        # ...prepared on the connection once (only its values travel after that).
        for i in range(6):
            published.commit(services.post_visitor_messages, [(text(thread.id, f"p{i}"), items[0][1])])
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'WITH updated AS%%'"
            )
            assert cursor.fetchone()[0] == 1
    else:
        assert statements == ["SAVEPOINT"] + ["UPDATE"] * 5 + ["INSERT", "RELEASE"]
        assert logged[6].startswith("5 times: INSERT INTO messages")
    assert Thread.objects.get(pk=thread.pk).last_message_text == (
        "p5" if connection.vendor == "postgresql" else "m4"
    )


def test_a_blocked_visitor_in_a_group_is_refused_and_counted_the_others_stored(published):
    mine, theirs = (
        services.create_thread("Ayşe"),
        services.create_thread("Spammer", blocks.Visitor.of("10.0.0.9", None)),
    )
    _, block = services.block_visitor(theirs.id, "24h")
    published.clear()
    me, spammer = blocks.Visitor.of("10.0.0.2", "key"), blocks.Visitor.of("10.0.0.9", "other")
    items = [(text(mine.id, "one"), me), (text(theirs.id, "spam"), spammer), (text(mine.id, "two"), me)]
    outcomes = published.commit(services.post_visitor_messages, items)
    assert [o[0].content_text for o in (outcomes[0], outcomes[2])] == ["one", "two"]
    assert isinstance(outcomes[1], Blocked)
    assert stored_texts(mine) == ["one", "two"]
    assert stored_texts(theirs) == []
    assert VisitorBlock.objects.get(pk=block.pk).attempts == 1
    assert [d["content_text"] for d, _ in published.named("message_from_visitor")] == ["one", "two"]


def test_a_group_of_two_is_one_trip_and_a_blocked_one_still_refused(published):
    """A group of two is one round trip on PostgreSQL as well, and a message in it that
    matches no row still rolls the group back to be stored one by one."""
    mine, theirs = (
        services.create_thread("Ayşe"),
        services.create_thread("Spammer", blocks.Visitor.of("10.0.0.9", None)),
    )
    me, spammer = blocks.Visitor.of("10.0.0.2", "key"), blocks.Visitor.of("10.0.0.9", "other")
    with CaptureQueriesContext(connection) as queries:
        published.commit(
            services.post_visitor_messages, [(text(mine.id, "one"), me), (text(mine.id, "two"), me)]
        )
    if connection.vendor == "postgresql":
        stores = [q["sql"] for q in queries.captured_queries if "WITH updated AS" in q["sql"]]
        assert len(stores) == 1 and stores[0].startswith("2 times, in one trip: WITH updated AS")
    _, block = services.block_visitor(theirs.id, "24h")
    published.clear()
    outcomes = published.commit(
        services.post_visitor_messages, [(text(mine.id, "three"), me), (text(theirs.id, "spam"), spammer)]
    )
    assert outcomes[0][0].content_text == "three"
    assert isinstance(outcomes[1], Blocked)
    assert stored_texts(mine) == ["one", "two", "three"]
    assert stored_texts(theirs) == []
    assert VisitorBlock.objects.get(pk=block.pk).attempts == 1
    assert [d["content_text"] for d, _ in published.named("message_from_visitor")] == ["three"]


def test_a_resent_client_id_in_a_group_is_a_duplicate_and_nothing_is_stored_twice(published):
    thread = services.create_thread("Ayşe")
    first, _ = services.post_visitor_message(text(thread.id, "hello", "c-1"))
    published.clear()
    items = [
        (text(thread.id, "before", "c-0"), None),
        (text(thread.id, "hello", "c-1"), None),
        (text(thread.id, "after"), None),
    ]
    outcomes = published.commit(services.post_visitor_messages, items)
    assert [(m.content_text, created) for m, created in outcomes] == [
        ("before", True),
        ("hello", False),
        ("after", True),
    ]
    assert outcomes[1][0].pk == first.pk
    assert stored_texts(thread) == ["hello", "before", "after"]
    assert [d["content_text"] for d, _ in published.named("message_from_visitor")] == ["before", "after"]


def test_a_group_reopens_a_resolved_thread_and_refuses_an_unknown_one(published):
    thread = services.create_thread("Ayşe")
    services.resolve_thread(thread.id)
    published.clear()
    missing = uuid.uuid4()
    items = [
        (text(thread.id, "back again"), None),
        (text(missing, "lost"), None),
        (text(thread.id, "still here"), None),
    ]
    outcomes = published.commit(services.post_visitor_messages, items)
    assert outcomes[0][0].content_text == "back again"
    assert isinstance(outcomes[1], services.ThreadNotFound)
    assert outcomes[2][0].content_text == "still here"
    assert Thread.objects.get(pk=thread.pk).status == Thread.Status.OPEN
    assert [e["change"] for e, _ in published.named("thread_updated")] == ["reopened"]
    assert stored_texts(thread) == ["back again", "still here"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL")
def test_a_group_still_stores_after_the_server_lost_the_prepared_statement(published):
    """psycopg deallocates every prepared statement of a connection after a rollback
    (`DEALLOCATE ALL`); a group that finds the store's statement gone is stored without it
    and the next group prepares it again."""
    thread = services.create_thread("Ayşe")
    visitor = blocks.Visitor.of("10.0.0.2", "key")
    published.commit(services.post_visitor_messages, [(text(thread.id, "first"), visitor)])
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    outcomes = published.commit(
        services.post_visitor_messages,
        [(text(thread.id, "second"), visitor), (text(thread.id, "third"), visitor)],
    )
    assert [(m.content_text, created) for m, created in outcomes] == [("second", True), ("third", True)]
    published.commit(services.post_visitor_messages, [(text(thread.id, "fourth"), visitor)])
    assert stored_texts(thread) == ["first", "second", "third", "fourth"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'WITH updated AS%%'")
        assert cursor.fetchone()[0] == 1
    assert Thread.objects.get(pk=thread.pk).last_message_text == "fourth"


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_failed_group_leaves_nothing_behind(monkeypatch):
    """As on the server, where the group's transaction is the connection's own (on
    PostgreSQL its BEGIN travels with the group's statements): the group that fails on a
    resent client_id is rolled back whole, so the message before it is stored once."""
    from chat.realtime import publishing

    monkeypatch.setattr(publishing, "publish", lambda event, data, room: None)
    thread = services.create_thread("Ayşe")
    services.post_visitor_message(text(thread.id, "hello", "c-1"))
    items = [
        (text(thread.id, "before", "c-0"), blocks.Visitor.of("10.0.0.2", "key")),
        (text(thread.id, "hello", "c-1"), blocks.Visitor.of("10.0.0.2", "key")),
        (text(thread.id, "after"), blocks.Visitor.of("10.0.0.2", "key")),
    ]
    outcomes = services.post_visitor_messages(items)
    assert [(m.content_text, created) for m, created in outcomes] == [
        ("before", True),
        ("hello", False),
        ("after", True),
    ]
    assert stored_texts(thread) == ["hello", "before", "after"]
    assert not connection.in_atomic_block


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_what_receivers_record_commits_with_the_group_or_not_at_all(monkeypatch):
    """A `messages_posted` receiver (the Telegram outbox) records in the messages' own
    transaction: when it fails, the group's messages are not stored either."""
    from chat import signals
    from chat.realtime import publishing

    monkeypatch.setattr(publishing, "publish", lambda event, data, room: None)
    thread = services.create_thread("Ayşe")

    def outbox_down(sender, messages, via, **kwargs):
        raise RuntimeError("the outbox could not be written")

    signals.messages_posted.connect(outbox_down, dispatch_uid="test.outbox_down")
    try:
        visitor = blocks.Visitor.of("10.0.0.2", "key")
        outcomes = services.post_visitor_messages([(text(thread.id, f"m{i}"), visitor) for i in range(3)])
    finally:
        signals.messages_posted.disconnect(dispatch_uid="test.outbox_down")
    assert all(isinstance(outcome, RuntimeError) for outcome in outcomes)
    assert stored_texts(thread) == []
    assert Thread.objects.get(pk=thread.pk).last_message_text is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL")
def test_without_prepared_statements_a_group_is_stored_and_nothing_is_prepared(published):
    """DATABASE_PREPARED_STATEMENTS=0 (PgBouncer in transaction mode before 1.21): the
    store sends its statement whole each time, and prepares nothing on the server."""
    connection.ensure_connection()
    raw = connection.connection
    threshold, raw.prepare_threshold = raw.prepare_threshold, None
    try:
        with connection.cursor() as cursor:
            cursor.execute("DEALLOCATE ALL")
        thread = services.create_thread("Ayşe")
        visitor = blocks.Visitor.of("10.0.0.2", "key")
        for batch in (["a", "b"], ["c"], ["d", "e", "f"]):
            published.commit(services.post_visitor_messages, [(text(thread.id, t), visitor) for t in batch])
        assert stored_texts(thread) == ["a", "b", "c", "d", "e", "f"]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'WITH updated AS%%'"
            )
            assert cursor.fetchone()[0] == 0
    finally:
        raw.prepare_threshold = threshold
