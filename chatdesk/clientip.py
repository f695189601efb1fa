"""The client's address, for rate limits and logs: one rule for HTTP and Socket.IO.

The peer address is the other end of the TCP connection, as the ASGI server reports it in
`scope["client"]`. Django puts it in `request.META["REMOTE_ADDR"]`; python-engineio's
ASGI driver does not (it hard-codes REMOTE_ADDR = 127.0.0.1 in the environ it builds for
Socket.IO handlers) but keeps the scope as `environ["asgi.scope"]`, so both are read here.

Behind reverse proxies (TRUSTED_PROXY_HOPS = N > 0) the client is the address the
N-th proxy from us saw: each proxy appends the address it was connected from to
X-Forwarded-For, so that is the N-th entry from the right. Everything left of it was
written by the client and is ignored. daphne is never asked to read the header itself
(`--proxy-headers` takes the leftmost entry, which the client chooses).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from django.conf import settings


def peer_address(meta: Mapping[str, Any]) -> str:
    """The address at the other end of the connection (a proxy, when there is one)."""
    scope = meta.get("asgi.scope")
    if scope is not None:
        client = scope.get("client")
        return str(client[0]) if client else "unknown"
    return meta.get("REMOTE_ADDR") or "unknown"


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip().strip("[]")))
    except ValueError:
        return None


def client_ip(meta: Mapping[str, Any]) -> str:
    """The client's address, from a Django request's META or a Socket.IO environ.

    The peer address, or with TRUSTED_PROXY_HOPS = N the N-th X-Forwarded-For entry from
    the right (only behind proxies that append to the header; otherwise clients could
    forge it to escape rate limits).
    """
    peer = peer_address(meta)
    hops = settings.TRUSTED_PROXY_HOPS
    if hops <= 0:
        return peer
    forwarded = [entry.strip() for entry in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()]
    if not forwarded:
        return peer  # reached us without a proxy (a health check on the host itself)
    # Fewer entries than trusted hops: the leftmost was still written by a trusted proxy.
    return _valid_ip(forwarded[-min(hops, len(forwarded))]) or peer
