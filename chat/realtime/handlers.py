"""Socket.IO events of the contract (section 7), plus additive ones (typing, seen).

Each handler validates its payload, checks who is asking, calls one domain operation
and answers through the acknowledgement: {"ok": true, ...}, or for a refusal
(chatdesk/refusals.py) {"ok": false, "error": <text in the connection's language>,
"code": ...}. A refused event changes nothing and leaves the connection up. `register(sio)` (called
by `chatdesk.startup`) attaches them all to the process's server.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.utils import translation
from redis.exceptions import RedisError
from socketio.exceptions import ConnectionRefusedError

from chatdesk import ratelimit, refusals
from chatdesk.clientip import client_ip
from chatdesk.refusals import (
    AdminRequired,
    ConversationLimit,
    InvalidPayload,
    NestedTooDeep,
    NotYourThread,
    RateLimited,
    Refusal,
    ServerError,
    TemporarilyUnavailable,
    TooManyConnections,
)

from .. import blocks, desk, selectors, services, visitor_context
from ..events import ADMIN_ROOM
from ..serializers import iso_time, message_payload, messages_to_dicts
from ..validation import parse_display_name, parse_message, parse_thread_id, require_mapping
from . import connection_counts, identity, panel_sockets, payload_json, presence, server
from .db_worker import GroupedCalls, run_db

logger = logging.getLogger("chat.sockets")

Handler = Callable[..., Awaitable[dict]]

# Every handler of this module by event name, attached to the server by register().
_handlers: dict[str, Callable[..., Awaitable[Any]]] = {}


def register(sio) -> None:
    """Attach every event handler of this module (and of desk_handlers) to `sio`."""
    # Modules whose events register here: the desk's life cycle, set_email.
    from . import agent_handlers, desk_handlers, edit_handlers, email_handlers  # noqa: F401

    for name, handler in _handlers.items():
        sio.on(name, handler)


def _on(name: str):
    def decorate(handler):
        _handlers[name] = handler
        return handler

    return decorate


async def _refusal_ack(sid: str, refusal: Refusal) -> dict:
    """The ack of a refusal, in the language the connection chose at connect."""
    try:
        language = (await server.get().get_session(sid)).get("language")
    except Exception:  # no session (Redis down): the default language still answers
        language = None
    with translation.override(language or settings.LANGUAGE_CODE):
        return refusals.ack(refusal)


def event(name: str) -> Callable[[Handler], Handler]:
    """Register a handler for `name` that always answers with an ack, never a crash."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapper(sid: str, *args: Any) -> dict:
            try:
                # Socket.IO lets a client send any number of arguments; ours take one.
                if len(args) > 1:
                    raise InvalidPayload(variant="too_many_arguments")
                return await handler(sid, args[0] if args else None)
            except Refusal as exc:
                logger.info("socket_refused event=%s sid=%s code=%s", name, sid, exc.code)
                return await _refusal_ack(sid, exc)
            except DatabaseError:
                logger.exception("socket_failed event=%s sid=%s reason=database", name, sid)
                return await _refusal_ack(sid, TemporarilyUnavailable())
            except Exception:
                logger.exception("socket_failed event=%s sid=%s", name, sid)
                return await _refusal_ack(sid, ServerError())

        _handlers[name] = wrapper
        return wrapper

    return decorate


def _within_rate(state: dict, bucket: str, per_minute: int) -> int | None:
    """Count one event in the connection's minute; None when it fits, else the seconds
    until the next minute starts."""
    now = time.monotonic()
    start, count = state.get(bucket, (now, 0))
    if now - start >= 60:
        start, count = now, 0
    if count >= per_minute:
        return max(1, math.ceil(60 - (now - start)))
    state[bucket] = (start, count + 1)
    return None


async def _rate_limit(sid: str, bucket: str, per_minute: int) -> dict:
    """Count this event against the connection's rate; return its session for the
    handler's checks, so an event reads the session once.

    The session is the live dict the engine.io socket holds in this process (with Redis
    too), so changing it in place needs no save_session(); "rates" appears on first use.
    """
    state = await server.get().get_session(sid)
    retry_after = _within_rate(state.setdefault("rates", {}), bucket, per_minute)
    if retry_after is not None:
        raise RateLimited(retry_after=retry_after)
    return state


async def _count_for_address(
    state: dict, scope: str, limit: int, window_seconds: int, refusal: type[Refusal] = RateLimited
) -> None:
    """Count one event against the connection's client address, across its connections and
    the server processes (chatdesk/ratelimit.py, hit_hot: not a database row that every
    visitor behind one address updates in turn), so reconnecting opens no new budget."""
    if await run_db(ratelimit.hit_hot, scope, state["ip"], limit, window_seconds) < 1:
        logger.warning("socket_refused ip=%s reason=%s_per_address", state["ip"], scope)
        raise refusal(retry_after=ratelimit.retry_after(window_seconds))


async def _require_admin(sid: str, state: dict | None = None) -> dict:
    if state is None:
        state = await server.get().get_session(sid)
    if not state.get("is_admin") or not await run_db(identity.session_is_admin, state.get("session_key")):
        raise AdminRequired()
    return state


def _require_own_thread(state: dict, thread_id: uuid.UUID) -> None:
    if str(thread_id) not in state.get("threads", ()):
        raise NotYourThread()


@_on("connect")
async def connect(sid: str, environ: dict, auth: Any = None) -> None:
    ip = client_ip(environ)
    # Refusals to this connection (its acks, and this handshake's) speak its language.
    language = refusals.client_language(
        environ.get("HTTP_COOKIE", ""), environ.get("HTTP_ACCEPT_LANGUAGE", "")
    )
    try:
        try:
            open_now = await connection_counts.get().add(ip, sid)
        except RedisError:
            # Counting needs Redis; while it is down, visitors may still connect.
            logger.warning("connection_count_unavailable ip=%s", ip)
            open_now = 0
        if open_now > settings.SOCKETIO_MAX_CONNECTIONS_PER_IP:
            logger.warning("socket_refused event=connect ip=%s reason=too_many_connections", ip)
            raise TooManyConnections()
        session_key = identity.session_key_from_cookie_header(environ.get("HTTP_COOKIE", ""))
        who = await run_db(identity.load_identity, session_key)
        await server.get().save_session(
            sid,
            {
                "ip": ip,
                "session_key": who.session_key,
                "is_admin": who.is_admin,
                "threads": who.thread_ids,
                "language": language,
                # For the visitor context's browser and OS (issue 14), parsed at join.
                "user_agent": environ.get("HTTP_USER_AGENT", "")[:512],
            },
        )
    except Refusal as exc:
        await _uncount(ip, sid)
        raise _connect_refused(exc, language) from None
    except asyncio.CancelledError:
        await _uncount(ip, sid)
        raise
    except Exception as exc:
        # The database or Redis failed: this socket must not count, and the client must
        # hear a refusal (it retries) instead of a handshake left hanging.
        await _uncount(ip, sid)
        logger.exception("socket_failed event=connect ip=%s", ip)
        raise _connect_refused(TemporarilyUnavailable(), language) from exc


async def _panel_opened(sid: str) -> None:
    try:
        await presence.get().add(sid)
    except Exception:  # Redis down: this process still counts it (presence.agents_online)
        logger.warning("presence_add_failed sid=%s", sid, exc_info=True)
    presence.check_soon()


async def _panel_closed(sid: str) -> None:
    try:
        if not await presence.get().remove(sid):
            return
    except Exception:
        logger.warning("presence_remove_failed sid=%s", sid, exc_info=True)
    presence.check_soon()


def _connect_refused(refusal: Refusal, language: str) -> ConnectionRefusedError:
    """A refused handshake: the client's `connect_error` gets the text as `message` and
    the code (and extras) as `data` ({"code": ...})."""
    with translation.override(language):
        return ConnectionRefusedError(refusal.text(), {"code": refusal.code, **refusal.extra})


async def _uncount(ip: str, sid: str) -> None:
    try:
        await connection_counts.get().remove(ip, sid)
    except Exception:  # Redis down: the entry expires by itself (chat/realtime/connection_counts.py)
        logger.warning("connection_uncount_failed ip=%s", ip, exc_info=True)


@_on("disconnect")
async def disconnect(sid: str, reason: Any = None) -> None:
    state = await server.get().get_session(sid)
    if "ip" not in state:  # refused in connect: already uncounted there
        return
    await _uncount(state["ip"], sid)
    await _panel_closed(sid)
    if state.get("viewing") and state.get("agent"):
        from .agent_handlers import stop_viewing

        await stop_viewing(sid, state)
    if state.get("is_admin") and state.get("session_key"):
        try:
            await run_db(panel_sockets.unregister, state["session_key"], sid)
        except Exception:  # Redis down: a stale sid in that list is harmless at sign-out
            logger.warning("admin_socket_unregister_failed sid=%s", sid, exc_info=True)


@event("join")
async def join(sid: str, data: Any) -> dict:
    """A visitor opens a conversation (or comes back to theirs, with `thread_id`)."""
    state = await _rate_limit(sid, "join", settings.SOCKET_JOINS_PER_MINUTE)
    data = require_mapping(data)
    display_name = parse_display_name(data.get("display_name"))
    thread = None
    if data.get("thread_id") is not None:
        wanted = parse_thread_id(data.get("thread_id"))
        if str(wanted) in state["threads"]:
            thread = await run_db(selectors.get_thread, wanted)
    resumed = thread is not None
    if thread is None:
        await _count_for_address(
            state, "conversations", settings.CONVERSATIONS_PER_HOUR_PER_IP, 3600, ConversationLimit
        )
        visitor = blocks.Visitor.of(state["ip"], state.get("session_key"))
        thread = await run_db(services.create_thread, display_name, visitor)
    thread_id = str(thread.id)
    async with server.get().session(sid) as session_state:
        session_state["threads"].add(thread_id)
    await run_db(identity.remember_thread, state.get("session_key"), thread_id)
    await server.get().enter_room(sid, thread_id)
    # Visitors hear when the desk's availability changes (chat/realtime/presence.py).
    await server.get().enter_room(sid, presence.VISITORS_ROOM)
    if getattr(thread, "email_language", None) != state.get("language"):
        await run_db(services.set_email_language, thread.id, state.get("language") or "")
    await _record_context(state, thread.id, data.get("context"))
    await server.get().emit("joined", {"thread_id": thread_id}, to=sid)
    history = []
    if resumed:
        history = await run_db(_history, thread.id)
    return {
        "ok": True,
        "thread_id": thread_id,
        "display_name": thread.display_name,
        "resumed": resumed,
        "messages": history,
        # Additive: how far the admins have read, so "Seen" survives a reload.
        "admin_seen_iso": iso_time(thread.admin_seen_at) if resumed else None,
        "visitor_seen_iso": iso_time(thread.visitor_seen_at) if resumed else None,
        # Additive (issue 14): can anyone answer now, and the visitor's email for replies.
        "availability": await _availability(sid),
        "email": getattr(thread, "email", "") or None,
        "email_enabled": settings.EMAIL_ENABLED,
        "email_ask_after_seconds": settings.EMAIL_ASK_AFTER_SECONDS,
    }


async def _record_context(state: dict, thread_id, sent: Any) -> None:
    """Visitor context at join (issue 14): what the page sent (bad fields dropped), the
    browser and OS from the User-Agent, and how many other conversations this session had."""
    context = visitor_context.parse_lenient(sent)
    context.update(visitor_context.browser_and_os(state.get("user_agent")))
    context["previous_conversations"] = len(set(state.get("threads", ())) - {str(thread_id)})
    try:
        await run_db(services.set_visitor_context, thread_id, context)
    except DatabaseError:  # never fail a join for it
        logger.warning("visitor_context_failed thread=%s", thread_id, exc_info=True)


@event("context")
async def context(sid: str, data: Any) -> dict:
    """Additive (issue 14): {thread_id, context} when the visitor navigates (the launcher
    tells the frame); answers {"ok": true, "context"} as agents now see it."""
    state = await _rate_limit(sid, "context", settings.SOCKET_MESSAGES_PER_MINUTE)
    data = require_mapping(data)
    thread_id = parse_thread_id(data.get("thread_id"))
    _require_own_thread(state, thread_id)
    parsed = visitor_context.parse(data.get("context"))
    return {"ok": True, "context": await run_db(services.set_visitor_context, thread_id, parsed)}


def _history(thread_id) -> list[dict]:
    """A resumed thread's messages as the join ack carries them (their agents read here,
    on the database thread)."""
    return messages_to_dicts(selectors.thread_messages(thread_id, settings.MESSAGES_DEFAULT_LIMIT))


async def _availability(sid: str) -> dict | None:
    try:
        return await presence.check(skip_sid=sid, fresh=False)
    except Exception:  # never fail a join for it; the next check tells the visitor
        logger.warning("availability_check_failed", exc_info=True)
        return None


@event(payload_json.UNREADABLE_EVENT)
async def unreadable_payload(sid: str, data: Any) -> dict:
    """Any event whose payload could not be decoded (chat/realtime/payload_json.py)."""
    raise NestedTooDeep()


@event("admin_join")
async def admin_join(sid: str, data: Any) -> dict:
    state = await _require_admin(sid, await _rate_limit(sid, "join", settings.SOCKET_JOINS_PER_MINUTE))
    await server.get().enter_room(sid, ADMIN_ROOM)
    # Who this panel is, for the agent_typing / agent_viewing events others see (issue 13).
    state["agent"] = await run_db(_agent_dict, state.get("session_key"))
    await _panel_opened(sid)
    await run_db(panel_sockets.register, state["session_key"], sid)
    return {"ok": True}


@event("heartbeat")
async def heartbeat(sid: str, data: Any) -> dict:
    state = await _rate_limit(sid, "heartbeat", settings.SOCKET_HEARTBEATS_PER_MINUTE)
    thread_id = parse_thread_id(require_mapping(data).get("thread_id"))
    _require_own_thread(state, thread_id)
    if not await run_db(services.record_activity, thread_id):
        raise services.ThreadNotFound(str(thread_id))
    return {"ok": True}


@event("message_to_admin")
async def message_to_admin(sid: str, data: Any) -> dict:
    state = await _rate_limit(sid, "message", settings.SOCKET_MESSAGES_PER_MINUTE)
    message_input = parse_message(data)
    _require_own_thread(state, message_input.thread_id)
    visitor = blocks.Visitor.of(state["ip"], state.get("session_key"))
    grouped = _visitor_messages()
    message, created = await grouped(state["ip"], message_input, visitor)
    return {"ok": True, "message": message_payload(message), "duplicate": not created}


def _count_and_post(calls: list[tuple]) -> list:
    """On the database thread, for the visitor messages that queued up together: count
    them against their addresses (chatdesk.ratelimit.hit_hot, once per address), then
    store those within their limit as one group (chat.services.post_visitor_messages)."""
    per_address = Counter(ip for ip, _input, _visitor in calls)
    within = {
        ip: ratelimit.hit_hot("messages", ip, settings.MESSAGES_PER_MINUTE_PER_IP, 60, events)
        for ip, events in per_address.items()
    }
    outcomes: list = [None] * len(calls)
    accepted = []
    for index, (ip, _message_input, _visitor) in enumerate(calls):
        if within[ip] > 0:
            within[ip] -= 1
            accepted.append(index)
        else:
            logger.warning("socket_refused ip=%s reason=messages_per_address", ip)
            outcomes[index] = RateLimited(retry_after=ratelimit.retry_after(60))
    stored = services.post_visitor_messages([calls[i][1:] for i in accepted], via="socket")
    for index, outcome in zip(accepted, stored, strict=True):
        outcomes[index] = outcome
    return outcomes


_grouped: GroupedCalls | None = None


def _visitor_messages() -> GroupedCalls:
    """Group commit of visitor messages (chat/realtime/db_worker.py, GroupedCalls), each
    group lingering MESSAGE_STORE_LINGER_US for the messages right behind it."""
    global _grouped
    if _grouped is None:
        _grouped = GroupedCalls(_count_and_post, linger=settings.MESSAGE_STORE_LINGER_US / 1_000_000)
    return _grouped


@event("message_to_visitor")
async def message_to_visitor(sid: str, data: Any) -> dict:
    state = await _require_admin(sid, await _rate_limit(sid, "message", settings.SOCKET_MESSAGES_PER_MINUTE))
    message_input = parse_message(data)
    message, created = await run_db(_post_as_agent, state.get("session_key"), message_input)
    return {"ok": True, "message": message_payload(message), "duplicate": not created}


def _post_as_agent(session_key: str | None, message_input) -> tuple:
    """The reply, signed by the session's agent (issue 13), and its payload built here on
    the database thread (it reads the agent)."""
    message, created = services.post_admin_message(message_input, "panel", desk.session_agent(session_key))
    message_payload(message)
    return message, created


@event("typing")
async def typing(sid: str, data: Any) -> dict:
    """Additive: {thread_id, typing: bool} from either side, relayed to the other."""
    state = await _rate_limit(sid, "typing", settings.SOCKET_MESSAGES_PER_MINUTE)
    data = require_mapping(data)
    thread_id = parse_thread_id(data.get("thread_id"))
    payload = {"thread_id": str(thread_id), "typing": bool(data.get("typing", True))}
    if str(thread_id) in state.get("threads", ()):
        await server.get().emit("visitor_typing", payload, room=ADMIN_ROOM)
    elif state.get("is_admin"):
        await _require_admin(sid, state)
        await server.get().emit("admin_typing", payload, room=str(thread_id))
        # The other panels see who is replying ("Mert is replying…"), additive.
        if state.get("agent"):
            await server.get().emit(
                "agent_typing", {**payload, "agent": state["agent"]}, room=ADMIN_ROOM, skip_sid=sid
            )
    else:
        raise NotYourThread()
    return {"ok": True}


@event("mark_seen")
async def mark_seen(sid: str, data: Any) -> dict:
    """Additive: an admin has read a thread up to now (the visitor sees a "seen" mark), or
    the visitor has read the admins' replies (the panel shows it)."""
    state = await _rate_limit(sid, "seen", settings.SOCKET_MESSAGES_PER_MINUTE)
    thread_id = parse_thread_id(require_mapping(data).get("thread_id"))
    if str(thread_id) in state.get("threads", ()):
        if not await run_db(services.mark_seen_by_visitor, thread_id):
            raise services.ThreadNotFound(str(thread_id))
        return {"ok": True}
    await _require_admin(sid, state)
    seen_at = require_mapping(data).get("seen_at")
    if not await run_db(services.mark_seen, thread_id, seen_at if isinstance(seen_at, str) else None):
        raise services.ThreadNotFound(str(thread_id))
    # The agent's own unread count of this thread is 0 now, on all their browsers.
    await run_db(_mark_read, state.get("session_key"), thread_id)
    return {"ok": True}


def _agent_dict(session_key: str | None) -> dict | None:
    agent = desk.session_agent(session_key)
    return agent.to_dict() if agent is not None else None


def _mark_read(session_key: str | None, thread_id: uuid.UUID) -> None:
    services.mark_read(thread_id, desk.session_agent(session_key))
