"""What the bridge keeps between restarts: the outbox, received updates, topics, state.

Nothing here belongs to the chat domain (chat/models.py): these rows only describe
traffic with Telegram, so deleting all of them loses no conversation.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class OutboxItem(models.Model):
    """One call to make to Telegram, stored with the change that caused it.

    Visitor messages are stored in the same transaction as their outbox item, so a
    message is never forwarded twice nor lost when Telegram or this process is down.
    """

    class Kind(models.TextChoices):
        MESSAGE = "message"  # forward chat message `message_id` of thread `thread_id`
        NOTICE = "notice"  # a bot answer (hint, /threads); payload: text, reply_to
        DELETE_TOPIC = "delete_topic"  # payload: topic_id
        EDIT = "edit"  # mirror the edit of chat message `message_id` (editMessageText/Caption)
        CARD = "card"  # send or edit thread `thread_id`'s control card (telegram_bridge/card.py)
        # An agent's reply `message_id` to a visitor who continues in Telegram, sent to their
        # private chat `chat_id` (telegram_bridge/visitor_link.py, issue 14).
        VISITOR = "visitor"

    class State(models.TextChoices):
        PENDING = "pending"
        FAILED = "failed"  # given up; kept so staff can see what did not arrive

    class Priority(models.IntegerChoices):
        """Lower goes first: sign-in traffic, then the bot's notices to admins, then the
        chat itself (visitor messages and mirrored answers, fairly across threads)."""

        SIGN_IN = 0
        NOTICE = 1
        CHAT = 2

    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.CHAT)
    chat_id = models.CharField(max_length=64)
    # Plain ids, not foreign keys: the worker checks at send time whether they still exist.
    thread_id = models.UUIDField(null=True, blank=True)
    message_id = models.UUIDField(null=True, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    # Set while a worker sends it; a claim older than TELEGRAM_CLAIM_TIMEOUT_SECONDS is considered dead.
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True, default="")
    # An item that takes several calls (a long text in parts, a photo and its caption's
    # overflow): how many are made, so a retry resumes with the next one and never sends a
    # part twice. {"done": n, "topic_id": ..., "sent": [telegram message ids]}.
    parts_done = models.PositiveSmallIntegerField(default=0)
    progress = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "telegram_outbox"
        indexes = [
            models.Index(fields=["state", "id"], name="telegram_outbox_state_idx"),
            # The sender's look at the queue: per chat, the head of every (priority, thread) lane.
            models.Index(
                fields=["state", "chat_id", "priority", "thread_id", "id"], name="telegram_outbox_lane_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.state}, {self.attempts} attempts)"


class InboundUpdate(models.Model):
    """A Telegram update we received (webhook or getUpdates): its id is seen once only."""

    update_id = models.BigIntegerField(primary_key=True)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        db_table = "telegram_updates"
        indexes = [models.Index(fields=["processed_at", "update_id"], name="telegram_update_todo_idx")]

    def __str__(self) -> str:
        return f"update {self.update_id} ({self.outcome or 'pending'})"


class Topic(models.Model):
    """The forum topic a visitor thread has in the admin chat (TELEGRAM_TOPICS=1)."""

    thread_id = models.UUIDField(unique=True)
    chat_id = models.BigIntegerField()
    topic_id = models.BigIntegerField()
    name = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "telegram_topics"
        constraints = [models.UniqueConstraint(fields=["chat_id", "topic_id"], name="telegram_topic_unique")]

    def __str__(self) -> str:
        return f"topic {self.topic_id} → {self.thread_id}"


class BridgeState(models.Model):
    """Small named values shared by every process: poll offset, sender lease, last error."""

    key = models.CharField(max_length=64, primary_key=True)
    value = models.TextField(blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "telegram_state"

    def __str__(self) -> str:
        return self.key


class ThreadCard(models.Model):
    """A thread's control card in the admin chat (telegram_bridge/card.py): the bot
    message with its state and buttons, and the thread state it last showed."""

    thread_id = models.UUIDField(unique=True)
    chat_id = models.BigIntegerField(null=True, blank=True)
    message_id = models.BigIntegerField(null=True, blank=True)  # None until sent
    shown_version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "telegram_cards"

    def __str__(self) -> str:
        return f"card {self.chat_id}/{self.message_id} → {self.thread_id}"


class HandledCallback(models.Model):
    """A button press acted on: Telegram may deliver the same callback query again, and
    it must act once."""

    callback_id = models.CharField(max_length=64, primary_key=True)
    handled_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "telegram_handled_callbacks"
        indexes = [models.Index(fields=["handled_at"], name="telegram_callback_time_idx")]

    def __str__(self) -> str:
        return self.callback_id


class SentPart(models.Model):
    """A Telegram message the bridge sent for a chat message (one per part), so an edit of
    that message in the panel can be mirrored with editMessageText / editMessageCaption."""

    class Kind(models.TextChoices):
        TEXT = "text"
        CAPTION = "caption"

    message_id = models.UUIDField()  # chat.Message id (a plain id, like the outbox's)
    part = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=8, choices=Kind.choices)
    chat_id = models.BigIntegerField()
    telegram_message_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "telegram_sent_parts"
        constraints = [
            models.UniqueConstraint(fields=["message_id", "part"], name="telegram_sent_part_unique")
        ]

    def __str__(self) -> str:
        return f"part {self.part} of {self.message_id} → {self.telegram_message_id}"


class ContinueToken(models.Model):
    """A "Continue in Telegram" start parameter (issue 14, telegram_bridge/visitor_link.py):
    random, bound to one thread, single use, expiring."""

    token = models.CharField(max_length=64, primary_key=True)
    thread_id = models.UUIDField()
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by_chat_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        db_table = "telegram_continue_tokens"
        indexes = [models.Index(fields=["expires_at"], name="telegram_continue_expiry_idx")]

    def __str__(self) -> str:
        return f"continue token for {self.thread_id}"


class VisitorChat(models.Model):
    """A visitor's private chat with the bot, linked to their thread (issue 14): their
    messages there are the thread's visitor messages, agents' replies go there too. /stop
    deletes the row."""

    chat_id = models.BigIntegerField(unique=True)
    user_id = models.BigIntegerField()
    thread_id = models.UUIDField(db_index=True)
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "telegram_visitor_chats"

    def __str__(self) -> str:
        return f"visitor chat {self.chat_id} → {self.thread_id}"
