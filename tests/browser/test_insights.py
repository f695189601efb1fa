"""The insights page (/admin/insights) with seeded data: the tiles, the chart, the heatmap
and the agents table show the numbers of the seeded set, in English and in Turkish, on a
desktop and a phone (screenshots in test-artifacts/screenshots/insights-*.png)."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from tests.browser.conftest import PHONE, SCREENSHOTS, shot, sign_in_admin
from tests.support.server import ROOT, LiveServer

SEED = """
import os, django
os.environ["DJANGO_SETTINGS_MODULE"] = "chatdesk.settings"
django.setup()
from datetime import timedelta
from django.utils import timezone
from accounts.models import Agent
from chat.models import Thread
ayse = Agent.objects.create(name="Ayşe Demir")
mert = Agent.objects.create(name="Mert")
now = timezone.now()
plan = [  # days ago, first response s, resolved s, assignee
    (0, 60, 600, ayse), (1, 120, None, ayse), (2, 30, 3600, mert),
    (3, 600, None, None), (4, None, None, None), (5, 90, 1200, ayse),
]
for days, first, resolved, agent in plan:
    created = now - timedelta(days=days, minutes=5)
    t = Thread.objects.create(display_name="Seeded", assignee=agent)
    fields = {"created_at": created}
    if first is not None:
        fields["first_response_at"] = created + timedelta(seconds=first)
    if resolved is not None:
        fields.update(status="resolved", resolved_at=created + timedelta(seconds=resolved))
    Thread.objects.filter(pk=t.pk).update(**fields)
# The threads were placed in time behind the services' back: recount the insights' roll-ups.
from django.core.management import call_command
call_command("rebuild_insights")
"""


@pytest.fixture(scope="module")
def server():
    live = LiveServer().start()
    subprocess.run([sys.executable, "-c", SEED], cwd=ROOT, env=live.env, check=True)
    yield live
    live.cleanup()


def span() -> tuple[str, str]:
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    today = timezone.now().astimezone(ZoneInfo("Europe/Istanbul")).date()
    return (today - timedelta(days=6)).isoformat(), today.isoformat()


def test_the_api_answers_the_seeded_numbers(server, open_context):
    page = sign_in_admin(open_context(), server.url)
    first, last = span()
    answer = page.request.get(f"{server.url}/api/insights?from={first}&to={last}")
    assert answer.status == 200
    data = answer.json()
    assert data["totals"] == {"conversations": 6, "resolved": 3, "answered": 5}
    assert data["first_response"] == {
        "count": 5,
        "median": pytest.approx(90, abs=0.5),
        "p90": pytest.approx(408, abs=0.5),
    }
    assert data["resolution"] == {
        "count": 3,
        "median": pytest.approx(1200, abs=0.5),
        "p90": pytest.approx(3120, abs=0.5),
    }
    assert len(data["per_day"]) == 7 and sum(row["count"] for row in data["per_day"]) == 6
    assert sum(map(sum, data["heatmap"])) == 6
    assert [(a["name"], a["assigned"], a["resolved"]) for a in data["agents"]] == [
        ("Ayşe Demir", 3, 2),
        ("Mert", 1, 1),
    ]
    # Without an admin session: 401, no numbers.
    anonymous = open_context().new_page()
    refused = anonymous.request.get(f"{server.url}/api/insights")
    assert refused.status == 401 and refused.json()["code"] == "admin_required"


@pytest.mark.parametrize(
    ("locale", "language", "phone"),
    [("en-US", "en", False), ("tr-TR", "tr", True)],
    ids=["en-desktop", "tr-phone"],
)
def test_the_page_draws_the_seeded_numbers(server, open_context, locale, language, phone):
    context = open_context(locale=locale, **({"viewport": PHONE, "phone": True} if phone else {}))
    context.add_cookies([{"name": "django_language", "value": language, "url": server.url}])
    page = sign_in_admin(context, server.url)
    first, last = span()
    page.goto(f"{server.url}/admin/insights?from={first}&to={last}")
    page.locator("#insights[data-loaded='1']").wait_for()
    assert page.locator("#t-conversations").inner_text() == "6"
    assert page.locator("#t-resolved").inner_text() == "3"
    minutes = "dk" if language == "tr" else "min"
    assert page.locator("#t-fr-median").inner_text() == f"2 {minutes}"  # 90 s
    assert page.locator("#t-fr-p90").inner_text() == f"7 {minutes}"  # 408 s
    assert page.locator("#t-res-median").inner_text() == f"20 {minutes}"
    assert page.locator("#t-res-p90").inner_text() == f"52 {minutes}"
    rows = page.locator("#agents-rows tr")
    assert rows.count() == 2
    assert rows.nth(0).inner_text().split() == ["Ayşe", "Demir", "3", "2"]
    cells = page.locator("#heatmap td.hm-cell")
    assert cells.count() == 7 * 24
    assert sum(int(text) for text in cells.all_inner_texts() if text.strip()) == 6
    # Chart.js drew on the canvas (it sets its size).
    assert page.evaluate(
        "() => !!window.Chart && !!window.Chart.getChart(document.getElementById('per-day-chart'))"
    )
    heading = "İçgörüler" if language == "tr" else "Insights"
    assert page.locator("h1").inner_text() == heading
    name = f"insights-{language}-{'phone' if phone else 'desktop'}"
    shot(page, name)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-full.png"), full_page=True)
    # The panel links here, and opens the conversation an "Open in panel" link names.
    listed = page.request.get(f"{server.url}/api/threads").json()
    open_thread = next(t for t in listed if t["status"] == "open")
    page.goto(f"{server.url}/admin?thread={open_thread['id']}")
    assert page.locator("a[href='/admin/insights']").count() == 1
    page.locator("#conv:not([hidden])").wait_for()
    assert page.locator("#conv-name").inner_text() == "Seeded"
    assert page.url == f"{server.url}/admin"
