"""Agents' private chats with the bot (issue 13): an agent sends /start to the bot, and
sign-in codes asked for them (`{"agent": "@username"}`) reach them there.

Only members of the admin chat are linked (getChatMember); anyone else hears that this
bot serves a team. Nothing else is read from private chats.
"""

from __future__ import annotations

import logging

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from . import language
from .callbacks import is_member
from .client import TelegramClient, TelegramError
from .messages import esc

logger = logging.getLogger("telegram_bridge.agents")

# An agent's private chat speaks their Telegram language when the desk has it.
LINKED = _(
    "Hello {name}! You are linked as a chatdesk agent. On the sign-in page, enter "
    "<code>@{username}</code> to get your code here."
)
LINKED_NO_USERNAME = _(
    "Hello {name}! You are linked as a chatdesk agent. Set a Telegram username to ask for "
    "sign-in codes here by name."
)
NOT_MEMBER = _("This bot serves a support team; only members of its admin chat can use it here.")
HELP = _("Send /start to link this chat; sign-in codes you ask for by your @username come here.")


def _say(client: TelegramClient, chat_id: int, text: str) -> None:
    try:
        client.send_message(chat_id, str(text), parse_mode="HTML")
    except TelegramError as exc:
        logger.warning("telegram_private_reply_failed error=%r", str(exc))


def handle_private(message: dict, client: TelegramClient) -> str:
    user = message.get("from") or {}
    with translation.override(language.of_user(user)):
        return _handle_private(message, client, user)


def _handle_private(message: dict, client: TelegramClient, user: dict) -> str:
    from accounts import agents

    chat_id = (message.get("chat") or {}).get("id")
    text = message.get("text")
    if not isinstance(chat_id, int) or user.get("is_bot") or not isinstance(user.get("id"), int):
        return "ignored:private"
    if not isinstance(text, str) or not text.startswith("/start"):
        _say(client, chat_id, HELP)
        return "private:help"
    if not is_member(client, user):
        logger.warning("telegram_private_start_refused user=%s reason=not_member", user.get("id"))
        _say(client, chat_id, NOT_MEMBER)
        return "private:not_member"
    agent = agents.for_telegram_user(user)
    if agent.telegram_private_chat_id != chat_id:
        agent.telegram_private_chat_id = chat_id
        agent.save(update_fields=["telegram_private_chat_id"])
    template = LINKED if agent.telegram_username else LINKED_NO_USERNAME
    _say(client, chat_id, template.format(name=esc(agent.name), username=esc(agent.telegram_username)))
    logger.info("telegram_agent_linked agent=%s", agent.pk)
    return "private:linked"
