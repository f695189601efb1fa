"""Threads (one conversation with one visitor), their messages, and Telegram links."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone


class Thread(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        RESOLVED = "resolved"

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
    # Email capture (issue 14): where replies go while the visitor is away, the language
    # those emails are written in (the page's, at join), and a counter raised when the
    # thread is cleared, so links signed for an older generation stop working.
    email = models.EmailField(max_length=254, blank=True, default="")
    email_language = models.CharField(max_length=8, blank=True, default="")
    generation = models.PositiveIntegerField(default=0)

    # Life cycle (issue 13): open or resolved, who is on it. A visitor's message reopens a
    # resolved thread (in the message store's own UPDATE, chat.services._insert_message).
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    assignee = models.ForeignKey(
        "accounts.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_threads"
    )
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    reopened_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every life-cycle change (claim, assign, resolve, reopen, block), so a
    # stale copy (a Telegram card's buttons) can tell it is out of date.
    state_version = models.PositiveIntegerField(default=0)
    # Who opened it, for blocking later: the visitor's address and a keyed hash of their
    # session key (never the key itself), and until when they are blocked.
    visitor_ip = models.GenericIPAddressField(null=True, blank=True)
    visitor_key_hash = models.CharField(max_length=64, null=True, blank=True)
    blocked_until = models.DateTimeField(null=True, blank=True)
    # Visitor context (issue 14, chat/visitor_context.py): the page the visitor is on (for
    # the Telegram card too) and the rest of what the chat was told at join or since:
    # title, referrer, language, time zone, browser and OS, earlier conversations.
    page_url = models.CharField(max_length=2048, blank=True, default="")
    visitor_context = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "threads"
        indexes = [
            models.Index(fields=["-has_messages", "-sorted_at", "-id"], name="thread_list_order_idx"),
            # The panel's views (open, resolved, unassigned) in the list's order.
            models.Index(
                fields=["status", "-has_messages", "-sorted_at", "-id"], name="thread_status_order_idx"
            ),
            models.Index(fields=["last_activity_at"], name="thread_last_activity_idx"),
            # Insights (chat/insights.py): every aggregate ranges over when threads started,
            # and reads only these columns, so the index alone answers them (no table rows).
            models.Index(
                fields=["created_at", "status", "first_response_at", "resolved_at", "assignee"],
                name="thread_insights_idx",
            ),
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
    # No index of its own: message_thread_time_id_idx starts with the thread, and serves
    # every lookup by thread (the history, the cascade). A second one cost every stored
    # message one more index entry to write (bench/README.md, tenth round).
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages", db_index=False)
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
    # Who answered (admin messages, issue 13): the panel session's agent or the Telegram
    # user who wrote the reply; None for visitors' messages and older replies.
    agent = models.ForeignKey(
        "accounts.Agent",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
        db_index=False,  # message_agent_idx, below
    )
    # When an admin last corrected the text (issue 15; None: never). The earlier texts are
    # kept in MessageEdit.
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "messages"
        indexes = [
            # Matches the history query's ORDER BY created_at DESC, id DESC (scanned backwards).
            models.Index(fields=["thread", "created_at", "id"], name="message_thread_time_id_idx"),
            models.Index(fields=["created_at"], name="message_time_idx"),
            # Only replies have an agent: a visitor's message (the hot path) writes no entry
            # here. An agent's deletion (SET_NULL) still finds theirs by index.
            models.Index(fields=["agent"], condition=Q(agent__isnull=False), name="message_agent_idx"),
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


class MessageEdit(models.Model):
    """An admin corrected a reply (in the panel or in Telegram): the text it had before."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="edits")
    previous_text = models.TextField(null=True, blank=True)
    edited_at = models.DateTimeField(default=timezone.now)
    via = models.CharField(max_length=16)  # "panel" or "telegram"
    agent = models.ForeignKey(
        "accounts.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="message_edits"
    )

    class Meta:
        db_table = "message_edits"
        indexes = [models.Index(fields=["message", "edited_at"], name="message_edit_time_idx")]

    def __str__(self) -> str:
        return f"edit of {self.message_id} at {self.edited_at:%Y-%m-%d %H:%M:%S}"


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


class ThreadRead(models.Model):
    """How far an agent has read a thread: unread counts are per agent, on the server, so
    every browser of the agent shows the same."""

    agent = models.ForeignKey("accounts.Agent", on_delete=models.CASCADE, related_name="thread_reads")
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="reads")
    last_read_at = models.DateTimeField()

    class Meta:
        db_table = "thread_reads"
        constraints = [models.UniqueConstraint(fields=["agent", "thread"], name="thread_read_unique")]

    def __str__(self) -> str:
        return f"{self.agent_id} read {self.thread_id} up to {self.last_read_at}"


class CannedReply(models.Model):
    """A saved answer agents insert by typing its shortcut (`/hours`) in the composer."""

    class Language(models.TextChoices):
        TURKISH = "tr", "Türkçe"
        ENGLISH = "en", "English"

    shortcut = models.SlugField(max_length=32, help_text="Typed after a slash: hours for /hours.")
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.ENGLISH)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "canned_replies"
        ordering = ("shortcut", "language")
        verbose_name_plural = "canned replies"
        constraints = [
            models.UniqueConstraint(fields=["shortcut", "language"], name="canned_reply_unique_shortcut")
        ]

    def __str__(self) -> str:
        return f"/{self.shortcut} ({self.language})"


class VisitorBlock(models.Model):
    """A visitor who may not write or open conversations until `expires_at`: matched by
    their address or their session (a keyed hash of its key). Refused attempts are
    counted here and never stored as messages. Staff lift it in the Django admin."""

    ip = models.GenericIPAddressField(null=True, blank=True)
    key_hash = models.CharField(max_length=64, null=True, blank=True)
    thread = models.ForeignKey(
        Thread, null=True, blank=True, on_delete=models.SET_NULL, related_name="blocks"
    )
    display_name = models.CharField(max_length=80, blank=True)
    created_by = models.ForeignKey(
        "accounts.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="blocks_made"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "visitor_blocks"
        indexes = [
            models.Index(fields=["ip", "expires_at"], name="visitor_block_ip_idx"),
            models.Index(fields=["key_hash", "expires_at"], name="visitor_block_key_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name or self.ip or 'visitor'} until {self.expires_at:%Y-%m-%d %H:%M}"


class BusinessHours(models.Model):
    """When the desk answers: weekly opening hours in a time zone, and holidays.

    Without an active schedule the desk keeps no hours (always open); with one, it is
    open during one of its weekly ranges, except on its holidays (chat/availability.py).
    """

    name = models.CharField(max_length=80, default="Business hours")
    time_zone = models.CharField(max_length=64, default="Europe/Istanbul", help_text="e.g. Europe/Istanbul")
    active = models.BooleanField(default=True, help_text="Only the first active schedule counts.")

    class Meta:
        db_table = "business_hours"
        verbose_name = "business hours"
        verbose_name_plural = "business hours"

    def __str__(self) -> str:
        return f"{self.name} ({self.time_zone})"

    def clean(self) -> None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        from django.core.exceptions import ValidationError

        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError({"time_zone": "Not a known time zone (e.g. Europe/Istanbul)."}) from None


class WeeklyHours(models.Model):
    """One opening range on one weekday; `closes` 00:00 means midnight at the day's end."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0
        TUESDAY = 1
        WEDNESDAY = 2
        THURSDAY = 3
        FRIDAY = 4
        SATURDAY = 5
        SUNDAY = 6

    schedule = models.ForeignKey(BusinessHours, on_delete=models.CASCADE, related_name="weekly_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        db_table = "business_hours_weekly"
        ordering = ["weekday", "opens"]
        verbose_name_plural = "weekly hours"

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class Holiday(models.Model):
    schedule = models.ForeignKey(BusinessHours, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=80, blank=True, default="")

    class Meta:
        db_table = "business_hours_holidays"
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["schedule", "date"], name="holiday_unique_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()


class DeskActivity(models.Model):
    """When agents were last seen somewhere other than the panel (key "telegram")."""

    key = models.CharField(max_length=32, primary_key=True)
    at = models.DateTimeField()

    class Meta:
        db_table = "desk_activity"
        verbose_name_plural = "desk activity"

    def __str__(self) -> str:
        return f"{self.key} {self.at:%Y-%m-%d %H:%M:%S}"


class InsightsCount(models.Model):
    """Insights' daily roll-ups (chat/rollups.py): how many threads that started on `day`
    (the desk's local day) fall under (`kind`, `slot`). Kept current by the chat services
    in the transaction that changes a thread; `manage.py rebuild_insights` recomputes them."""

    class Kind(models.TextChoices):
        STARTED = "h", "started, per local hour"  # slot: weekday (0 = Monday) * 24 + hour
        ASSIGNED = "a", "started, per assignee"  # slot: agent id, 0 = nobody
        RESOLVED = "r", "resolved, per assignee"  # slot: agent id, 0 = nobody
        FIRST_RESPONSE = "f", "first response time, per duration bucket"  # slot: rollups.bucket()
        RESOLUTION = "d", "resolution time, per duration bucket"

    day = models.DateField()
    kind = models.CharField(max_length=1, choices=Kind.choices)
    slot = models.IntegerField()
    count = models.IntegerField(default=0)

    class Meta:
        db_table = "insights_counts"
        constraints = [models.UniqueConstraint(fields=["kind", "day", "slot"], name="insights_count_unique")]
        # Insights sums a range per day and per slot: these answer both from the index alone.
        indexes = [
            models.Index(fields=["kind", "day", "slot", "count"], name="insights_count_day_idx"),
            models.Index(fields=["kind", "slot", "day", "count"], name="insights_count_slot_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind}/{self.slot}: {self.count}"
