"""Telegram as a sign-in code delivery backend (accounts.delivery), whether the bot is
configured at all, and the code message's buttons (issue 13).

The flow, for a code sent to the admin chat:

1. A browser asks for a code (`POST /request-otp`). The bot posts it to the admin chat
   with two buttons, **Sign in as me** and **Approve**, and the address that asked.
2. **Sign in as me**: the member of the admin chat who presses it becomes the agent the
   code signs in (their agent is created on first use from their Telegram name); the
   message says "Code for Ayşe". Whoever types the code in that browser signs in as Ayşe.
   **Approve**: the same, and the waiting browser signs in without typing the code (the
   login page polls `POST /login/approval`; bound to that browser's pending code, single
   use, within the code's 5 minutes).
   Presses by anyone who is not a member of the admin chat are refused (the button
   answers "Only members of the admin chat can sign in"), and a code another agent has
   claimed stays theirs.
3. Once the code is used, the message becomes "Signed in: Ayşe" and loses its buttons.

With `{"agent": "@username"}` the code goes to that agent's private chat with the bot
instead (learned when they send /start to the bot; telegram_bridge.agent_chats), with
only **Approve**: it already belongs to them.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.delivery import CodeDelivery, DeliveryError, PendingCode
from accounts.refusals import AgentUnreachable

from . import language

logger = logging.getLogger("telegram_bridge.otp")

# callback_data prefix of the code message's buttons (telegram_bridge.callbacks).
CALLBACK_PREFIX = "signin"


def is_configured() -> bool:
    return bool(settings.TELEGRAM_BOT_TOKEN and settings.TELEGRAM_CHAT_ID)


def _client():
    from .client import TelegramClient

    return TelegramClient.from_settings()


def code_text(code: str, agent=None, ip: str = "") -> str:
    """The code message, in the desk's language (TELEGRAM_LANGUAGE), not the requester's."""
    from .messages import esc

    minutes = max(1, settings.OTP_TTL_SECONDS // 60)
    with translation.override(language.desk()):
        if agent is not None:
            head = _("chatdesk sign-in code for <b>%(name)s</b>: <code>%(code)s</code>") % {
                "name": esc(agent.name),
                "code": code,
            }
        else:
            head = _("chatdesk sign-in code: <code>%(code)s</code>") % {"code": code}
        lines = [
            head,
            _("Valid for %(minutes)d minutes. If you did not ask for it, ignore this message.")
            % {"minutes": minutes},
        ]
        if ip:
            lines.append(_("Requested from %(ip)s.") % {"ip": esc(ip)})
    return "\n".join(lines)


def buttons(ref: str, claim: bool = True) -> dict:
    """The inline keyboard of a code message: "Sign in as me" (unless the code is already
    someone's) and "Approve"; callback_data "signin:me:<ref>" / "signin:ok:<ref>" (≤ 64 bytes)."""
    row = []
    with translation.override(language.desk()):
        if claim:
            row.append({"text": _("Sign in as me"), "callback_data": f"{CALLBACK_PREFIX}:me:{ref}"})
        row.append({"text": _("Approve"), "callback_data": f"{CALLBACK_PREFIX}:ok:{ref}"})
    return {"inline_keyboard": [row]}


def send_login_code(code: str, pending: PendingCode | None = None) -> dict:
    """Send the code now: to the agent's private chat when it is for an agent, else to the
    admin chat. Returns the sent message.

    Synchronously, not through the outbox: the admin is waiting for it, and a code that
    arrives minutes later (after an outage) would be expired anyway.
    """
    from . import admin_chat
    from .client import TelegramError

    agent = pending.agent if pending else None
    chat_id = agent.telegram_private_chat_id if agent is not None else admin_chat.current()
    markup = buttons(pending.ref, claim=agent is None) if pending and pending.ref else None
    try:
        # Follows an upgrade of the admin group at once; protect_content: the code cannot
        # be forwarded or saved from the chat.
        return admin_chat.call_following(
            _client(),
            "sendMessage",
            chat_id,
            text=code_text(code, agent, pending.ip if pending else ""),
            parse_mode="HTML",
            reply_markup=markup,
            protect_content=True,
        )
    except TelegramError as exc:
        raise DeliveryError(str(exc)) from exc


class TelegramDelivery(CodeDelivery):
    """The code goes to the admins' Telegram chat (TELEGRAM_BOT_TOKEN, TELEGRAM_CHAT_ID),
    or to an agent's private chat with the bot."""

    name = "telegram"

    def choose_agent(self, handle: str | None):
        agent = super().choose_agent(handle)
        if agent is not None and not agent.telegram_private_chat_id:
            raise AgentUnreachable()  # same answer as for a name nobody has
        return agent

    def deliver(self, code: str, pending: PendingCode | None = None) -> dict[str, Any]:
        from accounts import otp

        sent = send_login_code(code, pending)
        if pending is not None and isinstance(sent, dict) and sent.get("message_id"):
            otp.remember_message(pending.session_key, sent["chat"]["id"], sent["message_id"])
        # The contract's answer, word for word; `approvable` is additive.
        return {"message": "OTP Telegram'a gönderildi", "approvable": bool(pending and pending.ref)}


# --- the code message after use --------------------------------------------------------------


def signed_in_text(agent) -> str:
    from .messages import esc

    with translation.override(language.desk()):
        if agent is None:
            return _("Signed in (no agent named).")
        return _("Signed in: <b>%(name)s</b>") % {"name": esc(agent.name)}


def edit_code_message(chat_id: int, message_id: int, text: str) -> None:
    """Replace the code message's text (the code disappears) and drop its buttons."""
    from .client import TelegramError

    try:
        _client().call(
            "editMessageText",
            chat_id=chat_id,
            message_id=message_id,
            text=text,
            parse_mode="HTML",
            reply_markup={"inline_keyboard": []},
        )
    except TelegramError as exc:
        logger.warning("telegram_code_message_edit_failed error=%r", str(exc))


def on_code_used(sender, agent, chat_id, message_id, **kwargs) -> None:
    """accounts.signin.code_used: say who signed in, off the request's thread (the browser
    need not wait for Telegram)."""
    if not is_configured():
        return
    threading.Thread(
        target=edit_code_message,
        args=(chat_id, message_id, signed_in_text(agent)),
        name="telegram-code-edit",
        daemon=True,
    ).start()
