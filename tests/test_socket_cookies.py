"""Sockets read the session cookie like Django's HTTP side does, whatever other cookies
the browser sends along (consent banners and analytics on the parent domain)."""

from __future__ import annotations

import pytest
import socketio

from tests.support.clients import Browserish, Recorder, sign_in

# Cookies real sites set on a parent domain: a JSON value (a consent banner), a space.
# The standard library's SimpleCookie reads no cookie at all from such a header.
ODD_COOKIES = [
    'cc_cookie={"categories":["necessary"],"revision":0}',
    "theme=dark mode",
]


def with_odd_cookie(odd: str, http: Browserish) -> str:
    return f"{odd}; {http.cookie_header()}; _ga=GA1.2.3.4"


async def connect(base_url: str, cookie_header: str) -> Recorder:
    """A socket whose handshake carries this Cookie header byte for byte, as a browser sends
    it. (python-engineio's client would re-parse a `Cookie` header with SimpleCookie itself
    and send nothing; headers in websocket_extra_options go out untouched.)"""
    client = Recorder(base_url)
    client.sio = socketio.AsyncClient(
        reconnection=False, websocket_extra_options={"headers": {"Cookie": cookie_header}}
    )
    client.sio.on("*", client._record)
    return await client.connect()


@pytest.mark.parametrize("odd", ODD_COOKIES)
async def test_admin_socket_is_accepted_beside_an_odd_cookie(server, odd):
    admin_http = sign_in(server.url)
    # The HTTP side (Django's parser) sees the admin with that header...
    page = admin_http.get("/api/threads", headers={"Cookie": with_odd_cookie(odd, admin_http)})
    assert page.status_code == 200
    # ...and so does the socket.
    client = await connect(server.url, with_odd_cookie(odd, admin_http))
    assert await client.call("admin_join", {}) == {"ok": True}
    await client.close()


@pytest.mark.parametrize("odd", ODD_COOKIES)
async def test_visitor_resumes_their_thread_beside_an_odd_cookie(server, odd):
    page = Browserish(server.url)
    page.get("/")
    first = await connect(server.url, with_odd_cookie(odd, page))
    ack = await first.call("join", {"display_name": "Deniz"})
    assert ack["ok"] is True and ack["resumed"] is False, ack
    thread_id = ack["thread_id"]
    sent = await first.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "ilk"})
    assert sent["ok"] is True, sent
    await first.close()
    # A reload: the same cookies, a new connection, back to the same conversation.
    again = await connect(server.url, with_odd_cookie(odd, page))
    ack = await again.call("join", {"display_name": "Deniz", "thread_id": thread_id})
    assert (ack["ok"], ack["resumed"], ack["thread_id"]) == (True, True, thread_id), ack
    assert [m["content_text"] for m in ack["messages"]] == ["ilk"]
    await again.close()
