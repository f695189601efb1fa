"""Read-only queries of the chat domain, shaped for the pages and the API."""

from __future__ import annotations

import uuid
from datetime import datetime

from .models import Message, Thread

ThreadCursor = tuple[bool, datetime, uuid.UUID]


ORDER = ("-has_messages", "-sorted_at", "-id")


# What the API's pages serialise. Read as named rows (values_list(named=True): the same
# attribute names as the models), which costs a third of building model instances.
THREAD_FIELDS = (
    "id",
    "display_name",
    "created_at",
    "last_activity_at",
    "last_message_text",
    "last_message_type",
    "last_message_at",
)
MESSAGE_FIELDS = ("id", "thread_id", "sender", "type", "content_text", "file_path", "created_at", "client_id")


def thread_rows(limit: int, before: ThreadCursor | None = None) -> list:
    """recent_threads() as named rows with THREAD_FIELDS, for GET /api/threads."""
    return recent_threads(limit, before, rows=True)


def message_rows(thread_id: uuid.UUID, limit: int, before: Message | None = None) -> list:
    """thread_messages() as named rows with MESSAGE_FIELDS, for GET /api/messages."""
    return thread_messages(thread_id, limit, before, rows=True)


def recent_threads(limit: int, before: ThreadCursor | None = None, rows: bool = False) -> list[Thread]:
    """Threads by newest message first (threads without messages last), `limit` at most.

    `before` is the (has_messages, sorted_at, id) of the last thread of the previous page:
    keyset pagination over thread_list_order_idx, so page 1,000 costs what page 1 does.
    The bounds are written as `has_messages = x AND sorted_at <= y` (index conditions),
    not as an OR over the whole key, which PostgreSQL would evaluate row by row from the
    top of the index. Crossing from the "with messages" group to the other takes a
    second query.
    """
    threads = Thread.objects.values_list(*THREAD_FIELDS, named=True) if rows else Thread.objects.all()
    if before is None:
        return list(threads.order_by(*ORDER)[:limit])
    has_messages, sorted_at, tid = before
    page = list(
        threads.filter(has_messages=has_messages, sorted_at__lte=sorted_at)
        .exclude(sorted_at=sorted_at, id__gte=tid)
        .order_by(*ORDER)[:limit]
    )
    if has_messages and len(page) < limit:
        page += threads.filter(has_messages=False).order_by(*ORDER)[: limit - len(page)]
    return page


def thread_messages(
    thread_id: uuid.UUID, limit: int, before: Message | None = None, rows: bool = False
) -> list[Message]:
    """A thread's newest `limit` messages (older than `before`), oldest first.

    Served by message_thread_time_id_idx (thread, created_at, id), scanned backwards.
    The thread is matched as a range (>= x AND <= x) and thread_id leads the ORDER BY
    on purpose: with `thread_id = x` PostgreSQL may prefer walking message_time_idx and
    filtering, which reads the whole table for a big thread whose messages are old.
    """
    messages = Message.objects.values_list(*MESSAGE_FIELDS, named=True) if rows else Message.objects.all()
    messages = messages.filter(thread_id__gte=thread_id, thread_id__lte=thread_id)
    if before is not None:
        messages = messages.filter(created_at__lte=before.created_at).exclude(
            created_at=before.created_at, id__gte=before.id
        )
    newest = list(messages.order_by("-thread_id", "-created_at", "-id")[:limit])
    newest.reverse()
    return newest


def get_thread(thread_id: uuid.UUID) -> Thread | None:
    return Thread.objects.filter(id=thread_id).first()


def get_message(message_id: uuid.UUID) -> Message | None:
    return Message.objects.filter(id=message_id).first()
