"""Test helpers that read like the product: sign in, open a visitor chat, collect events."""

from __future__ import annotations

import asyncio
from typing import Any

import requests
import socketio


class Browserish(requests.Session):
    """An HTTP client that behaves like the pages: cookies, and the CSRF token on POST."""

    def __init__(self, base_url: str):
        super().__init__()
        self.base_url = base_url

    def url(self, path: str) -> str:
        return self.base_url + path

    def get(self, path: str, **kwargs) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("allow_redirects", False)
        return super().get(self.url(path), **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:  # type: ignore[override]
        if "csrftoken" not in self.cookies:
            super().get(self.url("/login"))
        headers = {"X-CSRFToken": self.cookies.get("csrftoken", ""), **kwargs.pop("headers", {})}
        kwargs.setdefault("allow_redirects", False)
        return super().post(self.url(path), headers=headers, **kwargs)

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.cookies)


def sign_in(base_url: str) -> Browserish:
    """Sign in as admin through /request-otp and /verify-otp (development: code in the answer)."""
    http = Browserish(base_url)
    http.get("/login")
    answer = http.post("/request-otp", json={}).json()
    assert answer["success"], answer
    result = http.post("/verify-otp", json={"otp": answer["otp"]})
    assert result.status_code == 200, result.text
    return http


class Recorder:
    """A Socket.IO client that records every event it receives."""

    def __init__(self, base_url: str, cookie: str | None = None):
        self.base_url = base_url
        self.cookie = cookie
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: list[tuple[str, Any]] = []
        self._arrived = asyncio.Event()
        self.sio.on("*", self._record)

    async def _record(self, event: str, data: Any = None) -> None:
        self.events.append((event, data))
        self._arrived.set()

    async def connect(self, transports: list[str] | None = None, headers: dict | None = None) -> Recorder:
        all_headers = dict(headers or {})
        if self.cookie:
            all_headers["Cookie"] = self.cookie
        await self.sio.connect(
            self.base_url, headers=all_headers, transports=transports or ["websocket"], wait_timeout=10
        )
        return self

    async def call(self, event: str, data: Any = None, timeout: float = 10) -> Any:
        return await self.sio.call(event, data, timeout=timeout)

    def received(self, event: str) -> list[Any]:
        return [data for name, data in self.events if name == event]

    async def wait_for(self, event: str, predicate=lambda data: True, timeout: float = 5) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for name, data in self.events:
                if name == event and predicate(data):
                    return data
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"no {event!r} within {timeout}s; got {self.events!r}")
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                pass

    async def close(self) -> None:
        if self.sio.connected:
            try:
                # A polling client waits for its pending long-poll (up to pingInterval).
                await asyncio.wait_for(self.sio.disconnect(), 3)
            except TimeoutError:
                pass


async def visitor(base_url: str, name: str = "Ahmet", with_session: bool = True) -> tuple[Recorder, str]:
    """A visitor who opened the chat page, connected and joined; returns (client, thread_id)."""
    cookie = None
    if with_session:
        page = Browserish(base_url)
        page.get("/")
        cookie = page.cookie_header()
    client = await Recorder(base_url, cookie).connect()
    ack = await client.call("join", {"display_name": name})
    assert ack["ok"], ack
    return client, ack["thread_id"]


async def admin_socket(base_url: str, http: Browserish) -> Recorder:
    client = await Recorder(base_url, http.cookie_header()).connect()
    ack = await client.call("admin_join", {})
    assert ack == {"ok": True}, ack
    return client
