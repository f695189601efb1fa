"""The admin chat as Telegram has it now, and what Telegram said about the bot there.

- Which chat: `TELEGRAM_CHAT_ID` gives the first one. Telegram upgrades a basic group to
  a supergroup by itself (turning on topics, some admin-right changes), under a new id;
  `follow_migration` stores the new id in the database (BridgeState), re-targets what
  waits in the outbox and keeps the old id as a previous one, so replies to messages sent
  before the upgrade still find their visitor. Everything that needs the admin chat asks
  `current()`; setting another TELEGRAM_CHAT_ID later wins over a stored migration.
- Refusals that will not heal by retrying (the bot was kicked or blocked, the chat is
  gone, the token is wrong): `refuse` records the reason for /healthz and the panel; the
  sender then fails that chat's items at once instead of retrying them for a day, trying
  one again every PROBE_EVERY in case the bot was re-added unnoticed. A `my_chat_member`
  update saying the bot is back, a successful send, or staff requeueing clears it.
- Topics that cannot be created (not a forum, no right to manage topics) are remembered
  for TOPICS_RETRY, so not every message starts with a failing createForumTopic.
- The "went to nobody" hint goes to each person at most once per HINT_EVERY.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import BridgeState, OutboxItem

logger = logging.getLogger("telegram_bridge.admin_chat")

CURRENT = "admin_chat_id"
FROM_ENV = "admin_chat_from_env"  # the TELEGRAM_CHAT_ID the stored id descends from
PREVIOUS = "admin_chat_previous"  # JSON list of the ids it had before
REFUSAL = "refusal"  # JSON {"chat_id", "code", "reason", "since"}
ALL_CHATS = "*"  # a refusal of every chat (401: the token)

PROBE_EVERY = timedelta(minutes=10)
TOPICS_RETRY = timedelta(hours=1)
HINT_EVERY = timedelta(hours=1)
CACHE_SECONDS = 2.0

# Refusal codes and what staff read about them (/healthz, the panel's banner).
REASONS = {
    "bot_removed": "the bot was removed from the admin chat",
    "bot_blocked": "the user blocked the bot",
    "chat_not_found": "the admin chat does not exist (check TELEGRAM_CHAT_ID)",
    "unauthorized": "Telegram does not accept the bot token (check TELEGRAM_BOT_TOKEN)",
    "user_deactivated": "the user's account was deleted",
}

_cache: dict[str, tuple[float, str, list[str]]] = {}
_cache_lock = threading.Lock()


def _stored() -> tuple[str, list[str]]:
    """(the current admin chat id, the ids it had before), from the database."""
    env = str(settings.TELEGRAM_CHAT_ID)
    values = dict(
        BridgeState.objects.filter(key__in=[CURRENT, FROM_ENV, PREVIOUS]).values_list("key", "value")
    )
    if not values.get(CURRENT) or values.get(FROM_ENV) != env:
        return env, []  # never migrated, or an operator configured another chat since
    try:
        previous = [str(chat_id) for chat_id in json.loads(values.get(PREVIOUS) or "[]")]
    except ValueError:
        previous = []
    return values[CURRENT], previous


def _read() -> tuple[str, list[str]]:
    env = str(settings.TELEGRAM_CHAT_ID)
    with _cache_lock:
        cached = _cache.get(env)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1], cached[2]
    current_id, previous = _stored()
    with _cache_lock:
        _cache[env] = (time.monotonic() + CACHE_SECONDS, current_id, previous)
    return current_id, previous


def forget_cache() -> None:
    with _cache_lock:
        _cache.clear()


def current() -> str:
    """The admin chat's id now (a string, as TELEGRAM_CHAT_ID is)."""
    return _read()[0]


def previous_ids() -> list[str]:
    """The ids the admin chat had before Telegram upgraded it (oldest first)."""
    return _read()[1]


def is_admin_chat(chat_id) -> bool:
    return str(chat_id) == current()


def follow_migration(old_id, new_id, via: str) -> bool:
    """The admin chat `old_id` became supergroup `new_id` (Telegram said so in a 400's
    parameters or a service message): store it, send what waited there (pending or
    failed) to the new chat. False when `old_id` is not the admin chat (already followed)."""
    old_id, new_id = str(old_id), str(new_id)
    with transaction.atomic():
        current_id, previous = _stored()
        if current_id == new_id and old_id in previous:
            # Followed already (an item queued for the old id meanwhile): send it there too.
            OutboxItem.objects.filter(chat_id=old_id).update(
                chat_id=new_id, state=OutboxItem.State.PENDING, claimed_at=None, claimed_by=""
            )
            return True
        if current_id != old_id:
            return False
        now = timezone.now()
        for key, value in (
            (CURRENT, new_id),
            (FROM_ENV, str(settings.TELEGRAM_CHAT_ID)),
            (PREVIOUS, json.dumps([*previous, old_id])),
        ):
            BridgeState.objects.update_or_create(key=key, defaults={"value": value, "updated_at": now})
        moved = OutboxItem.objects.filter(chat_id=old_id).update(
            chat_id=new_id,
            state=OutboxItem.State.PENDING,
            attempts=0,
            next_attempt_at=now,
            claimed_at=None,
            claimed_by="",
        )
    forget_cache()
    logger.error(
        "telegram_admin_chat_migrated from=%s to=%s via=%s requeued=%s "
        "hint='Telegram upgraded the admin group to a supergroup; chatdesk now uses %s. "
        "Set TELEGRAM_CHAT_ID=%s when you next change the configuration.'",
        old_id,
        new_id,
        via,
        moved,
        new_id,
        new_id,
    )
    return True


# --- refusals that will not heal -------------------------------------------------------------


def refusal() -> dict | None:
    """The standing refusal: {"chat_id", "code", "reason", "since"}, or None."""
    row = BridgeState.objects.filter(key=REFUSAL).first()
    if row is None or not row.value:
        return None
    try:
        found = json.loads(row.value)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def refuse(chat_id, code: str, detail: str = "") -> None:
    """Telegram refused `chat_id` for good (`code` of REASONS): say so until it heals."""
    value = {
        "chat_id": str(chat_id),
        "code": code,
        "reason": REASONS.get(code, code),
        "detail": detail[:300],
        "since": timezone.now().isoformat(),
    }
    BridgeState.objects.update_or_create(
        key=REFUSAL, defaults={"value": json.dumps(value), "updated_at": timezone.now()}
    )
    logger.error("telegram_chat_refused chat_id=%s code=%s detail=%r", chat_id, code, detail)


def clear_refusal(chat_id=None, why: str = "") -> bool:
    """The refusal of `chat_id` (any, when None) is over."""
    found = refusal()
    if found is None or (chat_id is not None and found["chat_id"] not in (str(chat_id), ALL_CHATS)):
        return False
    BridgeState.objects.filter(key=REFUSAL).update(value="", updated_at=timezone.now())
    logger.warning("telegram_chat_refusal_cleared chat_id=%s why=%s", found["chat_id"], why)
    return True


def refused_now(chat_id) -> dict | None:
    """The refusal that makes a send to `chat_id` pointless now (None after PROBE_EVERY,
    so one item tries again)."""
    found = refusal()
    if found is None or found["chat_id"] not in (str(chat_id), ALL_CHATS):
        return None
    try:
        since = datetime.fromisoformat(found["since"])
    except (KeyError, ValueError):
        return None
    return found if timezone.now() - since < PROBE_EVERY else None


# --- topics and hints ------------------------------------------------------------------------


def _until_key(prefix: str, ident) -> str:
    return f"{prefix}:{ident}"[:64]


def _active(key: str) -> str | None:
    row = BridgeState.objects.filter(key=key, expires_at__gt=timezone.now()).first()
    return row.value if row is not None else None


def _hold(key: str, value: str, duration: timedelta) -> None:
    now = timezone.now()
    BridgeState.objects.update_or_create(
        key=key, defaults={"value": value, "expires_at": now + duration, "updated_at": now}
    )


def topics_unavailable(chat_id) -> str | None:
    """Why topics cannot be created in `chat_id` (remembered), or None."""
    return _active(_until_key("no_topics", chat_id))


def remember_no_topics(chat_id, reason: str) -> None:
    _hold(_until_key("no_topics", chat_id), reason[:300], TOPICS_RETRY)
    logger.error("telegram_topics_unavailable chat_id=%s reason=%r", chat_id, reason)


def topics_allowed_again(chat_id) -> None:
    BridgeState.objects.filter(key=_until_key("no_topics", chat_id)).delete()


def hint_due(user_id) -> bool:
    """Whether the person may get the "went to nobody" hint now (then not for HINT_EVERY)."""
    key = _until_key("hint", user_id)
    if _active(key) is not None:
        return False
    _hold(key, "1", HINT_EVERY)
    return True


def call_following(client, method: str, chat_id, **params):
    """One call to `chat_id` that follows an upgrade of the admin chat at once (and
    records a lasting refusal): for calls made while someone waits, e.g. sign-in codes."""
    from .client import TelegramError

    try:
        return client.call(method, chat_id=chat_id, **params)
    except TelegramError as exc:
        if exc.migrate_to_chat_id and follow_migration(chat_id, exc.migrate_to_chat_id, via=method):
            return client.call(method, chat_id=current(), **params)
        if exc.lasting:
            refuse(ALL_CHATS if exc.lasting == "unauthorized" else chat_id, exc.lasting, str(exc))
        raise
