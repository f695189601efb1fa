"""The language of the bot's texts. What the admin chat sees (cards, listings) is in the
desk's language, TELEGRAM_LANGUAGE (LANGUAGE_CODE when unset); a button's toast, which
only its presser sees, in the presser's Telegram language when the desk speaks it."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def spoken() -> set[str]:
    return {code for code, _ in settings.LANGUAGES}


def desk() -> str:
    wanted = (getattr(settings, "TELEGRAM_LANGUAGE", "") or settings.LANGUAGE_CODE).lower()
    return wanted if wanted in spoken() else settings.LANGUAGE_CODE


def of_user(user: dict[str, Any]) -> str:
    """Telegram's `from.language_code` ("tr", "en-GB") when the desk speaks it, else the desk's."""
    code = user.get("language_code") if isinstance(user, dict) else None
    base = code.split("-")[0].lower() if isinstance(code, str) else ""
    return base if base in spoken() else desk()
