"""The chat domain's operations: the only code that changes threads and messages.

Socket handlers, HTTP views, the Telegram bridge, the Django admin and management
commands all call these. Each stores its change first and, once the transaction has
committed, tells connected clients through `chat.events.send_on_commit`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from chatdesk.refusals import UnknownThread

from . import signals
from .events import ADMIN_ROOM, send_on_commit, thread_room
from .models import Message, TelegramLink, Thread
from .search import fold
from .serializers import iso_time, message_payload, thread_to_dict
from .validation import MessageInput


class ThreadNotFound(UnknownThread, LookupError):
    """The thread does not exist (any more); answered to clients as `unknown_thread`."""

    def __init__(self, thread_id: str = ""):
        super().__init__()
        self.thread_id = thread_id


def create_thread(display_name: str) -> Thread:
    """Open a new conversation for a visitor."""
    now = timezone.now()
    thread = Thread.objects.create(
        display_name=display_name, last_activity_at=now, search_name=fold(display_name)[:200]
    )
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
)
_MESSAGE_INSERT_SQL = (
    "INSERT INTO messages (id, thread_id, sender, type, content_text, file_path, created_at, client_id,"
    " width, height, duration_ms, search_text)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


def _insert_message(message: Message, touch_thread: bool) -> bool:
    """UPDATE the thread's last message, then INSERT `message`; False (and nothing
    inserted) when the UPDATE matched no row. Call inside a transaction."""
    connection = transaction.get_connection()
    uuid_to_db = Message._meta.pk.get_db_prep_value  # hex on SQLite, uuid on PostgreSQL
    thread_id = uuid_to_db(message.thread_id, connection)
    now = connection.ops.adapt_datetimefield_value(message.created_at)
    with connection.cursor() as cursor:
        activity = ", last_activity_at = %s" if touch_thread else ""
        cursor.execute(
            _THREAD_UPDATE_SQL.format(activity=activity),
            [
                message.content_text,
                message.type,
                now,
                True,
                now,
                *([now] if touch_thread else []),
                thread_id,
                now,
            ],
        )
        if cursor.rowcount != 1:
            return False
        cursor.execute(
            _MESSAGE_INSERT_SQL,
            [
                uuid_to_db(message.id, connection),
                thread_id,
                message.sender,
                message.type,
                message.content_text,
                message.file_path,
                now,
                message.client_id,
                message.width,
                message.height,
                message.duration_ms,
                message.search_text,
            ],
        )
    message._state.adding = False  # as save() leaves it
    message._state.db = connection.alias
    return True


def _store_message(sender: str, data: MessageInput, via: str) -> tuple[Message, bool]:
    """Store a message once per (thread, sender, client_id); return it and whether it is new.

    Three statements in one transaction, the fewest round trips that keep the rules:
    the thread's UPDATE comes first (it locks the row, like SELECT ... FOR UPDATE did,
    and tells a missing thread by matching nothing), then the INSERT; a resend of a
    known client_id is told by the unique constraint rather than a lookup every time.
    """
    now = timezone.now()
    message = Message(
        thread_id=data.thread_id,
        sender=sender,
        type=data.type,
        content_text=data.text,
        file_path=data.file_url,
        client_id=data.client_id,
        created_at=now,
        width=data.width,
        height=data.height,
        duration_ms=data.duration_ms,
        search_text=fold(data.text) if data.text else None,
    )
    is_visitor = sender == Message.Sender.VISITOR
    try:
        with transaction.atomic():
            if not _insert_message(message, touch_thread=is_visitor):
                # No row matched: no such thread, or a newer last message is already set.
                if not Thread.objects.filter(id=data.thread_id).exists():
                    raise ThreadNotFound(str(data.thread_id))
                if is_visitor:
                    Thread.objects.filter(id=data.thread_id).update(last_activity_at=now)
                message.save(force_insert=True)
            signals.message_posted.send(Message, message=message, via=via)
    except IntegrityError:
        # A resend of a stored client_id (or two resends racing): the first one won.
        existing = None
        if data.client_id:
            existing = Message.objects.filter(
                thread_id=data.thread_id, sender=sender, client_id=data.client_id
            ).first()
        if existing is None:
            if not Thread.objects.filter(id=data.thread_id).exists():
                raise ThreadNotFound(str(data.thread_id)) from None
            raise
        return existing, False
    return message, True


def post_visitor_message(data: MessageInput, via: str = "socket") -> tuple[Message, bool]:
    """A visitor wrote to the admins: store it, then deliver it to every admin."""
    message, created = _store_message(Message.Sender.VISITOR, data, via)
    if created:
        send_on_commit("message_from_visitor", message_payload(message), ADMIN_ROOM)
    return message, created


def post_admin_message(data: MessageInput, via: str = "panel") -> tuple[Message, bool]:
    """An admin answered (from the panel or Telegram): store it, deliver it to the
    visitor, and to every admin so other panels stay in sync."""
    message, created = _store_message(Message.Sender.ADMIN, data, via)
    if created:
        payload = message_payload(message)
        payload_for_admins = dict(payload, via=via)
        send_on_commit("message_from_admin", payload, thread_room(message.thread_id))
        send_on_commit("message_from_telegram", payload_for_admins, ADMIN_ROOM)
    return message, created


def link_telegram_message(thread_id: uuid.UUID, chat_id: int, message_id: int) -> bool:
    """Remember that Telegram message (chat_id, message_id) belongs to the thread, so a
    reply to it reaches that visitor. False when the thread is gone; a repeat is a no-op."""
    if not Thread.objects.filter(id=thread_id).exists():
        return False
    try:
        with transaction.atomic():
            TelegramLink.objects.get_or_create(
                chat_id=int(chat_id), message_id=int(message_id), defaults={"thread_id": thread_id}
            )
    except IntegrityError:
        # The thread was deleted meanwhile, or a concurrent insert of the same link won.
        return TelegramLink.objects.filter(chat_id=int(chat_id), message_id=int(message_id)).exists()
    return True


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
        send_on_commit("all_cleared", {}, ADMIN_ROOM)
        # Open visitor pages are emptied live, as when one thread is deleted.
        for tid in thread_ids:
            send_on_commit("thread_deleted", {"thread_id": str(tid)}, thread_room(tid))


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
