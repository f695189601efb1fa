"""GET /api/availability: what the visitor page shows before the visitor joins."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .realtime import presence


@never_cache
@require_GET
def api_availability(request: HttpRequest) -> JsonResponse:
    """{"available", "reason", "median_first_response_seconds"}, as in the join ack."""
    return JsonResponse(presence.current_from_thread())
