"""Insights' daily roll-ups (chat/rollups.py): after every kind of thread change made by
the chat services (created, answered, assigned, resolved, reopened by the panel or by a
visitor's message, cleared, deleted, all cleared) they equal a recount from the threads
table; the page's numbers read from them equal the live computation; the percentiles
read through their histograms equal the exact ones; `rebuild_insights` recomputes them."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import Agent
from chat import insights, rollups, services
from chat.models import InsightsCount, Thread
from chat.validation import MessageInput

pytestmark = pytest.mark.django_db


def recounted():
    return +rollups.recount(rollups.thread_facts(Thread.objects.order_by()))


def assert_current():
    assert rollups.stored() == recounted()


def text(thread_id, body: str) -> MessageInput:
    return MessageInput(uuid.UUID(str(thread_id)), "text", body, None, None)


@pytest.fixture
def desk(settings, clock):
    settings.TIME_ZONE = "Europe/Istanbul"
    clock.set(datetime(2026, 3, 2, 21, 30, tzinfo=UTC))  # 00:30 on Tuesday the 3rd in Istanbul
    return {"ayse": Agent.objects.create(name="Ayşe"), "mert": Agent.objects.create(name="Mert")}


def test_every_thread_change_keeps_the_rollups_equal_to_a_recount(desk, clock):
    ayse, mert = desk["ayse"], desk["mert"]
    one = services.create_thread("One")
    two = services.create_thread("Two")
    assert_current()
    assert rollups.stored()[(date(2026, 3, 3), "h", 1 * 24 + 0)] == 2  # the desk's local day, Tuesday 00:xx
    clock.advance(95)
    services.post_admin_message(text(one.id, "hello"), agent=ayse)  # first response
    assert_current()
    assert rollups.stored()[(date(2026, 3, 3), "f", rollups.bucket(95))] == 1
    clock.advance(30)
    services.post_admin_message(text(one.id, "again"), agent=ayse)  # not a first response
    services.post_visitor_message(text(one.id, "thanks"))  # an open thread: nothing changes
    assert_current()
    services.claim_thread(one.id, ayse)
    assert_current()
    services.resolve_thread(one.id, by=ayse)
    assert_current()
    assert rollups.stored()[(date(2026, 3, 3), "r", ayse.pk)] == 1
    services.assign_thread(one.id, mert.pk)  # a resolved thread changes hands
    assert_current()
    clock.advance(600)
    services.post_visitor_message(text(one.id, "one more thing"))  # reopens it
    assert Thread.objects.get(pk=one.id).status == Thread.Status.OPEN
    assert_current()
    services.resolve_thread(one.id)
    services.reopen_thread(one.id)
    services.resolve_thread(one.id)
    services.assign_thread(one.id, None)
    assert_current()
    services.clear_thread(one.id)
    assert_current()
    services.delete_threads([two.id])
    assert_current()
    assert rollups.stored()[(date(2026, 3, 3), "h", 1 * 24 + 0)] == 1
    services.clear_all()
    assert rollups.stored() == recounted() == {}


def test_days_follow_the_desks_summer_time(settings, clock):
    settings.TIME_ZONE = "Europe/Berlin"  # +1, then +2 from 01:00 UTC on Sunday 2026-03-29
    for when in (datetime(2026, 3, 28, 22, 30), datetime(2026, 3, 29, 0, 30), datetime(2026, 3, 29, 1, 30)):
        clock.set(when.replace(tzinfo=UTC))
        services.create_thread("V")
    stored = rollups.stored()
    assert {key: n for key, n in stored.items() if key[1] == "h"} == {
        (date(2026, 3, 28), "h", 5 * 24 + 23): 1,  # Saturday 23:30
        (date(2026, 3, 29), "h", 6 * 24 + 1): 1,  # Sunday 01:30, winter time
        (date(2026, 3, 29), "h", 6 * 24 + 3): 1,  # Sunday 03:30, summer time
    }


def test_the_summary_from_rollups_equals_the_live_computation(desk, clock):
    ayse, mert = desk["ayse"], desk["mert"]
    rng = random.Random(7)
    for _ in range(60):
        clock.advance(rng.uniform(0, 6 * 3600))
        thread = services.create_thread("V")
        if rng.random() < 0.8:
            clock.advance(rng.uniform(0, 900))
            services.post_admin_message(text(thread.id, "hi"))
        if rng.random() < 0.6:
            services.claim_thread(thread.id, rng.choice([ayse, mert]))
        if rng.random() < 0.6:
            clock.advance(rng.uniform(0, 7200))
            services.resolve_thread(thread.id)
    gone = Agent.objects.create(name="Gone")
    services.claim_thread(services.create_thread("V").id, gone)
    gone.delete()  # SET_NULL: its thread is nobody's now
    span = insights.Range(date(2026, 3, 3), date(2026, 3, 10))
    assert insights.summary(span) == insights.exact_summary(span)
    assert insights.summary(span)["totals"]["conversations"] == 61


def test_percentiles_through_the_histograms_equal_the_exact_ones(desk, clock):
    """Rows spread over many buckets, with ties and bucket edges (1 s, 2**(k/2) s)."""
    created = clock.now  # created_at is set on insert: 00:30 on the 3rd, desk time
    rng = random.Random(3)
    durations = [0.2, 1, 1, 2**1.5, 60, 60, 60, *(rng.expovariate(1 / 300) for _ in range(200))]
    Thread.objects.bulk_create(
        Thread(
            display_name="V",
            first_response_at=created + timedelta(seconds=seconds),
            resolved_at=created + timedelta(seconds=seconds * 7) if n % 3 else None,
        )
        for n, seconds in enumerate(durations)
    )
    rollups.rebuild()
    span = insights.Range(date(2026, 3, 3), date(2026, 3, 3))
    exact = {c: insights.percentiles(span, c) for c in ("first_response_at", "resolved_at")}
    _, _, totals = rollups.read(span.first, span.last)
    for column, kind in (("first_response_at", "f"), ("resolved_at", "d")):
        found = insights.percentiles(span, column, exact[column]["count"], totals[kind])
        assert found["count"] == exact[column]["count"]
        assert found["median"] == pytest.approx(exact[column]["median"], abs=0.01)
        assert found["p90"] == pytest.approx(exact[column]["p90"], abs=0.01)


def test_stale_histograms_fall_back_to_the_exact_computation(desk, clock):
    Thread.objects.bulk_create(
        Thread(display_name="V", first_response_at=clock.now + timedelta(seconds=s)) for s in (10, 20, 30, 40)
    )
    span = insights.Range(date(2026, 3, 3), date(2026, 3, 3))
    wrong = {rollups.bucket(500): 4}  # every duration in the wrong bucket
    assert insights.percentiles(span, "first_response_at", 4, wrong) == {
        "count": 4,
        "median": pytest.approx(25, abs=0.01),
        "p90": pytest.approx(37, abs=0.01),
    }


def test_rebuild_insights_command(desk):
    services.create_thread("V")
    InsightsCount.objects.all().delete()  # as if changed behind the services' back
    with pytest.raises(CommandError, match="differ from the threads in 2 counter"):
        call_command("rebuild_insights", "--check")
    out = StringIO()
    call_command("rebuild_insights", stdout=out)
    assert out.getvalue() == "Rebuilt the insights roll-ups: 2 counters.\n"
    assert_current()
    out = StringIO()
    call_command("rebuild_insights", "--check", stdout=out)
    assert out.getvalue() == "The insights roll-ups match the threads (2 counters).\n"


def test_a_duration_just_below_a_buckets_edge_keeps_its_rank(desk, clock):
    """The window read around a rank is a little wider than its bucket (the database rounds
    durations): a lower bucket's duration it lets in must not shift the ranks."""
    edge = rollups.bucket_bounds(rollups.bucket(100))[0]
    durations = (edge - 0.004, edge + 0.5, edge + 0.6, edge + 0.7)
    Thread.objects.bulk_create(
        Thread(display_name="V", first_response_at=clock.now + timedelta(seconds=s)) for s in durations
    )
    rollups.rebuild()
    span = insights.Range(date(2026, 3, 3), date(2026, 3, 3))
    exact = insights.percentiles(span, "first_response_at")
    _, _, totals = rollups.read(span.first, span.last)
    assert totals["f"] == {rollups.bucket(100) - 1: 1, rollups.bucket(100): 3}
    found = insights.percentiles(span, "first_response_at", 4, totals["f"])
    assert (found["median"], found["p90"]) == (
        pytest.approx(exact["median"], abs=0.01),
        pytest.approx(exact["p90"], abs=0.01),
    )
