"""Blocked visitors: who may not write or open conversations for a while.

A block matches the visitor's address or their session (a keyed hash of the session key:
the key itself is a secret and is never stored). The check runs where the domain stores
what a visitor sends (chat.services); a refused attempt is counted on the block and
nothing else is stored. Blocks end by themselves at `expires_at`; staff lift one earlier
in the Django admin.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from chatdesk.refusals import Blocked

from .models import VisitorBlock

# The lengths the panel offers, by the name clients send.
DURATIONS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}


def key_hash(session_key: str | None) -> str | None:
    if not session_key:
        return None
    return hmac.new(
        settings.SECRET_KEY.encode(), f"visitor-block:{session_key}".encode(), hashlib.sha256
    ).hexdigest()


@dataclass(frozen=True)
class Visitor:
    """Who is writing, as far as blocking goes: their address and session."""

    ip: str | None
    key_hash: str | None

    @classmethod
    def of(cls, ip: str | None, session_key: str | None) -> Visitor:
        return cls(ip or None, key_hash(session_key))


def _matching(visitor: Visitor):
    match = Q()
    if visitor.ip:
        match |= Q(ip=visitor.ip)
    if visitor.key_hash:
        match |= Q(key_hash=visitor.key_hash)
    return match


def active_block(visitor: Visitor) -> VisitorBlock | None:
    """The block in force for this visitor (the one lasting longest), or None."""
    match = _matching(visitor)
    if not match:
        return None
    return VisitorBlock.objects.filter(match, expires_at__gt=timezone.now()).order_by("-expires_at").first()


def refuse_if_blocked(visitor: Visitor) -> None:
    """Raise `Blocked` (and count the attempt) while the visitor is blocked."""
    block = active_block(visitor)
    if block is None:
        return
    VisitorBlock.objects.filter(pk=block.pk).update(
        attempts=F("attempts") + 1, last_attempt_at=timezone.now()
    )
    raise Blocked(until=block.expires_at)
