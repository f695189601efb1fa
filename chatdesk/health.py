"""GET /healthz: is this process able to serve? For load balancers and monitoring.
GET /api/status: the same Telegram report for the admin panel (is Telegram behind?).

200 when the database (and Redis, when REDIS_URL is set) answer, 503 otherwise. Telegram
is reported but never makes the answer 503: chatdesk works without it.

Anyone gets up/down only: the status and each check's `ok` flag (Telegram's: configured,
and not behind). The details (kind of error, backlog, oldest unsent item, last Telegram
error) go to signed-in staff, panel admins, and monitoring that sends
`Authorization: Bearer <HEALTHZ_TOKEN>`. Even then the answer names no hosts, users,
passwords or tokens.
"""

from __future__ import annotations

import hmac
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.decorators import admin_required_json, is_admin
from telegram_bridge.otp import is_configured as telegram_configured

logger = logging.getLogger("chatdesk.health")

# A check that takes longer than this counts as down: a probe must answer quickly.
CHECK_TIMEOUT = 3.0
TELEGRAM_KEYS = (
    "configured",
    "mode",
    "last_error",
    "last_error_at",
    "last_ok_at",
    "pending",
    "failed",
    "oldest_pending_seconds",
    "behind",
    "refusal",
)


_checks: ThreadPoolExecutor | None = None
_checks_lock = threading.Lock()


def _check_pool() -> ThreadPoolExecutor:
    """Checks run here so a hung database cannot hold the request past CHECK_TIMEOUT; two
    threads, so a pile of probes against a dead database cannot pile up threads either."""
    global _checks
    with _checks_lock:
        if _checks is None:
            _checks = ThreadPoolExecutor(max_workers=2, thread_name_prefix="healthz")
    return _checks


def _ping_database() -> None:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        # This thread is not a request thread: give its connection back now.
        connections.close_all()


def _ping_redis() -> None:
    import redis

    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=CHECK_TIMEOUT, socket_timeout=CHECK_TIMEOUT
    )
    try:
        client.ping()
    finally:
        client.close()


def _run(name: str, check) -> dict:
    try:
        _check_pool().submit(check).result(timeout=CHECK_TIMEOUT)
    except FutureTimeout:
        logger.warning("healthz_failed check=%s error=timeout", name)
        return {"ok": False, "error": "timeout"}
    except Exception as exc:  # any failure means "down"; its text may name hosts
        logger.warning("healthz_failed check=%s error=%s", name, type(exc).__name__)
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True}


def telegram_status() -> dict:
    """The Telegram bridge's own report when it has one, else whether it is configured."""
    from telegram_bridge import status

    configured = bool(settings.TELEGRAM_BOT_TOKEN and settings.TELEGRAM_CHAT_ID)

    def report_in_thread() -> dict:
        try:
            return dict(status())
        finally:
            connections.close_all()  # the report may read the database

    try:
        report = _check_pool().submit(report_in_thread).result(timeout=CHECK_TIMEOUT)
    except Exception as exc:  # includes the timeout: Telegram's state is not worth a hung probe
        logger.warning("healthz_failed check=telegram error=%s", type(exc).__name__)
        return {"configured": configured, "error": "status unavailable"}
    # Only known, harmless fields: a report must never carry the bot token along.
    clean = {}
    for key in TELEGRAM_KEYS:
        if key in report:
            value = report[key]
            if isinstance(value, datetime):
                value = value.isoformat()
            if isinstance(value, str) and settings.TELEGRAM_BOT_TOKEN:
                value = value.replace(settings.TELEGRAM_BOT_TOKEN, "<token>")
            clean[key] = value
    clean.setdefault("configured", configured)
    return clean


def email_status() -> dict:
    """The visitor-email outbox (notifications): backlog, failures, last error."""
    from notifications.sender import status

    def report_in_thread() -> dict:
        try:
            return dict(status())
        finally:
            connections.close_all()

    try:
        return _check_pool().submit(report_in_thread).result(timeout=CHECK_TIMEOUT)
    except Exception as exc:
        logger.warning("healthz_failed check=email error=%s", type(exc).__name__)
        return {"configured": settings.EMAIL_ENABLED, "error": "status unavailable"}


def may_see_details(request: HttpRequest, database_up: bool = True) -> bool:
    """Monitoring with the token, signed-in staff (Django admin) or a panel admin.

    Sessions are read from the database: while it is down only the token counts, so the
    probe never waits on a second timeout."""
    token = settings.HEALTHZ_TOKEN
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    if not database_up:
        return False
    try:
        user = getattr(request, "user", None)
        return bool(user is not None and user.is_authenticated and user.is_staff) or is_admin(request)
    except Exception:  # the session store is down: no details, the probe still answers
        return False


def _public(check: dict) -> dict:
    return {key: check[key] for key in ("ok", "configured") if key in check}


def _telegram_public(report: dict) -> dict:
    if not report.get("configured"):
        return {"configured": False}
    return {
        "configured": True,
        "ok": "error" not in report and not report.get("behind", False) and not report.get("refusal"),
    }


@never_cache
@require_http_methods(["GET", "HEAD"])
def healthz(request: HttpRequest) -> JsonResponse:
    database = _run("database", _ping_database)
    redis_state = _run("redis", _ping_redis) if settings.REDIS_URL else {"configured": False}
    healthy = database["ok"] and redis_state.get("ok", True)
    if database["ok"]:
        telegram, email = telegram_status(), email_status()
    else:  # both reports read the database: a probe must not wait out its timeout twice more
        telegram = {"configured": telegram_configured(), "error": "status unavailable"}
        email = {"configured": settings.EMAIL_ENABLED, "error": "status unavailable"}
    body = {"status": "ok" if healthy else "unavailable"}
    if may_see_details(request, database["ok"]):
        body.update(database=database, redis=redis_state, telegram=telegram, email=email)
    else:
        body.update(
            database=_public(database), redis=_public(redis_state), telegram=_telegram_public(telegram)
        )
        body["email"] = {
            "configured": email.get("configured", False),
            "ok": "error" not in email and not email.get("retrying"),
        }
    return JsonResponse(body, status=200 if healthy else 503)


@never_cache
@require_GET
@admin_required_json
def api_status(request: HttpRequest) -> JsonResponse:
    """For the panel's banner: {"telegram": {"configured", "behind", "pending",
    "oldest_pending_seconds", "failed", "last_error", "last_error_at", "last_ok_at"}}."""
    report = telegram_status()
    telegram = {
        "configured": report.get("configured", False),
        "behind": bool(report.get("behind", False)),
        "pending": report.get("pending", 0),
        "oldest_pending_seconds": report.get("oldest_pending_seconds", 0),
        "failed": report.get("failed", 0),
        "last_error": report.get("last_error"),
        "last_error_at": report.get("last_error_at"),
        "last_ok_at": report.get("last_ok_at"),
        # Telegram refuses the bot for good (removed from the chat, bad token): {"code",
        # "reason", "since"}, else null.
        "refusal": report.get("refusal"),
    }
    if "error" in report:
        telegram["error"] = report["error"]
    return JsonResponse({"telegram": telegram})
