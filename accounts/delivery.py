"""How sign-in codes reach the admin: a backend chosen in settings, like EMAIL_BACKEND.

LOGIN_CODE_BACKEND is a dotted path to a class with this interface. By default:
Telegram (`telegram_bridge.otp.TelegramDelivery`) when a bot and chat are configured,
else the development backend under DEBUG, else the operator backend.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _


class DeliveryError(Exception):
    """The backend could not hand the code over; the admin cannot receive it now."""


class CodeDelivery:
    """Delivers a freshly issued code, or raises DeliveryError.

    `issues_codes = False` means /request-otp makes no code at all (someone else hands
    codes out). `deliver` returns the extra fields of the /request-otp answer.
    """

    name = "base"
    issues_codes = True

    def deliver(self, code: str) -> dict[str, Any]:
        raise NotImplementedError

    def answer_without_code(self) -> dict[str, Any]:
        return {}


class DevelopmentDelivery(CodeDelivery):
    """Development only (DEBUG): the code is in the /request-otp answer, as the contract says."""

    name = "response"

    def __init__(self) -> None:
        if not settings.DEBUG:
            raise ImproperlyConfigured(
                "accounts.delivery.DevelopmentDelivery shows sign-in codes to whoever asks; "
                "it only works with DJANGO_DEBUG=1."
            )

    def deliver(self, code: str) -> dict[str, Any]:
        return {"otp": code, "message": _("Telegram is not configured: development code shown.")}


class OperatorDelivery(CodeDelivery):
    """Nothing is sent: an operator with shell access runs `manage.py issue_login_code`."""

    name = "operator"
    issues_codes = False

    def answer_without_code(self) -> dict[str, Any]:
        return {
            "message": _(
                "Telegram is not configured: an operator can issue a code with "
                "`python manage.py issue_login_code`."
            )
        }


def get_backend() -> CodeDelivery:
    return import_string(settings.LOGIN_CODE_BACKEND)()
