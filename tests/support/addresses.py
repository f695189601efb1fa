"""Clients with their own source address: 127.0.0.2, 127.0.0.3 ... are separate clients
to a server on 127.0.0.1 (the whole 127/8 is loopback on Linux). Per-address limits are
tested with these, never with a mocked `client_ip`."""

from __future__ import annotations

import aiohttp
import requests
import socketio
from requests.adapters import HTTPAdapter

from tests.support.clients import Browserish, Recorder


class _SourceAddressAdapter(HTTPAdapter):
    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def http_from(base_url: str, address: str) -> Browserish:
    """A Browserish HTTP client whose connections come from `address`."""
    http = Browserish(base_url)
    adapter = _SourceAddressAdapter(address)
    http.mount("http://", adapter)
    return http


def plain_http_from(address: str) -> requests.Session:
    session = requests.Session()
    session.mount("http://", _SourceAddressAdapter(address))
    return session


class AddressedRecorder(Recorder):
    """A recording Socket.IO client whose TCP connections come from `address`."""

    def __init__(self, base_url: str, address: str, cookie: str | None = None):
        super().__init__(base_url, cookie)
        self.address = address
        self.http_session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(local_addr=(address, 0), limit=0)
        )
        self.sio = socketio.AsyncClient(reconnection=False, http_session=self.http_session)
        self.sio.on("*", self._record)

    async def close(self) -> None:
        await super().close()
        await self.http_session.close()


async def socket_from(
    base_url: str, address: str, cookie: str | None = None, headers: dict | None = None
) -> AddressedRecorder:
    """A connected socket from `address`; raises socketio.exceptions.ConnectionError if refused
    (and closes its HTTP session then)."""
    client = AddressedRecorder(base_url, address, cookie)
    try:
        return await client.connect(headers=headers)
    except socketio.exceptions.ConnectionError:
        await client.http_session.close()
        raise


async def refused_from(base_url: str, address: str, headers: dict | None = None) -> str | None:
    """Try to connect from `address`: the refusal's message, or None when it connected
    (the connection is closed again)."""
    try:
        client = await socket_from(base_url, address, headers=headers)
    except socketio.exceptions.ConnectionError as exc:
        return str(exc)
    await client.close()
    return None
