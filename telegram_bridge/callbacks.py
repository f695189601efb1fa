"""Inline-button presses (`callback_query` updates), dispatched by the prefix of their
`callback_data` ("<prefix>:<rest>", at most 64 bytes).

Register a handler for a prefix with one line:

    callbacks.register("signin", handle_signin)

A handler gets a `Press` (the query, its data after the prefix, the presser, the Bot API
client) and returns an outcome string for the update log. It must answer the query
(`press.answer(text)`), within Telegram's limit: Receiver calls it at once. `is_member`
tells whether the presser belongs to the admin chat (getChatMember), and `agent()` maps
them to their agent, created on first use for members.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from . import language
from .client import TelegramClient, TelegramError

logger = logging.getLogger("telegram_bridge.callbacks")

MEMBER_STATUSES = {"creator", "administrator", "member"}
NO_LONGER_WORKS = _("This button no longer works.")

_handlers: dict[str, Callable[[Press], str]] = {}


def register(prefix: str, handler: Callable[[Press], str]) -> None:
    """Send presses whose callback_data starts with "<prefix>:" to `handler`."""
    if ":" in prefix:
        raise ValueError("a callback prefix cannot contain ':'")
    _handlers[prefix] = handler


@dataclass
class Press:
    query: dict[str, Any]
    data: str  # callback_data after "<prefix>:"
    client: TelegramClient

    @property
    def user(self) -> dict[str, Any]:
        return self.query.get("from") or {}

    @property
    def message(self) -> dict[str, Any]:
        return self.query.get("message") or {}

    def answer(self, text: str | None = None, alert: bool = False) -> None:
        """answerCallbackQuery: the presser's button stops spinning, `text` shows as a toast,
        in the presser's language when it is one the desk speaks (`text` may be lazy)."""
        if text is not None:
            with translation.override(language.of_user(self.user)):
                text = str(text)
        try:
            self.client.call(
                "answerCallbackQuery",
                callback_query_id=self.query.get("id"),
                text=text,
                show_alert=alert or None,
            )
        except TelegramError as exc:  # too late (over Telegram's limit) or gone: nothing to do
            logger.warning("telegram_callback_answer_failed error=%r", str(exc))

    def edit(self, text: str, reply_markup: dict | None = None) -> None:
        """editMessageText of the message that carries the button."""
        chat_id = (self.message.get("chat") or {}).get("id")
        message_id = self.message.get("message_id")
        if chat_id is None or message_id is None:
            return
        try:
            self.client.call(
                "editMessageText",
                chat_id=chat_id,
                message_id=message_id,
                text=text,
                parse_mode="HTML",
                reply_markup=reply_markup if reply_markup is not None else {"inline_keyboard": []},
            )
        except TelegramError as exc:
            logger.warning("telegram_callback_edit_failed error=%r", str(exc))

    def is_member(self) -> bool:
        return is_member(self.client, self.user)

    def agent(self):
        """The presser's agent (created on first use); None unless they are a member of
        the admin chat, or when their agent was deactivated."""
        from accounts import agents

        if not self.user.get("id") or self.user.get("is_bot") or not self.is_member():
            return None
        agent = agents.for_telegram_user(self.user)
        return agent if agent.is_active else None


def is_member(client: TelegramClient, user: dict[str, Any]) -> bool:
    """Whether the Telegram user belongs to the admin chat (getChatMember). In a private
    admin chat, only its one user does."""
    user_id = user.get("id")
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        return False
    from .admin_chat import current

    if str(user_id) == current():
        return True
    try:
        member = client.call("getChatMember", chat_id=current(), user_id=user_id)
    except TelegramError as exc:
        logger.warning("telegram_member_check_failed user=%s error=%r", user_id, str(exc))
        return False
    status = (member or {}).get("status")
    return status in MEMBER_STATUSES or (status == "restricted" and bool((member or {}).get("is_member")))


def dispatch(query: Any, client: TelegramClient) -> str:
    """Handle one callback_query update; returns the outcome for the update log."""
    _load_handlers()
    if not isinstance(query, dict) or not query.get("id"):
        return "ignored:bad_callback"
    data = query.get("data")
    prefix, _, rest = data.partition(":") if isinstance(data, str) else ("", "", "")
    handler = _handlers.get(prefix)
    press = Press(query, rest, client)
    if handler is None:
        press.answer(NO_LONGER_WORKS)
        return "callback:unknown"
    return handler(press)


def _load_handlers() -> None:
    """The bridge's own handlers (importing registers them)."""
    from . import signin_buttons  # noqa: F401
