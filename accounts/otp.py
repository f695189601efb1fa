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
from dataclasses import dataclass
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


def _new_ref() -> str:
    """The server-side id a code message's buttons carry (callback_data, ≤ 64 bytes)."""
    return secrets.token_urlsafe(16)


def issue_code(session_key: str, agent=None) -> str:
    """A new code for this session, replacing the one it had; `agent` (or None: whoever
    presses "Sign in as me") is who the browser signs in as."""
    code, digest = _new_code()
    owner = owner_of(session_key)
    fresh = {
        "code_hash": digest,
        "expires_at": _expiry(),
        "attempts": 0,
        "created_at": timezone.now(),
        "agent": agent,
        "ref": _new_ref(),
        "telegram_chat_id": None,
        "telegram_message_id": None,
        "approved_at": None,
    }
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


def pending_code(session_key: str | None) -> OneTimeCode | None:
    """This session's code row (live or not), with its agent."""
    if not session_key:
        return None
    return OneTimeCode.objects.select_related("agent").filter(owner=owner_of(session_key)).first()


def remember_message(session_key: str, chat_id: int, message_id: int) -> None:
    """Where the code's Telegram message is, to edit it once the code is used."""
    OneTimeCode.objects.filter(owner=owner_of(session_key)).update(
        telegram_chat_id=chat_id, telegram_message_id=message_id
    )


class Press(enum.Enum):
    """What pressing a code message's button did (telegram_bridge.callbacks)."""

    CLAIMED = "claimed"  # "Sign in as me": the code now signs in the presser's agent
    APPROVED = "approved"  # "Approve": the waiting browser may sign in without the code
    TAKEN = "taken"  # another agent's code: nothing changed
    GONE = "gone"  # used, expired or replaced


def press(ref: str, agent, approve: bool) -> tuple[Press, OneTimeCode | None]:
    """A button of the code message `ref` pressed by `agent`: the code becomes theirs (it
    had nobody's, or theirs already), and with `approve` its browser may sign in at once."""
    now = timezone.now()
    with transaction.atomic():
        row = (
            OneTimeCode.objects.select_for_update()
            .filter(ref=ref, expires_at__gt=now, attempts__lt=settings.OTP_MAX_ATTEMPTS)
            .first()
        )
        if row is None:
            return Press.GONE, None
        if row.agent_id is not None and row.agent_id != agent.pk:
            return Press.TAKEN, row
        row.agent = agent
        fields = ["agent"]
        # An operator's code has no waiting browser to approve: it is only claimed.
        approved = approve and row.owner is not None
        if approved:
            row.approved_at = now
            fields.append("approved_at")
        row.save(update_fields=fields)
    return (Press.APPROVED if approved else Press.CLAIMED), row


def take_approval(session_key: str | None) -> OneTimeCode | None:
    """This session's approved code, used up now (single use); None while it is not
    approved (or expired, or gone)."""
    if not session_key:
        return None
    with transaction.atomic():
        row = (
            OneTimeCode.objects.select_for_update()
            .select_related("agent")
            .filter(owner=owner_of(session_key), approved_at__isnull=False, expires_at__gt=timezone.now())
            .first()
        )
        if row is None:
            return None
        row.delete()
    return row


def issue_operator_code(agent=None) -> str:
    """A code bound to no session, for `manage.py issue_login_code` (signs in `agent`)."""
    code, digest = _new_code()
    OneTimeCode.objects.create(
        code_hash=digest, owner=None, expires_at=_expiry(), agent=agent, ref=_new_ref()
    )
    _prune()
    return code


def has_code(session_key: str | None) -> bool:
    """Whether this session has a code of its own (live or not yet cleaned up)."""
    return bool(session_key) and OneTimeCode.objects.filter(owner=owner_of(session_key)).exists()


@dataclass
class Used:
    """The code a successful guess used: who it signs in, where its message is."""

    agent_id: int | None = None
    telegram_chat_id: int | None = None
    telegram_message_id: int | None = None


def verify_code(session_key: str | None, code: str) -> Verdict:
    """verify() without the used code's details."""
    return verify(session_key, code)[0]


def verify(session_key: str | None, code: str) -> tuple[Verdict, Used | None]:
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
            hit = own if own_match else operator_matches[0]
            OneTimeCode.objects.filter(pk__in=used).delete()
            return Verdict.OK, Used(hit.agent_id, hit.telegram_chat_id, hit.telegram_message_id)
        if operator_codes:
            OneTimeCode.objects.filter(pk__in=[c.pk for c in operator_codes]).update(
                attempts=F("attempts") + 1
            )
        if own is None:
            return Verdict.NOT_REQUESTED, None
        if own.expires_at <= now:
            own.delete()
            return Verdict.EXPIRED, None
        if own.attempts >= limit:
            return Verdict.TOO_MANY_ATTEMPTS, None
        OneTimeCode.objects.filter(pk=own.pk).update(attempts=F("attempts") + 1)
        return (Verdict.TOO_MANY_ATTEMPTS if own.attempts + 1 >= limit else Verdict.WRONG), None
