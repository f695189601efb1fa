"""Insights' numbers (chat/insights.py) on a small seeded set whose answers are worked out
by hand: conversations per day and the busiest hours in the desk's time zone
(Europe/Istanbul, UTC+3), percentile_cont-style median and 90th percentile of first
response and resolution times, per-agent counts, and the range's edges."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from accounts.models import Agent
from chat import insights, rollups
from chat.models import Thread
from chatdesk.refusals import FieldInvalid

pytestmark = pytest.mark.django_db


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """March `day` 2026, UTC."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def thread(
    created: datetime, first_response: float | None = None, resolved: float | None = None, assignee=None
):
    """A thread started at `created`, answered / resolved that many seconds later."""
    row = Thread.objects.create(display_name="V", assignee=assignee)
    fields = {"created_at": created}
    if first_response is not None:
        fields["first_response_at"] = created + timedelta(seconds=first_response)
    if resolved is not None:
        fields.update(status=Thread.Status.RESOLVED, resolved_at=created + timedelta(seconds=resolved))
    Thread.objects.filter(pk=row.pk).update(**fields)
    return Thread.objects.get(pk=row.pk)


@pytest.fixture
def seeded(settings):
    settings.TIME_ZONE = "Europe/Istanbul"
    ayse = Agent.objects.create(name="Ayşe")
    mert = Agent.objects.create(name="Mert")
    # 2026-03-02 is a Monday. 21:30 UTC on the 2nd is 00:30 on Tuesday the 3rd in Istanbul.
    [
        thread(at(2, 9), first_response=60, resolved=600, assignee=ayse),  # Mon 12:00 local
        thread(at(2, 9, 30), first_response=120, assignee=ayse),  # Mon 12:30
        thread(at(2, 21, 30), first_response=30, resolved=3600, assignee=mert),  # Tue 00:30
        thread(at(3, 10), first_response=600),  # Tue 13:00
        thread(at(3, 10, 15)),  # Tue 13:15, never answered
        thread(at(5, 7), first_response=90, resolved=1200, assignee=ayse),  # Thu 10:00
        # Outside the range (before and after): counted nowhere.
        thread(at(1, 20), first_response=5, resolved=5, assignee=mert),  # Sun 1st 23:00 local
        thread(at(7, 21), first_response=5, assignee=mert),  # Sun 8th 00:00 local
    ]
    rollups.rebuild()  # the rows were placed in time behind the services' back
    return {"ayse": ayse, "mert": mert, "span": insights.Range(date(2026, 3, 2), date(2026, 3, 7))}


def test_conversations_per_day_in_the_desks_time_zone(seeded):
    assert insights.per_day(seeded["span"]) == [
        {"date": "2026-03-02", "count": 2},
        {"date": "2026-03-03", "count": 3},
        {"date": "2026-03-04", "count": 0},
        {"date": "2026-03-05", "count": 1},
        {"date": "2026-03-06", "count": 0},
        {"date": "2026-03-07", "count": 0},
    ]


def test_first_response_percentiles_interpolate_like_percentile_cont(seeded):
    # Answered in the range: 30, 60, 90, 120, 600 s. Median: the 3rd. p90: rank 0.9 * 4 =
    # 3.6, between 120 and 600: 120 + 0.6 * 480 = 408.
    result = insights.percentiles(seeded["span"], "first_response_at")
    assert result["count"] == 5
    assert result["median"] == pytest.approx(90, abs=0.01)
    assert result["p90"] == pytest.approx(408, abs=0.01)


def test_resolution_percentiles(seeded):
    # Resolved in the range: 600, 1200, 3600 s. Median 1200; p90: rank 1.8, 1200 + 0.8 * 2400.
    result = insights.percentiles(seeded["span"], "resolved_at")
    assert result["count"] == 3
    assert result["median"] == pytest.approx(1200, abs=0.01)
    assert result["p90"] == pytest.approx(3120, abs=0.01)


def test_no_data_gives_no_percentiles(seeded):
    empty = insights.Range(date(2026, 2, 1), date(2026, 2, 10))
    assert insights.percentiles(empty, "first_response_at") == {"count": 0, "median": None, "p90": None}


def test_busiest_hours_by_weekday_and_hour(seeded):
    grid = insights.heatmap(seeded["span"])
    found = {(day, hour): count for day, row in enumerate(grid) for hour, count in enumerate(row) if count}
    # Monday 12:00 (two), Tuesday 00:00 and 13:00 (two), Thursday 10:00.
    assert found == {(0, 12): 2, (1, 0): 1, (1, 13): 2, (3, 10): 1}


def test_per_agent_counts(seeded):
    assert insights.per_agent(seeded["span"]) == [
        {"id": seeded["ayse"].pk, "name": "Ayşe", "assigned": 3, "resolved": 2},
        {"id": seeded["mert"].pk, "name": "Mert", "assigned": 1, "resolved": 1},
    ]


def test_summary_totals(seeded):
    summary = insights.summary(seeded["span"])
    assert summary["totals"] == {"conversations": 6, "resolved": 3, "answered": 5}
    assert (summary["from"], summary["to"], summary["time_zone"]) == (
        "2026-03-02",
        "2026-03-07",
        "Europe/Istanbul",
    )


def test_ranges_are_checked():
    today = date(2026, 3, 31)
    assert insights.parse_range(None, None, today=today) == insights.Range(date(2026, 3, 2), today)
    assert insights.parse_range("2026-03-01", "2026-03-01", today=today).days() == [date(2026, 3, 1)]
    for first, last, field in (
        ("2026-03-05", "2026-03-01", "from"),
        ("yesterday", None, "from"),
        (None, "3/1", "to"),
    ):
        with pytest.raises(FieldInvalid) as refused:
            insights.parse_range(first, last, today=today)
        assert refused.value.code == "field_invalid" and refused.value.extra.get("field", field) == field
    with pytest.raises(FieldInvalid):
        insights.parse_range("2024-01-01", "2026-03-01", today=today)


def test_a_time_zone_off_the_hour_places_conversations_by_the_quarter_hour(settings):
    settings.TIME_ZONE = "Asia/Kolkata"  # UTC+5:30
    thread(at(2, 18, 15))  # 23:45 on Monday the 2nd in Kolkata
    thread(at(2, 18, 45))  # 00:15 on Tuesday the 3rd
    span = insights.Range(date(2026, 3, 2), date(2026, 3, 3))
    assert insights.per_day(span) == [{"date": "2026-03-02", "count": 1}, {"date": "2026-03-03", "count": 1}]
    grid = insights.heatmap(span)
    assert (grid[0][23], grid[1][0], sum(map(sum, grid))) == (1, 1, 2)


def test_summer_time_starting_mid_range_moves_the_hours(settings):
    settings.TIME_ZONE = "Europe/Berlin"  # +1, then +2 from 01:00 UTC on Sunday 2026-03-29
    thread(datetime(2026, 3, 28, 22, 30, tzinfo=UTC))  # Saturday 23:30
    thread(datetime(2026, 3, 29, 0, 30, tzinfo=UTC))  # Sunday 01:30, winter time
    thread(datetime(2026, 3, 29, 1, 30, tzinfo=UTC))  # Sunday 03:30, summer time
    span = insights.Range(date(2026, 3, 28), date(2026, 3, 29))
    assert insights.per_day(span) == [{"date": "2026-03-28", "count": 1}, {"date": "2026-03-29", "count": 2}]
    grid = insights.heatmap(span)
    found = {(day, hour): count for day, row in enumerate(grid) for hour, count in enumerate(row) if count}
    assert found == {(5, 23): 1, (6, 1): 1, (6, 3): 1}


def test_the_index_walk_gives_the_same_percentiles(seeded, monkeypatch):
    """SQLite's walk along the duration index (used from WALK_FROM rows) agrees with the sort."""
    monkeypatch.setattr(insights, "WALK_FROM", 0)
    first = insights.percentiles(seeded["span"], "first_response_at")
    resolution = insights.percentiles(seeded["span"], "resolved_at")
    assert (first["median"], first["p90"]) == (pytest.approx(90, abs=0.01), pytest.approx(408, abs=0.01))
    assert (resolution["median"], resolution["p90"]) == (
        pytest.approx(1200, abs=0.01),
        pytest.approx(3120, abs=0.01),
    )
