"""The panel's desk API (issue 13, additive): who the agent is, the other agents, the
views' counts, and canned replies. Admin session required; refusals as everywhere."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import admin_required_json
from chatdesk.http import json_body

from . import canned, desk
from .serializers import agent_to_dict


@require_GET
@admin_required_json
def api_desk(request: HttpRequest) -> HttpResponse:
    """{"me": agent or null, "agents": [active agents], "counts": {open, mine, unassigned,
    resolved}}: what the panel's views and "Assign to" need."""
    me = desk.request_agent(request)
    agents = [a for a in desk.agents_by_id().values() if getattr(a, "is_active", True)]
    agents.sort(key=lambda a: str(agent_to_dict(a)["name"]).casefold())
    return JsonResponse(
        {
            "me": agent_to_dict(me),
            "agents": [agent_to_dict(a) for a in agents],
            "counts": desk.view_counts(me),
        }
    )


@require_http_methods(["GET", "POST"])
@admin_required_json
def api_canned(request: HttpRequest) -> HttpResponse:
    """GET: every canned reply, [{id, shortcut, language, text}] by shortcut. POST
    {shortcut, language, text}: add one (201)."""
    if request.method == "GET":
        return JsonResponse(canned.all_replies(), safe=False)
    reply = canned.create(json_body(request))
    return JsonResponse({"success": True, "reply": canned.to_dict(reply)}, status=201)


@require_POST
@admin_required_json
def api_canned_update(request: HttpRequest, reply_id: int) -> HttpResponse:
    reply = canned.update(reply_id, json_body(request))
    return JsonResponse({"success": True, "reply": canned.to_dict(reply)})


@require_POST
@admin_required_json
def api_canned_delete(request: HttpRequest, reply_id: int) -> HttpResponse:
    canned.delete(reply_id)
    return JsonResponse({"success": True})
