"""chatdesk.clientip: one client address for HTTP (request.META) and Socket.IO (the
engine.io environ), X-Forwarded-For only as far as TRUSTED_PROXY_HOPS says.
(Live tests from separate addresses: tests/security/test_socket_abuse.py and
test_http_abuse.py.)"""

from __future__ import annotations

import pytest

from chatdesk.clientip import client_ip


def socket_environ(peer: str, forwarded: str | None = None) -> dict:
    """What python-engineio's ASGI driver hands a connect handler: REMOTE_ADDR is always
    127.0.0.1; the real peer is only in the ASGI scope."""
    environ = {"REMOTE_ADDR": "127.0.0.1", "asgi.scope": {"type": "websocket", "client": (peer, 50123)}}
    if forwarded is not None:
        environ["HTTP_X_FORWARDED_FOR"] = forwarded
    return environ


def test_sockets_use_the_peer_from_the_asgi_scope(settings):
    settings.TRUSTED_PROXY_HOPS = 0
    assert client_ip(socket_environ("198.51.100.7")) == "198.51.100.7"
    assert client_ip({"REMOTE_ADDR": "198.51.100.7"}) == "198.51.100.7"
    assert client_ip({"asgi.scope": {"client": None}}) == "unknown"


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXY_HOPS = 0
    assert client_ip({"REMOTE_ADDR": "198.51.100.7", "HTTP_X_FORWARDED_FOR": "10.0.0.1"}) == "198.51.100.7"
    assert client_ip(socket_environ("198.51.100.7", "10.0.0.1")) == "198.51.100.7"


@pytest.mark.parametrize(
    ("hops", "forwarded", "expected"),
    [
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the client wrote the left one
        (1, "6.6.6.6,203.0.113.9 ", "203.0.113.9"),
        (2, "6.6.6.6, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
        (2, "203.0.113.9", "203.0.113.9"),  # fewer entries than hops: the leftmost
        (1, "2001:db8::1", "2001:db8::1"),
        (1, "not-an-address", "198.51.100.7"),  # nonsense from a proxy: the peer
        (1, "", "198.51.100.7"),  # no header: reached us directly
    ],
)
def test_behind_proxies_the_entry_that_many_hops_from_the_right_counts(settings, hops, forwarded, expected):
    settings.TRUSTED_PROXY_HOPS = hops
    assert client_ip({"REMOTE_ADDR": "198.51.100.7", "HTTP_X_FORWARDED_FOR": forwarded}) == expected
    assert client_ip(socket_environ("198.51.100.7", forwarded)) == expected
