"""Request body limits, enforced while the body is being received.

Where a body actually piles up decides where the limit must sit:

- daphne (Twisted) reads the WHOLE body into a buffer (memory under 100 kB, else a
  temporary file) before the application sees the request, and then queues all of it
  to the application at once. Django's ASGIHandler reads that again into its own
  spooled file before any middleware or view runs. A limit in a Django view or
  middleware therefore protects nothing. `install_daphne_body_limit` hooks Twisted's
  body reception: past the limit the bytes are discarded (not stored), and the request
  is answered 413 JSON without ever reaching the application. That holds for a
  Content-Length that lies (Twisted never reads past it; the rest is a broken next
  request) and for chunked bodies (counted as they arrive). A client that keeps
  sending far past the limit is disconnected.
- `BodyLimitMiddleware` is the same rule as ASGI middleware, for servers that stream
  the body to the application (uvicorn, hypercorn): it counts `http.request` chunks and
  answers 413 instead of letting Django read on.

Upload routes may send UPLOAD_MAX_BYTES plus the multipart framing; every other route
REQUEST_MAX_BYTES.
"""

from __future__ import annotations

import json
import logging
from io import BytesIO

from django.conf import settings
from django.utils import translation

from .refusals import BodyTooLarge, FileTooLarge, client_language

logger = logging.getLogger("chatdesk.body_limit")

UPLOAD_PATH_PREFIX = "/api/upload/"
SOCKETIO_PATH_PREFIX = "/socket.io/"
# Room for the multipart boundaries and part headers around the file itself.
MULTIPART_OVERHEAD = 64 * 1024


def body_limit(path: str) -> int:
    """The largest body a request to `path` may send."""
    if path.startswith(UPLOAD_PATH_PREFIX):
        return settings.UPLOAD_MAX_BYTES + MULTIPART_OVERHEAD
    if path.startswith(SOCKETIO_PATH_PREFIX):
        # Engine.IO's own buffer: a polling POST past it makes python-engineio close the
        # session and wait for a poll that never comes, leaving the POST unanswered.
        return settings.SOCKETIO_MAX_PAYLOAD_BYTES
    return settings.REQUEST_MAX_BYTES


def too_large_body(path: str, cookie_header: str = "", accept_language: str = "") -> bytes:
    """The 413 JSON answer (the refusals' shape, in the client's language), written here
    because the application never sees the request."""
    refusal = FileTooLarge() if path.startswith(UPLOAD_PATH_PREFIX) else BodyTooLarge()
    with translation.override(client_language(cookie_header, accept_language)):
        return json.dumps({"success": False, **refusal.as_dict()}).encode()


def _header(request, name: bytes) -> str:
    """A header of a Twisted request, as text ("" when absent)."""
    value = request.getHeader(name)
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value or ""


def _too_large_reply(request) -> bytes:
    return too_large_body(
        request._limit_path, _header(request, b"cookie"), _header(request, b"accept-language")
    )


def _raw_413(body: bytes) -> bytes:
    return (
        b"HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json\r\n"
        b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )


def install_daphne_body_limit() -> None:
    """Make daphne's request class count body bytes as they arrive (idempotent)."""
    from daphne.http_protocol import WebRequest

    if getattr(WebRequest, "_chatdesk_body_limit", False):
        return
    original_got_length = WebRequest.gotLength
    original_chunk = WebRequest.handleContentChunk
    original_process = WebRequest.process

    def gotLength(self, length):
        raw_path = getattr(self.channel, "_path", b"") or b""
        self._limit_path = raw_path.split(b"?", 1)[0].decode("latin-1")
        self._limit = body_limit(self._limit_path)
        self._limit_seen = 0
        self._limit_exceeded = False
        if length is not None and length > 2 * self._limit:
            # Not worth reading and discarding: answer now and hang up.
            self._limit_exceeded = True
            original_got_length(self, 0)
            self._limit_hang_up()
            return
        if length is not None and length > self._limit:
            self._limit_exceeded = True
            length = 0
        original_got_length(self, length)

    def handleContentChunk(self, data):
        self._limit_seen += len(data)
        if self._limit_exceeded or self._limit_seen > self._limit:
            if not self._limit_exceeded:
                self._limit_exceeded = True
                # Drop what was buffered so far; the application never sees it.
                self.content.close()
                self.content = BytesIO()
            if self._limit_seen > 2 * self._limit:
                self._limit_hang_up()
            return
        original_chunk(self, data)

    def process(self):
        if getattr(self, "_limit_exceeded", False):
            logger.warning("request_body_too_large path=%s bytes=%s", self._limit_path, self._limit_seen)
            self.handle_reply(
                {
                    "type": "http.response.start",
                    "status": 413,
                    "headers": [(b"Content-Type", b"application/json")],
                }
            )
            self.handle_reply({"type": "http.response.body", "body": _too_large_reply(self)})
            return None
        return original_process(self)

    def _limit_hang_up(self):
        if getattr(self, "_limit_hung_up", False):
            return
        self._limit_hung_up = True
        logger.warning(
            "request_body_too_large path=%s bytes=%s hang_up=1", self._limit_path, self._limit_seen
        )
        transport = self.channel.transport if self.channel else None
        if transport is not None:
            transport.write(_raw_413(_too_large_reply(self)))
            transport.loseConnection()

    WebRequest.gotLength = gotLength
    WebRequest.handleContentChunk = handleContentChunk
    WebRequest.process = process
    WebRequest._limit_hang_up = _limit_hang_up
    WebRequest._chatdesk_body_limit = True


class BodyLimitMiddleware:
    """ASGI middleware: 413 JSON once an HTTP body passes its route's limit."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        limit = body_limit(path)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await self._refuse(path, headers, send)
        state = {"seen": 0, "over": False}

        async def counted_receive():
            message = await receive()
            if message["type"] == "http.request":
                state["seen"] += len(message.get("body", b""))
                if state["seen"] > limit:
                    state["over"] = True
                    # Django stops reading on a disconnect and answers nothing.
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, counted_receive, send)
        if state["over"]:
            await self._refuse(path, headers, send)

    @staticmethod
    async def _refuse(path, headers, send):
        body = too_large_body(
            path,
            headers.get(b"cookie", b"").decode("latin-1"),
            headers.get(b"accept-language", b"").decode("latin-1"),
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
