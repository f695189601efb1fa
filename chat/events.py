"""The one exit for events: what the chat domain tells connected clients.

Only the domain operations (`chat.services`) call `send_on_commit`, and only after
the change is in the database: a client is never told of a change that was rolled
back. Outside a transaction the event goes at once (Django runs on_commit callbacks
immediately in autocommit mode).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction

# The contract's room of every signed-in panel socket.
ADMIN_ROOM = "admin_room"


def thread_room(thread_id: uuid.UUID | str) -> str:
    """The room of the visitor sockets of one thread (the contract names it by the id)."""
    return str(thread_id)


def send_on_commit(event: str, data: dict[str, Any], room: str) -> None:
    """Emit `event` with `data` to `room` once the current transaction commits."""
    from .realtime.publishing import publish

    transaction.on_commit(lambda: publish(event, data, room))
