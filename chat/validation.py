"""Validation of what clients send, at the edge, before any work is done."""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from .models import Message
from .uploads.files import is_own_upload_url

CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")


class InvalidInput(ValueError):
    """The client sent something we refuse; the message says why, for the client."""


@dataclass(frozen=True)
class MessageInput:
    thread_id: uuid.UUID
    type: str
    text: str | None
    file_url: str | None
    client_id: str | None


def require_mapping(data: Any) -> dict:
    if not isinstance(data, dict):
        raise InvalidInput("Payload must be a JSON object.")
    return data


def parse_thread_id(value: Any) -> uuid.UUID:
    if not isinstance(value, str) or not value:
        raise InvalidInput("thread_id is required.")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidInput("thread_id is not a valid id.") from None


def _without_control_chars(value: str) -> str:
    return "".join(ch for ch in value if unicodedata.category(ch) != "Cc" or ch in "\n\t")


def parse_display_name(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidInput("display_name is required.")
    name = " ".join(_without_control_chars(value).split())
    if not name:
        raise InvalidInput("display_name is required.")
    if len(name) > settings.DISPLAY_NAME_MAX_CHARS:
        raise InvalidInput(f"display_name is longer than {settings.DISPLAY_NAME_MAX_CHARS} characters.")
    return name


def parse_client_id(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not CLIENT_ID_RE.match(value):
        raise InvalidInput("client_id must be 1-64 letters, digits or _.:-")
    return value


def parse_text(value: Any, required: bool) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip() and not required):
        if required:
            raise InvalidInput("text is required for a text message.")
        return None
    if not isinstance(value, str):
        raise InvalidInput("text must be a string.")
    text = _without_control_chars(value).strip()
    if required and not text:
        raise InvalidInput("text is required for a text message.")
    if len(text) > settings.MESSAGE_MAX_CHARS:
        raise InvalidInput(f"text is longer than {settings.MESSAGE_MAX_CHARS} characters.")
    return text or None


def parse_message(data: Any) -> MessageInput:
    """Check a message_to_admin / message_to_visitor payload of the contract."""
    data = require_mapping(data)
    thread_id = parse_thread_id(data.get("thread_id"))
    kind = data.get("type", Message.Type.TEXT)
    if kind not in Message.Type.values:
        raise InvalidInput("type must be one of: text, image, audio.")
    client_id = parse_client_id(data.get("client_id"))
    if kind == Message.Type.TEXT:
        return MessageInput(thread_id, kind, parse_text(data.get("text"), True), None, client_id)
    file_url = data.get("file_url")
    if not isinstance(file_url, str) or not file_url:
        raise InvalidInput(f"file_url is required for an {kind} message.")
    if not is_own_upload_url(file_url, kind):
        raise InvalidInput(f"file_url must be an {kind} uploaded to this chat.")
    return MessageInput(thread_id, kind, parse_text(data.get("text"), False), file_url, client_id)
