"""/admin/insights (the page) and /api/insights (its numbers), for signed-in agents."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.decorators import admin_required_json, admin_required_page
from chatdesk.refusals import FieldInvalid

from . import insights


@require_GET
@admin_required_page
def insights_page(request: HttpRequest) -> HttpResponse:
    """?from=&to= (dates), or ?days=N (the last N days)."""
    first, last = request.GET.get("from"), request.GET.get("to")
    days = request.GET.get("days", "")
    if days.isdigit() and 1 <= int(days) <= insights.MAX_DAYS:
        last = insights.parse_range(None, None).last
        first, last = (last - timedelta(days=int(days) - 1)).isoformat(), last.isoformat()
    try:
        span = insights.parse_range(first, last)
    except FieldInvalid:  # a hand-edited address: show the default range
        span = insights.parse_range(None, None)
    return render(request, "insights.html", {"span": span, "time_zone": settings.TIME_ZONE})


@require_GET
@admin_required_json
def api_insights(request: HttpRequest) -> HttpResponse:
    """?from=YYYY-MM-DD&to=YYYY-MM-DD (inclusive, desk time; the last 30 days by default)."""
    span = insights.parse_range(request.GET.get("from"), request.GET.get("to"))
    return JsonResponse(insights.summary(span))
