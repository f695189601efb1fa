"""Agents correct their replies (issue 15, additive).

- client→server `edit_message` {message_id, text} (admins only): the agent's own reply
  of the last 48 hours gets the new text; the ack is {"ok": true, "message": {id,
  thread_id, content_text, edited_iso}, "changed": bool}. Refusals: `unknown_message`,
  `not_your_message` (a visitor's message or a colleague's reply), `not_editable`
  (too old, or a text message left empty), and the usual field refusals.
- server→thread room and admin_room `message_edited` {id, thread_id, content_text,
  edited_iso, via}: the pages replace the bubble's text and mark it "edited". Edits made
  in Telegram arrive the same way; panel edits are mirrored to Telegram by the bridge.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from .. import desk, services
from ..serializers import iso_time
from ..validation import parse_text, parse_thread_id, require_mapping
from .db_worker import run_db
from .handlers import _rate_limit, _require_admin, event


def _edit_as_agent(session_key: str | None, message_id, text: str | None) -> tuple:
    return services.edit_message(message_id, text, "panel", desk.session_agent(session_key))


@event("edit_message")
async def edit_message(sid: str, data: Any) -> dict:
    state = await _require_admin(sid, await _rate_limit(sid, "message", settings.SOCKET_MESSAGES_PER_MINUTE))
    data = require_mapping(data)
    message_id = parse_thread_id(data.get("message_id"), field="message_id")
    text = parse_text(data.get("text"), False)
    message, changed = await run_db(_edit_as_agent, state.get("session_key"), message_id, text)
    return {
        "ok": True,
        "message": {
            "id": str(message.id),
            "thread_id": str(message.thread_id),
            "content_text": message.content_text,
            "edited_iso": iso_time(message.edited_at),
        },
        "changed": changed,
    }
