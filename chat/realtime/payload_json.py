"""The JSON codec of Socket.IO packets, with a refusal for payloads nested too deeply.

python-socketio decodes a packet's JSON before any handler runs; a payload nested deeper
than the interpreter's recursion limit raises RecursionError there, which python-engineio
logs as a handler crash while the client's acknowledgement never comes. Decoded here
instead, such a packet becomes the event UNREADABLE_EVENT (its packet id kept), whose
handler answers the caller's acknowledgement with the `nested_too_deep` refusal.
"""

from __future__ import annotations

import json
from typing import Any

UNREADABLE_EVENT = "chatdesk:unreadable_payload"

# python-socketio encodes every packet with these separators (Packet.encode); json.dumps
# with any argument builds a new encoder each call, so one is kept for them.
_COMPACT = json.JSONEncoder(separators=(",", ":"))


class PayloadJSON:
    """A stand-in for the `json` module (python-socketio calls dumps and loads)."""

    @staticmethod
    def dumps(obj: Any, *args: Any, **kwargs: Any) -> str:
        if not args and kwargs == {"separators": (",", ":")}:
            return _COMPACT.encode(obj)
        return json.dumps(obj, *args, **kwargs)

    @staticmethod
    def loads(text: str | bytes, *args: Any, **kwargs: Any) -> Any:
        try:
            return json.loads(text, *args, **kwargs)
        except RecursionError:
            return [UNREADABLE_EVENT]
