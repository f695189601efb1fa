"""Emails to visitors, stored before they are sent, and the addresses that opted out.

An email is queued in the transaction that stores what caused it (an agent's reply, a
visitor's request for the transcript), so it is never lost when SMTP or this process
is down, and a worker (sender.py) claims each one before sending, so it is never sent
twice by two processes.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class EmailOutboxItem(models.Model):
    class Kind(models.TextChoices):
        REPLIES = "replies"  # the agents' replies the visitor has not seen
        TRANSCRIPT = "transcript"  # the whole conversation, asked for by the visitor

    class State(models.TextChoices):
        PENDING = "pending"  # waiting for next_attempt_at
        SENDING = "sending"  # claimed by a worker (claimed_at, claimed_by)
        SENT = "sent"
        SKIPPED = "skipped"  # nothing to send any more (seen, unsubscribed, thread gone)
        FAILED = "failed"  # given up; kept so staff can see what did not arrive

    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    # A plain id, not a foreign key: the worker checks at send time whether it still exists.
    thread_id = models.UUIDField()
    to = models.EmailField(max_length=254, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)
    # Replies emails: the newest reply the email carried; the next one starts after it.
    covered_until = models.DateTimeField(null=True, blank=True)
    messages_sent = models.PositiveIntegerField(default=0)
    note = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        db_table = "email_outbox"
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="email_outbox_due_idx")]
        constraints = [
            # At most one replies email waits per thread: later replies join it (batched).
            models.UniqueConstraint(
                fields=["thread_id"],
                condition=Q(kind="replies", state="pending"),
                name="email_outbox_one_pending_replies",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.state}, {self.attempts} attempts)"


class Unsubscribed(models.Model):
    """An address that asked for no more emails (through the link in every email)."""

    email = models.EmailField(max_length=254, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "email_unsubscribed"
        verbose_name_plural = "unsubscribed addresses"

    def __str__(self) -> str:
        return self.email
