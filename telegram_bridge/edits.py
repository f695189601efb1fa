"""An admin corrected a message in the admin chat (issue 15): the visitor sees the
correction too.

Telegram sends `edited_message` (subscribed in client.ALLOWED_UPDATES) with the message's
new text or caption. The reply it corrects was stored with the client id
`tg:<chat>:<message>` (inbound.Receiver.message_input), so it is found without a table of
its own; chat.services.edit_message keeps the old text in the edit history and tells the
visitor's page and the panels (`message_edited`). Edits of messages that reached nobody
(hints, commands) change nothing.
"""

from __future__ import annotations

import logging

from chat import services
from chat.models import Message
from chat.validation import parse_text
from chatdesk.refusals import Refusal

from . import admin_chat, outbox
from .messages import esc

logger = logging.getLogger("telegram_bridge.inbound")


def handle(message) -> str:
    if not isinstance(message, dict):
        return "ignored:not_a_message"
    chat_id = (message.get("chat") or {}).get("id")
    if not admin_chat.is_admin_chat(chat_id):
        return "ignored:other_chat"
    message_id = message.get("message_id")
    if not isinstance(message_id, int) or isinstance(message_id, bool):
        return "ignored:malformed"
    stored = (
        Message.objects.filter(sender=Message.Sender.ADMIN, client_id=f"tg:{chat_id}:{message_id}"[:64])
        .only("id", "thread_id")
        .first()
    )
    if stored is None:
        return "ignored:edit_of_nothing"
    from .inbound import author

    try:
        if isinstance(message.get("text"), str):
            text = parse_text(message["text"], True)
        else:
            text = parse_text(message.get("caption"), False)
        _, changed = services.edit_message(stored.id, text, "telegram", author(message))
    except Refusal as exc:
        logger.warning("telegram_edit_refused message=%s code=%s", stored.id, exc.code)
        topic_id = message.get("message_thread_id") if message.get("is_topic_message") else None
        outbox.notice(f"Not changed for the visitor: {esc(str(exc))}", reply_to=message_id, topic_id=topic_id)
        return "edit_refused"
    return "edited" if changed else "edit_unchanged"
