"""Sign-in code messages do not outlive their code: once a code expires unused, its
message is deleted from the chat (deleteMessage). A used code's message is edited to say
who signed in (telegram_bridge.otp), so no live code stays readable in the chat."""

from __future__ import annotations

import logging

from django.utils import timezone

from .client import TelegramClient, TelegramError

logger = logging.getLogger("telegram_bridge.code_messages")

SWEEP_SECONDS = 15.0
BATCH = 20


def delete_expired(client: TelegramClient) -> int:
    """Delete the messages of expired codes; returns how many were handled."""
    from accounts.models import OneTimeCode

    rows = list(
        OneTimeCode.objects.filter(expires_at__lte=timezone.now(), telegram_message_id__isnull=False)
        .order_by("expires_at")
        .values_list("pk", "telegram_chat_id", "telegram_message_id")[:BATCH]
    )
    for pk, chat_id, message_id in rows:
        try:
            client.call("deleteMessage", chat_id=chat_id, message_id=message_id)
        except TelegramError as exc:
            if not exc.permanent:
                logger.warning("telegram_code_delete_failed error=%r", str(exc))
                return 0  # Telegram is unreachable or busy: the next sweep tries again
            # Gone already (deleted by an admin, older than Telegram lets bots delete).
            logger.info("telegram_code_delete_refused error=%r", str(exc))
        OneTimeCode.objects.filter(pk=pk).update(telegram_message_id=None)
    return len(rows)
