"""Cheaper delivery of the events every message sends (issue 16).

python-socketio spends, per emitted event, more on bookkeeping than on the event: it
walks the payload for binary parts with a list and a lambda per value, and starts a task
per recipient, then waits for them all, although handing a packet to a connected socket
is a put on its unbounded queue that never waits. These replacements keep the packets
byte for byte the same. (The JSON encoder it built per packet is kept once in
chat.realtime.payload_json.)
"""

from __future__ import annotations

import logging
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet as sio_packet

logger = logging.getLogger("chat.realtime")


def has_binary(data: Any) -> bool:
    """Whether `data` holds bytes anywhere (they go as Socket.IO attachments)."""
    if isinstance(data, dict):
        data = data.values()
    elif not isinstance(data, list):
        return isinstance(data, (bytes, bytearray))
    for item in data:
        if isinstance(item, (dict, list)):
            if has_binary(item):
                return True
        elif isinstance(item, (bytes, bytearray)):
            return True
    return False


class Packet(sio_packet.Packet):
    """python-socketio's packet, with a binary check that stops at the first answer."""

    @classmethod
    def data_is_binary(cls, data: Any) -> bool:
        return has_binary(data)


class DirectEmitManager(socketio.AsyncManager):
    """The in-process manager, sending one encoded packet to each recipient in turn.

    The stock manager creates a task per recipient and waits for all of them; a send
    only queues the packet on the socket, so the tasks cost loop turns and buy nothing.
    Emits that ask for a callback (none of ours to rooms) keep the stock path. As with
    the stock tasks, one recipient's failure (a socket closed meanwhile) is not the
    others' nor the emitter's.
    """

    async def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None, to=None, **kwargs):
        room = to or room
        if callback or namespace not in self.rooms:
            return await super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback)
        if isinstance(data, tuple):
            data = list(data)
        elif data is not None:
            data = [data]
        else:
            data = []
        if not isinstance(skip_sid, list):
            skip_sid = [skip_sid]
        encoded = self.server.packet_class(
            sio_packet.EVENT, namespace=namespace, data=[event] + data
        ).encode()
        if not isinstance(encoded, list):
            encoded = [encoded]
        packets = [eio_packet.Packet(eio_packet.MESSAGE, part) for part in encoded]
        for sid, eio_sid in list(self.get_participants(namespace, room)):
            if sid in skip_sid:
                continue
            try:
                for part in packets:
                    await self.server._send_eio_packet(eio_sid, part)
            except Exception:
                logger.debug("event=%s sid=%s send_failed", event, sid, exc_info=True)
