"""Filling the outbox: what the chat domain does becomes calls to make to Telegram.

The receivers run inside the transaction that stores the change (chat/signals.py), so a
visitor message and its outbox item are committed together or not at all. The worker
(sender.py) is woken once that transaction commits.
"""

from __future__ import annotations

import threading
import uuid

from django.db import transaction
from django.utils import timezone

from chat import signals
from chat.models import Message
from chatdesk import prepared

from . import admin_chat
from .models import OutboxItem, Topic
from .otp import is_configured


class Wakeup:
    """Set when items were committed in this process: the sender looks at once, not at its
    next poll. Not for items that must wait anyway: each chat the sender's last step found
    waiting (`waiting`: chat id -> the least urgent priority whose items wait too, which
    the sender publishes after each step) takes its items at the step the sender already
    waits for. In a flood hundreds of commits a second otherwise each woke the sender's
    thread to find the admin chat still paced (issue 16); deciding at the commit, on the
    committing thread, costs a dict lookup. Items committed by other processes are found
    by polling.

    While a step runs every commit wakes (the step may have read before it). Those wakes
    are remembered, and the ones the step's answer covers are dropped when it is
    published: in a flood a step takes tens of milliseconds and commits come every few,
    so the sender otherwise looked again at every gap only to find the same chats paced."""

    def __init__(self) -> None:
        self._event = threading.Event()
        # One lock for the map, the wakes and the event, so that a commit is checked either
        # against the map the step published or against the wakes that step looks at.
        self._lock = threading.Lock()
        self.waiting: dict[str, int] = {}
        # Wakes not covered by `waiting` since the step began: chat id -> most urgent
        # priority; None for a wake that covers nothing (a requeue, a stop).
        self._woken: dict[str | None, int] = {}

    def set(self, chat_id: str | None = None, priority: int | None = None) -> None:
        """Items for `chat_id` at `priority` were committed; without them, something that
        must not wait (a requeue, a stop)."""
        with self._lock:
            if chat_id is not None and priority is not None:
                chat_id = str(chat_id)
                least = self.waiting.get(chat_id)
                if least is not None and priority >= least:
                    return
                self._woken[chat_id] = min(priority, self._woken.get(chat_id, priority))
            else:
                self._woken[None] = -1
            self._event.set()

    def looking(self) -> None:
        """A step begins: until it publishes what it found (`looked`), every commit wakes."""
        with self._lock:
            self.waiting = {}
            self._woken = {}
            self._event.clear()

    def looked(self, waiting: dict[str, int]) -> None:
        """The step found `waiting` (see the class): publish it, and drop the wakes of the
        step's own time whose items wait anyway."""
        with self._lock:
            self.waiting = waiting
            if all(
                chat_id in waiting and priority >= waiting[chat_id]
                for chat_id, priority in self._woken.items()
            ):
                self._event.clear()
            self._woken = {}

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._event.wait(timeout)


wakeup = Wakeup()


def _wake_on_commit(chat_id: str, priority: int) -> None:
    transaction.on_commit(lambda: wakeup.set(chat_id, priority))


def enqueue(
    kind: str,
    *,
    chat_id: str | int | None = None,
    thread_id: uuid.UUID | None = None,
    message_id: uuid.UUID | None = None,
    payload: dict | None = None,
    priority: int = OutboxItem.Priority.CHAT,
) -> OutboxItem:
    """Queue one call. The sender goes by `priority` (sign-in, then notices, then the
    chat), and within the chat round-robin over threads, each thread in order."""
    item = OutboxItem.objects.create(
        kind=kind,
        priority=priority,
        chat_id=str(chat_id if chat_id is not None else admin_chat.current()),
        thread_id=thread_id,
        message_id=message_id,
        payload=payload or {},
    )
    _wake_on_commit(item.chat_id, priority)
    return item


def enqueue_each(
    kind: str,
    thread_ids: list[uuid.UUID],
    *,
    payload: dict | None = None,
    priority: int = OutboxItem.Priority.CHAT,
) -> None:
    """`enqueue` for each of `thread_ids`, in that order, by one INSERT."""
    if thread_ids:
        _insert_items(kind, priority, [(thread_id, None) for thread_id in thread_ids], payload or {})


# What _insert_items() writes in each column but the id: a value shared by the rows of
# one call (a named parameter, adapted once however many rows there are), the row's own
# thread and message, or a constant. Per column: the expression in a row of VALUES (n: the
# row's index), and in the SELECT that reads the rows from lists on PostgreSQL.
_ITEM_VALUES = {
    "kind": ("%(kind)s", "%(kind)s::text"),
    "state": (f"'{OutboxItem.State.PENDING}'",) * 2,
    "priority": ("%(priority)s", "%(priority)s::smallint"),
    "chat_id": ("%(chat_id)s", "%(chat_id)s::text"),
    "thread_id": ("%(thread_{n})s", "item.thread_id::uuid"),
    "message_id": ("%(message_{n})s", "item.message_id::uuid"),
    "payload": ("%(payload)s", "%(payload)s::jsonb"),
    "created_at": ("%(now)s", "%(now)s::timestamptz"),
    "next_attempt_at": ("%(now)s", "%(now)s::timestamptz"),
    "attempts": ("0",) * 2,
    "last_error": ("''",) * 2,
    "claimed_at": ("NULL",) * 2,
    "claimed_by": ("''",) * 2,
    "parts_done": ("0",) * 2,
    "progress": ("'{{}}'", "'{}'"),
}
_ITEMS_INTO = f"INSERT INTO {OutboxItem._meta.db_table} ({', '.join(_ITEM_VALUES)})"
_ITEM_ROW = "(" + ", ".join(row for row, _ in _ITEM_VALUES.values()) + ")"
# PostgreSQL: one statement text whatever the number of rows, so that it is prepared once
# per connection (chatdesk/prepared.py). The rows' ids come as two comma-separated lists
# in order (an empty message id is NULL): a value each to send, where arrays of UUIDs
# cost psycopg a dumper call per id.
_ITEMS_FROM_LISTS_SQL = (
    f"{_ITEMS_INTO} SELECT {', '.join(select for _, select in _ITEM_VALUES.values())}"
    " FROM unnest(string_to_array(%(threads)s, ',', ''), string_to_array(%(messages)s, ',', ''))"
    " WITH ORDINALITY AS item(thread_id, message_id, n) ORDER BY item.n"
)


# PostgreSQL: one item for each thread of %(threads)s, in that order, that the statement's
# data-modifying `WITH made AS (... RETURNING thread_id)` returned (insert_items_for_made).
_ITEMS_FOR_MADE_SQL = (
    f"{_ITEMS_INTO} SELECT "
    + ", ".join(
        "NULL::uuid" if column == "message_id" else select for column, (_, select) in _ITEM_VALUES.items()
    )
    + " FROM unnest(string_to_array(%(threads)s, ',')) WITH ORDINALITY AS item(thread_id, n)"
    " JOIN made ON made.thread_id = item.thread_id::uuid ORDER BY item.n"
)


def _shared_values(kind: str, priority: int, payload: dict, connection) -> dict:
    field = OutboxItem._meta.get_field
    return {
        "kind": kind,
        "priority": priority,
        "chat_id": str(admin_chat.current()),
        "payload": field("payload").get_db_prep_save(payload, connection),
        "now": connection.ops.adapt_datetimefield_value(timezone.now()),
    }


def insert_items_for_made(made_sql: str, kind: str, thread_ids: list, payload: dict) -> None:
    """PostgreSQL: in one statement that waits for the COMMIT, run `made_sql` (a
    data-modifying statement returning `thread_id`, which may use %(threads)s, the ids
    comma-separated, and %(now)s) and queue an item of `kind` for each thread it returned,
    in the order of `thread_ids`, at chat priority. A conversation's first message makes
    its card this way: a statement of its own was a round trip (and a sleep of the
    database thread) more for the message (bench/README.md, thirteenth round)."""
    connection = transaction.get_connection()
    priority = OutboxItem.Priority.CHAT
    params = _shared_values(kind, priority, payload, connection)
    params["threads"] = ",".join(str(thread_id) for thread_id in thread_ids)
    # Not prepared, as the message items below: a lost prepared statement would fail a
    # COMMIT that nothing could retry.
    prepared.write_at_commit(connection, f"WITH made AS ({made_sql}) {_ITEMS_FOR_MADE_SQL}", [params])
    _wake_on_commit(params["chat_id"], priority)


def _insert_items(kind: str, priority: int, ids: list[tuple], payload: dict) -> None:
    """Queue one item per (thread_id, message_id) of `ids`, in that order, for the admin
    chat, by one INSERT written in SQL: these are the items of every visitor message (a
    group's, in its transaction). Building them as model instances for bulk_create cost
    about 5% of a message's CPU with the bridge on, repeating the shared values in every
    row about 20 µs a message more, and client-side parameters on PostgreSQL another
    50 µs a group (bench/README.md, fifth to seventh rounds).
    tests/unit/test_outbox_order.py compares the rows with the ORM's field by field."""
    connection = transaction.get_connection()
    params = _shared_values(kind, priority, payload, connection)
    if connection.vendor == "postgresql":
        params["threads"] = ",".join(str(thread_id or "") for thread_id, _ in ids)
        params["messages"] = ",".join(str(message_id or "") for _, message_id in ids)
        prepared.write_at_commit(connection, _ITEMS_FROM_LISTS_SQL, [params])
    else:
        to_uuid = OutboxItem._meta.get_field("thread_id").get_db_prep_value
        rows = []
        for n, (thread_id, message_id) in enumerate(ids):
            params[f"thread_{n}"] = to_uuid(thread_id, connection)
            params[f"message_{n}"] = to_uuid(message_id, connection)
            rows.append(_ITEM_ROW.format(n=n))
        with connection.cursor() as cursor:
            cursor.execute(f"{_ITEMS_INTO} VALUES {', '.join(rows)}", params)
    _wake_on_commit(params["chat_id"], priority)


def notice(
    text_html: str,
    *,
    reply_to: int | None = None,
    topic_id: int | None = None,
    thread_id: uuid.UUID | None = None,
    priority: int = OutboxItem.Priority.NOTICE,
) -> OutboxItem:
    """A bot message to the admin chat (a hint, a command's answer). With `thread_id`, a
    reply to it answers that visitor. Notices go ahead of chat traffic; sign-in messages
    (priority SIGN_IN) ahead of everything."""
    payload = {"text": text_html, "reply_to": reply_to, "topic_id": topic_id}
    return enqueue(OutboxItem.Kind.NOTICE, thread_id=thread_id, payload=payload, priority=priority)


def requeue(items) -> int:
    """Send failed items (a queryset) again, from now, with fresh attempts: staff fixed
    what refused them (re-added the bot, corrected the chat id). A standing refusal is
    lifted (the next send shows whether it holds), and items for a chat Telegram upgraded
    go to the chat it became. Returns how many were requeued."""
    current = admin_chat.current()
    previous = admin_chat.previous_ids()
    ids = list(items.filter(state=OutboxItem.State.FAILED).values_list("id", flat=True))
    with transaction.atomic():
        OutboxItem.objects.filter(id__in=ids, chat_id__in=previous).update(chat_id=current)
        count = OutboxItem.objects.filter(id__in=ids, state=OutboxItem.State.FAILED).update(
            state=OutboxItem.State.PENDING,
            attempts=0,
            next_attempt_at=timezone.now(),
            claimed_at=None,
            claimed_by="",
        )
    if count:
        admin_chat.clear_refusal(why="requeued")
        wakeup.set()
    return count


def forwarded(messages: list[Message], via: str) -> list[Message]:
    """Of messages just posted, those the admin chat shows: every visitor message, and the
    admin answers written outside Telegram (the ones written there are there already)."""
    return [m for m in messages if m.sender != Message.Sender.ADMIN or via != "telegram"]


def on_messages_posted(sender, messages: list[Message], via: str, **kwargs) -> None:
    """Forward visitor messages; mirror admin answers written outside Telegram.

    Admins reading the Telegram chat see the whole conversation, including what a
    colleague answered from the panel, and nobody answers twice. A group stored together
    is queued by one INSERT.
    """
    if not is_configured():
        return
    ids = [(m.thread_id, m.id) for m in forwarded(messages, via)]
    if ids:
        _insert_items(OutboxItem.Kind.MESSAGE, OutboxItem.Priority.CHAT, ids, {})


def _drop_topics(topics) -> None:
    for topic in topics:
        enqueue(
            OutboxItem.Kind.DELETE_TOPIC,
            chat_id=topic.chat_id,
            thread_id=topic.thread_id,
            payload={"topic_id": topic.topic_id},
        )
        topic.delete()


def on_thread_cleared(sender, thread_id: uuid.UUID, **kwargs) -> None:
    """A cleared thread's topic goes too; the visitor's next message opens a new one."""
    if is_configured():
        _drop_topics(list(Topic.objects.filter(thread_id=thread_id)))


def on_threads_deleted(sender, thread_ids, **kwargs) -> None:
    if is_configured():
        _drop_topics(list(Topic.objects.filter(thread_id__in=list(thread_ids))))


def on_all_cleared(sender, **kwargs) -> None:
    if is_configured():
        _drop_topics(list(Topic.objects.all()))


def on_message_edited(sender, message: Message, via: str, **kwargs) -> None:
    """An agent corrected a reply in the panel: correct its copy in the admin chat too
    (editMessageText / editMessageCaption, after the message's own item in its thread's
    order). Edits made in Telegram are there already."""
    if is_configured() and via != "telegram":
        enqueue(OutboxItem.Kind.EDIT, thread_id=message.thread_id, message_id=message.id)


def connect() -> None:
    signals.message_edited.connect(on_message_edited, dispatch_uid="telegram_bridge.message_edited")
    signals.messages_posted.connect(on_messages_posted, dispatch_uid="telegram_bridge.messages_posted")
    signals.thread_cleared.connect(on_thread_cleared, dispatch_uid="telegram_bridge.thread_cleared")
    signals.threads_deleted.connect(on_threads_deleted, dispatch_uid="telegram_bridge.threads_deleted")
    signals.all_cleared.connect(on_all_cleared, dispatch_uid="telegram_bridge.all_cleared")
