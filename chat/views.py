"""Pages and the JSON API of the contract (sections 6.1 and 6.3).

API views raise refusals (chatdesk/refusals.py); `RefusalMiddleware` answers them as JSON.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import admin_required_json, admin_required_page
from chatdesk.clientip import client_ip
from chatdesk.refusals import FieldInvalid, UnknownThread

from . import desk, selectors, services
from .realtime import identity
from .serializers import messages_to_dicts, thread_to_dict
from .validation import parse_thread_id

logger = logging.getLogger("chat.views")


@ensure_csrf_cookie
@require_http_methods(["GET", "HEAD"])
def visitor_page(request: HttpRequest) -> HttpResponse:
    """The visitor chat. A browser without a session gets a reserved session key, but no
    session row: that is created when the visitor opens a conversation (see
    chat.realtime.identity), so page views alone store nothing."""
    response = render(request, "index.html")
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if key and (identity.is_reserved_key(key) or request.session.exists(key)):
        return response
    response.set_cookie(
        settings.SESSION_COOKIE_NAME,
        identity.reserve_visitor_key(),
        max_age=settings.SESSION_COOKIE_AGE,
        domain=settings.SESSION_COOKIE_DOMAIN,
        path=settings.SESSION_COOKIE_PATH,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=settings.SESSION_COOKIE_HTTPONLY,
        samesite=settings.SESSION_COOKIE_SAMESITE,
    )
    return response


@ensure_csrf_cookie
@admin_required_page
@require_http_methods(["GET", "HEAD"])
def admin_page(request: HttpRequest) -> HttpResponse:
    return render(request, "admin.html")


def _int_param(request: HttpRequest, name: str, default: int, maximum: int) -> int:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise FieldInvalid(name, variant="not_whole_number") from None
    if value < 1:
        raise FieldInvalid(name, variant="below_one")
    return min(value, maximum)


@require_GET
@admin_required_json
def api_threads(request: HttpRequest) -> HttpResponse:
    """Threads by last message time. ?limit=N&before=<thread id> pages through them;
    ?q=words keeps the threads whose name or any message has them (additive: each carries
    `match`, the newest matching message's snippet with the hit's offsets)."""
    limit = _int_param(request, "limit", settings.THREADS_DEFAULT_LIMIT, settings.THREADS_MAX_LIMIT)
    cursor = None
    if request.GET.get("before"):
        anchor = selectors.get_thread(parse_thread_id(request.GET["before"], "before"))
        if anchor is None:
            raise FieldInvalid("before", variant="not_listed_thread")
        cursor = (anchor.has_messages, anchor.sorted_at, anchor.id)
    now = timezone.now()
    agent = desk.request_agent(request)
    agents = desk.agents_by_id()
    query = request.GET.get("q", "").strip()[:200]
    if query:
        found = selectors.search_threads(query, limit, cursor)
        threads = [row for row, _ in found]
        items = [dict(thread_to_dict(row, now, agents), match=match) for row, match in found]
    else:
        view = desk.parse_view(request.GET.get("view"))
        within = desk.view_threads(view, agent) if view else None
        threads = selectors.recent_threads(limit, cursor, rows=True, within=within)
        items = [thread_to_dict(t, now, agents) for t in threads]
    # Additive (issue 13): the signed-in agent's unread count of each thread.
    unread = desk.unread_counts(agent, threads)
    for item, thread in zip(items, threads, strict=True):
        item["unread"] = unread.get(thread.id, 0)
    response = JsonResponse(items, safe=False)
    if len(threads) == limit:
        response["X-Next-Before"] = str(threads[-1].id)
    return response


@require_GET
@admin_required_json
def api_messages(request: HttpRequest) -> HttpResponse:
    """A thread's messages, oldest first. ?limit=N&before=<message id> pages back."""
    thread_id = parse_thread_id(request.GET.get("thread_id"))
    limit = _int_param(request, "limit", settings.MESSAGES_DEFAULT_LIMIT, settings.MESSAGES_MAX_LIMIT)
    before = None
    if request.GET.get("before"):
        anchor = selectors.get_message(parse_thread_id(request.GET["before"], "before"))
        if anchor is None or anchor.thread_id != thread_id:
            raise FieldInvalid("before", variant="not_thread_message")
        before = anchor
    if selectors.get_thread(thread_id) is None:
        raise UnknownThread()
    messages = selectors.message_rows(thread_id, limit, before)
    response = JsonResponse(messages_to_dicts(messages), safe=False)
    if len(messages) == limit:
        response["X-Next-Before"] = str(messages[0].id)
    return response


@require_POST
@admin_required_json
def api_clear_thread(request: HttpRequest) -> HttpResponse:
    thread_id = parse_thread_id(request.GET.get("thread_id") or request.POST.get("thread_id"))
    services.clear_thread(thread_id)  # ThreadNotFound is the unknown_thread refusal (404)
    logger.info("thread_cleared thread=%s ip=%s", thread_id, client_ip(request.META))
    return JsonResponse({"success": True})


@require_POST
@admin_required_json
def api_clear_all(request: HttpRequest) -> HttpResponse:
    services.clear_all()
    logger.info("all_cleared ip=%s", client_ip(request.META))
    return JsonResponse({"success": True})
