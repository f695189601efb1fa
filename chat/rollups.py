"""Insights' daily roll-ups (issue 13): per desk-local day, the counts the insights page
needs, so a year of 100,000 threads is read as a few thousand counters.

Every thread counts, on the local day it started (settings.TIME_ZONE), as

- one start in its local weekday and hour (kind "h", slot weekday * 24 + hour),
- one start for its assignee ("a", slot 0 = nobody),
- when answered: one first response time in its duration bucket ("f"),
- when resolved: one resolution for its assignee ("r") and one resolution time in its
  duration bucket ("d").

Duration buckets are geometric (RATIO apart, bucket 0 below one second). Insights reads
them to find which durations hold a percentile's ranks, then reads those few threads'
exact durations (chat/insights.py): the percentiles stay exact.

The chat services call `apply(before, after)` in the transaction that creates, answers,
assigns, resolves, reopens or deletes threads. A change of TIME_ZONE (or threads changed
behind the services' back) needs `manage.py rebuild_insights`.
"""

from __future__ import annotations

import math
import zoneinfo
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction

from .models import InsightsCount, Thread

Kind = InsightsCount.Kind
RATIO = 2**0.5  # a few dozen buckets from a second to a year: few counters per day
_LOG_RATIO = math.log(RATIO)
FIELDS = ("created_at", "first_response_at", "resolved_at", "assignee_id")


class Facts(NamedTuple):
    """What the roll-ups know of a thread."""

    created_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    assignee_id: int | None

    @classmethod
    def of(cls, thread: Thread) -> Facts:
        return cls(*(getattr(thread, name) for name in FIELDS))


def bucket(seconds: float) -> int:
    """The duration bucket of `seconds`: 0 below one second, then b for [RATIO**(b-1), RATIO**b)."""
    if seconds < 1:
        return 0
    return int(math.floor(math.log(seconds) / _LOG_RATIO)) + 1


def bucket_bounds(number: int) -> tuple[float, float]:
    """[low, high) in seconds of a bucket (up to a rounding error at the edges: readers
    allow for it)."""
    if number == 0:
        return 0.0, 1.0
    return RATIO ** (number - 1), RATIO**number


def seconds_between(start: datetime, end: datetime) -> float:
    return max((end - start).total_seconds(), 0.0)


def counts(facts: Facts, zone: zoneinfo.ZoneInfo) -> Counter:
    """The counters one thread adds: {(day, kind, slot): 1}."""
    local = facts.created_at.astimezone(zone)
    day, assignee = local.date(), facts.assignee_id or 0
    started = local.weekday() * 24 + local.hour  # the heatmap's cell: summed per slot, no date maths in SQL
    result = Counter({(day, Kind.STARTED.value, started): 1, (day, Kind.ASSIGNED.value, assignee): 1})
    if facts.first_response_at is not None:
        taken = seconds_between(facts.created_at, facts.first_response_at)
        result[(day, Kind.FIRST_RESPONSE.value, bucket(taken))] += 1
    if facts.resolved_at is not None:
        taken = seconds_between(facts.created_at, facts.resolved_at)
        result[(day, Kind.RESOLVED.value, assignee)] += 1
        result[(day, Kind.RESOLUTION.value, bucket(taken))] += 1
    return result


def recount(rows: Iterable[Facts]) -> Counter:
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    total: Counter = Counter()
    for facts in rows:
        total.update(counts(facts, zone))
    return total


_UPSERT_SQL = (
    "INSERT INTO insights_counts (day, kind, slot, count) VALUES {values}"
    " ON CONFLICT (kind, day, slot) DO UPDATE SET count = insights_counts.count + excluded.count"
)


def apply(before: Iterable[Facts], after: Iterable[Facts]) -> None:
    """Threads changed from `before` to `after` (created: nothing before; deleted: nothing
    after): move their counts. Call in the transaction that changes them."""
    delta = recount(after)
    delta.subtract(recount(before))
    changes = [(key, n) for key, n in delta.items() if n]
    if not changes:
        return
    adapt = connection.ops.adapt_datefield_value
    params: list = []
    for (day, kind, slot), n in sorted(changes):  # one order: two writers never deadlock
        params += [adapt(day), kind, slot, n]
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT_SQL.format(values=", ".join(["(%s, %s, %s, %s)"] * len(changes))), params)


def thread_facts(threads) -> list[Facts]:
    """Facts of a Thread queryset's rows."""
    return [Facts(*row) for row in threads.values_list(*FIELDS)]


def stored() -> Counter:
    """The roll-ups as stored (zero counters left out)."""
    rows = InsightsCount.objects.exclude(count=0).values_list("day", "kind", "slot", "count")
    return Counter({(day, kind, slot): n for day, kind, slot, n in rows})


def rebuild(thread_model=Thread, count_model=InsightsCount) -> int:
    """Recompute every counter from the threads table; returns how many were stored.
    (The models are arguments for the migration that fills the table first.)"""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Changes committing meanwhile wait, and then add to the rebuilt counts.
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {count_model._meta.db_table} IN EXCLUSIVE MODE")
        count_model.objects.all().delete()  # on SQLite: takes the write lock first
        rows = thread_model.objects.values_list(*FIELDS).order_by().iterator(chunk_size=5000)
        total = recount(Facts(*row) for row in rows)
        count_model.objects.bulk_create(
            (count_model(day=day, kind=kind, slot=slot, count=n) for (day, kind, slot), n in total.items()),
            batch_size=2000,
        )
    return len(total)


def read(first: date, last: date) -> tuple[dict[date, int], list[list[int]], dict[str, Counter]]:
    """Between two local days (inclusive): the starts per day, per weekday (0 = Monday)
    and hour, and every other kind's counts summed over the days, per slot. Summed in
    SQL, each from a covering index: a year is some 30,000 counters, a few hundred sums."""
    adapt = connection.ops.adapt_datefield_value
    days = [adapt(first), adapt(last)]
    grid = [[0] * 24 for _ in range(7)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT day, SUM(count) FROM insights_counts WHERE kind = %s AND day >= %s AND day <= %s GROUP BY day",
            [Kind.STARTED.value, *days],
        )
        per_day = {_as_date(day): int(n) for day, n in cursor.fetchall() if n}
        cursor.execute(
            "SELECT kind, slot, SUM(count) FROM insights_counts"
            " WHERE kind IN (%s, %s, %s, %s, %s) AND day >= %s AND day <= %s GROUP BY kind, slot",
            [*Kind.values, *days],
        )
        totals: dict[str, Counter] = {kind: Counter() for kind in Kind.values}
        for kind, slot, n in cursor.fetchall():
            if not n:
                continue
            if kind == Kind.STARTED:
                grid[slot // 24][slot % 24] += int(n)
            else:
                totals[kind][slot] = int(n)
    return per_day, grid, totals


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)
