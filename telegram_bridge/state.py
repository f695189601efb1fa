"""Shared values every process sees (through the database): offset, lease, last error."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Min, Q
from django.utils import timezone

from .models import BridgeState, OutboxItem

# Error texts kept short: they end up in /healthz and the Django admin.
MAX_ERROR_CHARS = 300


def get_value(key: str, default: str = "") -> str:
    row = BridgeState.objects.filter(key=key).first()
    return row.value if row is not None else default


def set_value(key: str, value: str) -> None:
    # One UPDATE, the row made only the first time: the sender records every send
    # (record_ok), and update_or_create was a transaction of four statements.
    fields = {"value": value, "updated_at": timezone.now()}
    if not BridgeState.objects.filter(key=key).update(**fields):
        _ensure_row(key)
        BridgeState.objects.filter(key=key).update(**fields)


def _ensure_row(key: str) -> None:
    if BridgeState.objects.filter(key=key).exists():
        return
    try:
        with transaction.atomic():
            BridgeState.objects.create(key=key)
    except IntegrityError:
        pass  # another process created it first


def acquire_lease(name: str, holder: str, seconds: float) -> bool:
    """Hold lease `name` for `seconds` (renewing it if we hold it); False if another does.

    One atomic UPDATE ... WHERE decides, so two processes never both hold it. The sender
    renews its lease at every step: the row is looked for only when the UPDATE matched
    none (the first time, or another holds it).
    """
    now = timezone.now()
    free = Q(value=holder) | Q(value="") | Q(expires_at__isnull=True) | Q(expires_at__lt=now)
    lease = BridgeState.objects.filter(key=name).filter(free)
    fields = {"value": holder, "expires_at": now + timedelta(seconds=seconds), "updated_at": now}
    if lease.update(**fields) == 1:
        return True
    _ensure_row(name)
    return lease.update(**fields) == 1


def release_lease(name: str, holder: str) -> None:
    BridgeState.objects.filter(key=name, value=holder).update(value="", expires_at=None)


def record_error(text: str) -> None:
    with transaction.atomic():  # a reader sees the error with its time, or neither
        set_value("last_error", text[:MAX_ERROR_CHARS])
        set_value("last_error_at", timezone.now().isoformat())


def record_ok() -> None:
    set_value("last_ok_at", timezone.now().isoformat())


def _time(value: str) -> str | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        return None


def status() -> dict:
    """For /healthz, the panel and operators: configured?, how updates arrive, the last
    error, the backlog and whether it is behind (the oldest unsent item waited longer than
    TELEGRAM_BEHIND_SECONDS).

    Never contains the token or the webhook secret.
    """
    from django.conf import settings

    from .otp import is_configured

    values = {
        row.key: row.value
        for row in BridgeState.objects.filter(key__in=["last_error", "last_error_at", "last_ok_at", "mode"])
    }
    # One statement, so one snapshot: counted apart, an item failing in between showed
    # as pending and failed at once.
    is_pending = Q(state=OutboxItem.State.PENDING)
    is_failed = Q(state=OutboxItem.State.FAILED)
    backlog = OutboxItem.objects.filter(is_pending | is_failed).aggregate(
        count=Count("id", filter=is_pending),
        failed=Count("id", filter=is_failed),
        oldest=Min("created_at", filter=is_pending),
    )
    oldest = backlog["oldest"]
    age = max(0, int((timezone.now() - oldest).total_seconds())) if oldest is not None else 0
    return {
        "configured": is_configured(),
        "mode": values.get("mode") or None,
        "last_error": values.get("last_error") or None,
        "last_error_at": _time(values.get("last_error_at", "")),
        "last_ok_at": _time(values.get("last_ok_at", "")),
        "pending": backlog["count"],
        "failed": backlog["failed"],
        "oldest_pending_seconds": age,
        "behind": oldest is not None and age >= settings.TELEGRAM_BEHIND_SECONDS,
        "refusal": _public_refusal(),
    }


def _public_refusal() -> dict | None:
    """Telegram's lasting refusal of the bot ({"code", "reason", "since"}), or None."""
    from .admin_chat import refusal

    found = refusal()
    if found is None:
        return None
    return {"code": found.get("code"), "reason": found.get("reason"), "since": _time(found.get("since", ""))}
