"""chat/realtime/emission.py: the cheaper delivery sends what python-socketio sends.

The recipients' transport (python-engineio's send_packet) is replaced by a recorder: what
is checked is which packets each recipient is handed, byte for byte against the stock
manager, and that one dead recipient does not cost the others their packet.
"""

import asyncio

import socketio
from engineio import exceptions as eio_exceptions
from hypothesis import given
from hypothesis import strategies as st
from socketio import packet as sio_packet

from chat.realtime import emission, payload_json

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5) | st.binary(max_size=3),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=3), children, max_size=4)
    ),
    max_leaves=12,
)


@given(json_values)
def test_the_binary_check_answers_as_python_socketios(data):
    assert emission.has_binary(data) == sio_packet.Packet.data_is_binary(data)
    assert emission.has_binary([data, "x"]) == sio_packet.Packet.data_is_binary([data, "x"])


@given(json_values)
def test_packets_encode_the_same(data):
    stock = sio_packet.Packet(sio_packet.EVENT, data=["event", data], id=7).encode()
    ours = emission.Packet(sio_packet.EVENT, data=["event", data], id=7).encode()
    assert ours == stock


@given(json_values.filter(lambda v: not emission.has_binary(v)))
def test_the_kept_encoder_writes_what_json_dumps_writes(data):
    import json

    assert payload_json.PayloadJSON.dumps(data, separators=(",", ":")) == json.dumps(
        data, separators=(",", ":")
    )
    assert payload_json.PayloadJSON.dumps(data) == json.dumps(data)


def _server(manager):
    """A real python-socketio server on `manager`, whose transport records each send."""
    server = socketio.AsyncServer(async_mode="asgi", client_manager=manager, serializer=emission.Packet)
    sent: dict[str, list] = {}

    async def send_packet(eio_sid, pkt):
        if eio_sid == "dead":
            raise eio_exceptions.SocketIsClosedError()
        sent.setdefault(eio_sid, []).append(pkt.encode())

    server.eio.send_packet = send_packet
    return server, sent


async def _join(manager, eio_sids, room):
    for eio_sid in eio_sids:
        sid = await manager.connect(eio_sid, "/")
        await manager.enter_room(sid, "/", room)


def test_a_room_gets_the_stock_managers_packets_and_a_dead_socket_stops_no_one():
    payload = {"thread_id": "t", "text": "Merhaba", "nested": [1, {"a": None}]}

    async def deliveries(manager):
        server, sent = _server(manager)
        await _join(manager, ["a", "dead", "b", "c"], "admins")
        skip = manager.sid_from_eio_sid("c", "/")
        await server.emit("message_from_visitor", payload, room="admins", skip_sid=skip)
        return sent

    stock = asyncio.run(deliveries(socketio.AsyncManager()))
    ours = asyncio.run(deliveries(emission.DirectEmitManager()))
    assert set(ours) == {"a", "b"}  # the dead one failed alone; the skipped one got nothing
    assert ours == stock
    assert ours["a"] == ours["b"] and len(ours["a"]) == 1


def test_binary_payloads_go_as_attachments_like_the_stock_managers():
    async def deliveries(manager):
        server, sent = _server(manager)
        await _join(manager, ["a"], "room")
        await server.emit("file", {"bytes": b"\x00\x01", "name": "x"}, room="room")
        return sent

    ours = asyncio.run(deliveries(emission.DirectEmitManager()))
    assert ours == asyncio.run(deliveries(socketio.AsyncManager()))
    assert len(ours["a"]) == 2  # the placeholder packet, then the attachment


def test_an_emit_with_a_callback_keeps_the_stock_path():
    """python-socketio numbers each recipient's packet for its acknowledgement."""

    async def deliveries(manager):
        server, sent = _server(manager)
        await _join(manager, ["a", "b"], "room")
        await server.emit("ask", {"q": 1}, room="room", callback=lambda *answer: None)
        return sent

    ours = asyncio.run(deliveries(emission.DirectEmitManager()))
    assert ours == asyncio.run(deliveries(socketio.AsyncManager()))
    assert ours["a"] == ['421["ask",{"q":1}]'] and ours["b"] == ['421["ask",{"q":1}]']
