"""POST /telegram/webhook: where Telegram delivers updates when a webhook is set."""

from __future__ import annotations

import hmac
import json
import logging

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from chatdesk.clientip import client_ip
from chatdesk.refusals import Forbidden, InvalidPayload, NestedTooDeep, http_response

from .inbound import record_update
from .otp import is_configured

logger = logging.getLogger("telegram_bridge.webhook")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def _secret_ok(request: HttpRequest) -> bool:
    expected = settings.TELEGRAM_WEBHOOK_SECRET
    if not expected or not is_configured():
        return False  # without a secret anyone could post updates: the webhook stays shut
    given = request.headers.get(SECRET_HEADER, "")
    return hmac.compare_digest(given.encode(), expected.encode())


# Telegram cannot send a CSRF token: the secret header (set with setWebhook) proves the
# sender instead.
@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> JsonResponse:
    """Record the update and answer at once; a worker thread handles it."""
    if not _secret_ok(request):
        logger.warning("telegram_webhook_refused ip=%s", client_ip(request.META))
        return http_response(Forbidden())
    try:
        update = json.loads(request.body)
        new = record_update(update)
    except (ValueError, UnicodeDecodeError) as exc:
        logger.warning("telegram_webhook_refused reason=not_an_update detail=%r", str(exc))
        return http_response(InvalidPayload(variant="not_telegram_update"))
    except RecursionError:
        logger.warning("telegram_webhook_refused reason=nested_too_deep")
        return http_response(NestedTooDeep())
    return JsonResponse({"success": True, "duplicate": not new})
