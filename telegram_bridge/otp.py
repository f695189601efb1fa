"""Delivering sign-in codes to the admins' Telegram chat."""

from __future__ import annotations

from django.conf import settings


class DeliveryFailed(Exception):
    """Telegram did not take the code; the admin cannot receive it now."""


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
        raise DeliveryFailed(str(exc)) from exc
