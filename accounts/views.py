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
from .delivery import DeliveryError, get_backend
from .refusals import (
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
    backend = get_backend()
    if not backend.issues_codes:
        logger.info("otp_requested ip=%s delivery=%s", ip, backend.name)
        return JsonResponse({"success": True, **backend.answer_without_code()})
    code = otp.issue_code(session_key)
    try:
        answer = backend.deliver(code)
    except DeliveryError as exc:
        # A code nobody received must never work.
        otp.withdraw_code(session_key)
        logger.error("otp_delivery_failed ip=%s delivery=%s error=%r", ip, backend.name, str(exc))
        return http_response(DeliveryFailed())
    logger.info("otp_requested ip=%s delivery=%s", ip, backend.name)
    return JsonResponse({"success": True, **answer})


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
    verdict = otp.verify_code(session_key, code.strip())
    if verdict is not otp.Verdict.OK:
        ratelimit.hit("otp-fail", ip, settings.OTP_VERIFY_FAILURES_PER_IP, window)
        if not own_code:
            ratelimit.hit("otp-fail-all", "all", settings.OTP_VERIFY_FAILURES_GLOBAL, window)
        logger.warning("signin_failed ip=%s reason=%s", ip, verdict.value)
        return http_response(VERDICT_REFUSALS[verdict]())
    signin.sign_in(request)
    logger.info("signin_success ip=%s", ip)
    return JsonResponse({"success": True, "redirect": "/admin"})


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
