"""Read queries of the desk (issue 13): the panel's views (Open, Mine, Unassigned,
Resolved), their counts, and each agent's unread counts. Writes are in chat.services.

Unread is per agent and kept on the server (`ThreadRead.last_read_at`), so every browser
of an agent shows the same: a thread's unread count is its visitor messages newer than the
agent last read it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db.models import Count, Q, QuerySet

from accounts import signin
from accounts.models import Agent
from chatdesk.refusals import FieldInvalid

from .models import Message, Thread, ThreadRead

VIEWS = ("open", "mine", "unassigned", "resolved")


def request_agent(request):
    """The agent a panel request acts as (None for a session without one)."""
    return signin.current_agent(request)


def session_agent(session_key: str | None):
    """The agent a socket's session acts as (None for a session without one)."""
    return signin.agent_for_session(session_key)


def agents_by_id() -> dict:
    """Every agent by id (a desk has a handful), for serialising a page of threads."""
    return {agent.pk: agent for agent in Agent.objects.all()}


def parse_view(value: str | None) -> str | None:
    """The `view=` parameter: None (every thread, as the contract lists them) or a view."""
    if value in (None, ""):
        return None
    if value not in VIEWS:
        raise FieldInvalid("view", variant="view")
    return value


def view_threads(view: str, agent) -> QuerySet:
    """The threads of one view, for `agent` (Mine is empty without an agent)."""
    threads = Thread.objects.all()
    if view == "resolved":
        return threads.filter(status=Thread.Status.RESOLVED)
    threads = threads.filter(status=Thread.Status.OPEN)
    if view == "unassigned":
        return threads.filter(assignee__isnull=True)
    if view == "mine":
        return threads.filter(assignee=agent) if agent is not None else threads.none()
    return threads


def view_counts(agent) -> dict[str, int]:
    """How many threads each view holds, in one query."""
    mine = Q(status=Thread.Status.OPEN, assignee=agent) if agent is not None else Q(pk__in=[])
    counts = Thread.objects.aggregate(
        open=Count("pk", filter=Q(status=Thread.Status.OPEN)),
        mine=Count("pk", filter=mine),
        unassigned=Count("pk", filter=Q(status=Thread.Status.OPEN, assignee__isnull=True)),
        resolved=Count("pk", filter=Q(status=Thread.Status.RESOLVED)),
    )
    return {view: counts[view] or 0 for view in VIEWS}


def unread_counts(agent, threads: Iterable) -> dict[uuid.UUID, int]:
    """Visitor messages `agent` has not read, per thread of `threads` (rows or Threads with
    `id` and `last_message_at`): one query for the read marks, one for the counts of the
    threads whose last message is newer than the agent's mark."""
    threads = [t for t in threads if t.last_message_at is not None]
    if agent is None or not threads:
        return {}
    marks = dict(
        ThreadRead.objects.filter(agent=agent, thread_id__in=[t.id for t in threads]).values_list(
            "thread_id", "last_read_at"
        )
    )
    never_read, newer = [], Q()
    for thread in threads:
        mark = marks.get(thread.id)
        if mark is None:
            never_read.append(thread.id)
        elif thread.last_message_at > mark:
            newer |= Q(thread_id=thread.id, created_at__gt=mark)
    match = newer | Q(thread_id__in=never_read) if never_read else newer
    if not match:
        return {}
    rows = (
        Message.objects.filter(match, sender=Message.Sender.VISITOR)
        .order_by()
        .values("thread_id")
        .annotate(n=Count("pk"))
        .values_list("thread_id", "n")
    )
    return dict(rows)
