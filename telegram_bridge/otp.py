"""Telegram as a sign-in code delivery backend (accounts.delivery), and whether the bot
is configured at all."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from accounts.delivery import CodeDelivery, DeliveryError


def is_configured() -> bool:
    return bool(settings.TELEGRAM_BOT_TOKEN and settings.TELEGRAM_CHAT_ID)


def send_login_code(code: str) -> None:
    """Send the code to the admin chat now.

    Synchronously, not through the outbox: the admin is waiting for it, and a code that
    arrives minutes later (after an outage) would be expired anyway.
    """
    from .client import TelegramClient, TelegramError

    minutes = max(1, settings.OTP_TTL_SECONDS // 60)
    try:
        TelegramClient.from_settings().send_message(
            settings.TELEGRAM_CHAT_ID,
            f"chatdesk sign-in code: <code>{code}</code>\nValid for {minutes} minutes. "
            "If you did not ask for it, ignore this message.",
            parse_mode="HTML",
        )
    except TelegramError as exc:
        raise DeliveryError(str(exc)) from exc


class TelegramDelivery(CodeDelivery):
    """The code goes to the admins' Telegram chat (TELEGRAM_BOT_TOKEN, TELEGRAM_CHAT_ID)."""

    name = "telegram"

    def deliver(self, code: str) -> dict[str, Any]:
        send_login_code(code)
        # The contract's answer, word for word.
        return {"message": "OTP Telegram'a gönderildi"}
