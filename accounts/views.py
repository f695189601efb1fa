"""Admin sign-in with a one-time code sent to the admins' Telegram chat."""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_http_methods, require_POST
from redis.exceptions import RedisError

from chat.realtime import panel_sockets
from chatdesk import ratelimit
from chatdesk.clientip import client_ip
from chatdesk.http import json_body, json_error
from telegram_bridge import otp as telegram_otp

from . import otp
from .decorators import is_admin

logger = logging.getLogger("accounts")

CODE_RE = re.compile(r"^\d{6}$")


@ensure_csrf_cookie
@require_http_methods(["GET", "HEAD"])
def login_page(request: HttpRequest):
    if is_admin(request):
        return redirect("/admin")
    return render(request, "login.html")


@require_POST
def request_otp(request: HttpRequest) -> JsonResponse:
    ip = client_ip(request.META)
    if not ratelimit.hit(
        "otp-request", ip, settings.OTP_REQUESTS_PER_WINDOW, settings.OTP_REQUEST_WINDOW_SECONDS
    ):
        logger.warning("otp_request_refused ip=%s reason=rate_limited", ip)
        return json_error("Too many codes requested; wait a few minutes and try again.", 429)
    code = otp.issue_code()
    if telegram_otp.is_configured():
        try:
            telegram_otp.send_login_code(code)
        except telegram_otp.DeliveryFailed as exc:
            logger.error("otp_delivery_failed ip=%s error=%r", ip, str(exc))
            return json_error("Could not send the code to Telegram; try again shortly.", 502)
        logger.info("otp_requested ip=%s delivery=telegram", ip)
        return JsonResponse({"success": True, "message": "OTP Telegram'a gönderildi"})
    logger.info("otp_requested ip=%s delivery=%s", ip, "response" if settings.DEBUG else "none")
    if settings.DEBUG:
        # Development only, as the contract says: no bot to deliver the code to.
        return JsonResponse(
            {"success": True, "otp": code, "message": "Telegram is not configured: development code shown."}
        )
    return JsonResponse(
        {
            "success": True,
            "message": "Telegram is not configured: an operator can issue a code with "
            "`python manage.py issue_login_code`.",
        }
    )


@require_POST
def verify_otp(request: HttpRequest) -> JsonResponse:
    ip = client_ip(request.META)
    window = settings.OTP_VERIFY_WINDOW_SECONDS
    if ratelimit.count("otp-fail", ip, window) >= settings.OTP_VERIFY_FAILURES_PER_IP:
        logger.warning("signin_refused ip=%s reason=too_many_failures", ip)
        return json_error("Too many wrong codes from this address; try again later.", 429)
    try:
        body = json_body(request)
    except ValueError as exc:
        return json_error(str(exc))
    code = body.get("otp")
    if isinstance(code, int) and not isinstance(code, bool):
        code = f"{code:06d}"
    if not isinstance(code, str) or not CODE_RE.match(code.strip()):
        return json_error("Enter the 6-digit code.")
    verdict = otp.verify_code(code.strip())
    if verdict is not otp.Verdict.OK:
        ratelimit.hit("otp-fail", ip, settings.OTP_VERIFY_FAILURES_PER_IP, window)
        logger.warning("signin_failed ip=%s reason=%s", ip, verdict.name.lower())
        return json_error(verdict.value, 400)
    # A new session key: whatever key an attacker planted before sign-in is worthless.
    request.session.cycle_key()
    request.session["admin"] = True
    logger.info("signin_success ip=%s", ip)
    return JsonResponse({"success": True, "redirect": "/admin"})


@require_http_methods(["GET", "POST"])
def logout(request: HttpRequest):
    session_key = request.session.session_key
    if is_admin(request) and session_key:
        try:
            closed = panel_sockets.disconnect_session(session_key)
        except RedisError:
            # Still sign out: the sockets' admin events re-check the (flushed) session.
            closed = -1
        logger.info("signout ip=%s sockets_closed=%d", client_ip(request.META), closed)
    request.session.flush()
    return redirect("/login")
