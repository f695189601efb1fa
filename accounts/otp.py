"""Issuing and checking one-time sign-in codes.

6 digits from `secrets`, valid OTP_TTL_SECONDS, single use, at most OTP_MAX_ATTEMPTS
wrong tries per code, compared in constant time.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import OneTimeCode


class Verdict(enum.Enum):
    OK = "ok"
    NOT_REQUESTED = "No code was requested, or it was already used. Request a new code."
    EXPIRED = "The code has expired. Request a new code."
    WRONG = "Wrong code."
    TOO_MANY_ATTEMPTS = "Too many wrong tries for this code. Request a new code."


def _digest(code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), code.encode(), hashlib.sha256).hexdigest()


def issue_code() -> str:
    """Create a new code; older unused codes stay valid until they expire."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    OneTimeCode.objects.create(
        code_hash=_digest(code),
        expires_at=timezone.now() + timedelta(seconds=settings.OTP_TTL_SECONDS),
    )
    # Old rows are useless once expired; keep the table small.
    OneTimeCode.objects.filter(expires_at__lt=timezone.now() - timedelta(days=1)).delete()
    return code


def verify_code(code: str) -> Verdict:
    now = timezone.now()
    with transaction.atomic():
        pending = list(
            OneTimeCode.objects.select_for_update()
            .filter(consumed_at__isnull=True)
            .order_by("-created_at")[:20]
        )
        if not pending:
            return Verdict.NOT_REQUESTED
        live = [c for c in pending if c.expires_at > now]
        if not live:
            return Verdict.EXPIRED
        usable = [c for c in live if c.attempts < settings.OTP_MAX_ATTEMPTS]
        if not usable:
            return Verdict.TOO_MANY_ATTEMPTS
        digest = _digest(code)
        # Compare against every usable code, without stopping early.
        matches = [c for c in usable if hmac.compare_digest(c.code_hash, digest)]
        if matches:
            OneTimeCode.objects.filter(pk=matches[0].pk).update(consumed_at=now)
            return Verdict.OK
        OneTimeCode.objects.filter(pk__in=[c.pk for c in usable]).update(attempts=F("attempts") + 1)
        if all(c.attempts + 1 >= settings.OTP_MAX_ATTEMPTS for c in usable):
            return Verdict.TOO_MANY_ATTEMPTS
        return Verdict.WRONG
