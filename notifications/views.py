"""The routes behind the links in visitors' emails, and "email me this conversation"."""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from chat.models import Thread
from chat.realtime.identity import MAX_REMEMBERED_THREADS, VISITOR_THREADS_KEY
from chat.validation import parse_thread_id
from chatdesk import ratelimit
from chatdesk.clientip import client_ip
from chatdesk.refusals import (
    EmailRequired,
    EmailUnavailable,
    InvalidPayload,
    NotYourThread,
    RateLimited,
    UnknownThread,
)

from . import links, outbox
from .models import EmailOutboxItem, Unsubscribed

logger = logging.getLogger("notifications.views")

TRANSCRIPTS_PER_HOUR_PER_IP = 10


def _page(request: HttpRequest, title: str, text: str, status: int = 200, confirm: str = "") -> HttpResponse:
    response = render(
        request, "notifications/page.html", {"title": title, "text": text, "confirm": confirm}, status=status
    )
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"  # the token is in the URL
    return response


@require_http_methods(["GET", "HEAD"])
def resume(request: HttpRequest, token: str) -> HttpResponse:
    """A link from an email: this browser may now open that conversation (its session
    remembers the thread, as if it had started it), then the chat page opens it."""
    try:
        target = links.read_resume_token(token)
        thread = Thread.objects.filter(id=target.thread_id, generation=target.generation).first()
        if thread is None:
            raise links.BadLink()
    except links.BadLink:
        return _page(
            request,
            _("This link no longer works"),
            _("It has expired, or the conversation was cleared. You can start a new one."),
            status=410,
        )
    threads = [t for t in request.session.get(VISITOR_THREADS_KEY, []) if t != str(thread.id)]
    threads.append(str(thread.id))
    request.session[VISITOR_THREADS_KEY] = threads[-MAX_REMEMBERED_THREADS:]
    logger.info("email_resume thread=%s", thread.id)
    response = redirect("/?" + urlencode({"thread": str(thread.id), "name": thread.display_name}))
    response["Referrer-Policy"] = "no-referrer"
    return response


@csrf_exempt  # the signed token is the authority; mail clients post it (RFC 8058) without a form
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (link scanners must not unsubscribe anyone), POST does it."""
    try:
        address = links.read_unsubscribe_token(token)
    except links.BadLink:
        return _page(
            request, _("This link does not work"), _("Please use the link from the latest email."), 400
        )
    if request.method != "POST":
        return _page(
            request,
            _("Stop emails from this chat?"),
            _("%(address)s will get no more replies by email.") % {"address": address},
            confirm=_("Unsubscribe"),
        )
    Unsubscribed.objects.get_or_create(email=address.lower())
    EmailOutboxItem.objects.filter(
        to__iexact=address, kind=EmailOutboxItem.Kind.REPLIES, state=EmailOutboxItem.State.PENDING
    ).update(state=EmailOutboxItem.State.SKIPPED, note="unsubscribed")
    logger.info("email_unsubscribed")
    return _page(
        request,
        _("You are unsubscribed"),
        _("%(address)s will get no more emails from this chat.") % {"address": address},
    )


@require_POST
def transcript(request: HttpRequest) -> JsonResponse:
    """POST {thread_id} (CSRF like every page request): email the visitor's own
    conversation to the address they left. 202 {"success": true}."""
    if not settings.EMAIL_ENABLED:
        raise EmailUnavailable()
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise InvalidPayload() from None
    if not isinstance(body, dict):
        raise InvalidPayload()
    thread_id = parse_thread_id(body.get("thread_id"))
    if str(thread_id) not in request.session.get(VISITOR_THREADS_KEY, []):
        raise NotYourThread()
    thread = Thread.objects.filter(id=thread_id).first()
    if thread is None:
        raise UnknownThread()
    if not thread.email:
        raise EmailRequired()
    if not ratelimit.hit("transcripts", client_ip(request.META), TRANSCRIPTS_PER_HOUR_PER_IP, 3600):
        raise RateLimited(retry_after=ratelimit.retry_after(3600))
    outbox.queue_transcript(thread)
    return JsonResponse({"success": True, "email": thread.email}, status=202)
