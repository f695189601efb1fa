"""Updates from Telegram: recorded once (webhook or getUpdates), then handled by a worker.

Recording is a single insert keyed by update_id, so a repeated update does nothing and
the webhook answers at once. Handling (downloading a photo, storing an admin message)
happens on the worker thread, claimed atomically so one process handles each update.
"""

from __future__ import annotations

import logging
import posixpath
import threading
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from chat import availability, services
from chat.attachments.files import StorageFailed, store_file
from chat.models import TelegramLink, Thread
from chat.validation import MessageInput, parse_text
from chatdesk.refusals import FileTooLarge, MalformedTelegramMessage, Refusal

from . import admin_chat, agent_chats, bot_commands, callbacks, edits, outbox, visitor_link
from .client import TelegramClient, TelegramError
from .messages import esc
from .models import InboundUpdate, Topic

logger = logging.getLogger("telegram_bridge.inbound")

CLAIM_TIMEOUT = timedelta(minutes=2)
KEEP_UPDATES = timedelta(days=2)

wakeup = threading.Event()

HINT = (
    "This message went to nobody. <b>Reply</b> to a visitor's message to answer them"
    "{topics}, or send /threads to see recent conversations."
)
UNSUPPORTED = "Only text, photos and voice notes reach the visitor; this one was not sent."
# What makes a message content (anything else is a service message: topic created...).
CONTENT_KEYS = (
    "text",
    "photo",
    "voice",
    "audio",
    "document",
    "sticker",
    "video",
    "video_note",
    "animation",
    "location",
    "contact",
    "poll",
    "venue",
    "dice",
)


def record_update(update: Any) -> bool:
    """Store a received update unless its update_id was seen; True when it is new."""
    if (
        not isinstance(update, dict)
        or not isinstance(update.get("update_id"), int)
        or isinstance(update.get("update_id"), bool)
    ):
        raise ValueError("An update needs an integer update_id.")
    try:
        with transaction.atomic():
            InboundUpdate.objects.create(update_id=update["update_id"], payload=update)
    except IntegrityError:
        logger.info("telegram_update_duplicate update_id=%s", update["update_id"])
        return False
    wakeup.set()
    return True


class Receiver:
    def __init__(self, client: TelegramClient | None = None) -> None:
        self.client = client or TelegramClient.from_settings()

    def step(self) -> bool:
        """Handle the oldest unhandled update; False when there is none."""
        now = timezone.now()
        row = (
            InboundUpdate.objects.filter(processed_at__isnull=True)
            .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT))
            .order_by("update_id")
            .first()
        )
        if row is None:
            return False
        claimed = InboundUpdate.objects.filter(
            pk=row.pk, processed_at__isnull=True, claimed_at=row.claimed_at
        ).update(claimed_at=now)
        if not claimed:
            return True  # another process took it; look for the next one
        try:
            outcome = self.handle(row.payload)
        except Exception:
            logger.exception("telegram_update_crashed update_id=%s", row.pk)
            outcome = "error"
        InboundUpdate.objects.filter(pk=row.pk).update(processed_at=timezone.now(), outcome=outcome[:64])
        logger.info("telegram_update update_id=%s outcome=%s", row.pk, outcome)
        return True

    def prune(self) -> None:
        InboundUpdate.objects.filter(processed_at__lt=timezone.now() - KEEP_UPDATES).delete()

    # --- one update ----------------------------------------------------------------------

    def handle(self, update: dict) -> str:
        if "callback_query" in update:  # an inline button pressed (issue 13)
            return callbacks.dispatch(update["callback_query"], self.client)
        if "my_chat_member" in update:  # the bot removed from / added back to a chat
            return membership_changed(update["my_chat_member"])
        if "edited_message" in update:  # an admin corrected a reply (issue 15)
            return edits.handle(update["edited_message"])
        message = update.get("message")
        if not isinstance(message, dict):
            return "ignored:not_a_message"
        chat_id = (message.get("chat") or {}).get("id")
        migrated = follow_migration(message)
        if migrated:
            return migrated
        if (message.get("chat") or {}).get("type") == "private" and not admin_chat.is_admin_chat(chat_id):
            # A visitor who continues in Telegram (issue 14), else an agent's private chat.
            return visitor_link.handle_private(message, self) or agent_chats.handle_private(
                message, self.client
            )
        if not admin_chat.is_admin_chat(chat_id):
            logger.warning("telegram_update_ignored reason=other_chat chat_id=%s", chat_id)
            return "ignored:other_chat"
        if (message.get("from") or {}).get("is_bot") and not is_anonymous_admin(message):
            return "ignored:bot"
        if not any(key in message for key in CONTENT_KEYS):
            return "ignored:service"
        # An agent is active in the admin chat: the desk counts as available for a while.
        availability.note_telegram_activity()
        topic_id = message.get("message_thread_id") if message.get("is_topic_message") else None
        text = message.get("text")
        if isinstance(text, str) and text.startswith("/"):
            return bot_commands.run(message, topic_id)
        thread_id = find_thread(chat_id, message)
        if thread_id is None:
            # Admins also talk among themselves: hint each person once in a while only.
            person = (message.get("from") or {}).get("id")
            if message["chat"].get("type") != "private" and not admin_chat.hint_due(person):
                return "no_target"
            topics = " or write in a visitor's topic" if settings.TELEGRAM_TOPICS else ""
            outbox.notice(HINT.format(topics=topics), reply_to=message.get("message_id"), topic_id=topic_id)
            return "hint"
        try:
            data = self.message_input(thread_id, chat_id, message)
        except (Refusal, TelegramError, StorageFailed) as exc:
            reason = str(exc)
            logger.warning("telegram_reply_refused thread=%s reason=%r", thread_id, reason)
            outbox.notice(
                f"Not delivered: {esc(reason)}", reply_to=message.get("message_id"), topic_id=topic_id
            )
            return "refused"
        if data is None:
            outbox.notice(UNSUPPORTED, reply_to=message.get("message_id"), topic_id=topic_id)
            return "unsupported"
        try:
            stored, created = services.post_admin_message(data, via="telegram", agent=author(message))
        except services.ThreadNotFound:
            outbox.notice(
                "That conversation was deleted.", reply_to=message.get("message_id"), topic_id=topic_id
            )
            return "thread_gone"
        # A reply to the admin's own message goes to the same visitor.
        services.link_telegram_message(thread_id, chat_id, message["message_id"])
        return "delivered" if created else "duplicate"

    def message_input(self, thread_id, chat_id: int, message: dict) -> MessageInput | None:
        client_id = f"tg:{chat_id}:{message.get('message_id')}"[:64]
        if isinstance(message.get("text"), str):
            return MessageInput(thread_id, "text", parse_text(message["text"], True), None, client_id)
        file = None
        kind = None
        if isinstance(message.get("photo"), list) and message["photo"]:
            if not all(isinstance(size, dict) for size in message["photo"]):
                raise MalformedTelegramMessage()
            kind, file = "image", message["photo"][-1]  # the largest size comes last
        elif isinstance(message.get("voice"), dict):
            kind, file = "audio", message["voice"]
        elif isinstance(message.get("audio"), dict):
            kind, file = "audio", message["audio"]
        elif isinstance(message.get("document"), dict):
            mime = str(message["document"].get("mime_type") or "")
            if mime.startswith("image/"):
                kind, file = "image", message["document"]
            elif mime.startswith("audio/"):
                kind, file = "audio", message["document"]
        if file is None or not isinstance(file.get("file_id"), str):
            return None
        url = self.copy_file(kind, file)
        caption = parse_text(message.get("caption"), False)
        return MessageInput(thread_id, kind, caption, url, client_id)

    def copy_file(self, kind: str, file: dict) -> str:
        """Download a Telegram file into our upload storage; returns our URL for it."""
        limit = settings.UPLOAD_MAX_BYTES
        if isinstance(file.get("file_size"), int) and file["file_size"] > limit:
            raise FileTooLarge()
        info = self.client.call("getFile", file_id=file["file_id"])
        file_path = (info or {}).get("file_path")
        if not isinstance(file_path, str) or not file_path:
            raise TelegramError("getFile: no file_path (file too big for bots?)")
        data = self.client.download(file_path, limit)
        # Telegram's own path names nothing useful; a document keeps the name it was sent with.
        original = file.get("file_name") or "telegram" + posixpath.splitext(file_path)[1]
        return store_file(kind, data, str(original))


def author(message: dict):
    """The agent of the admin-chat member who wrote `message` (created on first use; their
    writing in the admin chat shows they are a member); None without a sender."""
    from accounts import agents

    user = message.get("from")
    if not isinstance(user, dict) or not isinstance(user.get("id"), int) or user.get("is_bot"):
        return None
    return agents.for_telegram_user(user)


def is_anonymous_admin(message: dict) -> bool:
    """An admin who writes anonymously writes as the group itself: `sender_chat` is the
    admin chat (and `from` is GroupAnonymousBot, a bot)."""
    sender_chat = message.get("sender_chat")
    return isinstance(sender_chat, dict) and admin_chat.is_admin_chat(sender_chat.get("id"))


def follow_migration(message: dict) -> str | None:
    """The service messages of a group upgraded to a supergroup: "migrate_to_chat_id" in
    the old group, "migrate_from_chat_id" in the new one. Either makes the new chat the
    admin chat."""
    chat_id = (message.get("chat") or {}).get("id")
    new_id, old_id = message.get("migrate_to_chat_id"), message.get("migrate_from_chat_id")
    if isinstance(new_id, int) and admin_chat.is_admin_chat(chat_id):
        admin_chat.follow_migration(chat_id, new_id, via="migrate_to_chat_id")
        return "migrated"
    if isinstance(old_id, int) and isinstance(chat_id, int) and admin_chat.is_admin_chat(old_id):
        admin_chat.follow_migration(old_id, chat_id, via="migrate_from_chat_id")
        return "migrated"
    return None


def membership_changed(update: dict) -> str:
    """my_chat_member: the bot was removed from the admin chat (say so in /healthz and the
    panel, fail its items at once) or is back (send again; topics may work again)."""
    if not isinstance(update, dict):
        return "ignored:bad_member_update"
    chat_id = (update.get("chat") or {}).get("id")
    if not admin_chat.is_admin_chat(chat_id):
        return "ignored:other_chat"
    new = update.get("new_chat_member") if isinstance(update.get("new_chat_member"), dict) else {}
    status = new.get("status")
    if status in ("left", "kicked") or (status == "restricted" and not new.get("is_member")):
        admin_chat.refuse(chat_id, "bot_removed", f"my_chat_member: {status}")
        return "bot_removed"
    admin_chat.clear_refusal(chat_id, why=f"my_chat_member: {status}")
    if status in ("administrator", "creator") and new.get("can_manage_topics", True):
        admin_chat.topics_allowed_again(chat_id)
    logger.warning("telegram_bot_membership chat_id=%s status=%s", chat_id, status)
    return "bot_member"


def find_thread(chat_id: int, message: dict):
    """The thread an admin's message answers: its topic's, or the replied-to message's
    (also one sent before Telegram upgraded the admin group: an external reply to it)."""
    if settings.TELEGRAM_TOPICS and message.get("is_topic_message") and message.get("message_thread_id"):
        topic = Topic.objects.filter(chat_id=chat_id, topic_id=message["message_thread_id"]).first()
        if topic is not None and Thread.objects.filter(id=topic.thread_id).exists():
            return topic.thread_id
    reply = message.get("reply_to_message")
    # A message in a topic "replies" to the topic's creation message: no real reply.
    if (
        isinstance(reply, dict)
        and isinstance(reply.get("message_id"), int)
        and "forum_topic_created" not in reply
    ):
        link = TelegramLink.objects.filter(chat_id=chat_id, message_id=reply["message_id"]).first()
        if link is not None:
            return link.thread_id
    external = message.get("external_reply")
    if isinstance(external, dict) and isinstance(external.get("message_id"), int):
        old_chat = (external.get("chat") or {}).get("id")
        if isinstance(old_chat, int) and str(old_chat) in admin_chat.previous_ids():
            link = TelegramLink.objects.filter(chat_id=old_chat, message_id=external["message_id"]).first()
            if link is not None:
                return link.thread_id
    return None
