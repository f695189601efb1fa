"""Admin sign-in with a one-time code, delivered by the LOGIN_CODE_BACKEND (accounts.delivery)."""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_http_methods, require_POST

from chatdesk import ratelimit
from chatdesk.clientip import client_ip
from chatdesk.http import json_body
from chatdesk.refusals import Refusal, http_response

from . import otp, signin
from .delivery import DeliveryError, PendingCode, get_backend
from .models import Agent
from .refusals import (
    AgentInactive,
    AgentInvalid,
    CodeExpired,
    CodeInvalid,
    CodeNotRequested,
    CodeWrong,
    DeliveryFailed,
    SignInRateLimited,
    TooManyTries,
)

logger = logging.getLogger("accounts")

CODE_RE = re.compile(r"^\d{6}$")

VERDICT_REFUSALS = {
    otp.Verdict.NOT_REQUESTED: CodeNotRequested,
    otp.Verdict.EXPIRED: CodeExpired,
    otp.Verdict.WRONG: CodeWrong,
    otp.Verdict.TOO_MANY_ATTEMPTS: TooManyTries,
}


@ensure_csrf_cookie
@require_http_methods(["GET", "HEAD"])
def login_page(request: HttpRequest):
    if signin.is_admin(request):
        return redirect("/admin")
    return render(request, "login.html")


def _session_key(request: HttpRequest) -> str:
    """This browser's session key, creating the session if it has none yet (a visitor's
    reserved key has no session row until they chat)."""
    key = request.session.session_key
    if key is None or not request.session.exists(key):
        request.session.create()
        request.session.modified = True  # so the middleware sends the cookie
    return request.session.session_key


def _limited(scope: str, key: str, limit: int, window: int) -> SignInRateLimited | None:
    if ratelimit.hit(scope, key, limit, window):
        return None
    return SignInRateLimited(variant="requests", retry_after=ratelimit.retry_after(window))


@require_POST
def request_otp(request: HttpRequest) -> HttpResponse:
    ip = client_ip(request.META)
    session_key = _session_key(request)
    window = settings.OTP_REQUEST_WINDOW_SECONDS
    refusal = (
        _limited("otp-request", ip, settings.OTP_REQUESTS_PER_WINDOW, window)
        or _limited(
            "otp-request-session", otp.owner_of(session_key), settings.OTP_REQUESTS_PER_SESSION, window
        )
        or _limited("otp-request-all", "all", settings.OTP_REQUESTS_GLOBAL, window)
    )
    if refusal is not None:
        logger.warning("otp_request_refused ip=%s reason=rate_limited", ip)
        return http_response(refusal)
    try:
        handle = _agent_handle(json_body(request))
    except Refusal as exc:
        return http_response(exc)
    backend = get_backend()
    if not backend.issues_codes:
        logger.info("otp_requested ip=%s delivery=%s", ip, backend.name)
        return JsonResponse({"success": True, **backend.answer_without_code()})
    try:
        agent = backend.choose_agent(handle)
    except Refusal as exc:
        logger.warning("otp_request_refused ip=%s reason=%s", ip, exc.code)
        return http_response(exc)
    code = otp.issue_code(session_key, agent)
    pending = otp.pending_code(session_key)
    try:
        answer = backend.deliver(code, PendingCode(session_key, ip, agent, pending.ref if pending else None))
    except Refusal as exc:  # the backend found the agent unreachable after all
        otp.withdraw_code(session_key)
        return http_response(exc)
    except DeliveryError as exc:
        # A code nobody received must never work.
        otp.withdraw_code(session_key)
        logger.error("otp_delivery_failed ip=%s delivery=%s error=%r", ip, backend.name, str(exc))
        return http_response(DeliveryFailed())
    logger.info("otp_requested ip=%s delivery=%s agent=%s", ip, backend.name, agent.pk if agent else "-")
    # Additive: `approvable` (Telegram): the login page polls /login/approval ("Approve").
    return JsonResponse({"success": True, **answer})


def _agent_handle(body: dict) -> str | None:
    """The optional `agent` of /request-otp: "@username" or a display name."""
    handle = body.get("agent")
    if handle is None or handle == "":
        return None
    if not isinstance(handle, str) or not handle.strip() or len(handle.strip()) > 81:
        raise AgentInvalid()
    return handle.strip()


@require_POST
def verify_otp(request: HttpRequest) -> HttpResponse:
    ip = client_ip(request.META)
    window = settings.OTP_VERIFY_WINDOW_SECONDS
    if ratelimit.count("otp-fail", ip, window) >= settings.OTP_VERIFY_FAILURES_PER_IP:
        logger.warning("signin_refused ip=%s reason=too_many_failures", ip)
        return http_response(
            SignInRateLimited(variant="wrong_codes", retry_after=ratelimit.retry_after(window))
        )
    try:
        body = json_body(request)
    except ValueError as exc:  # not a JSON object: the API's generic refusal
        return http_response(exc if isinstance(exc, Refusal) else CodeInvalid())
    code = body.get("otp") if isinstance(body, dict) else None
    if isinstance(code, int) and not isinstance(code, bool):
        code = f"{code:06d}"
    if not isinstance(code, str) or not CODE_RE.match(code.strip()):
        return http_response(CodeInvalid())
    session_key = request.session.session_key
    own_code = otp.has_code(session_key)
    # Guesses from browsers without a code of their own can only hit operator codes:
    # those share one ceiling, which never stands in the way of a browser with its own code.
    if not own_code and ratelimit.count("otp-fail-all", "all", window) >= settings.OTP_VERIFY_FAILURES_GLOBAL:
        logger.warning("signin_refused ip=%s reason=global_failures", ip)
        return http_response(
            SignInRateLimited(variant="wrong_codes", retry_after=ratelimit.retry_after(window))
        )
    verdict, used = otp.verify(session_key, code.strip())
    if verdict is not otp.Verdict.OK:
        ratelimit.hit("otp-fail", ip, settings.OTP_VERIFY_FAILURES_PER_IP, window)
        if not own_code:
            ratelimit.hit("otp-fail-all", "all", settings.OTP_VERIFY_FAILURES_GLOBAL, window)
        logger.warning("signin_failed ip=%s reason=%s", ip, verdict.value)
        return http_response(VERDICT_REFUSALS[verdict]())
    agent = Agent.objects.filter(pk=used.agent_id).first() if used.agent_id else None
    if agent is not None and not agent.is_active:
        logger.warning("signin_refused ip=%s reason=agent_inactive", ip)
        return http_response(AgentInactive())
    return _signed_in(request, ip, agent, used.telegram_chat_id, used.telegram_message_id, "code")


def _signed_in(request: HttpRequest, ip: str, agent, chat_id, message_id, how: str) -> JsonResponse:
    signin.sign_in(request, agent)
    logger.info("signin_success ip=%s agent=%s via=%s", ip, agent.pk if agent else "-", how)
    if chat_id and message_id:
        signin.code_used.send(sender=Agent, agent=agent, chat_id=chat_id, message_id=message_id)
    return JsonResponse({"success": True, "redirect": "/admin", "agent": agent.to_dict() if agent else None})


@require_POST
def approval_status(request: HttpRequest) -> HttpResponse:
    """POST /login/approval, polled by the login page after "Send me a code": signs this
    browser in once an agent pressed "Approve" on its code's message (bound to this
    session's pending code: single use, within the code's lifetime). Until then
    {"success": true, "approved": false}; without a pending code, code_not_requested."""
    session_key = request.session.session_key
    used = otp.take_approval(session_key)
    if used is None:
        if not otp.has_code(session_key):
            return http_response(CodeNotRequested())
        return JsonResponse({"success": True, "approved": False})
    agent = used.agent
    if agent is not None and not agent.is_active:
        return http_response(AgentInactive())
    answer = _signed_in(
        request, client_ip(request.META), agent, used.telegram_chat_id, used.telegram_message_id, "approve"
    )
    return answer


@require_http_methods(["GET", "POST"])
def logout(request: HttpRequest) -> HttpResponse:
    """POST (CSRF-checked) from the panel's form; GET for typed URLs and the contract, but
    never from another site (an <img> elsewhere must not sign anyone out)."""
    if request.method == "GET" and request.headers.get("Sec-Fetch-Site") == "cross-site":
        logger.warning("signout_refused ip=%s reason=cross_site_get", client_ip(request.META))
        return redirect("/admin")
    if signin.sign_out(request):
        logger.info("signout ip=%s", client_ip(request.META))
    return redirect("/login")
