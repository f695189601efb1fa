"""The outbox worker: sends due items to Telegram, in order, paced, with retries.

One process at a time sends (a lease in the database), so messages reach Telegram in
the order visitors wrote them and the per-chat limits hold across server processes.
Each item is also claimed with an atomic UPDATE, so even a sender that lost its lease
mid-send cannot make another send the same item. A sent item is deleted; a failed one
stays with its attempts, last error and next attempt time (Django admin, /healthz).
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
from collections import deque
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from chat import services
from chat.models import Message, Thread

from . import messages, state
from .client import TelegramClient, TelegramError
from .models import OutboxItem, Topic

logger = logging.getLogger("telegram_bridge.sender")

LEASE = "sender_lease"
LEASE_SECONDS = 30
# A claim older than TELEGRAM_CLAIM_TIMEOUT_SECONDS belongs to a sender that died
# mid-send: the item is retried. Retry delays stop growing at TELEGRAM_RETRY_MAX_SECONDS.
# Refusals (4xx) are retried a few times (a misconfigured chat can be fixed); outages
# are retried for a day.
MAX_REFUSED_ATTEMPTS = 5
GIVE_UP_AFTER = timedelta(days=1)
BATCH = 50

WORKER_ID = f"{socket.gethostname()[:40]}:{os.getpid()}"


def claim_timeout() -> timedelta:
    return timedelta(seconds=settings.TELEGRAM_CLAIM_TIMEOUT_SECONDS)


def lease_seconds() -> float:
    # A killed sender's lease must not keep the others from sending longer than its
    # claims do (its claimed item is retried after the claim timeout).
    return min(LEASE_SECONDS, settings.TELEGRAM_CLAIM_TIMEOUT_SECONDS)


class Pacer:
    """Telegram's limits per chat: about one message a second, 20 a minute in groups."""

    def __init__(self) -> None:
        self.sent: dict[str, deque[float]] = {}

    def wait_for(self, chat_id: str) -> float:
        """Seconds to wait before the next message to `chat_id` (0: send now)."""
        now = time.monotonic()
        history = self.sent.get(chat_id)
        if not history:
            return 0.0
        while history and history[0] < now - 60:
            history.popleft()
        wait = 0.0
        if history:
            wait = history[-1] + settings.TELEGRAM_SEND_INTERVAL_MS / 1000 - now
        if chat_id.startswith("-") and len(history) >= settings.TELEGRAM_GROUP_MESSAGES_PER_MINUTE:
            wait = max(wait, history[0] + 60 - now)
        return max(0.0, wait)

    def record(self, chat_id: str) -> None:
        self.sent.setdefault(chat_id, deque()).append(time.monotonic())


class Sender:
    def __init__(self, client: TelegramClient | None = None) -> None:
        self.client = client or TelegramClient.from_settings()
        self.pacer = Pacer()
        self.delivered = 0  # items done by this sender (for `telegram_poll --once`)

    # --- the loop ------------------------------------------------------------------------

    def step(self, idle: float = 1.0) -> float:
        """Send every item that is due now; return how long to wait before looking again."""
        if not state.acquire_lease(LEASE, WORKER_ID, lease_seconds()):
            return idle
        wait, blocked = idle, set()
        for item in OutboxItem.objects.filter(state=OutboxItem.State.PENDING).order_by("id")[:BATCH]:
            if item.chat_id in blocked:
                continue
            now = timezone.now()
            if item.next_attempt_at > now:
                blocked.add(item.chat_id)  # later items wait: order within a chat holds
                wait = min(wait, (item.next_attempt_at - now).total_seconds())
                continue
            pause = self.pacer.wait_for(item.chat_id)
            if pause > 0:
                blocked.add(item.chat_id)
                wait = min(wait, pause)
                continue
            if not state.acquire_lease(LEASE, WORKER_ID, lease_seconds()) or not self.claim(item):
                blocked.add(item.chat_id)
                continue
            if not self.deliver(item):
                blocked.add(item.chat_id)
            else:
                wait = 0.0
        return max(0.0, wait)

    def claim(self, item: OutboxItem) -> bool:
        now = timezone.now()
        taken = (
            OutboxItem.objects.filter(pk=item.pk, state=OutboxItem.State.PENDING)
            .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - claim_timeout()))
            .update(claimed_at=now, claimed_by=WORKER_ID)
        )
        return taken == 1

    def deliver(self, item: OutboxItem) -> bool:
        """Make the item's calls; True when it is done (sent, or nothing left to send)."""
        handlers = {
            OutboxItem.Kind.MESSAGE: self.send_chat_message,
            OutboxItem.Kind.NOTICE: self.send_notice,
            OutboxItem.Kind.DELETE_TOPIC: self.delete_topic,
        }
        try:
            handlers[item.kind](item)
        except TelegramError as exc:
            self.failed(item, exc)
            return False
        except Exception as exc:  # our own bug or the storage: keep the item, say why
            logger.exception("telegram_send_crashed item=%s kind=%s", item.pk, item.kind)
            self.failed(item, TelegramError(f"{item.kind}: {type(exc).__name__}", status=400))
            return False
        OutboxItem.objects.filter(pk=item.pk).delete()
        self.delivered += 1
        state.record_ok()
        logger.info("telegram_sent item=%s kind=%s attempts=%s", item.pk, item.kind, item.attempts + 1)
        return True

    def failed(self, item: OutboxItem, exc: TelegramError) -> None:
        attempts = item.attempts + 1
        base = settings.TELEGRAM_RETRY_BASE_MS / 1000
        if exc.retry_after is not None:
            delay = float(exc.retry_after)
        else:
            delay = min(settings.TELEGRAM_RETRY_MAX_SECONDS, base * 2 ** (attempts - 1)) * random.uniform(
                1.0, 1.2
            )
        give_up = (exc.permanent and attempts >= MAX_REFUSED_ATTEMPTS) or (
            timezone.now() - item.created_at > GIVE_UP_AFTER
        )
        OutboxItem.objects.filter(pk=item.pk).update(
            attempts=attempts,
            last_error=str(exc)[: state.MAX_ERROR_CHARS],
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
            claimed_at=None,
            claimed_by="",
            state=OutboxItem.State.FAILED if give_up else OutboxItem.State.PENDING,
        )
        state.record_error(str(exc))
        log = logger.error if give_up else logger.warning
        log(
            "telegram_send_failed item=%s kind=%s attempts=%s retry_in=%.1fs gave_up=%s error=%r",
            item.pk,
            item.kind,
            attempts,
            delay,
            give_up,
            str(exc),
        )

    # --- the calls -----------------------------------------------------------------------

    def call(self, chat_id: str, method: str, **params) -> dict:
        """One message-sending call, counted against the chat's pace."""
        self.pacer.record(chat_id)
        return self.client.call(method, chat_id=chat_id, **params)

    def send_chat_message(self, item: OutboxItem) -> None:
        message = Message.objects.select_related("thread").filter(id=item.message_id).first()
        if message is None:
            return  # cleared or deleted before it could be sent: nothing to forward
        thread = message.thread
        topic_id = self.topic_for(thread, item.chat_id) if settings.TELEGRAM_TOPICS else None
        try:
            sent = self.send_content(item.chat_id, thread, message, topic_id)
        except TelegramError as exc:
            if topic_id is None or not _topic_gone(exc):
                raise
            # An admin deleted the topic in Telegram: open a new one and send there.
            Topic.objects.filter(thread_id=thread.id).delete()
            sent = self.send_content(item.chat_id, thread, message, self.topic_for(thread, item.chat_id))
        for result in sent:
            services.link_telegram_message(thread.id, result["chat"]["id"], result["message_id"])

    def send_content(
        self, chat_id: str, thread: Thread, message: Message, topic_id: int | None
    ) -> list[dict]:
        head = messages.header(thread, message, in_topic=topic_id is not None)
        where = {"message_thread_id": topic_id, "parse_mode": "HTML"}
        if message.type == Message.Type.TEXT:
            budget = messages.TEXT_LIMIT - len(head) - 1
            return [
                self.call(chat_id, "sendMessage", text=f"{head}\n{piece}", **where)
                for piece in messages.split_text(message.content_text or "", budget)
            ]
        method, field = messages.media_method(message)
        caption_budget = messages.CAPTION_LIMIT - len(head) - 1
        pieces = messages.split_text(message.content_text or "", caption_budget)
        caption = f"{head}\n{pieces[0]}" if pieces[0] else head
        source = messages.file_source(message.file_path or "")
        try:
            sent = [self.call(chat_id, method, caption=caption, **_file(field, source), **where)]
        except TelegramError as exc:
            if method == "sendDocument" or not exc.permanent or (topic_id and _topic_gone(exc)):
                raise
            # Telegram would not take it as a photo / voice (size, codec): a file it is.
            sent = [self.call(chat_id, "sendDocument", caption=caption, **_file("document", source), **where)]
        for piece in pieces[1:]:
            sent.append(self.call(chat_id, "sendMessage", text=f"{head}\n{piece}", **where))
        return sent

    def topic_for(self, thread: Thread, chat_id: str) -> int | None:
        """The thread's forum topic, created (named after the visitor) on first use."""
        topic = Topic.objects.filter(thread_id=thread.id).first()
        if topic is not None:
            return topic.topic_id
        name = thread.display_name[:120] or "Visitor"
        try:
            created = self.call(chat_id, "createForumTopic", name=f"{name} · {messages.short_id(thread.id)}")
        except TelegramError as exc:
            if not exc.permanent:
                raise
            # Not a forum, or the bot may not manage topics: the message still goes out.
            state.record_error(str(exc))
            logger.error("telegram_topic_failed thread=%s error=%r", thread.id, str(exc))
            return None
        topic_id = created["message_thread_id"]
        Topic.objects.create(thread_id=thread.id, chat_id=int(chat_id), topic_id=topic_id, name=name)
        return topic_id

    def send_notice(self, item: OutboxItem) -> None:
        payload = item.payload or {}
        params = {"parse_mode": "HTML", "message_thread_id": payload.get("topic_id")}
        if payload.get("reply_to"):
            params["reply_parameters"] = {
                "message_id": payload["reply_to"],
                "allow_sending_without_reply": True,
            }
        result = self.call(item.chat_id, "sendMessage", text=payload.get("text") or "", **params)
        if item.thread_id:
            services.link_telegram_message(item.thread_id, result["chat"]["id"], result["message_id"])

    def delete_topic(self, item: OutboxItem) -> None:
        try:
            self.call(item.chat_id, "deleteForumTopic", message_thread_id=item.payload["topic_id"])
        except TelegramError as exc:
            if not _topic_gone(exc):
                raise


def _file(field: str, source: str | tuple[str, bytes]) -> dict:
    """A file parameter: a URL Telegram fetches itself, or the bytes uploaded (multipart)."""
    if isinstance(source, str):
        return {field: source}
    return {"files": {field: source}}


def _topic_gone(exc: TelegramError) -> bool:
    text = str(exc).lower()
    return exc.permanent and (
        "thread not found" in text or "topic_id_invalid" in text or "topic_deleted" in text
    )
