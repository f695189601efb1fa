"""Read-only queries of the chat domain, shaped for the pages and the API."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Q, QuerySet

from . import search
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
    "admin_seen_at",
    "visitor_seen_at",
    "email",
    "status",
    "assignee_id",
    "first_response_at",
    "resolved_at",
    "blocked_until",
    "state_version",
    "visitor_context",
)
MESSAGE_FIELDS = (
    "id",
    "thread_id",
    "sender",
    "type",
    "content_text",
    "file_path",
    "created_at",
    "client_id",
    "width",
    "height",
    "duration_ms",
    "agent_id",
    "edited_at",
)


def thread_rows(limit: int, before: ThreadCursor | None = None) -> list:
    """recent_threads() as named rows with THREAD_FIELDS, for GET /api/threads."""
    return recent_threads(limit, before, rows=True)


def message_rows(thread_id: uuid.UUID, limit: int, before: Message | None = None) -> list:
    """thread_messages() as named rows with MESSAGE_FIELDS, for GET /api/messages."""
    return thread_messages(thread_id, limit, before, rows=True)


def recent_threads(
    limit: int, before: ThreadCursor | None = None, rows: bool = False, within: QuerySet | None = None
) -> list[Thread]:
    """Threads by newest message first (threads without messages last), `limit` at most.

    `before` is the (has_messages, sorted_at, id) of the last thread of the previous page:
    keyset pagination over thread_list_order_idx, so page 1,000 costs what page 1 does.
    The bounds are written as `has_messages = x AND sorted_at <= y` (index conditions),
    not as an OR over the whole key, which PostgreSQL would evaluate row by row from the
    top of the index. Crossing from the "with messages" group to the other takes a
    second query.
    """
    threads = Thread.objects.all() if within is None else within
    if rows:
        threads = threads.values_list(*THREAD_FIELDS, named=True)
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


def matching_messages(words: list[str]) -> QuerySet:
    """Messages whose text has every word: PostgreSQL full-text search over the GIN index
    of migration 0005 (words as prefixes), a LIKE over the same folded column elsewhere."""
    messages = Message.objects.all()
    if connection.vendor == "postgresql":
        vector = SearchVector("search_text", config="simple")
        query = SearchQuery(search.tsquery(words), config="simple", search_type="raw")
        return messages.annotate(search_vector=vector).filter(search_vector=query)
    for word in words:
        messages = messages.filter(search_text__contains=word)
    return messages


def search_threads(query: str, limit: int, before: ThreadCursor | None = None) -> list[tuple]:
    """Threads whose name or any message matches `query` (folded: "ayse" finds "Ayşe"),
    in the list's order and pages, each with its newest matching message's snippet:
    (row, {"message_id", "text", "start", "end"} or None)."""
    words = search.terms(query)
    if not words:
        return [(row, None) for row in thread_rows(limit, before)]
    messages = matching_messages(words)
    by_name = Q()
    for word in words:
        by_name &= Q(search_name__contains=word)
    within = Thread.objects.filter(by_name | Q(id__in=messages.values("thread_id")))
    page = recent_threads(limit, before, rows=True, within=within)
    found = []
    for row in page:
        hit = (
            messages.filter(thread_id=row.id)
            .order_by("-created_at", "-id")
            .values_list("id", "content_text")
            .first()
        )
        piece = search.snippet(hit[1], words) if hit else None
        match = None
        if piece is not None:
            text, start, end = piece
            match = {"message_id": str(hit[0]), "text": text, "start": start, "end": end}
        found.append((row, match))
    return found


def get_thread(thread_id: uuid.UUID) -> Thread | None:
    return Thread.objects.filter(id=thread_id).first()


def get_message(message_id: uuid.UUID) -> Message | None:
    return Message.objects.filter(id=message_id).first()
