"""Issuing and checking one-time sign-in codes.

6 digits from `secrets`, valid OTP_TTL_SECONDS, single use, at most OTP_MAX_ATTEMPTS
wrong tries per code, compared in constant time.

A code belongs to the browser session that asked for it: one live code per session (a
new request replaces the old one), and a guess is compared only with the guessing
session's own code, so a guess from another browser can neither succeed nor spend the
admin's tries. Operator codes (`manage.py issue_login_code`) belong to no session: any
browser may use one, once; they have the same lifetime and attempt limit.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .models import OneTimeCode

# How many live operator codes a guess is compared with (operators issue one at a time).
MAX_OPERATOR_CODES = 10


class Verdict(enum.Enum):
    OK = "ok"
    NOT_REQUESTED = "not_requested"
    EXPIRED = "expired"
    WRONG = "wrong"
    TOO_MANY_ATTEMPTS = "too_many_attempts"


def _digest(value: str, purpose: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def owner_of(session_key: str) -> str:
    """The stored name of a session (a keyed hash, never the key itself)."""
    return _digest(session_key, "otp-owner")


def _new_code() -> tuple[str, str]:
    code = f"{secrets.randbelow(1_000_000):06d}"
    return code, _digest(code, "otp")


def _expiry():
    return timezone.now() + timedelta(seconds=settings.OTP_TTL_SECONDS)


def _prune() -> None:
    OneTimeCode.objects.filter(expires_at__lt=timezone.now() - timedelta(hours=1)).delete()


def issue_code(session_key: str) -> str:
    """A new code for this session, replacing the one it had."""
    code, digest = _new_code()
    owner = owner_of(session_key)
    fresh = {"code_hash": digest, "expires_at": _expiry(), "attempts": 0, "created_at": timezone.now()}
    with transaction.atomic():
        if not OneTimeCode.objects.filter(owner=owner).update(**fresh):
            try:
                with transaction.atomic():
                    OneTimeCode.objects.create(owner=owner, **fresh)
            except IntegrityError:  # a second tab of this browser asked at the same moment
                OneTimeCode.objects.filter(owner=owner).update(**fresh)
    _prune()
    return code


def withdraw_code(session_key: str) -> None:
    """Forget this session's code (it could not be delivered: it must never work)."""
    OneTimeCode.objects.filter(owner=owner_of(session_key)).delete()


def issue_operator_code() -> str:
    """A code bound to no session, for `manage.py issue_login_code`."""
    code, digest = _new_code()
    OneTimeCode.objects.create(code_hash=digest, owner=None, expires_at=_expiry())
    _prune()
    return code


def has_code(session_key: str | None) -> bool:
    """Whether this session has a code of its own (live or not yet cleaned up)."""
    return bool(session_key) and OneTimeCode.objects.filter(owner=owner_of(session_key)).exists()


def verify_code(session_key: str | None, code: str) -> Verdict:
    """Check a guess against this session's code and the live operator codes.

    A wrong guess spends one try of the session's code and of each live operator code.
    The verdict only ever speaks of the session's own code: a session without one hears
    NOT_REQUESTED, whatever other sessions or operators have pending.
    """
    now = timezone.now()
    digest = _digest(code, "otp")
    limit = settings.OTP_MAX_ATTEMPTS
    with transaction.atomic():
        own = None
        if session_key:
            own = OneTimeCode.objects.select_for_update().filter(owner=owner_of(session_key)).first()
        operator_codes = list(
            OneTimeCode.objects.select_for_update()
            .filter(owner__isnull=True, expires_at__gt=now, attempts__lt=limit)
            .order_by("-created_at")[:MAX_OPERATOR_CODES]
        )
        own_usable = own is not None and own.expires_at > now and own.attempts < limit
        # Compare with every candidate, without stopping early.
        own_match = own_usable and hmac.compare_digest(own.code_hash, digest)
        operator_matches = [c for c in operator_codes if hmac.compare_digest(c.code_hash, digest)]
        if own_match or operator_matches:
            used = [c.pk for c in operator_matches[:1]] + ([own.pk] if own is not None else [])
            OneTimeCode.objects.filter(pk__in=used).delete()
            return Verdict.OK
        if operator_codes:
            OneTimeCode.objects.filter(pk__in=[c.pk for c in operator_codes]).update(
                attempts=F("attempts") + 1
            )
        if own is None:
            return Verdict.NOT_REQUESTED
        if own.expires_at <= now:
            own.delete()
            return Verdict.EXPIRED
        if own.attempts >= limit:
            return Verdict.TOO_MANY_ATTEMPTS
        OneTimeCode.objects.filter(pk=own.pk).update(attempts=F("attempts") + 1)
        return Verdict.TOO_MANY_ATTEMPTS if own.attempts + 1 >= limit else Verdict.WRONG
