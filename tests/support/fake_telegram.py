"""A fake Telegram Bot API on 127.0.0.1 for the tests (TELEGRAM_API_BASE points here).

It answers the methods chatdesk calls with Bot-API-shaped results, records every call
(method, parameters, uploaded files), serves getUpdates from a queue (long polling,
honouring offset) and files under /file/bot<token>/<path>. Message ids are numbered per
chat, as Telegram does (two chats, e.g. a group and the supergroup it became, share ids);
`next_message_id(chat_id, n)` sets where a chat's numbering continues.
`fail(method, times, status, retry_after)` makes the next calls of a method fail the
way Telegram does (429 flood control, 500); `reset_failures()` forgets the ones not used
(tests/telegram/conftest.py does it around every test).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support import local_http

SEND_METHODS = {"sendMessage", "sendPhoto", "sendVoice", "sendAudio", "sendDocument"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]]
    ok: bool = True
    result: Any = None


@dataclass
class FakeTelegram:
    token: str = "123:abc"
    calls: list[Call] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    updates: list[dict] = field(default_factory=list)
    failures: dict[str, list[tuple[int, int | None]]] = field(default_factory=dict)
    # The last message id used in each chat; a chat's first message is FIRST_MESSAGE_ID.
    message_ids: dict[int, int] = field(default_factory=dict)
    next_topic_id: int = 500

    FIRST_MESSAGE_ID = 1001

    def start(self) -> FakeTelegram:
        self.lock = threading.Condition()
        self.httpd = local_http.serve(self._handle)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        return self

    def stop(self) -> None:
        local_http.stop(self.httpd)

    # --- what tests do ----------------------------------------------------------------

    def fail(self, method: str, times: int, status: int = 500, retry_after: int | None = None) -> None:
        with self.lock:
            self.failures.setdefault(method, []).extend([(status, retry_after)] * times)

    def reset_failures(self) -> None:
        with self.lock:
            self.failures.clear()

    def next_message_id(self, chat_id: int, message_id: int) -> None:
        """The next message the bot sends to `chat_id` gets `message_id`."""
        with self.lock:
            self.message_ids[int(chat_id)] = message_id - 1

    def queue_update(self, update: dict) -> None:
        with self.lock:
            self.updates.append(update)
            self.lock.notify_all()

    def add_file(self, file_path: str, data: bytes) -> None:
        self.files[file_path] = data

    def sent(self, method: str | None = None) -> list[Call]:
        """Successful calls (of `method`, or every message-sending method)."""
        wanted = {method} if method else SEND_METHODS
        with self.lock:
            return [c for c in self.calls if c.ok and c.method in wanted]

    def wait_for(self, predicate, timeout: float = 10.0) -> Call:
        """The first recorded successful call matching `predicate`, waiting for it."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                for call in self.calls:
                    if call.ok and predicate(call):
                        return call
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"no matching Telegram call in {timeout}s; calls: "
                        f"{[(c.method, c.ok, c.params) for c in self.calls]!r}"
                    )
                self.lock.wait(min(remaining, 0.2))

    def sent_text(self, needle: str, timeout: float = 10.0) -> Call:
        return self.wait_for(
            lambda c: c.method == "sendMessage" and needle in str(c.params.get("text")), timeout
        )

    # --- HTTP -------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        path = request.path.split("?", 1)[0]
        if path.startswith(f"/file/bot{self.token}/"):
            data = self.files.get(path[len(f"/file/bot{self.token}/") :])
            self._reply(request, 200 if data is not None else 404, data or b"not found", raw=True)
            return
        prefix = f"/bot{self.token}/"
        if not path.startswith(prefix):
            self._reply(request, 401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        method = path[len(prefix) :]
        params, files = self._params(request)
        call = Call(method, params, files)
        with self.lock:
            planned = self.failures.get(method) or []
            failure = planned.pop(0) if planned else None
        if failure is not None:
            status, retry_after = failure
            call.ok = False
            body = {
                "ok": False,
                "error_code": status,
                "description": "Too Many Requests: retry later" if status == 429 else "Internal Server Error",
            }
            if retry_after is not None:
                body["parameters"] = {"retry_after": retry_after}
            self._record(call)
            self._reply(request, status, body)
            return
        if method == "getUpdates":
            result = self._get_updates(params)
        else:
            result = self._result(method, params, files)
        call.result = result
        self._record(call)
        if isinstance(result, tuple):  # an error answer
            self._reply(request, result[0], {"ok": False, "error_code": result[0], "description": result[1]})
        else:
            self._reply(request, 200, {"ok": True, "result": result})

    def _record(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)
            self.lock.notify_all()

    def _result(self, method: str, params: dict, files: dict) -> Any:
        with self.lock:
            if method in SEND_METHODS:
                chat_id = int(params.get("chat_id", 0))
                message_id = self.message_ids.get(chat_id, self.FIRST_MESSAGE_ID - 1) + 1
                self.message_ids[chat_id] = message_id
                message = {
                    "message_id": message_id,
                    "date": int(time.time()),
                    "chat": {"id": chat_id, "type": "supergroup"},
                }
                if params.get("message_thread_id"):
                    message["message_thread_id"] = int(params["message_thread_id"])
                    message["is_topic_message"] = True
                if "text" in params:
                    message["text"] = params["text"]
                return message
            if method == "createForumTopic":
                self.next_topic_id += 1
                return {"message_thread_id": self.next_topic_id, "name": params.get("name"), "icon_color": 0}
            if method == "getFile":
                file_id = params.get("file_id", "")
                path = next((p for p in self.files if p.rsplit("/", 1)[-1].startswith(file_id)), None)
                if path is None:
                    return (400, "Bad Request: invalid file_id")
                return {
                    "file_id": file_id,
                    "file_unique_id": file_id,
                    "file_size": len(self.files[path]),
                    "file_path": path,
                }
            if method in ("deleteWebhook", "setWebhook", "deleteForumTopic", "closeForumTopic"):
                return True
            if method == "getWebhookInfo":
                return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self.updates)}
            if method == "getMe":
                return {"id": 123, "is_bot": True, "first_name": "chatdesk", "username": "chatdesk_bot"}
        return (404, f"Not Found: method {method} unknown to the fake")

    def _get_updates(self, params: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        wait = min(float(params.get("timeout") or 0), 2.0)
        deadline = time.monotonic() + wait
        with self.lock:
            while True:
                # Telegram forgets updates below the offset it was given.
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
                if self.updates or time.monotonic() >= deadline:
                    return list(self.updates)
                self.lock.wait(deadline - time.monotonic())

    def _params(self, request) -> tuple[dict, dict]:
        length = int(request.headers.get("Content-Length", 0) or 0)
        raw = request.rfile.read(length) if length else b""
        kind = request.headers.get("Content-Type", "")
        if kind.startswith("application/json"):
            return json.loads(raw or b"{}"), {}
        if kind.startswith("multipart/form-data"):
            return local_http.parse_multipart(kind, raw)
        return {}, {}

    def _reply(self, request, status: int, body: Any, raw: bool = False) -> None:
        data = body if raw else json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/octet-stream" if raw else "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)


class Updates:
    """Builds Bot-API-shaped updates from the admin chat, with increasing update_ids."""

    def __init__(self, chat_id: int, start: int = 7000):
        self.chat_id = chat_id
        self.update_id = start
        self.message_id = start + 50_000_000  # unique per chat, like Telegram's

    def message(self, chat_id: int | None = None, reply_to: int | None = None, **fields) -> dict:
        self.update_id += 1
        self.message_id += 1
        message = {
            "message_id": self.message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id if chat_id is not None else self.chat_id, "type": "supergroup"},
            "from": {"id": 42, "is_bot": False, "first_name": "Ayşe"},
            **fields,
        }
        if reply_to is not None:
            message["reply_to_message"] = {"message_id": reply_to, "date": 0, "chat": message["chat"]}
        return {"update_id": self.update_id, "message": message}
