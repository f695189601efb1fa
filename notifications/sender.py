"""The email worker: sends due outbox items through Django's email API, with retries.

Each item is claimed with one atomic UPDATE (state pending -> sending) before it is sent,
so two processes never send the same email; a claim older than EMAIL_CLAIM_TIMEOUT_SECONDS
belongs to a worker that died mid-send and is taken over. A failed send (SMTP down,
refused) is retried after EMAIL_RETRY_BASE_SECONDS, doubling up to
EMAIL_RETRY_MAX_SECONDS, for a day; then it is kept as failed (Django admin, /healthz).

A replies email is decided at send time: it carries the agents' replies the visitor has
not seen (written after they were last active on the page, and after the previous
email), and goes at most once per EMAIL_BATCH_SECONDS per thread.
"""

from __future__ import annotations

import logging
import os
import smtplib
import socket
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.db import IntegrityError, transaction
from django.db.models import Count, Min, Q
from django.utils import timezone

from chat.models import Message, Thread

from . import compose, outbox
from .models import EmailOutboxItem

logger = logging.getLogger("notifications.sender")

WORKER_ID = f"{socket.gethostname()[:40]}:{os.getpid()}"
GIVE_UP_AFTER = timedelta(days=1)
MAX_REFUSED_ATTEMPTS = 5
MAX_ERROR_CHARS = 300
State = EmailOutboxItem.State
Kind = EmailOutboxItem.Kind


def _claim_timeout() -> timedelta:
    return timedelta(seconds=settings.EMAIL_CLAIM_TIMEOUT_SECONDS)


def claim_next(now: datetime) -> EmailOutboxItem | None:
    """Take the next due item for this worker, or None."""
    due = Q(state=State.PENDING, next_attempt_at__lte=now) | Q(
        state=State.SENDING, claimed_at__lt=now - _claim_timeout()
    )
    for candidate in EmailOutboxItem.objects.filter(due).order_by("next_attempt_at", "id")[:20]:
        taken = EmailOutboxItem.objects.filter(
            pk=candidate.pk, state=candidate.state, claimed_at=candidate.claimed_at
        ).update(state=State.SENDING, claimed_at=now, claimed_by=WORKER_ID)
        if taken:
            candidate.refresh_from_db()
            return candidate
    return None


def next_due_in(now: datetime, idle: float) -> float:
    soonest = EmailOutboxItem.objects.filter(state=State.PENDING).aggregate(at=Min("next_attempt_at"))["at"]
    if soonest is None:
        return idle
    return max(0.0, min(idle, (soonest - now).total_seconds()))


def step(idle: float = 5.0) -> float:
    """Send every due item; return how long to wait before looking again."""
    while True:
        now = timezone.now()
        item = claim_next(now)
        if item is None:
            return next_due_in(now, idle)
        try:
            process(item)
        except Exception as exc:  # a bug or the database: the claim expires and it is retried
            logger.exception("email_item_failed id=%s", item.pk)
            _retry(item, f"{type(exc).__name__}: {exc}", refused=False)


def _finish(item: EmailOutboxItem, state: str, note: str = "", **fields) -> None:
    EmailOutboxItem.objects.filter(pk=item.pk, claimed_by=WORKER_ID).update(
        state=state, note=note, claimed_at=None, **fields
    )
    logger.info("email_%s id=%s kind=%s thread=%s note=%s", state, item.pk, item.kind, item.thread_id, note)


def _back_to_pending(item: EmailOutboxItem, at: datetime, **fields) -> None:
    """Wait again; a replies item that another pending one replaced meanwhile is merged."""
    try:
        with transaction.atomic():
            EmailOutboxItem.objects.filter(pk=item.pk, claimed_by=WORKER_ID).update(
                state=State.PENDING, next_attempt_at=at, claimed_at=None, claimed_by="", **fields
            )
    except IntegrityError:  # a later reply queued a new one while this was claimed
        _finish(item, State.SKIPPED, "merged")


def _retry(item: EmailOutboxItem, error: str, refused: bool) -> None:
    attempts = item.attempts + 1
    now = timezone.now()
    if now - item.created_at > GIVE_UP_AFTER or (refused and attempts >= MAX_REFUSED_ATTEMPTS):
        _finish(item, State.FAILED, "gave_up", attempts=attempts, last_error=error[:MAX_ERROR_CHARS])
        return
    delay = min(settings.EMAIL_RETRY_BASE_SECONDS * 2 ** (attempts - 1), settings.EMAIL_RETRY_MAX_SECONDS)
    logger.warning("email_retry id=%s attempts=%d in=%ss error=%s", item.pk, attempts, delay, error[:120])
    _back_to_pending(
        item, now + timedelta(seconds=delay), attempts=attempts, last_error=error[:MAX_ERROR_CHARS]
    )


def _seen_until(thread: Thread) -> datetime | None:
    """Until when the visitor has seen the conversation: their last activity on the page
    (heartbeats while it is open, their messages) or their last "seen" mark."""
    marks = [thread.last_activity_at, getattr(thread, "visitor_seen_at", None)]
    marks = [mark for mark in marks if mark is not None]
    return max(marks) if marks else None


def _last_replies_email(thread_id) -> EmailOutboxItem | None:
    return (
        EmailOutboxItem.objects.filter(thread_id=thread_id, kind=Kind.REPLIES, state=State.SENT)
        .order_by("-sent_at")
        .first()
    )


def unseen_replies(thread: Thread) -> list[Message]:
    """The agents' replies the visitor has not seen and no email carried yet."""
    marks = [_seen_until(thread)]
    last = _last_replies_email(thread.id)
    if last is not None:
        marks.append(last.covered_until)
    since = max((mark for mark in marks if mark is not None), default=None)
    replies = Message.objects.filter(thread_id=thread.id, sender=Message.Sender.ADMIN).select_related("agent")
    if since is not None:
        replies = replies.filter(created_at__gt=since)
    return list(replies.order_by("created_at", "id")[: settings.MESSAGES_DEFAULT_LIMIT])


def process(item: EmailOutboxItem) -> None:
    thread = Thread.objects.filter(id=item.thread_id).first()
    if thread is None:
        _finish(item, State.SKIPPED, "thread_gone")
        return
    address = thread.email or (item.to if item.kind == Kind.TRANSCRIPT else "")
    if not address:
        _finish(item, State.SKIPPED, "no_address")
        return
    if item.kind == Kind.TRANSCRIPT:
        messages = list(
            thread.messages.select_related("agent").order_by("created_at", "id")[
                : settings.MESSAGES_DEFAULT_LIMIT
            ]
        )
        _send(item, compose.transcript_email(thread, messages, address), address, messages_sent=len(messages))
        return
    if outbox.is_unsubscribed(address):
        _finish(item, State.SKIPPED, "unsubscribed")
        return
    now = timezone.now()
    last = _last_replies_email(thread.id)
    if last is not None and last.sent_at + timedelta(seconds=settings.EMAIL_BATCH_SECONDS) > now:
        _back_to_pending(item, last.sent_at + timedelta(seconds=settings.EMAIL_BATCH_SECONDS))
        return
    replies = unseen_replies(thread)
    if not replies:
        _finish(item, State.SKIPPED, "seen")
        return
    ready_at = replies[0].created_at + timedelta(seconds=settings.EMAIL_UNSEEN_SECONDS)
    if ready_at > now:
        _back_to_pending(item, ready_at)
        return
    _send(
        item,
        compose.replies_email(thread, replies, address),
        address,
        covered_until=replies[-1].created_at,
        messages_sent=len(replies),
    )


def _send(item: EmailOutboxItem, email, address: str, **fields) -> None:
    try:
        connection = get_connection(timeout=settings.EMAIL_TIMEOUT)
        connection.send_messages([email])
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
        _retry(item, f"{type(exc).__name__}: {exc}", refused=True)
        return
    except (smtplib.SMTPException, OSError) as exc:
        _retry(item, f"{type(exc).__name__}: {exc}", refused=False)
        return
    _finish(
        item,
        State.SENT,
        "",
        to=address,
        sent_at=timezone.now(),
        attempts=item.attempts + 1,
        last_error="",
        **fields,
    )


KEEP_DONE = timedelta(days=30)


def prune() -> int:
    """Forget emails sent or skipped more than 30 days ago (failed ones stay for staff)."""
    deleted, _ = EmailOutboxItem.objects.filter(
        state__in=[State.SENT, State.SKIPPED], created_at__lt=timezone.now() - KEEP_DONE
    ).delete()
    return deleted


def status() -> dict:
    """For /healthz and the admin: configured?, the backlog, failures, the last error."""
    now = timezone.now()
    # One statement, so one snapshot (as the Telegram report): counted apart, an email
    # failing in between showed as waiting and failed at once.
    is_waiting = Q(state__in=[State.PENDING, State.SENDING])
    is_failed = Q(state=State.FAILED)
    backlog = EmailOutboxItem.objects.filter(is_waiting | is_failed).aggregate(
        pending=Count("id", filter=is_waiting),
        retrying=Count("id", filter=is_waiting & Q(attempts__gt=0)),
        failed=Count("id", filter=is_failed),
        overdue=Min("next_attempt_at", filter=is_waiting & Q(next_attempt_at__lte=now)),
    )
    overdue = backlog["overdue"]
    last_error = (
        EmailOutboxItem.objects.exclude(last_error="")
        .order_by("-next_attempt_at")
        .values_list("last_error", flat=True)
        .first()
    )
    return {
        "configured": settings.EMAIL_ENABLED,
        "pending": backlog["pending"],
        "retrying": backlog["retrying"],
        "failed": backlog["failed"],
        "overdue_seconds": max(0, int((now - overdue).total_seconds())) if overdue else 0,
        "last_error": last_error or None,
    }
