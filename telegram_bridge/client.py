"""A small Telegram Bot API client over HTTP (requests). Never call it on the event loop."""

from __future__ import annotations

import json
from typing import Any

import requests
from django.conf import settings


class TelegramError(Exception):
    """The Bot API refused a call or could not be reached.

    `status` is the HTTP status (None when Telegram was unreachable); `retry_after` is
    Telegram's flood-control wait in seconds (429); `migrate_to_chat_id` the supergroup a
    basic group became (400 "group chat was upgraded to a supergroup chat"). The text
    never contains the token.
    """

    def __init__(
        self,
        message: str,
        status: int | None = None,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id

    @property
    def lasting(self) -> str | None:
        """The refusal code (admin_chat.REASONS) of a refusal that retrying will not heal:
        the bot kicked, blocked or not a member, the chat gone, the token refused."""
        text = str(self).lower()
        if self.status == 401:
            return "unauthorized"
        if self.status == 403:
            if "blocked by the user" in text:
                return "bot_blocked"
            if "user is deactivated" in text:
                return "user_deactivated"
            if "kicked" in text or "not a member" in text or "bot was" in text:
                return "bot_removed"
        if self.status == 400 and "chat not found" in text:
            return "chat_not_found"
        return None

    @property
    def topic_closed(self) -> bool:
        return self.status == 400 and "topic_closed" in str(self).lower()

    @property
    def permanent(self) -> bool:
        """A refusal that will not change by retrying soon (bad request, bot kicked...)."""
        return self.status is not None and 400 <= self.status < 500 and self.status != 429


# The update kinds the bridge handles (getUpdates and setWebhook `allowed_updates`):
# messages and their edits, inline-button presses, and the bot's own membership in a
# chat (removed from the admin chat, added back, its rights changed).
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]


def _session_for(api_base: str) -> requests.Session:
    """A session to `api_base` with the environment's proxy and CA settings (HTTPS_PROXY,
    NO_PROXY, REQUESTS_CA_BUNDLE) read once, here: requests reads the whole environment
    again at every call, about a tenth of the CPU of a send in a flood (issue 16)."""
    session = requests.Session()
    found = session.merge_environment_settings(api_base, {}, None, None, None)
    session.trust_env = False
    session.proxies.update(found["proxies"])
    session.verify = found["verify"]
    session.cert = found["cert"]
    return session


class TelegramClient:
    def __init__(self, token: str, api_base: str, timeout: float = 10.0):
        self.token = token
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout
        self.http = _session_for(self.api_base)

    @classmethod
    def from_settings(cls) -> TelegramClient:
        return cls(settings.TELEGRAM_BOT_TOKEN, settings.TELEGRAM_API_BASE)

    def call(
        self, method: str, files: dict | None = None, http_timeout: float | None = None, **params: Any
    ) -> Any:
        """Call Bot API `method` with `params`; `files` (name → (filename, bytes)) go multipart."""
        url = f"{self.api_base}/bot{self.token}/{method}"
        params = {key: value for key, value in params.items() if value is not None}
        try:
            if files:
                # Multipart fields are strings: nested values (reply_parameters) go as JSON.
                data = {k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in params.items()}
                response = self.http.post(url, data=data, files=files, timeout=http_timeout or self.timeout)
            else:
                response = self.http.post(url, json=params, timeout=http_timeout or self.timeout)
        except requests.RequestException as exc:
            # The URL holds the bot token: never let it reach a log or an error message.
            raise TelegramError(f"{method}: Telegram unreachable ({type(exc).__name__})") from None
        try:
            body = response.json()
        except ValueError:
            raise TelegramError(
                f"{method}: HTTP {response.status_code}", status=response.status_code
            ) from None
        if not isinstance(body, dict) or not body.get("ok"):
            body = body if isinstance(body, dict) else {}
            parameters = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
            retry_after = parameters.get("retry_after")
            migrate_to = parameters.get("migrate_to_chat_id")
            raise TelegramError(
                f"{method}: HTTP {response.status_code} {body.get('description', 'error')}",
                status=response.status_code,
                retry_after=retry_after if isinstance(retry_after, int) else None,
                migrate_to_chat_id=migrate_to if isinstance(migrate_to, int) else None,
            )
        return body.get("result")

    def send_message(self, chat_id: str | int, text: str, **params: Any) -> dict:
        return self.call("sendMessage", chat_id=chat_id, text=text, **params)

    def download(self, file_path: str, max_bytes: int) -> bytes:
        """The bytes of a file Telegram holds (`file_path` from getFile), at most `max_bytes`."""
        url = f"{self.api_base}/file/bot{self.token}/{file_path.lstrip('/')}"
        try:
            with self.http.get(url, stream=True, timeout=self.timeout * 3) as response:
                if response.status_code != 200:
                    raise TelegramError(
                        f"file download: HTTP {response.status_code}", status=response.status_code
                    )
                chunks, size = [], 0
                for chunk in response.iter_content(64 * 1024):
                    size += len(chunk)
                    if size > max_bytes:
                        raise TelegramError("file download: larger than the upload limit", status=413)
                    chunks.append(chunk)
                return b"".join(chunks)
        except requests.RequestException as exc:
            raise TelegramError(f"file download: Telegram unreachable ({type(exc).__name__})") from None
