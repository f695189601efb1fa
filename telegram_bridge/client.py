"""A small Telegram Bot API client over HTTP (requests). Never call it on the event loop."""

from __future__ import annotations

from typing import Any

import requests
from django.conf import settings


class TelegramError(Exception):
    """The Bot API refused a call or could not be reached."""

    def __init__(self, message: str, status: int | None = None, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class TelegramClient:
    def __init__(self, token: str, api_base: str, timeout: float = 10.0):
        self.token = token
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()

    @classmethod
    def from_settings(cls) -> TelegramClient:
        return cls(settings.TELEGRAM_BOT_TOKEN, settings.TELEGRAM_API_BASE)

    def call(self, method: str, files: dict | None = None, timeout: float | None = None, **params: Any) -> Any:
        url = f"{self.api_base}/bot{self.token}/{method}"
        try:
            if files:
                response = self.http.post(url, data=params, files=files, timeout=timeout or self.timeout)
            else:
                response = self.http.post(url, json=params, timeout=timeout or self.timeout)
        except requests.RequestException as exc:
            # The URL holds the bot token: never let it reach a log or an error message.
            raise TelegramError(f"{method}: Telegram unreachable ({type(exc).__name__})") from None
        try:
            body = response.json()
        except ValueError:
            raise TelegramError(f"{method}: HTTP {response.status_code}", status=response.status_code) from None
        if not body.get("ok"):
            retry_after = (body.get("parameters") or {}).get("retry_after")
            raise TelegramError(
                f"{method}: {body.get('description', 'error')}",
                status=response.status_code,
                retry_after=retry_after,
            )
        return body.get("result")

    def send_message(self, chat_id: str | int, text: str, **params: Any) -> dict:
        return self.call("sendMessage", chat_id=chat_id, text=text, **params)
