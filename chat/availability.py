"""Whether anyone can answer now, and how fast the desk usually answers.

The desk is *available* when it is inside business hours (the active `BusinessHours` in
the Django admin; none: always) and an agent either has the panel open (a socket in
admin_room, counted across processes by `chat.realtime.presence`) or wrote in the
Telegram admin chat within AVAILABILITY_TELEGRAM_MINUTES. Visitors get this as the
`availability` event and in the join ack: {"available", "reason",
"median_first_response_seconds"}.
"""

from __future__ import annotations

import statistics
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from .models import BusinessHours, DeskActivity, Message, Thread

TELEGRAM = "telegram"
MEDIAN_DAYS = 7

_median_cache: tuple[float, int | None] | None = None
_median_lock = threading.Lock()


def active_schedule() -> BusinessHours | None:
    return (
        BusinessHours.objects.filter(active=True)
        .order_by("id")
        .prefetch_related("weekly_hours", "holidays")
        .first()
    )


def is_open(schedule: BusinessHours | None, at: datetime) -> bool:
    """Inside `schedule`'s hours at `at` (no schedule: always)."""
    if schedule is None:
        return True
    try:
        zone = ZoneInfo(schedule.time_zone)
    except Exception:  # a bad zone in the admin must not close the desk: use the server's
        zone = timezone.get_default_timezone()
    local = at.astimezone(zone)
    if any(holiday.date == local.date() for holiday in schedule.holidays.all()):
        return False
    clock = local.time().replace(tzinfo=None)
    for hours in schedule.weekly_hours.all():
        if hours.weekday != local.weekday():
            continue
        ends_at_midnight = hours.closes.hour == 0 and hours.closes.minute == 0
        if hours.opens <= clock and (ends_at_midnight or clock < hours.closes):
            return True
    return False


def within_business_hours(at: datetime | None = None) -> bool:
    return is_open(active_schedule(), at or timezone.now())


def note_telegram_activity() -> None:
    """An agent wrote in the Telegram admin chat (telegram_bridge.inbound calls this)."""
    DeskActivity.objects.update_or_create(key=TELEGRAM, defaults={"at": timezone.now()})


def telegram_active(now: datetime | None = None) -> bool:
    now = now or timezone.now()
    since = now - timedelta(minutes=settings.AVAILABILITY_TELEGRAM_MINUTES)
    return DeskActivity.objects.filter(key=TELEGRAM, at__gte=since).exists()


# Conversations the measure looks at, newest first: enough for a median, bounded work.
MEDIAN_SAMPLE = 2000


def _first_responses(since: datetime, schedule: BusinessHours | None) -> list[float]:
    """Per conversation of the period: seconds from its first visitor message (inside
    business hours) to the first agent message after it. One query."""
    first_visitor = (
        Message.objects.filter(thread=OuterRef("pk"), sender=Message.Sender.VISITOR, created_at__gte=since)
        .order_by("created_at")
        .values("created_at")[:1]
    )
    first_answer = (
        Message.objects.filter(
            thread=OuterRef("pk"), sender=Message.Sender.ADMIN, created_at__gte=OuterRef("asked")
        )
        .order_by("created_at")
        .values("created_at")[:1]
    )
    rows = (
        Thread.objects.filter(has_messages=True, sorted_at__gte=since)
        .order_by("-sorted_at")
        .annotate(asked=Subquery(first_visitor))
        .exclude(asked=None)
        .annotate(answered=Subquery(first_answer))
        .exclude(answered=None)
        .values_list("asked", "answered")[:MEDIAN_SAMPLE]
    )
    return [(answered - asked).total_seconds() for asked, answered in rows if is_open(schedule, asked)]


def median_first_response_seconds() -> int | None:
    """The median first-response time of the last 7 days inside business hours (None:
    no answered conversation yet). Measured at most every few minutes per process."""
    global _median_cache
    with _median_lock:
        if (
            _median_cache is not None
            and time.monotonic() - _median_cache[0] < settings.AVAILABILITY_MEDIAN_CACHE_SECONDS
        ):
            return _median_cache[1]
    since = timezone.now() - timedelta(days=MEDIAN_DAYS)
    delays = _first_responses(since, active_schedule())
    value = round(statistics.median(delays)) if delays else None
    with _median_lock:
        _median_cache = (time.monotonic(), value)
    return value


def current(agents_online: int) -> dict:
    """The availability visitors are shown, given how many panel sockets are open."""
    now = timezone.now()
    if not within_business_hours(now):
        available, reason = False, "outside_hours"
    elif agents_online > 0 or telegram_active(now):
        available, reason = True, None
    else:
        available, reason = False, "no_agent"
    return {
        "available": available,
        "reason": reason,
        "median_first_response_seconds": median_first_response_seconds() if available else None,
    }
