"""Read-only queries of the chat domain, shaped for the pages and the API."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db.models import Q

from .models import Message, Thread

ThreadCursor = tuple[bool, datetime, uuid.UUID]


def recent_threads(limit: int, before: ThreadCursor | None = None) -> list[Thread]:
    """Threads by newest message first (threads without messages last), `limit` at most.

    `before` is the (has_messages, sorted_at, id) of the last thread of the previous page:
    keyset pagination over thread_list_order_idx, so page 1,000 costs what page 1 does.
    """
    threads = Thread.objects.order_by("-has_messages", "-sorted_at", "-id")
    if before is not None:
        has_messages, sorted_at, tid = before
        later_in_group = Q(has_messages=has_messages) & (
            Q(sorted_at__lt=sorted_at) | Q(sorted_at=sorted_at, id__lt=tid)
        )
        if has_messages:
            # Every thread without messages comes after the last thread with one.
            later_in_group |= Q(has_messages=False)
        threads = threads.filter(later_in_group)
    return list(threads[:limit])


def thread_messages(thread_id: uuid.UUID, limit: int, before: Message | None = None) -> list[Message]:
    """A thread's newest `limit` messages (older than `before`), oldest first."""
    messages = Message.objects.filter(thread_id=thread_id)
    if before is not None:
        messages = messages.filter(
            Q(created_at__lt=before.created_at) | Q(created_at=before.created_at, id__lt=before.id)
        )
    newest = list(messages.order_by("-created_at", "-id")[:limit])
    newest.reverse()
    return newest


def get_thread(thread_id: uuid.UUID) -> Thread | None:
    return Thread.objects.filter(id=thread_id).first()


def get_message(message_id: uuid.UUID) -> Message | None:
    return Message.objects.filter(id=message_id).first()
