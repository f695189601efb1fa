"""Socket events of the visitor's email (issue 14): leaving, changing or clearing it."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from chatdesk.refusals import EmailUnavailable

from .. import services
from ..validation import parse_email, parse_thread_id, require_mapping
from .db_worker import run_db
from .handlers import _rate_limit, _require_own_thread, event


@event("set_email")
async def set_email(sid: str, data: Any) -> dict:
    """{thread_id, email}: the address replies go to while the visitor is away ("" clears
    it). Only for the visitor's own thread."""
    state = await _rate_limit(sid, "email", 30)
    data = require_mapping(data)
    thread_id = parse_thread_id(data.get("thread_id"))
    _require_own_thread(state, thread_id)
    email = parse_email(data.get("email"))
    if email and not settings.EMAIL_ENABLED:
        raise EmailUnavailable()
    await run_db(services.set_visitor_email, thread_id, email)
    return {"ok": True, "email": email or None}
