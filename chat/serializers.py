"""The contract's JSON shapes for threads and messages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.models import Agent

from . import visitor_context
from .models import Message, Thread

CONTRACT_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def format_time(value: datetime | None) -> str | None:
    """UTC in the database, "YYYY-MM-DD HH:MM:SS" in TIME_ZONE on the wire."""
    if value is None:
        return None
    if value.tzinfo is None:  # not from our database; localtime() says why it refuses
        return timezone.localtime(value).strftime(CONTRACT_TIME_FORMAT)
    # TIME_ZONE (nothing here activates another zone). astimezone + isoformat run in C,
    # several times faster than localtime() + strftime(), and a page of 500 threads formats
    # 1,500 times (bench/README.md, "Where the time goes").
    return value.astimezone(timezone.get_default_timezone()).isoformat(" ", "seconds")[:19]


def iso_time(value: datetime | None) -> str | None:
    """Additive to the contract's strings: the same instant in ISO 8601 with its offset
    (UTC, milliseconds), so pages show it in the reader's own time zone."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = timezone.make_aware(value)
    return value.astimezone(UTC).isoformat(timespec="milliseconds")


def message_to_dict(message: Message, agents: dict | None = None) -> dict[str, Any]:
    """`message` is a Message or a selectors row; `agents` (id → Agent) saves a page of
    messages a query per reply (messages_to_dicts)."""
    data = {
        "id": str(message.id),
        "thread_id": str(message.thread_id),
        "sender": message.sender,
        "type": message.type,
        "content_text": message.content_text,
        "file_path": message.file_path,
        "created_at": format_time(message.created_at),
        "created_iso": iso_time(message.created_at),
    }
    if message.client_id:
        data["client_id"] = message.client_id
    width, height = getattr(message, "width", None), getattr(message, "height", None)
    if width and height:
        data["width"], data["height"] = width, height
    duration_ms = getattr(message, "duration_ms", None)
    if duration_ms is not None:
        data["duration"] = round(duration_ms / 1000, 1)
    edited_at = getattr(message, "edited_at", None)
    if edited_at is not None:
        # Additive (issue 15): an admin corrected the text; the pages mark it "edited".
        data["edited_iso"] = iso_time(edited_at)
    if message.sender == Message.Sender.ADMIN:
        # Additive (issue 13): who answered, {id, name, avatar_url}; None for older replies.
        data["agent"] = agent_to_dict(_message_agent(message, agents))
    return data


def _message_agent(message, agents: dict | None):
    agent_id = getattr(message, "agent_id", None)
    if agent_id is None:
        return None
    if agents is not None and agent_id in agents:
        return agents[agent_id]
    if isinstance(message, Message):
        return message.agent  # cached when the message was stored with its agent
    from accounts.models import Agent

    return Agent.objects.filter(pk=agent_id).first()


def messages_to_dicts(messages: list) -> list[dict[str, Any]]:
    """message_to_dict() of a page of messages, their agents read in one query."""
    ids = {getattr(m, "agent_id", None) for m in messages} - {None}
    agents = {}
    if ids:
        from accounts.models import Agent

        agents = {agent.pk: agent for agent in Agent.objects.filter(pk__in=ids)}
    return [message_to_dict(m, agents) for m in messages]


def message_payload(message: Message) -> dict[str, Any]:
    """message_to_dict(message), built once per Message instance: the event a domain op
    publishes and the handler's ack carry the same dict, so nobody may change it (copy it:
    `dict(payload, via=...)`)."""
    payload = message.__dict__.get("_contract_payload")
    if payload is None:
        payload = message.__dict__["_contract_payload"] = message_to_dict(message)
    return payload


def thread_to_dict(thread: Thread, now: datetime | None = None, agents: dict | None = None) -> dict[str, Any]:
    """`thread` is a Thread or a selectors row with the same attributes; `now` lets a
    page of threads read the clock once, `agents` (id → Agent) its assignees."""
    return {
        "id": str(thread.id),
        "display_name": thread.display_name,
        "created_at": format_time(thread.created_at),
        "last_activity_at": format_time(thread.last_activity_at),
        "last_message": thread.last_message_text,
        "last_message_time": format_time(thread.last_message_at),
        # Additive fields: what the panel needs to draw the list without another request.
        "last_message_type": thread.last_message_type,
        "online": is_online(thread, now),
        "created_iso": iso_time(thread.created_at),
        "last_activity_iso": iso_time(thread.last_activity_at),
        "last_message_iso": iso_time(thread.last_message_at),
        # What each side has read, up to the newest message time (None: nothing yet).
        "admin_seen_iso": iso_time(getattr(thread, "admin_seen_at", None)),
        "visitor_seen_iso": iso_time(getattr(thread, "visitor_seen_at", None)),
        # The address the visitor left for replies while they are away (None: none).
        "email": getattr(thread, "email", "") or None,
        # Visitor context (issue 14): page, browser, local zone... (None: none sent yet).
        "context": visitor_context.public(thread),
        **life_cycle(thread, agents),
    }


def agent_to_dict(agent) -> dict[str, Any] | None:
    """An agent as payloads show them: {id, name, avatar_url} (None: nobody)."""
    return agent.to_dict() if agent is not None else None


def agent_name(agent) -> str:
    return agent.name


def life_cycle(thread, agents: dict | None = None) -> dict[str, Any]:
    """A thread's life-cycle fields (issue 13, additive): open/resolved, its assignee, when
    it was first answered and resolved, until when its visitor is blocked, and its
    `state_version` (bumped by every change of these)."""
    assignee_id = getattr(thread, "assignee_id", None)
    if assignee_id is None:
        assignee = None
    elif agents is not None and assignee_id in agents:
        assignee = agents[assignee_id]
    else:
        assignee = Agent.objects.filter(pk=assignee_id).first()
    return {
        "status": getattr(thread, "status", Thread.Status.OPEN),
        "assignee": agent_to_dict(assignee),
        "first_response_at": format_time(getattr(thread, "first_response_at", None)),
        "resolved_at": format_time(getattr(thread, "resolved_at", None)),
        "blocked_until": format_time(getattr(thread, "blocked_until", None)),
        "blocked_until_iso": iso_time(getattr(thread, "blocked_until", None)),
        "state_version": getattr(thread, "state_version", 0),
    }


def thread_state(thread: Thread, change: str, by=None) -> dict[str, Any]:
    """The `thread_updated` event: which thread, what changed (claimed, assigned,
    unassigned, resolved, reopened, blocked, unblocked), by whom (an agent or None: the
    visitor, staff) and the thread's life-cycle fields after the change."""
    return {"thread_id": str(thread.id), "change": change, "by": agent_to_dict(by), **life_cycle(thread)}


def is_online(thread: Thread, now: datetime | None = None) -> bool:
    if thread.last_activity_at is None:
        return False
    age = ((now or timezone.now()) - thread.last_activity_at).total_seconds()
    return age <= settings.ONLINE_WINDOW_SECONDS
