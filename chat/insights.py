"""Insights (issue 13): how the desk is doing over a range of days.

Conversations per day, the median and 90th percentile of first response time and of
resolution time, the busiest hours of the week, and per-agent counts, over threads that
started in the range, in the desk's time zone, on PostgreSQL and SQLite.

`summary()` (the page) sums the daily roll-ups (chat/rollups.py) and reads exact
percentiles by walking the duration indexes from the bucket the roll-ups place each rank
in (`_from_histogram`). `exact_summary()` computes the same from the threads table
alone, with SQL aggregates (the reference the roll-ups are tested and benchmarked against):

- percentiles: PostgreSQL's percentile_cont; on SQLite the same interpolation from the two
  rows around the rank (ORDER BY the duration, LIMIT 2 OFFSET k), after a COUNT;
- days, weekdays and hours: PostgreSQL converts with AT TIME ZONE; SQLite shifts each
  piece of the range between two summer-time changes by its fixed offset with a date
  modifier (Django's Trunc/Extract with a zone call a Python function per row there).
- thread_insights_idx covers every column these read: the index alone answers them.

A first response time is from the thread's start to the first agent reply
(Thread.first_response_at); a resolution time is from the start to `resolved_at`, for the
threads that are resolved.
"""

from __future__ import annotations

import math
import zoneinfo
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import OperationalError, connection

from accounts.models import Agent
from chatdesk.refusals import FieldInvalid

from . import rollups
from .models import Thread

Kind = rollups.Kind

DEFAULT_DAYS = 30
MAX_DAYS = 366
PERCENTILES = (0.5, 0.9)


@dataclass(frozen=True)
class Range:
    first: date  # inclusive, in the desk's time zone
    last: date  # inclusive

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=self.zone)

    @property
    def end(self) -> datetime:  # exclusive
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=self.zone)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def parse_range(first: str | None, last: str | None, today: date | None = None) -> Range:
    """`from` and `to` (YYYY-MM-DD, both inclusive); the last 30 days by default."""
    today = today or datetime.now(zoneinfo.ZoneInfo(settings.TIME_ZONE)).date()

    def day(value: str | None, field: str, default: date) -> date:
        if value in (None, ""):
            return default
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise FieldInvalid(field) from None

    end = day(last, "to", today)
    start = day(first, "from", end - timedelta(days=DEFAULT_DAYS - 1))
    if start > end or (end - start).days >= MAX_DAYS:
        raise FieldInvalid("from")
    return Range(start, end)


# On SQLite, each duration has an expression index (migration 0012), and the percentile
# query walks it in order (INDEXED BY: without statistics the planner would sort instead);
# the expressions here must be written exactly as in the index.
SQLITE_SECONDS = {
    "first_response_at": "((julianday(first_response_at) - julianday(created_at)) * 86400.0)",
    "resolved_at": "((julianday(resolved_at) - julianday(created_at)) * 86400.0)",
}
# The walk reads the index in duration order up to the rank, across the whole table: for
# a narrow range (few rows of many) sorting the range's rows is cheaper.
WALK_FROM = 20_000
SQLITE_INDEXES = {
    "first_response_at": "thread_first_response_secs_idx",
    "resolved_at": "thread_resolution_secs_idx",
}


def ensure_sqlite_indexes(using: str = "default", **kwargs) -> None:
    """Create the duration indexes on SQLite if they are missing (post_migrate)."""
    from django.db import connections

    target = connections[using]
    if target.vendor != "sqlite":
        return
    with target.cursor() as cursor:
        for column, name in SQLITE_INDEXES.items():
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {Thread._meta.db_table} "
                f"({SQLITE_SECONDS[column]}, created_at) WHERE {column} IS NOT NULL"
            )


def percentiles(
    span: Range, column: str, count: int | None = None, histogram: Counter | None = None
) -> dict[str, float | None]:
    """The median and 90th percentile, in seconds, of `column` - created_at over the
    range's threads that have `column` (percentile_cont: interpolated between ranks).
    `count`: how many there are, when the caller counted them already. A thread has
    `resolved_at` only while it is resolved (reopening clears it). `histogram`: the
    range's roll-up of these durations per bucket (chat/rollups.py), which lets a large
    range read only the threads around each rank."""
    if column not in SQLITE_SECONDS:
        raise ValueError(column)
    if histogram is not None and count is not None:
        found = _from_histogram(span, column, count, histogram)
        if found is not None:
            return found
    table = Thread._meta.db_table
    where = f"created_at >= %s AND created_at < %s AND {column} IS NOT NULL"
    adapt = connection.ops.adapt_datetimefield_value
    params = [adapt(span.start), adapt(span.end)]
    names = {0.5: "median", 0.9: "p90"}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            seconds = f"EXTRACT(EPOCH FROM ({column} - created_at))"
            parts = ", ".join(f"percentile_cont({p}) WITHIN GROUP (ORDER BY {seconds})" for p in PERCENTILES)
            cursor.execute(f"SELECT COUNT(*), {parts} FROM {table} WHERE {where}", params)
            row = cursor.fetchone()
            return {
                "count": row[0],
                **{
                    names[p]: (float(v) if v is not None else None)
                    for p, v in zip(PERCENTILES, row[1:], strict=True)
                },
            }
        if count is None:
            cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", params)
            count = cursor.fetchone()[0]
        seconds, index = SQLITE_SECONDS[column], SQLITE_INDEXES[column]
        result: dict[str, float | None] = {"count": count}
        for p in PERCENTILES:
            if not count:
                result[names[p]] = None
                continue
            rank = p * (count - 1)
            below = math.floor(rank)
            query = (
                f"SELECT {seconds} FROM {table} {{hint}} WHERE {where} ORDER BY {seconds} LIMIT 2 OFFSET %s"
            )
            if count < WALK_FROM:  # a few thousand rows: sorting them is cheaper than the walk
                cursor.execute(query.replace("{hint}", ""), [*params, below])
                values = [row[0] for row in cursor.fetchall()]
            else:
                try:
                    cursor.execute(query.replace("{hint}", f"INDEXED BY {index}"), [*params, below])
                except OperationalError:  # the index is missing (until the next migrate): sort
                    cursor.execute(query.replace("{hint}", ""), [*params, below])
                values = [row[0] for row in cursor.fetchall()]
            low = values[0]
            high = values[1] if len(values) > 1 else low
            result[names[p]] = low + (high - low) * (rank - below)
        return result


# Between the roll-ups' durations (Python, to the microsecond) and the database's (SQLite's
# julianday: to the millisecond) a bucket's edge may move a little: windows are this much wider.
SLACK = 0.01
POSTGRES_SECONDS = "EXTRACT(EPOCH FROM ({column} - created_at))"


def _from_histogram(span: Range, column: str, count: int, histogram: Counter) -> dict | None:
    """Each percentile from a short walk: the histogram says in which bucket its rank lies
    and how many durations come before that bucket; the duration index is walked from the
    bucket's lower edge to the rank (instead of from zero). None when the roll-ups do not
    fit the table (stale): the caller computes over the whole range instead."""
    ordered = sorted((b, n) for b, n in histogram.items() if n > 0)
    if sum(n for _, n in ordered) != count or not count:
        return None
    names = {0.5: "median", 0.9: "p90"}
    result: dict[str, float | None] = {"count": count}
    for p in PERCENTILES:
        rank = p * (count - 1)
        below = math.floor(rank)
        bucket, before = _bucket_at(ordered, below)
        values = _walk(span, column, bucket, before, below)
        if values is None:
            return None
        if len(values) < (2 if below + 1 < count else 1):
            return None
        low = values[0]
        high = values[1] if below + 1 < count else low
        result[names[p]] = low + (high - low) * (rank - below)
    return result


def _bucket_at(ordered: list[tuple[int, int]], rank: int) -> tuple[int, int]:
    """The bucket holding the `rank`-th duration (0-based), and how many come before it."""
    seen = 0
    for number, n in ordered:
        if rank < seen + n:
            return number, seen
        seen += n
    raise ValueError(rank)


def _walk(span: Range, column: str, bucket: int, before: int, rank: int) -> list[float] | None:
    """The `rank`-th duration of the range and the next one, walking the duration index
    from a little below `bucket`'s lower edge (SLACK), where `before` durations lie below
    the bucket, less those the slack lets in (told by their exact value)."""
    low = rollups.bucket_bounds(bucket)[0] - SLACK
    table = Thread._meta.db_table
    postgres = connection.vendor == "postgresql"
    seconds = POSTGRES_SECONDS.format(column=column) if postgres else SQLITE_SECONDS[column]
    hint = "" if postgres else f"INDEXED BY {SQLITE_INDEXES[column]}"
    adapt = connection.ops.adapt_datetimefield_value
    where = f"{column} IS NOT NULL AND created_at >= %s AND created_at < %s AND {seconds} >= %s"
    params = [adapt(span.start), adapt(span.end), low]
    with connection.cursor() as cursor:

        def run(select: str, tail: str, more: list) -> list[tuple]:
            try:
                cursor.execute(f"SELECT {select} FROM {table} {hint} WHERE {where}{tail}", [*params, *more])
            except OperationalError:  # SQLite's index is missing (until the next migrate)
                cursor.execute(f"SELECT {select} FROM {table} WHERE {where}{tail}", [*params, *more])
            return cursor.fetchall()

        edge = run(f"created_at, {column}", f" AND {seconds} < %s", [low + 2 * SLACK])
        lower = sum(
            1
            for created, done in edge
            if rollups.bucket(rollups.seconds_between(_as_datetime(created), _as_datetime(done))) < bucket
        )
        offset = rank - (before - lower)
        if offset < 0:
            return None
        return [float(row[0]) for row in run(seconds, " ORDER BY 1 LIMIT 2 OFFSET %s", [offset])]


def _as_datetime(value) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(value)  # SQLite's text, in UTC
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _segments(span: Range) -> list[tuple[datetime, datetime, int]]:
    """The range cut where the desk's UTC offset changes (summer time): (start, end,
    offset in minutes), usually one or three pieces."""

    def offset(when: datetime) -> int:
        return int((when.astimezone(span.zone).utcoffset() or timedelta()).total_seconds() // 60)

    pieces, begin = [], span.start.astimezone(UTC)
    cursor, stop = begin, span.end.astimezone(UTC)
    while cursor < stop:
        step = min(cursor + timedelta(days=1), stop)
        if offset(step - timedelta(microseconds=1)) != offset(cursor):
            step = cursor + timedelta(minutes=15)  # find the change to the quarter hour
            while offset(step) == offset(cursor):
                step += timedelta(minutes=15)
            pieces.append((begin, step, offset(cursor)))
            begin = step
        cursor = step
    if begin < stop:
        pieces.append((begin, stop, offset(begin)))
    return pieces


def _grouped(span: Range, sqlite_key: str, postgres_key: str) -> list[tuple]:
    """Threads started in the range, counted per key of their local time. SQLite shifts
    each piece of the range by its fixed offset with a date modifier (C, not a Python
    function per row); PostgreSQL converts with AT TIME ZONE."""
    table = Thread._meta.db_table
    adapt = connection.ops.adapt_datetimefield_value
    rows: list[tuple] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            local = "(created_at AT TIME ZONE %s)"
            key = postgres_key.replace("{local}", local)
            cursor.execute(
                f"SELECT {key}, COUNT(*) FROM {table} WHERE created_at >= %s AND created_at < %s GROUP BY 1, 2",
                [settings.TIME_ZONE, settings.TIME_ZONE, adapt(span.start), adapt(span.end)],
            )
            return [(*row[:-1], row[-1]) for row in cursor.fetchall()]
        for begin, end, minutes in _segments(span):
            shift = f"{minutes:+d} minutes"
            key = sqlite_key.replace("{shift}", "%s")
            cursor.execute(
                f"SELECT {key}, COUNT(*) FROM {table} WHERE created_at >= %s AND created_at < %s GROUP BY 1, 2",
                [shift, shift, adapt(begin), adapt(end)],
            )
            rows += cursor.fetchall()
    return rows


def per_day(span: Range) -> list[dict]:
    rows = _grouped(
        span,
        "date(created_at, {shift}), date(created_at, {shift})",
        "{local}::date, {local}::date",
    )
    counts: dict[str, int] = {}
    for day, _, count in rows:
        key = day if isinstance(day, str) else day.isoformat()
        counts[key] = counts.get(key, 0) + count
    return [{"date": day.isoformat(), "count": counts.get(day.isoformat(), 0)} for day in span.days()]


def heatmap(span: Range) -> list[list[int]]:
    """Conversations started per weekday (0 = Monday) and hour (0–23), desk time."""
    rows = _grouped(
        span,
        "CAST(strftime('%%w', created_at, {shift}) AS INTEGER), CAST(strftime('%%H', created_at, {shift}) AS INTEGER)",
        "CAST(extract(isodow from {local}) AS INTEGER), CAST(extract(hour from {local}) AS INTEGER)",
    )
    grid = [[0] * 24 for _ in range(7)]
    sqlite = connection.vendor != "postgresql"
    for weekday, hour, count in rows:
        day = (weekday + 6) % 7 if sqlite else weekday - 1  # %w: 0 = Sunday; isodow: 7 = Sunday
        grid[day][hour] += count
    return grid


def per_assignee(span: Range) -> list[dict]:
    """One scan of the range's entries of thread_insights_idx: per assignee (None:
    nobody), the conversations, how many were answered and how many are resolved. The
    unary plus keeps SQLite from walking the assignee's foreign-key index instead (and
    reading every row of the table to filter by date)."""
    table = Thread._meta.db_table
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT +assignee_id, COUNT(*), "
            f"SUM(CASE WHEN first_response_at IS NULL THEN 0 ELSE 1 END), "
            f"SUM(CASE WHEN resolved_at IS NULL THEN 0 ELSE 1 END) "
            f"FROM {table} WHERE created_at >= %s AND created_at < %s GROUP BY 1",
            [adapt(span.start), adapt(span.end)],
        )
        return [
            {
                "assignee": row[0],
                "conversations": row[1],
                "answered": int(row[2] or 0),
                "resolved": int(row[3] or 0),
            }
            for row in cursor.fetchall()
        ]


def per_agent(span: Range, rows: list[dict] | None = None) -> list[dict]:
    """Per agent: the range's conversations assigned to them, and resolved among those."""
    rows = [row for row in (per_assignee(span) if rows is None else rows) if row["assignee"] is not None]
    names = dict(Agent.objects.filter(pk__in=[row["assignee"] for row in rows]).values_list("pk", "name"))
    result = [
        {
            "id": row["assignee"],
            "name": names.get(row["assignee"], "?"),
            "assigned": row["conversations"],
            "resolved": row["resolved"],
        }
        for row in rows
    ]
    return sorted(result, key=lambda row: (-row["assigned"], row["name"]))


def summary(span: Range) -> dict:
    """Everything the insights page shows, as JSON. Counts come from the daily roll-ups
    (chat/rollups.py: the range is whole local days, and the roll-ups are current to the
    last committed change, today's included); percentiles read exact durations, the
    roll-ups' histograms telling which few threads hold the ranks."""
    per_date, grid, totals = rollups.read(span.first, span.last)
    known = set(Agent.objects.filter(pk__in=list(totals[Kind.ASSIGNED])).values_list("pk", flat=True))
    rows = [  # a deleted agent's threads have no assignee (SET_NULL): they count as nobody's
        {"assignee": slot, "conversations": n, "resolved": totals[Kind.RESOLVED][slot]}
        for slot, n in totals[Kind.ASSIGNED].items()
        if slot in known
    ]
    first_response, resolution = totals[Kind.FIRST_RESPONSE], totals[Kind.RESOLUTION]
    counted = {
        "conversations": sum(per_date.values()),
        "resolved": sum(resolution.values()),
        "answered": sum(first_response.values()),
    }
    return {
        "from": span.first.isoformat(),
        "to": span.last.isoformat(),
        "time_zone": settings.TIME_ZONE,
        "totals": counted,
        "per_day": [{"date": day.isoformat(), "count": per_date.get(day, 0)} for day in span.days()],
        "first_response": percentiles(span, "first_response_at", counted["answered"], first_response),
        "resolution": percentiles(span, "resolved_at", counted["resolved"], resolution),
        "heatmap": grid,
        "agents": per_agent(span, rows),
    }


def exact_summary(span: Range) -> dict:
    """The same answer computed from the threads table alone (the roll-ups' reference:
    tests, and `rebuild_insights --check`)."""
    rows = per_assignee(span)
    totals = {key: sum(row[key] for row in rows) for key in ("conversations", "resolved", "answered")}
    return {
        "from": span.first.isoformat(),
        "to": span.last.isoformat(),
        "time_zone": settings.TIME_ZONE,
        "totals": totals,
        "per_day": per_day(span),
        "first_response": percentiles(span, "first_response_at", totals["answered"]),
        "resolution": percentiles(span, "resolved_at", totals["resolved"]),
        "heatmap": heatmap(span),
        "agents": per_agent(span, rows),
    }
