"""The chat domain's operations: the only code that changes threads and messages.

Socket handlers, HTTP views, the Telegram bridge, the Django admin and management
commands all call these. Each stores its change first and, once the transaction has
committed, tells connected clients through `chat.events.send_on_commit`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from contextlib import nullcontext

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.db.models.base import ModelState
from django.utils import timezone

from accounts.models import Agent
from chatdesk import prepared
from chatdesk.refusals import AgentRequired, AlreadyAssigned, FieldInvalid, UnknownAgent, UnknownThread

from . import blocks, rollups, signals
from .events import ADMIN_ROOM, send_on_commit, thread_room
from .models import InsightsCount, Message, TelegramLink, Thread, ThreadRead, VisitorBlock
from .search import fold
from .serializers import agent_name, iso_time, message_payload, thread_state, thread_to_dict
from .validation import MessageInput


class ThreadNotFound(UnknownThread, LookupError):
    """The thread does not exist (any more); answered to clients as `unknown_thread`."""

    def __init__(self, thread_id: str = ""):
        super().__init__()
        self.thread_id = thread_id


def create_thread(display_name: str, visitor: blocks.Visitor | None = None) -> Thread:
    """Open a new conversation for a visitor (refused while `visitor` is blocked); their
    address and session are remembered, so the thread's visitor can be blocked later."""
    if visitor is not None:
        blocks.refuse_if_blocked(visitor)
    now = timezone.now()
    with transaction.atomic():
        thread = Thread.objects.create(
            display_name=display_name,
            last_activity_at=now,
            search_name=fold(display_name)[:200],
            visitor_ip=visitor.ip if visitor else None,
            visitor_key_hash=visitor.key_hash if visitor else None,
        )
        rollups.apply([], [rollups.Facts.of(thread)])
    send_on_commit("thread_created", thread_to_dict(thread), ADMIN_ROOM)
    return thread


def record_activity(thread_id: uuid.UUID) -> bool:
    """A visitor's heartbeat: mark the thread active now and tell the admins."""
    updated = Thread.objects.filter(id=thread_id).update(last_activity_at=timezone.now())
    if updated:
        send_on_commit("visitor_online", {"thread_id": str(thread_id)}, ADMIN_ROOM)
    return bool(updated)


# Storing a message is the hot path (every message of every visitor), so its two statements
# are written in SQL: building them with the ORM was most of a store's time (figures in
# bench/README.md, "Where the time goes"). Same statements, same transaction; the rare
# paths below stay in the ORM.
_THREAD_UPDATE_SQL = (
    "UPDATE threads SET last_message_text = %s, last_message_type = %s, last_message_at = %s,"
    " has_messages = %s, sorted_at = %s{activity} WHERE id = %s"
    # Never let a message that waited for the lock overwrite a newer last message.
    " AND (last_message_at IS NULL OR last_message_at <= %s)"
    # ...nor skip a change of the thread's state (issue 13): a visitor's message to a resolved
    # thread reopens it, an admin's first reply is its first response. Those rare cases match
    # no row here and take _store_slowly(); the common case pays one predicate on the row the
    # UPDATE reads anyway (measured: no slower; SET ... CASE + RETURNING cost a third more).
    "{guard}"
)
_VISITOR_GUARD_SQL = " AND status = 'open'"
# ...nor store what a blocked visitor sends: the block check rides the same statement (no
# round trip of its own on every message); a blocked visitor's message matches no row and
# _store_message() tells why.
_NOT_BLOCKED_SQL = (
    " AND NOT EXISTS (SELECT 1 FROM visitor_blocks WHERE expires_at > %s AND (ip = %s OR key_hash = %s))"
)
_ADMIN_GUARD_SQL = " AND first_response_at IS NOT NULL"
# The columns _message_row() fills, in its order.
_MESSAGE_INSERT_INTO = (
    "INSERT INTO messages (id, thread_id, sender, type, content_text, file_path, created_at, client_id,"
    " width, height, duration_ms, search_text, agent_id)"
)
_MESSAGE_INSERT_SQL = _MESSAGE_INSERT_INTO + " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"


def _insert_message(message: Message, touch_thread: bool, visitor: blocks.Visitor | None = None) -> bool:
    """UPDATE the thread's last message, then INSERT `message`; False (and nothing
    inserted) when the UPDATE matched no row (also while `visitor` is blocked). Call
    inside a transaction."""
    connection = transaction.get_connection()
    with connection.cursor() as cursor:
        if not _update_thread(cursor, message, touch_thread, visitor):
            return False
        cursor.execute(_MESSAGE_INSERT_SQL, _message_row(cursor.db, message))
    _mark_stored(message, connection)
    return True


def _update_thread(cursor, message: Message, touch_thread: bool, visitor: blocks.Visitor | None) -> bool:
    """The store's UPDATE of the thread (see _THREAD_UPDATE_SQL): whether it matched."""
    cursor.execute(*_thread_update(cursor.db, message, touch_thread, visitor))
    return cursor.rowcount == 1


# PostgreSQL, a group of visitor messages: each message's UPDATE and INSERT as one
# statement (the INSERT reads the row the UPDATE returns), the group's statements sent with
# the transaction's COMMIT (_store_combined). A message whose UPDATE matches no row inserts
# a row without a thread, which the NOT NULL of messages.thread_id refuses: that fails the
# statement, so the COMMIT that follows it in the same round trip is not run, and the group
# is rolled back whole (PostgreSQL logs the error; it happens when a message reopens a
# resolved thread, or a blocked visitor writes). Explicit casts: with server-side
# parameters the SELECT list has no column type to infer them from.
_GROUP_STORE_SQL = (
    "WITH updated AS ("
    + _THREAD_UPDATE_SQL.format(
        activity=", last_activity_at = %s", guard=_VISITOR_GUARD_SQL + _NOT_BLOCKED_SQL
    )
    + " RETURNING id) "
    + _MESSAGE_INSERT_INTO
    + " SELECT %s::uuid, id, %s::text, %s::text, %s::text, %s::text, %s::timestamptz, %s::text,"
    " %s::integer, %s::integer, %s::integer, %s::text, %s::bigint"
    " FROM (SELECT id FROM updated UNION ALL SELECT NULL WHERE NOT EXISTS (SELECT 1 FROM updated)) AS matched"
)


def _store_combined(connection, messages: list[Message], visitors: list[blocks.Visitor]) -> None:
    """Queue the visitor messages' store (_GROUP_STORE_SQL, a statement each, prepared once
    per connection) to go with the transaction's COMMIT (chatdesk.prepared.write_at_commit),
    or with the first statement before it. Its failure comes from there: see
    _combined_store_missed."""
    rows = []
    for message, visitor in zip(messages, visitors, strict=True):
        update_params = _thread_update(connection, message, True, visitor)[1]
        insert_params = _message_row(connection, message)
        del insert_params[1]  # thread_id: the updated row's
        rows.append(update_params + insert_params)
    prepared.write_at_commit(connection, _GROUP_STORE_SQL, rows, prepare=True)


def _combined_store_missed(exc: DatabaseError) -> bool:
    """Whether the combined store failed on what storing one by one handles: a message
    whose UPDATE matched no row (a resolved thread, a block, no thread; see
    _GROUP_STORE_SQL), or a prepared statement the server lost (psycopg deallocates them
    all after a rollback; the next group prepares it again)."""
    diag = getattr(exc.__cause__, "diag", None)
    if diag is None:
        return False
    if diag.sqlstate == "26000":  # invalid_sql_statement_name
        return True
    return (
        diag.sqlstate == "23502"
        and diag.table_name == Message._meta.db_table
        and diag.column_name == "thread_id"
    )


def _thread_update(connection, message: Message, touch_thread: bool, visitor: blocks.Visitor | None):
    """The SQL and parameters of the store's UPDATE of the thread (_THREAD_UPDATE_SQL)."""
    thread_id = Message._meta.pk.get_db_prep_value(message.thread_id, connection)
    now = connection.ops.adapt_datetimefield_value(message.created_at)
    activity = ", last_activity_at = %s" if touch_thread else ""
    guard = _VISITOR_GUARD_SQL if touch_thread else _ADMIN_GUARD_SQL
    block_params = []
    if visitor is not None:
        guard += _NOT_BLOCKED_SQL
        block_params = [now, connection.ops.adapt_ipaddressfield_value(visitor.ip), visitor.key_hash]
    return (
        _THREAD_UPDATE_SQL.format(activity=activity, guard=guard),
        [
            message.content_text,
            message.type,
            now,
            True,
            now,
            *([now] if touch_thread else []),
            thread_id,
            now,
            *block_params,
        ],
    )


def _message_row(connection, message: Message) -> list:
    """The parameters of _MESSAGE_INSERT_SQL for `message`."""
    uuid_to_db = Message._meta.pk.get_db_prep_value  # hex on SQLite, uuid on PostgreSQL
    return [
        uuid_to_db(message.id, connection),
        uuid_to_db(message.thread_id, connection),
        message.sender,
        message.type,
        message.content_text,
        message.file_path,
        connection.ops.adapt_datetimefield_value(message.created_at),
        message.client_id,
        message.width,
        message.height,
        message.duration_ms,
        message.search_text,
        message.agent_id,
    ]


def _mark_stored(message: Message, connection) -> None:
    message._state.adding = False  # as save() leaves it
    message._state.db = connection.alias


def _store_slowly(message: Message, is_visitor: bool) -> None:
    """The thread's UPDATE matched no row: there is no such thread, a newer last message is
    already set, or this message changes the thread's state. Reopen a resolved thread (a
    visitor's message; `thread_reopened` on the message says so) or record the first
    response (an admin's), then store as usual. Call inside the store's transaction."""
    now = message.created_at
    threads = Thread.objects.filter(id=message.thread_id)
    if is_visitor:
        resolved = rollups.thread_facts(threads.select_for_update().filter(status=Thread.Status.RESOLVED))
        reopened = threads.filter(status=Thread.Status.RESOLVED).update(
            status=Thread.Status.OPEN, resolved_at=None, reopened_at=now, state_version=F("state_version") + 1
        )
        message.__dict__["thread_reopened"] = bool(reopened)
        if reopened:
            rollups.apply(resolved, [facts._replace(resolved_at=None) for facts in resolved])
    elif threads.filter(first_response_at__isnull=True).update(first_response_at=now):
        answered = rollups.thread_facts(threads)
        rollups.apply([facts._replace(first_response_at=None) for facts in answered], answered)
    if _insert_message(message, touch_thread=is_visitor):
        return
    if not threads.exists():
        raise ThreadNotFound(str(message.thread_id))
    if is_visitor:
        threads.update(last_activity_at=now)
    message.save(force_insert=True)


def _new_message(sender: str, data: MessageInput, agent=None) -> Message:
    """A new Message, as Message(...) builds it, without Model.__init__: its generic
    keyword handling was a fifth of a message's store on the database thread (bench/
    README.md, fourth round). Every field is set here; tests/unit/test_services.py
    compares the result with Message(...) field by field, so a new field fails there."""
    message = Message.__new__(Message)
    message._state = ModelState()
    message.__dict__.update(
        id=uuid.uuid4(),
        thread_id=data.thread_id,
        sender=sender,
        type=data.type,
        content_text=data.text,
        file_path=data.file_url,
        created_at=timezone.now(),
        client_id=data.client_id,
        width=data.width,
        height=data.height,
        duration_ms=data.duration_ms,
        search_text=fold(data.text) if data.text else None,
        agent_id=agent.pk if agent is not None else None,
        edited_at=None,
    )
    message._state.fields_cache["agent"] = agent  # as assigning `agent=` caches it
    return message


class _VisitorBlocked(Exception):
    """Leaves the store's transaction: the refused attempt is counted outside it."""


def _store_message(
    sender: str, data: MessageInput, via: str, agent=None, visitor: blocks.Visitor | None = None
) -> tuple[Message, bool]:
    """Store a message once per (thread, sender, client_id); return it and whether it is new.

    Three statements in one transaction, the fewest round trips that keep the rules:
    the thread's UPDATE comes first (it locks the row, like SELECT ... FOR UPDATE did,
    tells a missing thread by matching nothing, and with `visitor` refuses a blocked
    one), then the INSERT; a resend of a known client_id is told by the unique
    constraint rather than a lookup every time.
    """
    message = _new_message(sender, data, agent)
    is_visitor = sender == Message.Sender.VISITOR
    try:
        with transaction.atomic():
            if not _insert_message(message, touch_thread=is_visitor, visitor=visitor):
                if visitor is not None and blocks.active_block(visitor) is not None:
                    raise _VisitorBlocked()
                _store_slowly(message, is_visitor)
            signals.messages_posted.send(Message, messages=[message], via=via)
    except _VisitorBlocked:
        blocks.refuse_if_blocked(visitor)  # counts the attempt and refuses
        return _store_message(sender, data, via, agent, visitor)  # the block ended just now
    except IntegrityError:
        # A resend of a stored client_id (or two resends racing): the first one won.
        existing = None
        if data.client_id:
            existing = (
                Message.objects.select_related("agent")
                .filter(thread_id=data.thread_id, sender=sender, client_id=data.client_id)
                .first()
            )
        if existing is None:
            if not Thread.objects.filter(id=data.thread_id).exists():
                raise ThreadNotFound(str(data.thread_id)) from None
            raise
        return existing, False
    return message, True


def post_visitor_message(
    data: MessageInput, via: str = "socket", visitor: blocks.Visitor | None = None
) -> tuple[Message, bool]:
    """A visitor wrote to the admins: store it, then deliver it to every admin. A blocked
    `visitor` (their address or session) is refused and counted, nothing stored. A
    message to a resolved thread reopens it."""
    message, created = _store_message(Message.Sender.VISITOR, data, via, visitor=visitor)
    if created:
        send_on_commit("message_from_visitor", message_payload(message), ADMIN_ROOM)
        if message.__dict__.get("thread_reopened"):
            _thread_changed(Thread.objects.get(id=message.thread_id), "reopened", None)
    return message, created


def post_visitor_messages(
    items: list[tuple[MessageInput, blocks.Visitor | None]], via: str = "socket"
) -> list[tuple[Message, bool] | Exception]:
    """post_visitor_message for messages that queued up together (group commit: the socket
    layer stores what arrived while the previous group was being stored). One outcome per
    item, in order: (message, created), or the exception post_visitor_message raised.

    The common message (an open thread, no block, a new client_id) is stored by the same
    UPDATE, and the group's rows by one INSERT (executemany), all in one transaction: one
    BEGIN/COMMIT (one WAL flush) for the group. On PostgreSQL each message's UPDATE and
    INSERT are one statement, and the group's go with the COMMIT, in one round trip; if one
    of them matches no row the group is rolled back and stored statement by statement. At the
    first that matches no row (a resolved thread, a block, no thread) the ones before it
    are committed and the rest go one by one through post_visitor_message; a database
    error (a resent client_id) rolls the group back and sends every item that way. Events
    go out after the commit, as always.
    """
    combined = transaction.get_connection().vendor == "postgresql" and all(v is not None for _, v in items)
    stored = _store_group(items, via, combined)
    if stored is None:
        stored = _store_group(items, via, combined=False)
    outcomes: list[tuple[Message, bool] | Exception] = [(message, True) for message in stored]
    for data, visitor in items[len(stored) :]:
        try:
            outcomes.append(post_visitor_message(data, via, visitor))
        except Exception as exc:  # the item's own answer (a refusal, a database error)
            outcomes.append(exc)
    return outcomes


def _store_group(items, via: str, combined: bool) -> list[Message] | None:
    """Store what post_visitor_messages can store as one group; the messages stored (a
    prefix of `items`; none after a database error), or None when `combined` and the
    combined store missed (_combined_store_missed: nothing stored)."""
    stored: list[Message] = []
    try:
        with transaction.atomic():
            connection = transaction.get_connection()
            if combined:
                stored = [_new_message(Message.Sender.VISITOR, data) for data, _ in items]
                _store_combined(connection, stored, [visitor for _, visitor in items])
            else:
                with connection.cursor() as cursor:
                    for data, visitor in items:
                        message = _new_message(Message.Sender.VISITOR, data)
                        if not _update_thread(cursor, message, touch_thread=True, visitor=visitor):
                            break
                        stored.append(message)
                    if stored:  # one statement for the group's rows
                        cursor.executemany(_MESSAGE_INSERT_SQL, [_message_row(connection, m) for m in stored])
            for message in stored:
                _mark_stored(message, connection)
            if stored:
                signals.messages_posted.send(Message, messages=stored, via=via)
            for message in stored:
                send_on_commit("message_from_visitor", message_payload(message), ADMIN_ROOM)
    except DatabaseError as exc:
        return None if combined and _combined_store_missed(exc) else []
    except Exception:  # rolled back, events dropped with it: each again on its own
        return []
    return stored


def post_admin_message(data: MessageInput, via: str = "panel", agent=None) -> tuple[Message, bool]:
    """An admin answered (from the panel or Telegram): store it, deliver it to the
    visitor, and to every admin so other panels stay in sync. `agent` (accounts.Agent or
    None) is who wrote it: every payload carries it as `agent`."""
    message, created = _store_message(Message.Sender.ADMIN, data, via, agent)
    if created:
        payload = message_payload(message)
        payload_for_admins = dict(payload, via=via)
        send_on_commit("message_from_admin", payload, thread_room(message.thread_id))
        send_on_commit("message_from_telegram", payload_for_admins, ADMIN_ROOM)
    return message, created


# One statement: the link is made only while its thread exists, and a repeat is a no-op.
# (SQLite needs the WHERE to read ON CONFLICT as the upsert's.)
_LINK_SQL = (
    "INSERT INTO telegram_links (chat_id, message_id, thread_id, created_at)"
    " SELECT %s, %s, id, %s FROM threads WHERE id = %s"
    " ON CONFLICT (chat_id, message_id) DO NOTHING"
)


def link_telegram_message(thread_id: uuid.UUID, chat_id: int, message_id: int) -> bool:
    """Remember that Telegram message (chat_id, message_id) belongs to the thread, so a
    reply to it reaches that visitor. False when the thread is gone; a repeat is a no-op.

    The Telegram sender links every message it sends: one INSERT, where a lookup of the
    thread and a get_or_create in its own transaction were seven statements a send."""
    connection = transaction.get_connection()
    params = [
        int(chat_id),
        int(message_id),
        connection.ops.adapt_datetimefield_value(timezone.now()),
        Thread._meta.pk.get_db_prep_value(thread_id, connection),
    ]
    try:
        # A savepoint only inside a transaction: the thread may be deleted meanwhile, and
        # the failed INSERT must not doom the caller's transaction.
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            with connection.cursor() as cursor:
                cursor.execute(_LINK_SQL, params)
                if cursor.rowcount == 1:
                    return True
    except IntegrityError:
        pass  # the thread was deleted between the INSERT's read and its commit
    # Nothing inserted: the link was there already, or the thread is gone.
    return TelegramLink.objects.filter(chat_id=int(chat_id), message_id=int(message_id)).exists()


def mark_seen(thread_id: uuid.UUID, seen_at: str | None = None) -> bool:
    """An admin opened the thread: store that the visitor's messages so far were seen (a
    reload shows it), and tell the visitor."""
    seen = _newest_message_time(thread_id, Message.Sender.VISITOR)
    updated = Thread.objects.filter(id=thread_id).update(admin_seen_at=seen or timezone.now())
    if not updated:
        return False
    payload = {"thread_id": str(thread_id), "seen_at": seen_at, "seen_iso": iso_time(seen)}
    send_on_commit("admin_seen", payload, thread_room(thread_id))
    send_on_commit("admin_seen", payload, ADMIN_ROOM)
    return True


def mark_seen_by_visitor(thread_id: uuid.UUID) -> bool:
    """The visitor has read the admins' replies so far: store it, tell the panels."""
    seen = _newest_message_time(thread_id, Message.Sender.ADMIN)
    updated = Thread.objects.filter(id=thread_id).update(visitor_seen_at=seen or timezone.now())
    if not updated:
        return False
    send_on_commit("visitor_seen", {"thread_id": str(thread_id), "seen_iso": iso_time(seen)}, ADMIN_ROOM)
    return True


def _newest_message_time(thread_id: uuid.UUID, sender: str):
    return (
        Message.objects.filter(thread_id=thread_id, sender=sender)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )


def clear_thread(thread_id: uuid.UUID) -> int:
    """Delete a thread's messages (the thread itself stays, as in the contract)."""
    with transaction.atomic():
        if not Thread.objects.filter(id=thread_id).exists():
            raise ThreadNotFound(str(thread_id))
        deleted, _ = Message.objects.filter(thread_id=thread_id).delete()
        Thread.objects.filter(id=thread_id).update(
            last_message_text=None,
            last_message_type=None,
            last_message_at=None,
            has_messages=False,
            sorted_at=F("created_at"),
            # Links signed for the thread before (emails) stop reopening it.
            generation=F("generation") + 1,
        )
        signals.thread_cleared.send(Thread, thread_id=thread_id)
        payload = {"thread_id": str(thread_id)}
        send_on_commit("thread_cleared", payload, ADMIN_ROOM)
        send_on_commit("thread_cleared", payload, thread_room(thread_id))
    return deleted


def delete_threads(thread_ids: Iterable[uuid.UUID]) -> int:
    """Delete whole threads with their messages and Telegram links."""
    ids = [uuid.UUID(str(tid)) for tid in thread_ids]
    with transaction.atomic():
        existing = list(Thread.objects.filter(id__in=ids).values_list("id", flat=True))
        signals.threads_deleted.send(Thread, thread_ids=existing)
        # Locked first (the row, then the counters, as every change does): what is subtracted is what goes.
        rollups.apply(rollups.thread_facts(Thread.objects.select_for_update().filter(id__in=existing)), [])
        Thread.objects.filter(id__in=existing).delete()
        for tid in existing:
            payload = {"thread_id": str(tid)}
            send_on_commit("thread_deleted", payload, ADMIN_ROOM)
            send_on_commit("thread_deleted", payload, thread_room(tid))
    return len(existing)


def clear_all() -> None:
    """Delete every message, thread and Telegram link."""
    with transaction.atomic():
        signals.all_cleared.send(Thread)
        thread_ids = list(Thread.objects.values_list("id", flat=True))
        Message.objects.all().delete()
        TelegramLink.objects.all().delete()
        Thread.objects.all().delete()
        InsightsCount.objects.all().delete()
        send_on_commit("all_cleared", {}, ADMIN_ROOM)
        # Open visitor pages are emptied live, as when one thread is deleted.
        for tid in thread_ids:
            send_on_commit("thread_deleted", {"thread_id": str(tid)}, thread_room(tid))


# --- The life cycle: claim, assign, resolve, reopen, block, read (issue 13) ------------------


def _locked_thread(thread_id: uuid.UUID) -> Thread:
    """The thread, its row locked until the transaction ends (so two agents' changes to
    it happen one after the other)."""
    thread = Thread.objects.select_for_update().filter(id=thread_id).first()
    if thread is None:
        raise ThreadNotFound(str(thread_id))
    return thread


def _active_agent(agent_id):
    agent = Agent.objects.filter(pk=agent_id, is_active=True).first() if agent_id is not None else None
    if agent is None:
        raise UnknownAgent()
    return agent


def _thread_changed(thread: Thread, change: str, by) -> None:
    """Tell every panel (`thread_updated` to admin_room) and other apps (the
    `thread_updated` signal: the Telegram card) that the thread's state changed."""
    payload = thread_state(thread, change=change, by=by)
    send_on_commit("thread_updated", payload, ADMIN_ROOM)
    signals.thread_updated.send(Thread, thread=thread, change=change, by=by)


def _save_state(thread: Thread, change: str, by, **fields) -> Thread:
    before = rollups.Facts.of(thread)
    for name, value in fields.items():
        setattr(thread, name, value)
    thread.state_version += 1
    thread.save(update_fields=[*fields, "state_version"])
    rollups.apply([before], [rollups.Facts.of(thread)])  # assignee, resolution: insights' roll-ups
    _thread_changed(thread, change, by)
    return thread


def claim_thread(thread_id: uuid.UUID, agent) -> tuple[Thread, bool]:
    """`agent` takes the conversation. Refused (`already_assigned`) when another agent has
    it (they reassign it instead); claiming one's own is a no-op. Returns (thread, changed)."""
    if agent is None:
        raise AgentRequired()
    with transaction.atomic():
        thread = _locked_thread(thread_id)
        if thread.assignee_id == agent.pk:
            return thread, False
        if thread.assignee_id is not None:
            raise AlreadyAssigned(name=agent_name(thread.assignee))
        return _save_state(thread, "claimed", agent, assignee=agent), True


def assign_thread(thread_id: uuid.UUID, assignee_id, by=None) -> tuple[Thread, bool]:
    """Give the conversation to the agent `assignee_id` (None: nobody)."""
    with transaction.atomic():
        thread = _locked_thread(thread_id)
        assignee = _active_agent(assignee_id) if assignee_id is not None else None
        if thread.assignee_id == (assignee.pk if assignee else None):
            return thread, False
        change = "assigned" if assignee else "unassigned"
        return _save_state(thread, change, by, assignee=assignee), True


def resolve_thread(thread_id: uuid.UUID, by=None) -> tuple[Thread, bool]:
    """The conversation is done; the visitor's next message reopens it."""
    with transaction.atomic():
        thread = _locked_thread(thread_id)
        if thread.status == Thread.Status.RESOLVED:
            return thread, False
        return _save_state(
            thread, "resolved", by, status=Thread.Status.RESOLVED, resolved_at=timezone.now()
        ), True


def reopen_thread(thread_id: uuid.UUID, by=None) -> tuple[Thread, bool]:
    with transaction.atomic():
        thread = _locked_thread(thread_id)
        if thread.status == Thread.Status.OPEN:
            return thread, False
        now = timezone.now()
        return _save_state(
            thread, "reopened", by, status=Thread.Status.OPEN, resolved_at=None, reopened_at=now
        ), True


def block_visitor(thread_id: uuid.UUID, duration: str, by=None) -> tuple[Thread, VisitorBlock]:
    """Block the thread's visitor (their address and session) for `duration` (a key of
    blocks.DURATIONS): they cannot write or open conversations until then."""
    if duration not in blocks.DURATIONS:
        raise FieldInvalid("duration", variant="block_duration")
    with transaction.atomic():
        thread = _locked_thread(thread_id)
        until = timezone.now() + blocks.DURATIONS[duration]
        block = VisitorBlock.objects.create(
            ip=thread.visitor_ip,
            key_hash=thread.visitor_key_hash,
            thread=thread,
            display_name=thread.display_name,
            created_by=by,
            expires_at=until,
        )
        _save_state(thread, "blocked", by, blocked_until=until)
    return thread, block


def unblock(block_id: int, by=None) -> bool:
    """Lift a block now (staff, in the Django admin): it ends, its counts stay."""
    with transaction.atomic():
        block = VisitorBlock.objects.select_for_update().filter(pk=block_id).first()
        if block is None:
            return False
        now = timezone.now()
        if block.expires_at > now:
            block.expires_at = now
            block.save(update_fields=["expires_at"])
        if block.thread_id:
            thread = Thread.objects.select_for_update().get(pk=block.thread_id)
            if thread.blocked_until is not None:
                _save_state(thread, "unblocked", by, blocked_until=None)
    return True


def mark_read(thread_id: uuid.UUID, agent) -> bool:
    """`agent` has read the thread up to now: their unread count is 0 on every browser
    they use (`thread_updated` with change "read", `reader` and `unread` 0)."""
    if agent is None:
        return False
    now = timezone.now()
    if not Thread.objects.filter(id=thread_id).exists():
        return False
    marks = ThreadRead.objects.filter(agent=agent, thread_id=thread_id)
    if not marks.update(last_read_at=now):
        try:
            with transaction.atomic():
                ThreadRead.objects.create(agent=agent, thread_id=thread_id, last_read_at=now)
        except IntegrityError:  # another tab of the same agent made it just now
            marks.update(last_read_at=now)
    payload = {"thread_id": str(thread_id), "change": "read", "reader": agent.pk, "unread": 0}
    send_on_commit("thread_updated", payload, ADMIN_ROOM)
    return True


def set_visitor_email(thread_id: uuid.UUID, email: str) -> Thread:
    """The visitor left (or changed, or cleared with "") the address replies go to while
    they are away; agents see it at once (`thread_updated`, change "email")."""
    with transaction.atomic():
        if not Thread.objects.filter(id=thread_id).update(email=email):
            raise ThreadNotFound(str(thread_id))
        payload = {"thread_id": str(thread_id), "change": "email", "email": email or None}
        send_on_commit("thread_updated", payload, ADMIN_ROOM)
        send_on_commit(
            "visitor_email", {"thread_id": str(thread_id), "email": email or None}, thread_room(thread_id)
        )
    return Thread.objects.get(id=thread_id)


def set_email_language(thread_id: uuid.UUID, language: str) -> None:
    """The language the visitor's page is in (at join): their emails are written in it."""
    Thread.objects.filter(id=thread_id).exclude(email_language=language).update(email_language=language)


# --- Edits (issue 15) --------------------------------------------------------------------

# How long an agent may correct a reply in the panel: Telegram lets a bot edit its
# messages for 48 hours, so a later edit could not be mirrored there.
EDIT_WINDOW_HOURS = 48


def edit_message(message_id: uuid.UUID, text: str | None, via: str, agent=None) -> tuple[Message, bool]:
    """An admin corrected a reply: store the new text (the old one stays in MessageEdit),
    tell the visitor's page and the panels (`message_edited`) and, through the
    `message_edited` signal, the Telegram bridge (which mirrors edits not made there).

    From the panel (`via="panel"`) only the agent's own replies of the last
    EDIT_WINDOW_HOURS; from Telegram any reply it delivered (the caller found it). A text
    message needs text; a photo's or voice note's caption may become empty. Returns the
    message and whether it changed (the same text again changes nothing)."""
    from datetime import timedelta

    from chatdesk.refusals import NotEditable, NotYourMessage, UnknownMessage

    from .models import MessageEdit

    with transaction.atomic():
        message = Message.objects.select_for_update().filter(id=message_id).first()
        if message is None:
            raise UnknownMessage()
        if message.sender != Message.Sender.ADMIN:
            raise NotYourMessage()
        if via == "panel":
            # Own replies: the agent's; a session without an agent (signed in before agents
            # existed) is the one "Admin" of replies without an agent.
            if message.agent_id != (agent.pk if agent is not None else None):
                raise NotYourMessage()
            if timezone.now() - message.created_at > timedelta(hours=EDIT_WINDOW_HOURS):
                raise NotEditable()
        if message.type == Message.Type.TEXT and not text:
            raise NotEditable()
        if (message.content_text or "") == (text or ""):
            return message, False
        now = timezone.now()
        MessageEdit.objects.create(
            message=message, previous_text=message.content_text, edited_at=now, via=via, agent=agent
        )
        message.content_text = text or None
        message.search_text = fold(text) if text else None
        message.edited_at = now
        message.save(update_fields=["content_text", "search_text", "edited_at"])
        # The thread list shows the newest message's text: keep it true when that one changed.
        Thread.objects.filter(id=message.thread_id, last_message_at=message.created_at).update(
            last_message_text=message.content_text
        )
        signals.message_edited.send(Message, message=message, via=via)
        payload = {
            "id": str(message.id),
            "thread_id": str(message.thread_id),
            "content_text": message.content_text,
            "edited_iso": iso_time(now),
            "via": via,
        }
        send_on_commit("message_edited", payload, thread_room(message.thread_id))
        send_on_commit("message_edited", payload, ADMIN_ROOM)
    return message, True


# --- Visitor context (issue 14) ----------------------------------------------------------


def set_visitor_context(thread_id: uuid.UUID, context: dict) -> dict | None:
    """Store what the visitor's page told about them (chat/visitor_context.py), merged
    over what was known, and tell the panels (`thread_updated`, change "context").
    Returns the thread's context as payloads carry it; unchanged context tells nobody."""
    from . import visitor_context

    with transaction.atomic():
        thread = Thread.objects.select_for_update().filter(id=thread_id).first()
        if thread is None:
            raise ThreadNotFound(str(thread_id))
        merged = {**(thread.visitor_context or {}), **context}
        if merged == thread.visitor_context:
            return visitor_context.public(thread)
        merged["updated_iso"] = iso_time(timezone.now())
        thread.visitor_context = merged
        thread.page_url = merged.get("page_url", "")
        thread.save(update_fields=["visitor_context", "page_url"])
        public = visitor_context.public(thread)
        send_on_commit(
            "thread_updated",
            {"thread_id": str(thread_id), "change": "context", "context": public},
            ADMIN_ROOM,
        )
    return public
