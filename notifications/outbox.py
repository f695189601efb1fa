"""Filling the email outbox from what happens in the chat (chat/signals.py).

The receivers run inside the transaction that stores the change, so an agent's reply and
the email it will cause are committed together or not at all. One replies email waits per
thread at a time: later replies join it (the worker gathers them when it sends).
"""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction

from chat import signals
from chat.models import Message, Thread

from .models import EmailOutboxItem, Unsubscribed

# Set when an item was committed in this process: the worker looks at once.
wakeup = threading.Event()


def is_unsubscribed(address: str) -> bool:
    return bool(address) and Unsubscribed.objects.filter(email__iexact=address).exists()


def _last_sent_at(thread_id: uuid.UUID):
    last = (
        EmailOutboxItem.objects.filter(
            thread_id=thread_id, kind=EmailOutboxItem.Kind.REPLIES, state=EmailOutboxItem.State.SENT
        )
        .order_by("-sent_at")
        .values_list("sent_at", flat=True)
        .first()
    )
    return last


def queue_replies_email(thread: Thread, reply_at) -> EmailOutboxItem | None:
    """Make sure a replies email waits for this thread, due when the reply has gone unseen
    for EMAIL_UNSEEN_SECONDS and at least EMAIL_BATCH_SECONDS after the previous one."""
    if not settings.EMAIL_ENABLED or not thread.email or is_unsubscribed(thread.email):
        return None
    pending = EmailOutboxItem.objects.filter(
        thread_id=thread.id, kind=EmailOutboxItem.Kind.REPLIES, state=EmailOutboxItem.State.PENDING
    ).first()
    if pending is not None:
        return pending  # this reply goes with it
    due = reply_at + timedelta(seconds=settings.EMAIL_UNSEEN_SECONDS)
    last = _last_sent_at(thread.id)
    if last is not None:
        due = max(due, last + timedelta(seconds=settings.EMAIL_BATCH_SECONDS))
    try:
        with transaction.atomic():
            item = EmailOutboxItem.objects.create(
                kind=EmailOutboxItem.Kind.REPLIES, thread_id=thread.id, to=thread.email, next_attempt_at=due
            )
    except IntegrityError:  # a concurrent reply queued it first
        return EmailOutboxItem.objects.filter(
            thread_id=thread.id, kind=EmailOutboxItem.Kind.REPLIES, state=EmailOutboxItem.State.PENDING
        ).first()
    transaction.on_commit(wakeup.set)
    return item


def queue_transcript(thread: Thread) -> EmailOutboxItem:
    """The whole conversation, to the thread's address, as soon as the worker can."""
    item = EmailOutboxItem.objects.create(
        kind=EmailOutboxItem.Kind.TRANSCRIPT, thread_id=thread.id, to=thread.email
    )
    transaction.on_commit(wakeup.set)
    return item


def on_messages_posted(sender, messages: list[Message], via: str, **kwargs) -> None:
    if not settings.EMAIL_ENABLED:
        return
    for message in messages:
        if message.sender != Message.Sender.ADMIN:
            continue
        thread = Thread.objects.filter(id=message.thread_id).only("id", "email").first()
        if thread is not None and thread.email:
            queue_replies_email(thread, message.created_at)


def connect() -> None:
    signals.messages_posted.connect(on_messages_posted, dispatch_uid="notifications.messages_posted")
