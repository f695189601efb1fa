"""A fake Telegram Bot API on 127.0.0.1 for the tests (TELEGRAM_API_BASE points here).

It answers the methods chatdesk calls with Bot-API-shaped results and fails the way
Telegram does, with its error bodies ({"ok": false, "error_code", "description",
"parameters"}), so tests find what breaks against the real service:

- Validation: text 1–4096 characters after entity parsing, captions up to 1024, HTML
  parse mode checked tag by tag ("Bad Request: can't parse entities: ..."), photos up to
  10 MB uploaded / 5 MB by URL and width + height ≤ 10000, sendVoice plays OGG/Opus, MP3
  and M4A (anything else arrives as a file, as Telegram shows it), by-URL sends fetched
  and held to Telegram's narrower limits.
- Chats with state (`chat(...)`, `FakeChat`): private, basic group, supergroup, forum
  with topics that can be closed, reopened and deleted, the bot's membership (kicked,
  left, re-added, rights); a basic group upgraded with `migrate()` answers 400 "group chat
  was upgraded to a supergroup chat" with parameters.migrate_to_chat_id. Chats a test
  never described are created on first use as permissive forum supergroups (negative
  ids) or private chats (positive ids), so simple tests need no set-up.
- Targeted failures: `fail(method, times, status, retry_after, description=...,
  parameters=..., when=..., after=n)` fails calls of a method (only those whose parameters
  match `when`, after letting `after` of them through); `reset_failures()` forgets the
  unused ones (tests/telegram/conftest.py does it around every test).
- Webhook state: setWebhook / deleteWebhook / getWebhookInfo; getUpdates answers 409 while
  a webhook is set and honours allowed_updates (kept between calls, like Telegram).
- getMe's id is the token's number, so another token is another bot (`tokens`).

Every call is recorded (method, parameters, uploaded files, ok, result). Message ids are
numbered per chat, as Telegram does (a group and the supergroup it became share ids);
`next_message_id(chat_id, n)` sets where a chat's numbering continues. `Updates` builds
updates shaped like real bots receive them.

To add a method: a `_m_<methodName>(self, params, files)` method returning the result, or
`self._error(status, description, **parameters)`; it runs under `self.lock`.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support import local_http

SEND_METHODS = {"sendMessage", "sendPhoto", "sendVoice", "sendAudio", "sendDocument", "sendAnimation"}
MEDIA_FIELDS = {
    "sendPhoto": "photo",
    "sendVoice": "voice",
    "sendAudio": "audio",
    "sendDocument": "document",
    "sendAnimation": "animation",
}
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
PHOTO_UPLOAD_LIMIT = 10 * 1024 * 1024
PHOTO_URL_LIMIT = 5 * 1024 * 1024
FILE_URL_LIMIT = 20 * 1024 * 1024
VOICE_URL_LIMIT = 1024 * 1024
FILE_UPLOAD_LIMIT = 50 * 1024 * 1024
# Tags Telegram's HTML parse mode knows (https://core.telegram.org/bots/api#html-style).
HTML_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
    "a", "code", "pre", "blockquote", "tg-emoji",
}  # fmt: skip
GROUP_ANONYMOUS_BOT = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}


class ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters or {}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]]
    ok: bool = True
    result: Any = None
    error: dict | None = None  # the error body when ok is False
    at: float = field(default_factory=time.monotonic)  # when it arrived (pacing checks)


@dataclass
class FakeTopic:
    id: int
    name: str
    closed: bool = False
    deleted: bool = False
    created_by_bot: bool = True


@dataclass
class FakeChat:
    id: int
    type: str  # "private", "group", "supergroup"
    title: str = "Admins"
    is_forum: bool = False
    # The bot's membership: "administrator", "member", "left", "kicked"; in a private
    # chat "kicked" means the user blocked the bot.
    bot_status: str = "administrator"
    can_manage_topics: bool = True
    can_delete_messages: bool = True
    migrated_to: int | None = None
    topics: dict[int, FakeTopic] = field(default_factory=dict)

    def as_chat(self) -> dict:
        shape: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            shape["first_name"] = self.title
        else:
            shape["title"] = self.title
        if self.is_forum:
            shape["is_forum"] = True
        return shape


@dataclass
class Failure:
    method: str
    status: int
    retry_after: int | None = None
    description: str | None = None
    parameters: dict | None = None
    when: Any = None  # a dict of parameters that must match, or a predicate on them
    after: int = 0  # matching calls to let through first

    def matches(self, method: str, params: dict) -> bool:
        if method != self.method:
            return False
        if callable(self.when):
            return bool(self.when(params))
        if isinstance(self.when, dict):
            return all(str(params.get(key)) == str(value) for key, value in self.when.items())
        return True

    def body(self) -> tuple[int, str, dict]:
        parameters = dict(self.parameters or {})
        if self.retry_after is not None:
            parameters["retry_after"] = self.retry_after
        description = self.description or {
            429: f"Too Many Requests: retry after {self.retry_after or 1}",
            400: "Bad Request: something is wrong",
            401: "Unauthorized",
            403: "Forbidden: bot was kicked from the supergroup chat",
            409: "Conflict: terminated by other getUpdates request",
            502: "Bad Gateway",
        }.get(self.status, "Internal Server Error")
        return self.status, description, parameters


@dataclass
class FakeTelegram:
    token: str = "123:abc"
    calls: list[Call] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    updates: list[dict] = field(default_factory=list)
    planned: list[Failure] = field(default_factory=list)
    # The last message id used in each chat; a chat's first message is FIRST_MESSAGE_ID.
    message_ids: dict[int, int] = field(default_factory=dict)
    next_topic_id: int = 500
    # getChatMember's answers: user id → status ("member", "administrator", "creator");
    # anyone else has "left", as Telegram says of a non-member.
    members: dict[int, str] = field(default_factory=dict)
    chats: dict[int, FakeChat] = field(default_factory=dict)
    # Other tokens this fake answers to (another bot: getMe gives the token's number).
    tokens: set[str] = field(default_factory=set)
    webhook: dict = field(default_factory=dict)  # what setWebhook set; empty: none
    allowed_updates: list[str] | None = None
    deleted_messages: set[tuple[int, int]] = field(default_factory=set)
    # Fetch by-URL media (sendPhoto photo="https://...") to check Telegram's URL limits.
    fetch_urls: bool = True

    FIRST_MESSAGE_ID = 1001
    # Update types Telegram leaves out unless asked for by allowed_updates.
    NOT_BY_DEFAULT = {"chat_member", "message_reaction", "message_reaction_count"}

    def start(self) -> FakeTelegram:
        self.lock = threading.Condition()
        self.httpd = local_http.serve(self._handle)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        return self

    def stop(self) -> None:
        local_http.stop(self.httpd)

    # --- what tests do: failures ----------------------------------------------------------

    def fail(
        self,
        method: str,
        times: int = 1,
        status: int = 500,
        retry_after: int | None = None,
        *,
        description: str | None = None,
        parameters: dict | None = None,
        when: Any = None,
        after: int = 0,
    ) -> None:
        """The next `times` calls of `method` (those whose parameters match `when`, a dict
        or a predicate, after letting `after` of them succeed) fail with `status`."""
        with self.lock:
            for number in range(times):
                self.planned.append(
                    Failure(
                        method,
                        status,
                        retry_after,
                        description,
                        parameters,
                        when,
                        after if number == 0 else 0,
                    )
                )

    @property
    def failures(self) -> dict[str, list[tuple[int, int | None]]]:
        """The scripted failures not used yet, per method: (status, retry_after)."""
        with self.lock:
            found: dict[str, list[tuple[int, int | None]]] = {}
            for failure in self.planned:
                found.setdefault(failure.method, []).append((failure.status, failure.retry_after))
            return found

    def reset_failures(self) -> None:
        with self.lock:
            self.planned.clear()

    # --- what tests do: chats -------------------------------------------------------------

    def chat(self, chat_id: int, type: str | None = None, **fields) -> FakeChat:
        """The chat `chat_id`, described (created or changed) by `type` and `fields`."""
        with self.lock:
            chat = self._chat(int(chat_id), create=True)
            if type is not None:
                chat.type = type
                chat.is_forum = type == "supergroup" and fields.pop("is_forum", chat.is_forum)
            for key, value in fields.items():
                setattr(chat, key, value)
            return chat

    def migrate(self, group_id: int, supergroup_id: int) -> FakeChat:
        """Telegram upgrades basic group `group_id` to a new supergroup: sends to the group
        are refused with migrate_to_chat_id from now on. Returns the supergroup."""
        with self.lock:
            group = self._chat(int(group_id), create=True)
            group.migrated_to = int(supergroup_id)
            supergroup = self._chat(int(supergroup_id), create=True)
            supergroup.type = "supergroup"
            supergroup.title = group.title
            supergroup.bot_status = group.bot_status
            return supergroup

    def topic(self, chat_id: int, topic_id: int, **fields) -> FakeTopic:
        """Change a topic (closed=True, deleted=True...) as an admin would in the app."""
        with self.lock:
            topic = self._chat(int(chat_id), create=True).topics.setdefault(
                int(topic_id), FakeTopic(int(topic_id), "Topic")
            )
            for key, value in fields.items():
                setattr(topic, key, value)
            return topic

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

    # --- what tests read ------------------------------------------------------------------

    def sent(self, method: str | None = None) -> list[Call]:
        """Successful calls (of `method`, or every message-sending method)."""
        wanted = {method} if method else SEND_METHODS
        with self.lock:
            return [c for c in self.calls if c.ok and c.method in wanted]

    def refused(self, method: str | None = None) -> list[Call]:
        """Calls Telegram refused (of `method`, or of any method)."""
        with self.lock:
            return [c for c in self.calls if not c.ok and (method is None or c.method == method)]

    def wait_for(self, predicate, timeout: float = 10.0, ok: bool = True) -> Call:
        """The first recorded call matching `predicate` (successful ones, or refused ones
        with ok=False), waiting for it."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                for call in self.calls:
                    if call.ok == ok and predicate(call):
                        return call
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"no matching Telegram call in {timeout}s; calls: "
                        f"{[(c.method, c.ok, c.params) for c in self.calls][-30:]!r}"
                    )
                self.lock.wait(min(remaining, 0.2))

    def sent_text(self, needle: str, timeout: float = 10.0) -> Call:
        return self.wait_for(
            lambda c: c.method == "sendMessage" and needle in str(c.params.get("text")), timeout
        )

    # --- HTTP -----------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        path = request.path.split("?", 1)[0]
        for token in {self.token, *self.tokens}:
            if path.startswith(f"/file/bot{token}/"):
                data = self.files.get(path[len(f"/file/bot{token}/") :])
                self._reply(request, 200 if data is not None else 404, data or b"not found", raw=True)
                return
        token = next((t for t in {self.token, *self.tokens} if path.startswith(f"/bot{t}/")), None)
        if token is None:
            self._reply(request, 401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        method = path[len(f"/bot{token}/") :]
        params, files = self._params(request)
        call = Call(method, params, files)
        try:
            with self.lock:
                self._planned_failure(method, params)
            if method == "getUpdates":
                result = self._get_updates(params)
            else:
                with self.lock:
                    handler = getattr(self, f"_m_{method}", None)
                    if method == "getMe":
                        result = self._me(token)
                    elif handler is None:
                        raise ApiError(404, "Not Found")
                    else:
                        result = handler(params, files)
        except ApiError as exc:
            call.ok = False
            call.error = {"ok": False, "error_code": exc.status, "description": exc.description}
            if exc.parameters:
                call.error["parameters"] = exc.parameters
            self._record(call)
            self._reply(request, exc.status, call.error)
            return
        call.result = result
        self._record(call)
        self._reply(request, 200, {"ok": True, "result": result})

    def _planned_failure(self, method: str, params: dict) -> None:
        for failure in self.planned:
            if not failure.matches(method, params):
                continue
            if failure.after > 0:
                failure.after -= 1
                return
            self.planned.remove(failure)
            status, description, parameters = failure.body()
            raise ApiError(status, description, parameters)

    def _record(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)
            self.lock.notify_all()

    # --- chats and checks -------------------------------------------------------------

    def _chat(self, chat_id: int, create: bool = False) -> FakeChat:
        chat = self.chats.get(chat_id)
        if chat is None:
            kind = "private" if chat_id > 0 else "supergroup"
            chat = FakeChat(
                chat_id, kind, is_forum=kind == "supergroup", title="Admins" if chat_id < 0 else "Ayşe"
            )
            self.chats[chat_id] = chat
        return chat

    def _target(self, params: dict) -> FakeChat:
        """The chat a call addresses, refused as Telegram refuses it."""
        try:
            chat_id = int(params.get("chat_id"))
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: chat not found") from None
        chat = self._chat(chat_id)
        if chat.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        if chat.bot_status == "kicked":
            if chat.type == "private":
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            raise ApiError(403, f"Forbidden: bot was kicked from the {chat.type} chat")
        if chat.bot_status == "left":
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
        return chat

    def _thread(self, chat: FakeChat, params: dict) -> int | None:
        """The topic a send goes to (message_thread_id), checked."""
        raw = params.get("message_thread_id")
        if raw in (None, "", 0, "0"):
            return None
        topic_id = int(raw)
        if not chat.is_forum:
            # Non-forum supergroups accept the id of a reply thread; a basic group none.
            if chat.type == "group":
                raise ApiError(400, "Bad Request: message thread not found")
            return topic_id
        topic = chat.topics.get(topic_id)
        if topic is None or topic.deleted:
            raise ApiError(400, "Bad Request: message thread not found")
        if topic.closed and not (chat.bot_status == "administrator" and chat.can_manage_topics):
            raise ApiError(400, "Bad Request: TOPIC_CLOSED")
        return topic_id

    @staticmethod
    def _json(value: Any) -> Any:
        if isinstance(value, str) and value[:1] in "{[":
            try:
                return json.loads(value)
            except ValueError:
                raise ApiError(400, "Bad Request: can't parse JSON object") from None
        return value

    def _new_message(self, chat: FakeChat, topic_id: int | None) -> dict:
        message_id = self.message_ids.get(chat.id, self.FIRST_MESSAGE_ID - 1) + 1
        self.message_ids[chat.id] = message_id
        message: dict[str, Any] = {"message_id": message_id, "date": int(time.time()), "chat": chat.as_chat()}
        message["from"] = {"id": int(self.token.split(":")[0]), "is_bot": True, "first_name": "chatdesk"}
        if topic_id is not None:
            message["message_thread_id"] = topic_id
            if chat.is_forum:
                message["is_topic_message"] = True
        return message

    # --- sending ----------------------------------------------------------------------

    def _m_sendMessage(self, params: dict, files: dict) -> dict:
        chat = self._target(params)
        text = params.get("text")
        if not isinstance(text, str) or not text:
            raise ApiError(400, "Bad Request: message text is empty")
        visible = parse_entities(text, params.get("parse_mode"))
        if not visible.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(visible) > TEXT_LIMIT:
            raise ApiError(400, "Bad Request: message is too long")
        topic_id = self._thread(chat, params)
        self._json(params.get("reply_markup"))
        self._json(params.get("link_preview_options"))
        message = self._new_message(chat, topic_id)
        message["text"] = text  # as sent: tests read what the bot wrote
        return message

    def _send_media(self, method: str, params: dict, files: dict) -> dict:
        chat = self._target(params)
        caption = params.get("caption")
        if caption:
            visible = parse_entities(str(caption), params.get("parse_mode"))
            if len(visible) > CAPTION_LIMIT:
                raise ApiError(400, "Bad Request: message caption is too long")
        topic_id = self._thread(chat, params)
        name = MEDIA_FIELDS[method]
        data, by_url = self._media(name, params, files)
        message = self._new_message(chat, topic_id)
        if caption:
            message["caption"] = caption
        kind, shape = media_shape(method, data, by_url)
        message[kind] = shape
        return message

    def _m_sendPhoto(self, params, files):
        return self._send_media("sendPhoto", params, files)

    def _m_sendVoice(self, params, files):
        return self._send_media("sendVoice", params, files)

    def _m_sendAudio(self, params, files):
        return self._send_media("sendAudio", params, files)

    def _m_sendDocument(self, params, files):
        return self._send_media("sendDocument", params, files)

    def _m_sendAnimation(self, params, files):
        return self._send_media("sendAnimation", params, files)

    def _media(self, name: str, params: dict, files: dict) -> tuple[bytes, bool]:
        """The file's bytes (uploaded, or fetched from its URL) and whether it came by URL;
        Telegram's size and type limits for each way."""
        if name in files:
            data = files[name][1]
            if not data:
                raise ApiError(400, "Bad Request: file must be non-empty")
            limit = PHOTO_UPLOAD_LIMIT if name == "photo" else FILE_UPLOAD_LIMIT
            if len(data) > limit:
                raise ApiError(413, "Request Entity Too Large")
            if name == "photo":
                check_photo(data)
            return data, False
        source = params.get(name)
        if not isinstance(source, str) or not source:
            raise ApiError(400, f"Bad Request: there is no {name} in the request")
        if not source.startswith(("http://", "https://")):
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        if not self.fetch_urls:
            return b"", True
        try:
            with urllib.request.urlopen(source, timeout=5) as response:  # noqa: S310 (tests' own servers)
                data = response.read(FILE_URL_LIMIT + 1)
        except OSError:
            raise ApiError(400, "Bad Request: failed to get HTTP URL content") from None
        limit = {"photo": PHOTO_URL_LIMIT, "voice": VOICE_URL_LIMIT}.get(name, FILE_URL_LIMIT)
        if len(data) > limit:
            raise ApiError(400, "Bad Request: failed to get HTTP URL content")
        if name == "photo":
            check_photo(data)
        if name == "voice" and container(data) != "ogg":
            raise ApiError(400, "Bad Request: wrong type of the web page content")
        if name == "document" and container(data) not in ("gif", "pdf", "zip"):
            raise ApiError(400, "Bad Request: wrong type of the web page content")
        return data, True

    # --- topics -----------------------------------------------------------------------

    def _forum(self, params: dict) -> FakeChat:
        chat = self._target(params)
        if not chat.is_forum:
            raise ApiError(400, "Bad Request: the chat is not a forum")
        return chat

    def _m_createForumTopic(self, params, files):
        chat = self._forum(params)
        if chat.bot_status != "administrator" or not chat.can_manage_topics:
            raise ApiError(400, "Bad Request: not enough rights to create a topic")
        name = str(params.get("name") or "")
        if not 1 <= len(name) <= 128:
            raise ApiError(
                400, "Bad Request: TOPIC_TITLE_EMPTY" if not name else "Bad Request: TOPIC_TITLE_TOO_LONG"
            )
        self.next_topic_id += 1
        chat.topics[self.next_topic_id] = FakeTopic(self.next_topic_id, name)
        # The topic's first message is its creation service message (id = topic id).
        self.message_ids[chat.id] = max(self.message_ids.get(chat.id, 0), self.next_topic_id)
        return {"message_thread_id": self.next_topic_id, "name": name, "icon_color": 7322096}

    def _managed_topic(self, params: dict) -> FakeTopic:
        chat = self._forum(params)
        topic = chat.topics.get(int(params.get("message_thread_id") or 0))
        if topic is None or topic.deleted:
            raise ApiError(400, "Bad Request: TOPIC_ID_INVALID")
        if not ((chat.bot_status == "administrator" and chat.can_manage_topics) or topic.created_by_bot):
            raise ApiError(400, "Bad Request: CHAT_ADMIN_REQUIRED")
        return topic

    def _m_closeForumTopic(self, params, files):
        topic = self._managed_topic(params)
        if topic.closed:
            raise ApiError(400, "Bad Request: TOPIC_NOT_MODIFIED")
        topic.closed = True
        return True

    def _m_reopenForumTopic(self, params, files):
        topic = self._managed_topic(params)
        if not topic.closed:
            raise ApiError(400, "Bad Request: TOPIC_NOT_MODIFIED")
        topic.closed = False
        return True

    def _m_deleteForumTopic(self, params, files):
        chat = self._forum(params)
        if chat.bot_status != "administrator" or not chat.can_delete_messages:
            raise ApiError(400, "Bad Request: CHAT_ADMIN_REQUIRED")
        topic = chat.topics.get(int(params.get("message_thread_id") or 0))
        if topic is None or topic.deleted:
            raise ApiError(400, "Bad Request: TOPIC_ID_INVALID")
        topic.deleted = True
        return True

    def _m_editForumTopic(self, params, files):
        topic = self._managed_topic(params)
        if params.get("name"):
            topic.name = str(params["name"])
        return True

    # --- other methods ----------------------------------------------------------------

    def _m_deleteMessage(self, params, files):
        chat = self._target(params)
        message_id = int(params.get("message_id") or 0)
        key = (chat.id, message_id)
        if (
            message_id > self.message_ids.get(chat.id, self.FIRST_MESSAGE_ID - 1)
            or key in self.deleted_messages
        ):
            raise ApiError(400, "Bad Request: message to delete not found")
        self.deleted_messages.add(key)
        return True

    def _m_editMessageText(self, params, files):
        chat = self._target(params)
        message_id = int(params.get("message_id") or 0)
        if (
            message_id > self.message_ids.get(chat.id, self.FIRST_MESSAGE_ID - 1)
            or (chat.id, message_id) in self.deleted_messages
        ):
            raise ApiError(400, "Bad Request: message to edit not found")
        text = params.get("text")
        visible = parse_entities(str(text or ""), params.get("parse_mode"))
        if not visible.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(visible) > TEXT_LIMIT:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return {"message_id": message_id, "date": int(time.time()), "chat": chat.as_chat(), "text": text}

    def _m_editMessageCaption(self, params, files):
        chat = self._target(params)
        message_id = int(params.get("message_id") or 0)
        if (
            message_id > self.message_ids.get(chat.id, self.FIRST_MESSAGE_ID - 1)
            or (chat.id, message_id) in self.deleted_messages
        ):
            raise ApiError(400, "Bad Request: message to edit not found")
        caption = str(params.get("caption") or "")
        if len(parse_entities(caption, params.get("parse_mode"))) > CAPTION_LIMIT:
            raise ApiError(400, "Bad Request: message caption is too long")
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat.as_chat(),
            "caption": caption,
        }

    def _m_getFile(self, params, files):
        file_id = params.get("file_id", "")
        path = next((p for p in self.files if p.rsplit("/", 1)[-1].startswith(file_id)), None)
        if not file_id or path is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_size": len(self.files[path]),
            "file_path": path,
        }

    def _m_getChat(self, params, files):
        return self._target(params).as_chat()

    def _m_getChatMember(self, params, files):
        self._target(params)
        user_id = int(params.get("user_id", 0))
        status = self.members.get(user_id, "left")
        return {"status": status, "user": {"id": user_id, "is_bot": False, "first_name": "?"}}

    def _m_pinChatMessage(self, params, files):
        chat = self._target(params)
        message_id = int(params.get("message_id") or 0)
        if message_id > self.message_ids.get(chat.id, self.FIRST_MESSAGE_ID - 1):
            raise ApiError(400, "Bad Request: message to pin not found")
        return True

    def _m_answerCallbackQuery(self, params, files):
        return True

    def _m_setWebhook(self, params, files):
        url = str(params.get("url") or "")
        if url and not url.startswith("https://"):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook = {"url": url, "secret_token": params.get("secret_token")} if url else {}
        if params.get("allowed_updates") is not None:
            self.allowed_updates = list(self._json(params["allowed_updates"]))
        if str(params.get("drop_pending_updates")).lower() == "true":
            self.updates.clear()
        return True

    def _m_deleteWebhook(self, params, files):
        self.webhook = {}
        if str(params.get("drop_pending_updates")).lower() == "true":
            self.updates.clear()
        return True

    def _m_getWebhookInfo(self, params, files):
        info: dict[str, Any] = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }
        if self.webhook and self.allowed_updates is not None:
            info["allowed_updates"] = list(self.allowed_updates)
        return info

    def _me(self, token: str) -> dict:
        return {
            "id": int(token.split(":")[0]),
            "is_bot": True,
            "first_name": "chatdesk",
            "username": "chatdesk_bot",
        }

    def _get_updates(self, params: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        wait = min(float(params.get("timeout") or 0), 2.0)
        deadline = time.monotonic() + wait
        with self.lock:
            if self.webhook:
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            if params.get("allowed_updates") is not None:
                self.allowed_updates = list(self._json(params["allowed_updates"]))
            while True:
                # Telegram forgets updates below the offset it was given, and never
                # delivers the kinds it was not asked for.
                self.updates = [u for u in self.updates if u["update_id"] >= offset and self._wanted(u)]
                if self.updates or time.monotonic() >= deadline:
                    return list(self.updates)
                self.lock.wait(deadline - time.monotonic())

    def _wanted(self, update: dict) -> bool:
        kind = next((key for key in update if key != "update_id"), "")
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in self.NOT_BY_DEFAULT

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


# --- what Telegram checks in content --------------------------------------------------------

_TOKEN_RE = re.compile(r"<(/?)([^\s>/]*)([^>]*)>|&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);|[<>&]")
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def parse_entities(text: str, parse_mode: Any) -> str:
    """The visible text of `text` in `parse_mode` (only HTML is checked), refusing what
    Telegram refuses with its own wording."""
    if str(parse_mode or "").upper() != "HTML":
        return text
    visible, stack, position = [], [], 0
    for match in _TOKEN_RE.finditer(text):
        visible.append(text[position : match.start()])
        position = match.end()
        offset = len(text[: match.start()].encode())
        token = match.group(0)
        if token in "<>&":
            if token == "<":
                raise ApiError(
                    400, f"Bad Request: can't parse entities: Unsupported start tag at byte offset {offset}"
                )
            visible.append(token)  # a lone ">" or "&" is taken as it is
            continue
        if match.group(4) is not None:
            entity = match.group(4)
            if entity.startswith("#"):
                visible.append(chr(int(entity[2:], 16) if entity[1:2] in "xX" else int(entity[1:])))
            elif entity in _ENTITIES:
                visible.append(_ENTITIES[entity])
            else:
                visible.append(token)  # unknown named entities stay as they are
            continue
        closing, name = match.group(1) == "/", match.group(2).lower()
        if not closing:
            if name not in HTML_TAGS:
                raise ApiError(
                    400,
                    f'Bad Request: can\'t parse entities: Unsupported start tag "{name}" at byte offset {offset}',
                )
            stack.append(name)
            continue
        if not stack:
            raise ApiError(
                400, f"Bad Request: can't parse entities: Unexpected end tag at byte offset {offset}"
            )
        opened = stack.pop()
        if opened != name:
            raise ApiError(
                400,
                f"Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"{opened}\"",
            )
    visible.append(text[position:])
    if stack:
        raise ApiError(
            400,
            f"Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1]}\"",
        )
    return "".join(visible)


def container(data: bytes) -> str:
    """What a file really is, by its first bytes (not its name)."""
    head = data[:64]
    if head.startswith(b"OggS"):
        return "ogg" if b"OpusHead" in data[:128] else "ogg-other"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    if head[4:8] == b"ftyp":
        return "m4a"  # MP4 audio (Safari's recordings, .m4a)
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "mp3"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"\x89PNG"):
        return "png"
    if head.startswith(b"\xff\xd8"):
        return "jpeg"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    return "unknown"


def check_photo(data: bytes) -> tuple[int, int]:
    """A photo Telegram takes: decodable, width + height ≤ 10000, sides at most 20:1."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except Exception:
        raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED") from None
    if width + height > 10000 or max(width, height) > 20 * max(1, min(width, height)):
        raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
    return width, height


def media_shape(method: str, data: bytes, by_url: bool) -> tuple[str, Any]:
    """The field a sent message carries for its file, as Telegram shows it: a voice
    bubble only for OGG/Opus, MP3 and M4A (anything else becomes a file)."""
    kind = container(data)
    file = {"file_id": f"f{abs(hash(data)) % 10**12}", "file_unique_id": "u", "file_size": len(data)}
    if method == "sendPhoto":
        return "photo", [{**file, "width": 90, "height": 90}]
    if method == "sendVoice":
        if kind in ("ogg", "mp3", "m4a") or (by_url and not data):
            mime = {"ogg": "audio/ogg", "mp3": "audio/mpeg", "m4a": "audio/mp4"}.get(kind, "audio/ogg")
            return "voice", {**file, "duration": 1, "mime_type": mime}
        return "document", {**file, "file_name": "voice", "mime_type": "application/octet-stream"}
    if method == "sendAudio":
        return "audio", {**file, "duration": 1}
    if method == "sendAnimation" and kind in ("gif", "mp4"):
        return "animation", {**file, "width": 1, "height": 1, "duration": 1}
    return "document", {**file, "file_name": "file"}


class Updates:
    """Builds Bot-API-shaped updates from the admin chat, with increasing update_ids, in
    the shapes real bots receive (anonymous admins, topics, edits, migrations...)."""

    def __init__(self, chat_id: int, start: int = 7000, chat_type: str = "supergroup"):
        self.chat_id = chat_id
        self.chat_type = chat_type
        self.update_id = start
        self.message_id = start + 50_000_000  # unique per chat, like Telegram's
        # The admin who writes: a person of their own per builder (each test has one).
        self.user = {"id": 100_000 + start, "is_bot": False, "first_name": "Ayşe"}

    def _chat(self, chat_id: int | None = None, chat_type: str | None = None) -> dict:
        return {"id": chat_id if chat_id is not None else self.chat_id, "type": chat_type or self.chat_type}

    def _update(self, kind: str, body: dict) -> dict:
        self.update_id += 1
        return {"update_id": self.update_id, kind: body}

    def message(
        self, chat_id: int | None = None, reply_to: int | None = None, chat_type: str | None = None, **fields
    ) -> dict:
        self.message_id += 1
        message = {
            "message_id": self.message_id,
            "date": int(time.time()),
            "chat": self._chat(chat_id, chat_type),
            "from": dict(self.user),
            **fields,
        }
        if reply_to is not None:
            message["reply_to_message"] = {"message_id": reply_to, "date": 0, "chat": message["chat"]}
        return self._update("message", message)

    def anonymous(self, reply_to: int | None = None, **fields) -> dict:
        """An anonymous group admin: the message comes from the group itself
        (sender_chat), and `from` is GroupAnonymousBot, a bot."""
        update = self.message(reply_to=reply_to, **fields)
        update["message"]["from"] = dict(GROUP_ANONYMOUS_BOT)
        update["message"]["sender_chat"] = {"id": self.chat_id, "type": self.chat_type, "title": "Admins"}
        update["message"]["author_signature"] = "Ayşe"
        return update

    def in_topic(self, topic_id: int, reply_to: int | None = None, **fields) -> dict:
        """A message written in a forum topic: without a real reply, Telegram adds an
        implicit reply_to_message to the topic's creation message (id = topic id)."""
        update = self.message(
            reply_to=reply_to or topic_id, message_thread_id=topic_id, is_topic_message=True, **fields
        )
        if reply_to is None:
            update["message"]["reply_to_message"].update(
                forum_topic_created={"name": "Topic", "icon_color": 7322096},
                message_thread_id=topic_id,
                is_topic_message=True,
            )
        return update

    def reply_in_thread(self, reply_to: int, **fields) -> dict:
        """A reply in a non-forum supergroup: Telegram sets message_thread_id (the reply
        thread's root) without is_topic_message."""
        return self.message(reply_to=reply_to, message_thread_id=reply_to, **fields)

    def edited(self, original: dict, **changes) -> dict:
        """An edited_message update for the message of update `original`."""
        message = {**original["message"], **changes, "edit_date": int(time.time())}
        return self._update("edited_message", message)

    def migrated_to(self, supergroup_id: int) -> dict:
        """The service message in the basic group: it became supergroup `supergroup_id`."""
        self.message_id += 1
        return self._update(
            "message",
            {
                "message_id": self.message_id,
                "date": int(time.time()),
                "chat": {"id": self.chat_id, "type": "group", "title": "Admins"},
                "from": dict(self.user),
                "migrate_to_chat_id": supergroup_id,
            },
        )

    def migrated_from(self, supergroup_id: int) -> dict:
        """The first service message in the new supergroup, naming the group it was."""
        return self._update(
            "message",
            {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": supergroup_id, "type": "supergroup", "title": "Admins"},
                "sender_chat": {"id": self.chat_id, "type": "group", "title": "Admins"},
                "from": dict(GROUP_ANONYMOUS_BOT),
                "migrate_from_chat_id": self.chat_id,
            },
        )

    def my_chat_member(
        self, old: str, new: str, bot_id: int = 123, chat_id: int | None = None, **rights
    ) -> dict:
        """The bot's membership in the chat changed (e.g. "administrator" → "kicked")."""
        bot = {"id": bot_id, "is_bot": True, "first_name": "chatdesk", "username": "chatdesk_bot"}
        return self._update(
            "my_chat_member",
            {
                "chat": {**self._chat(chat_id), "title": "Admins"},
                "from": dict(self.user),
                "date": int(time.time()),
                "old_chat_member": {"user": bot, "status": old},
                "new_chat_member": {"user": bot, "status": new, **rights},
            },
        )

    def callback(self, sent: dict, data: str, user: dict, chat_id: int | None = None) -> dict:
        """A callback_query update: `user` pressed the button `data` of the bot's message
        `sent` (a sendMessage result)."""
        message = dict(sent)
        message.pop("reply_markup", None)
        self.update_id += 1
        return {
            "update_id": self.update_id,
            "callback_query": {
                "id": str(self.update_id * 10),
                "from": {"is_bot": False, **user},
                "message": message,
                "chat_instance": "-1",
                "data": data,
            },
        }

    def private(self, user: dict, text: str) -> dict:
        """A message `user` sends to the bot in their private chat (chat id = user id)."""
        self.message_id += 1
        return self._update(
            "message",
            {
                "message_id": self.message_id,
                "date": int(time.time()),
                "chat": {"id": user["id"], "type": "private", "first_name": user.get("first_name", "")},
                "from": {"is_bot": False, **user},
                "text": text,
            },
        )
