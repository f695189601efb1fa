"""Threads (one conversation with one visitor), their messages, and Telegram links."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone


class Thread(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    display_name = models.CharField(max_length=80)
    created_at = models.DateTimeField(auto_now_add=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    # The newest message, kept on the thread so the thread list needs no per-row subquery.
    last_message_text = models.TextField(null=True, blank=True)
    last_message_type = models.CharField(max_length=8, null=True, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    # The thread list's order as two non-null columns, so one index serves it on every
    # database: threads with messages first, each group newest first. sorted_at is the
    # last message's time, or the creation time while there is none.
    has_messages = models.BooleanField(default=False)
    sorted_at = models.DateTimeField(default=timezone.now)
    # "Seen" marks that survive a reload: the newest message time each side has read.
    admin_seen_at = models.DateTimeField(null=True, blank=True)
    visitor_seen_at = models.DateTimeField(null=True, blank=True)
    # display_name folded for search (chat/search.py: lower case, accents and Turkish letters).
    search_name = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        db_table = "threads"
        indexes = [
            models.Index(fields=["-has_messages", "-sorted_at", "-id"], name="thread_list_order_idx"),
            models.Index(fields=["last_activity_at"], name="thread_last_activity_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.id})"


class Message(models.Model):
    class Sender(models.TextChoices):
        VISITOR = "visitor"
        ADMIN = "admin"

    class Type(models.TextChoices):
        TEXT = "text"
        IMAGE = "image"
        AUDIO = "audio"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    sender = models.CharField(max_length=8, choices=Sender.choices)
    type = models.CharField(max_length=8, choices=Type.choices, default=Type.TEXT)
    content_text = models.TextField(null=True, blank=True)
    file_path = models.CharField(max_length=1024, null=True, blank=True)
    # Chosen before the INSERT (not auto_now_add) so storing can update the thread first.
    created_at = models.DateTimeField(default=timezone.now, db_index=False)
    # Optional id chosen by the sending client, so a resend after a reconnect is stored once.
    client_id = models.CharField(max_length=64, null=True, blank=True)
    # A photo's size in pixels (its box is reserved before it loads) and a voice note's
    # length as the recorder measured it (browser WebM files carry no duration).
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    # content_text folded for search (chat/search.py); PostgreSQL indexes it with GIN.
    search_text = models.TextField(null=True, blank=True)

    class Meta:
        db_table = "messages"
        indexes = [
            # Matches the history query's ORDER BY created_at DESC, id DESC (scanned backwards).
            models.Index(fields=["thread", "created_at", "id"], name="message_thread_time_id_idx"),
            models.Index(fields=["created_at"], name="message_time_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["thread", "sender", "client_id"],
                condition=Q(client_id__isnull=False),
                name="message_unique_client_id",
            )
        ]

    def __str__(self) -> str:
        return f"{self.sender} {self.type} in {self.thread_id}"


class TelegramLink(models.Model):
    """A Telegram message the bot sent (or received) for a thread: replies to it go there."""

    chat_id = models.BigIntegerField()
    message_id = models.BigIntegerField()
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="telegram_links")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "telegram_links"
        constraints = [models.UniqueConstraint(fields=["chat_id", "message_id"], name="telegram_link_unique")]

    def __str__(self) -> str:
        return f"{self.chat_id}/{self.message_id} → {self.thread_id}"
