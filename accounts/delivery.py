"""How sign-in codes reach the admin: a backend chosen in settings, like EMAIL_BACKEND.

LOGIN_CODE_BACKEND is a dotted path to a class with this interface. By default:
Telegram (`telegram_bridge.otp.TelegramDelivery`) when a bot and chat are configured,
else the development backend under DEBUG, else the operator backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _


class DeliveryError(Exception):
    """The backend could not hand the code over; the admin cannot receive it now."""


@dataclass
class PendingCode:
    """What a backend knows about the code it delivers: the browser session that asked,
    its address (shown beside "Approve"), the agent it is for (None: whoever presses
    "Sign in as me") and the server-side id its buttons carry."""

    session_key: str
    ip: str = ""
    agent: Any = None
    ref: str | None = None


class CodeDelivery:
    """Delivers a freshly issued code, or raises DeliveryError.

    `issues_codes = False` means /request-otp makes no code at all (someone else hands
    codes out). `deliver` returns the extra fields of the /request-otp answer.
    `choose_agent` picks the agent a code is for from the request's optional `agent`
    (raising accounts.refusals.AgentUnreachable when the code cannot reach them).
    """

    name = "base"
    issues_codes = True

    def deliver(self, code: str, pending: PendingCode | None = None) -> dict[str, Any]:
        raise NotImplementedError

    def choose_agent(self, handle: str | None):
        from .agents import find
        from .refusals import AgentUnreachable

        if not handle:
            return None
        agent = find(handle)
        if agent is None:
            raise AgentUnreachable()
        return agent

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

    def deliver(self, code: str, pending: PendingCode | None = None) -> dict[str, Any]:
        return {"otp": code, "message": _("Telegram is not configured: development code shown.")}

    def choose_agent(self, handle: str | None):
        """Development: the named agent (created on first use), else "Admin"."""
        from .agents import default_agent, find, named

        if not handle:
            return default_agent()
        return find(handle) or named(handle.lstrip("@"))


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
