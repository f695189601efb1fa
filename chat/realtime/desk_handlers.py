"""Socket.IO events of the desk's life cycle (issue 13, additive), from the panel:

- `claim_thread` {thread_id}: the signed-in agent takes the conversation;
- `assign_thread` {thread_id, agent_id}: give it to an agent (null: nobody);
- `resolve_thread` / `reopen_thread` {thread_id};
- `block_visitor` {thread_id, duration: "1h" | "24h" | "7d"}.

Each needs a signed-in admin and answers {"ok": true, "changed": bool, "thread": {...}}
(the thread as /api/threads shows it); every panel hears `thread_updated`. Thin, like
handlers.py: validate, check who asks, call one domain operation.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from chatdesk.refusals import FieldInvalid

from .. import desk, services
from ..serializers import thread_to_dict
from ..validation import parse_thread_id, require_mapping
from .db_worker import run_db
from .handlers import _rate_limit, _require_admin, event


async def _admin_agent(sid: str) -> Any:
    """Check the socket is a signed-in admin; return its agent (None: a session without one)."""
    state = await _require_admin(sid, await _rate_limit(sid, "desk", settings.SOCKET_MESSAGES_PER_MINUTE))
    return await run_db(desk.session_agent, state.get("session_key"))


def _answer(operation, *args) -> dict:
    """Run the operation and build the ack on the database thread (the assignee is read
    there, never on the event loop)."""
    thread, changed = operation(*args)
    return {"ok": True, "changed": changed, "thread": thread_to_dict(thread)}


def _block(thread_id, duration, agent) -> tuple:
    thread, _block = services.block_visitor(thread_id, duration, agent)
    return thread, True


@event("claim_thread")
async def claim_thread(sid: str, data: Any) -> dict:
    agent = await _admin_agent(sid)
    thread_id = parse_thread_id(require_mapping(data).get("thread_id"))
    return await run_db(_answer, services.claim_thread, thread_id, agent)


@event("assign_thread")
async def assign_thread(sid: str, data: Any) -> dict:
    agent = await _admin_agent(sid)
    data = require_mapping(data)
    thread_id = parse_thread_id(data.get("thread_id"))
    assignee = data.get("agent_id")
    if assignee is not None and (isinstance(assignee, bool) or not isinstance(assignee, int)):
        raise FieldInvalid("agent_id")
    return await run_db(_answer, services.assign_thread, thread_id, assignee, agent)


@event("resolve_thread")
async def resolve_thread(sid: str, data: Any) -> dict:
    agent = await _admin_agent(sid)
    thread_id = parse_thread_id(require_mapping(data).get("thread_id"))
    return await run_db(_answer, services.resolve_thread, thread_id, agent)


@event("reopen_thread")
async def reopen_thread(sid: str, data: Any) -> dict:
    agent = await _admin_agent(sid)
    thread_id = parse_thread_id(require_mapping(data).get("thread_id"))
    return await run_db(_answer, services.reopen_thread, thread_id, agent)


@event("block_visitor")
async def block_visitor(sid: str, data: Any) -> dict:
    agent = await _admin_agent(sid)
    data = require_mapping(data)
    thread_id = parse_thread_id(data.get("thread_id"))
    duration = data.get("duration")
    return await run_db(_answer, _block, thread_id, duration, agent)
