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
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections
from django.db.models import Max, Min, Q
from django.utils import timezone

from chat import services
from chat.models import Message, Thread

from . import admin_chat, media, messages, state
from .client import TelegramClient, TelegramError
from .models import OutboxItem, SentPart, Topic

logger = logging.getLogger("telegram_bridge.sender")

LEASE = "sender_lease"
LEASE_SECONDS = 30
# A claim older than TELEGRAM_CLAIM_TIMEOUT_SECONDS belongs to a sender that died
# mid-send: the item is retried. Retry delays stop growing at TELEGRAM_RETRY_MAX_SECONDS.
# Refusals (4xx) are retried a few times (a misconfigured chat can be fixed); outages
# are retried for a day.
MAX_REFUSED_ATTEMPTS = 5
GIVE_UP_AFTER = timedelta(days=1)

WORKER_ID = f"{socket.gethostname()[:40]}:{os.getpid()}"


def claim_timeout() -> timedelta:
    return timedelta(seconds=settings.TELEGRAM_CLAIM_TIMEOUT_SECONDS)


def lease_seconds() -> float:
    # A killed sender's lease must not keep the others from sending longer than its
    # claims do (its claimed item is retried after the claim timeout).
    return min(LEASE_SECONDS, settings.TELEGRAM_CLAIM_TIMEOUT_SECONDS)


# Of a group's messages per minute, how many chat traffic leaves unused (and notices
# leave to sign-in): sign-in codes go straight to Telegram (accounts' delivery), and must
# find room in the minute even while a flood of forwards keeps the outbox busy.
GROUP_HEADROOM = {OutboxItem.Priority.SIGN_IN: 0, OutboxItem.Priority.NOTICE: 1, OutboxItem.Priority.CHAT: 2}


class Pacer:
    """Telegram's limits per chat: about one message a second, 20 a minute in groups.

    `interval` (seconds) and `group_per_minute` default to the settings, read at each
    call; `clock` is time.monotonic unless a test controls time. Less urgent traffic gets
    fewer of a group's messages per minute (GROUP_HEADROOM), never fewer than one.
    """

    def __init__(
        self,
        interval: float | None = None,
        group_per_minute: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sent: dict[str, deque[float]] = {}
        self._interval = interval
        self._group_per_minute = group_per_minute
        self.clock = clock

    @property
    def interval(self) -> float:
        if self._interval is not None:
            return self._interval
        return settings.TELEGRAM_SEND_INTERVAL_MS / 1000

    @property
    def group_per_minute(self) -> int:
        if self._group_per_minute is not None:
            return self._group_per_minute
        return settings.TELEGRAM_GROUP_MESSAGES_PER_MINUTE

    def wait_for(self, chat_id: str, priority: int = OutboxItem.Priority.SIGN_IN) -> float:
        """Seconds to wait before the next message of `priority` to `chat_id` (0: now)."""
        now = self.clock()
        history = self.sent.get(chat_id)
        if not history:
            return 0.0
        while history and history[0] <= now - 60:
            history.popleft()
        wait = 0.0
        if history:
            wait = history[-1] + self.interval - now
        # Groups (negative ids) take at most so many a minute: wait until the oldest of the
        # last minute's messages is a minute old.
        cap = max(1, self.group_per_minute - GROUP_HEADROOM.get(priority, 0))
        if str(chat_id).startswith("-") and len(history) >= cap:
            wait = max(wait, history[-cap] + 60 - now)
        return max(0.0, wait)

    def record(self, chat_id: str) -> None:
        self.sent.setdefault(chat_id, deque()).append(self.clock())


# The lanes of one chat (%(chat_id)s) with their heads, in the order the sender takes them
# (Sender.step) but for the chat traffic's round-robin: a lane whose head is being retried
# or is partly sent first (the oldest such head), then by priority, then the oldest head.
# Above chat priority a lane is the whole priority (its notices go in the order made);
# at chat priority, a visitor thread.
_LANES_SQL = (
    "SELECT priority, lane, head, retrying FROM ("
    " SELECT priority, CASE WHEN priority < %(chat)s THEN NULL ELSE thread_id END AS lane,"
    " MIN(id) AS head, (MAX(attempts) > 0 OR MAX(parts_done) > 0) AS retrying"
    f" FROM {OutboxItem._meta.db_table} WHERE state = %(pending)s AND chat_id = %(chat_id)s"
    " GROUP BY priority, lane) AS lanes"
    " ORDER BY retrying DESC, CASE WHEN retrying THEN 0 ELSE priority END, head"
)


def _uuid(value) -> uuid.UUID | None:
    """A thread id as read by raw SQL: SQLite gives its hex string, PostgreSQL a UUID."""
    return uuid.UUID(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class Lane:
    """A chat's queue within one priority: a visitor thread's items at chat priority (in
    order), or all of a priority's items above it (notices, sign-in) in order."""

    priority: int
    thread_id: uuid.UUID | None
    head: int  # the id of its oldest pending item: the only one that may go next
    # its head failed before, or is partly sent: it goes first once its retry is due
    retrying: bool


class Sender:
    def __init__(self, client: TelegramClient | None = None, pacer: Pacer | None = None) -> None:
        self.client = client or TelegramClient.from_settings()
        self.pacer = pacer or Pacer()
        self.delivered = 0  # items done by this sender (for `telegram_poll --once`)
        # Round-robin: when each lane (chat, priority, thread) was last served.
        self.served: dict[tuple[str, int, uuid.UUID | None], int] = {}
        self.turn = 0
        # What the last step found must wait until the next one: per chat, the least
        # urgent priority whose items cannot go before then (all of them when it is
        # held). Items committed for those may be left until the next step.
        self.waiting: dict[str, int] = {}
        self.forget_turns_at = 100  # len(served) at which forget_old_turns() runs next
        self.lease_renewed = float("-inf")  # time.monotonic() of the last renewal

    # --- the loop ------------------------------------------------------------------------

    def step(self, idle: float = 1.0) -> float:
        """Send the next due item of every chat that may take one now; return how long to
        wait before looking again.

        Per chat: an item waiting for its retry (or being sent by another process) holds
        back the whole chat, so order holds and an outage or flood control is not hammered.
        Otherwise the next item is a retried one, else the most urgent priority's, and
        within the chat's traffic the head of the thread served least recently: one
        visitor's thousand queued messages delay another's first message by one send.
        """
        self.waiting = {}
        if not self.renew_lease(every=0.0):
            return idle
        now = timezone.now()
        wait = idle
        holds, urgent = self.look(now)
        for until in holds.values():
            wait = min(wait, (until - now).total_seconds())
        waiting = dict.fromkeys(holds, OutboxItem.Priority.SIGN_IN)
        for chat_id, priority in urgent.items():
            pause = self.pacer.wait_for(chat_id, priority)
            if pause > 0:
                # Chats the pacer holds are left before their lanes are read: in a flood the
                # admin chat has a lane per visitor thread, and it may take one message
                # every few seconds. The pacer makes less urgent traffic wait as long.
                wait = min(wait, pause)
                waiting[chat_id] = priority
                continue
            lane = self.next_lane(chat_id)
            if lane is None:
                wait = 0.0  # emptied meanwhile (another sender, a cleared thread): look again
                continue
            pause = self.pacer.wait_for(chat_id, lane.priority)
            if pause > 0:
                wait = min(wait, pause)
                continue
            item = OutboxItem.objects.filter(pk=lane.head, state=OutboxItem.State.PENDING).first()
            if item is None:
                wait = 0.0  # gone meanwhile (another sender, a cleared thread): look again
                continue
            if not self.renew_lease() or not self.claim(item):
                continue
            self.turn += 1
            self.served[(chat_id, lane.priority, lane.thread_id)] = self.turn
            self.deliver(item)
            wait = 0.0  # sent, or now held for its retry: the next step knows which
        self.waiting = waiting
        if len(self.served) > self.forget_turns_at:
            self.forget_old_turns()
        return max(0.0, wait)

    def renew_lease(self, every: float | None = None) -> bool:
        """Hold the sending lease; within a step (`every` None) it is renewed only when a
        third of it has passed, so a step that sends to one chat renews it once."""
        if every is None:
            every = lease_seconds() / 3
        if time.monotonic() - self.lease_renewed < every:
            return True
        if not state.acquire_lease(LEASE, WORKER_ID, lease_seconds()):
            self.lease_renewed = float("-inf")
            return False
        self.lease_renewed = time.monotonic()
        return True

    def look(self, now) -> tuple[dict[str, datetime], dict[str, int]]:
        """One read of the queue: per chat with pending items, until when it must wait (an
        item's retry is not due yet, or an item is claimed: being sent elsewhere, or by a
        sender that died, until the claim expires), or else its most urgent priority."""
        timeout = claim_timeout()
        rows = (
            OutboxItem.objects.filter(state=OutboxItem.State.PENDING)
            .values("chat_id")
            .annotate(
                urgent=Min("priority"),
                retry=Max("next_attempt_at", filter=Q(next_attempt_at__gt=now)),
                claimed=Max("claimed_at", filter=Q(claimed_at__gte=now - timeout)),
            )
            .order_by()
            .values_list("chat_id", "urgent", "retry", "claimed")
        )
        holds: dict[str, datetime] = {}
        urgent: dict[str, int] = {}
        for chat_id, priority, retry, claimed in rows:
            ends = [end for end in (retry, claimed + timeout if claimed else None) if end is not None]
            if ends:
                holds[chat_id] = max(ends)
            else:
                urgent[chat_id] = priority
        return holds, urgent

    def next_lane(self, chat_id: str) -> Lane | None:
        """The lane whose head goes next to `chat_id` (None when it has no pending item).

        The lanes come in the order of the rule (step()) but for the chat traffic's
        round-robin, whose turns only this sender knows: the first lane of chat traffic
        never served goes, else the one served least recently. In a flood the chat has a
        lane per visitor thread, and most were never served: the choice reads a few rows,
        where it built every lane at every send (issue 16)."""
        connection = connections[OutboxItem.objects.db]
        params = {
            "chat_id": chat_id,
            "pending": str(OutboxItem.State.PENDING),
            "chat": int(OutboxItem.Priority.CHAT),
        }
        with connection.cursor() as cursor:
            cursor.execute(_LANES_SQL, params)
            row = cursor.fetchone()
            if row is None:
                return None
            priority, thread_id, head, retrying = row
            if retrying or priority < OutboxItem.Priority.CHAT:
                return Lane(priority, _uuid(thread_id), head, bool(retrying))
            least: tuple[int, Lane] | None = None
            while row is not None:
                priority, thread_id, head, _ = row
                lane = Lane(priority, _uuid(thread_id), head, False)
                turn = self.served.get((chat_id, priority, lane.thread_id))
                if turn is None:
                    return lane  # never served, and the oldest head of those
                if least is None or turn < least[0]:
                    least = (turn, lane)
                row = cursor.fetchone()
        return least[1]

    def forget_old_turns(self) -> None:
        """Drop the turns of lanes that emptied (now and then, so the dict stays small);
        a thread that queues again later counts as new."""
        rows = (
            OutboxItem.objects.filter(state=OutboxItem.State.PENDING)
            .values_list("chat_id", "priority", "thread_id")
            .distinct()
            .order_by()
        )
        # Above chat priority a lane is the whole priority (_LANES_SQL).
        current = {
            (chat_id, priority, thread_id if priority >= OutboxItem.Priority.CHAT else None)
            for chat_id, priority, thread_id in rows
        }
        self.served = {key: turn for key, turn in self.served.items() if key in current}
        self.forget_turns_at = 2 * len(self.served) + 100

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
            OutboxItem.Kind.EDIT: self.send_edit,
            OutboxItem.Kind.CARD: self.send_card,
            OutboxItem.Kind.VISITOR: self.send_to_visitor,
        }
        refused = admin_chat.refused_now(item.chat_id)
        if refused is not None:
            # Telegram refused this chat for good a moment ago: no call, no day of retries.
            self.failed(item, TelegramError(f"not sent: {refused['reason']}", status=403), give_up=True)
            return False
        try:
            finished = handlers[item.kind](item)
        except TelegramError as exc:
            if exc.migrate_to_chat_id and admin_chat.follow_migration(
                item.chat_id, exc.migrate_to_chat_id, via="send"
            ):
                return False  # re-targeted with the rest of the chat's items: sent next
            if exc.lasting:
                chat = admin_chat.ALL_CHATS if exc.lasting == "unauthorized" else item.chat_id
                admin_chat.refuse(chat, exc.lasting, str(exc))
            self.failed(item, exc, give_up=exc.lasting is not None)
            return False
        except Exception as exc:  # our own bug or the storage: keep the item, say why
            logger.exception("telegram_send_crashed item=%s kind=%s", item.pk, item.kind)
            self.failed(item, TelegramError(f"{item.kind}: {type(exc).__name__}", status=400))
            return False
        if finished is False:
            # Parts are left (progress stored): the item goes again at the chat's next
            # turn, paced like any other message, ahead of the chat's other lanes.
            OutboxItem.objects.filter(pk=item.pk).update(claimed_at=None, claimed_by="")
            state.record_ok()
            return False
        pk = item.pk
        item.delete()  # one DELETE (a queryset's delete() wraps even one row in a transaction)
        self.delivered += 1
        state.record_ok()
        admin_chat.clear_refusal(item.chat_id, why="sent")
        logger.info("telegram_sent item=%s kind=%s attempts=%s", pk, item.kind, item.attempts + 1)
        return True

    def failed(self, item: OutboxItem, exc: TelegramError, give_up: bool = False) -> None:
        attempts = item.attempts + 1
        base = settings.TELEGRAM_RETRY_BASE_MS / 1000
        if exc.retry_after is not None:
            delay = float(exc.retry_after)
        else:
            delay = min(settings.TELEGRAM_RETRY_MAX_SECONDS, base * 2 ** (attempts - 1)) * random.uniform(
                1.0, 1.2
            )
        give_up = (
            give_up
            or (exc.permanent and attempts >= MAX_REFUSED_ATTEMPTS)
            or (timezone.now() - item.created_at > GIVE_UP_AFTER)
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

    def send_chat_message(self, item: OutboxItem) -> bool:
        """Make the message's next call (issue 15, partial sends): a long text goes in
        parts, a file with its caption's overflow after it. Each call's result is stored
        as the item's progress before the next call, so a failure mid-item resumes with the
        part that failed and never sends one twice; the parts are paced as items are (one
        call per step). True when its last part is sent (or there is nothing to send)."""
        message = Message.objects.select_related("thread", "agent").filter(id=item.message_id).first()
        if message is None:
            return True  # cleared or deleted before it could be sent: nothing to forward
        thread = message.thread
        done = item.parts_done
        if done:  # the rest goes where the first parts went
            topic_id = (item.progress or {}).get("topic_id")
        else:
            topic_id = self.topic_for(thread, item.chat_id) if settings.TELEGRAM_TOPICS else None
        try:
            kind, result, total = self.send_part(item.chat_id, thread, message, topic_id, done)
        except TelegramError as exc:
            if topic_id is None or not (_topic_gone(exc) or exc.topic_closed):
                raise
            if not (exc.topic_closed and self.reopen_topic(item.chat_id, topic_id)):
                # An admin deleted the topic (or closed it, and we may not reopen it): open
                # a new one and send there.
                Topic.objects.filter(thread_id=thread.id).delete()
                topic_id = self.topic_for(thread, item.chat_id)
            kind, result, total = self.send_part(item.chat_id, thread, message, topic_id, done)
        services.link_telegram_message(thread.id, result["chat"]["id"], result["message_id"])
        self.record_part(item, message.id, done, kind, result, topic_id)
        return done + 1 >= total

    def send_part(
        self, chat_id: str, thread: Thread, message: Message, topic_id: int | None, index: int
    ) -> tuple[str, dict, int]:
        """Send part `index` of the message; (its kind, Telegram's message, how many parts)."""
        head = messages.header(thread, message, in_topic=topic_id is not None)
        where = {"message_thread_id": topic_id, "parse_mode": "HTML"}
        parts = messages.parts(head, message)
        kind, text = parts[min(index, len(parts) - 1)]
        if kind == "text":
            return kind, self.call(chat_id, "sendMessage", text=text, **NO_PREVIEW, **where), len(parts)
        upload = messages.media_upload(message)
        try:
            result = self.call(
                chat_id, upload.method, caption=text, **upload.params, **upload.file_params(), **where
            )
        except TelegramError as exc:
            if (
                upload.method == "sendDocument"
                or not _content_refused(exc)
                or (topic_id and _topic_gone(exc))
            ):
                raise
            # Telegram would not take it as a photo / voice (size, codec): a file it is.
            document = media.Upload("sendDocument", "document", upload.filename, upload.data, url=upload.url)
            result = self.call(chat_id, "sendDocument", caption=text, **document.file_params(), **where)
        return kind, result, len(parts)

    def record_part(
        self, item: OutboxItem, message_id, index: int, kind: str, result: dict, topic_id: int | None
    ) -> None:
        """Store that part `index` is sent: the item resumes after it, and an edit of the
        message can find the Telegram message (SentPart)."""
        sent = [*(item.progress or {}).get("sent", []), result["message_id"]]
        item.parts_done, item.progress = index + 1, {"topic_id": topic_id, "sent": sent}
        OutboxItem.objects.filter(pk=item.pk).update(parts_done=item.parts_done, progress=item.progress)
        _record_sent_part(message_id, index, kind, result)

    def topic_for(self, thread: Thread, chat_id: str) -> int | None:
        """The thread's forum topic, created (named after the visitor) on first use; None
        while the chat is known not to take topics (admin_chat.TOPICS_RETRY)."""
        topic = Topic.objects.filter(thread_id=thread.id).first()
        if topic is not None:
            return topic.topic_id
        if admin_chat.topics_unavailable(chat_id):
            return None
        name = thread.display_name[:120] or "Visitor"
        try:
            created = self.call(chat_id, "createForumTopic", name=f"{name} · {messages.short_id(thread.id)}")
        except TelegramError as exc:
            if not exc.permanent or exc.lasting or exc.migrate_to_chat_id:
                raise
            # Not a forum, or the bot may not manage topics: the message still goes out,
            # and the next ones do not try first.
            state.record_error(str(exc))
            admin_chat.remember_no_topics(chat_id, str(exc))
            return None
        topic_id = created["message_thread_id"]
        Topic.objects.create(thread_id=thread.id, chat_id=int(chat_id), topic_id=topic_id, name=name)
        return topic_id

    def reopen_topic(self, chat_id: str, topic_id: int) -> bool:
        """Reopen a topic an admin closed (400 TOPIC_CLOSED); False when we may not."""
        try:
            self.client.call("reopenForumTopic", chat_id=chat_id, message_thread_id=topic_id)
        except TelegramError as exc:
            if not exc.permanent or exc.lasting or exc.migrate_to_chat_id:
                raise
            logger.warning("telegram_topic_reopen_refused topic=%s error=%r", topic_id, str(exc))
            return False
        logger.warning("telegram_topic_reopened chat_id=%s topic=%s", chat_id, topic_id)
        return True

    def send_edit(self, item: OutboxItem) -> bool:
        """Mirror an agent's edit of a reply (issue 15): each Telegram message of it gets
        its new part (editMessageText, or editMessageCaption for the file's caption); parts
        the new text no longer needs are deleted, parts it needs more are sent. One call per
        step, with progress, like a message's parts. True when done."""
        message = Message.objects.select_related("thread", "agent").filter(id=item.message_id).first()
        sent = {part.part: part for part in SentPart.objects.filter(message_id=item.message_id)}
        if message is None or not sent:
            return True  # gone, or not forwarded yet: its own item sends the new text
        thread = message.thread
        in_topic = bool(settings.TELEGRAM_TOPICS) and Topic.objects.filter(thread_id=thread.id).exists()
        parts = messages.parts(messages.header(thread, message, in_topic=in_topic), message)
        index = item.parts_done
        progress = dict(item.progress or {})
        total = progress.setdefault("total", max(len(parts), max(sent) + 1))
        if index >= total:
            return True
        old = sent.get(index)
        if old is None and index < len(parts):
            first = sent[min(sent)]
            topic_id = Topic.objects.filter(thread_id=thread.id).values_list("topic_id", flat=True).first()
            result = self.call(
                str(first.chat_id),
                "sendMessage",
                text=parts[index][1],
                parse_mode="HTML",
                message_thread_id=topic_id if in_topic else None,
                **NO_PREVIEW,
            )
            services.link_telegram_message(thread.id, result["chat"]["id"], result["message_id"])
            _record_sent_part(message.id, index, SentPart.Kind.TEXT, result)
        elif old is not None:
            target = {"message_id": old.telegram_message_id}
            try:
                if index >= len(parts):
                    self.call(str(old.chat_id), "deleteMessage", **target)
                elif old.kind == SentPart.Kind.CAPTION:
                    self.call(
                        str(old.chat_id),
                        "editMessageCaption",
                        caption=parts[index][1],
                        parse_mode="HTML",
                        **target,
                    )
                else:
                    self.call(
                        str(old.chat_id),
                        "editMessageText",
                        text=parts[index][1],
                        parse_mode="HTML",
                        **NO_PREVIEW,
                        **target,
                    )
            except TelegramError as exc:
                if not _edit_moot(exc):
                    raise
                logger.warning(
                    "telegram_edit_skipped message=%s part=%s error=%r", message.id, index, str(exc)
                )
            if index >= len(parts):
                old.delete()
        item.parts_done = index + 1
        item.progress = progress
        OutboxItem.objects.filter(pk=item.pk).update(parts_done=item.parts_done, progress=progress)
        return item.parts_done >= total

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

    def send_to_visitor(self, item: OutboxItem) -> bool:
        """An agent's reply to a visitor who continues in Telegram (issue 14)."""
        from . import visitor_link

        return visitor_link.deliver(self, item)

    def send_card(self, item: OutboxItem) -> None:
        """A thread's control card, sent or re-drawn (telegram_bridge/card.py)."""
        from . import card

        card.deliver(self, item)

    def delete_topic(self, item: OutboxItem) -> None:
        try:
            self.call(item.chat_id, "deleteForumTopic", message_thread_id=item.payload["topic_id"])
        except TelegramError as exc:
            if not _topic_gone(exc):
                raise


def _record_sent_part(message_id, index: int, kind: str, result: dict) -> None:
    """Remember Telegram message `result` as part `index` of the chat message (replacing
    the part's earlier copy): one upsert, where update_or_create took four statements."""
    part = SentPart(
        message_id=message_id,
        part=index,
        kind=kind,
        chat_id=int(result["chat"]["id"]),
        telegram_message_id=int(result["message_id"]),
    )
    SentPart.objects.bulk_create(
        [part],
        update_conflicts=True,
        unique_fields=["message_id", "part"],
        update_fields=["kind", "chat_id", "telegram_message_id"],
    )


def _file(field: str, source: str | tuple[str, bytes]) -> dict:
    """A file parameter: a URL Telegram fetches itself, or the bytes uploaded (multipart)."""
    if isinstance(source, str):
        return {field: source}
    return {"files": {field: source}}


# A visitor's links get no preview card in the admin chat (Telegram would fetch them).
NO_PREVIEW = {"link_preview_options": {"is_disabled": True}}


def _content_refused(exc: TelegramError) -> bool:
    """Telegram refused the file itself (not the chat, the topic or the pace)."""
    return exc.permanent and not (exc.lasting or exc.migrate_to_chat_id or exc.topic_closed)


def _edit_moot(exc: TelegramError) -> bool:
    """An edit Telegram refuses because there is nothing to do: the same text already, the
    message deleted by an admin, or too old for a bot to edit (48 hours)."""
    text = str(exc).lower()
    return exc.permanent and any(
        reason in text
        for reason in (
            "message is not modified",
            "message to edit not found",
            "message to delete not found",
            "message can't be edited",
            "message can't be deleted",
        )
    )


def _topic_gone(exc: TelegramError) -> bool:
    text = str(exc).lower()
    return exc.permanent and (
        "thread not found" in text or "topic_id_invalid" in text or "topic_deleted" in text
    )
