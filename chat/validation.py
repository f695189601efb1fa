"""Validation of what clients send, at the edge, before any work is done."""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from chatdesk.refusals import (
    FieldInvalid,
    FieldRequired,
    InvalidPayload,
    NameRequired,
    NameTooLong,
    TextTooLong,
)
from chatdesk.refusals import InvalidInput as InvalidInput  # what the parse_* functions raise

from .attachments.files import is_own_upload_url
from .models import Message

CLIENT_ID_RE = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")


@dataclass(frozen=True)
class MessageInput:
    thread_id: uuid.UUID
    type: str
    text: str | None
    file_url: str | None
    client_id: str | None
    # Additive: a photo's size in pixels, a voice note's length (what the recorder measured).
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None


def require_mapping(data: Any) -> dict:
    if not isinstance(data, dict):
        raise InvalidPayload()
    return data


def parse_thread_id(value: Any, field: str = "thread_id") -> uuid.UUID:
    """An id (of a thread, or of a message for `before`) sent as the field `field`."""
    if not isinstance(value, str) or not value:
        raise FieldRequired(field)
    try:
        return uuid.UUID(value)
    except ValueError:
        raise FieldInvalid(field, variant="not_an_id") from None


def _without_control_chars(value: str) -> str:
    if value.isprintable():  # most texts: no control character in them (one C-level scan)
        return value
    return "".join(ch for ch in value if unicodedata.category(ch) != "Cc" or ch in "\n\t")


_HIDDEN_IN_NAMES = {"Cc", "Cf", "Co", "Cs"}


def _visible_name_chars(value: str) -> str:
    """Without control, format (Cf: U+202E right-to-left override, U+200B zero-width
    space, U+2066 isolates...), private-use and surrogate characters, which would show a
    reversed, blank or misleading name in the panel. (Unassigned code points stay: they
    may be emoji newer than this Python.)"""
    return "".join(ch for ch in value if unicodedata.category(ch) not in _HIDDEN_IN_NAMES)


def parse_display_name(value: Any) -> str:
    if not isinstance(value, str):
        raise NameRequired()
    name = " ".join(_visible_name_chars(value.replace("\t", " ").replace("\n", " ")).split())
    if not name:
        raise NameRequired()
    if len(name) > settings.DISPLAY_NAME_MAX_CHARS:
        raise NameTooLong()
    return name


def parse_client_id(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not CLIENT_ID_RE.fullmatch(value):
        raise FieldInvalid("client_id", variant="client_id")
    return value


def parse_text(value: Any, required: bool) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip() and not required):
        if required:
            raise FieldRequired("text", variant="text_message")
        return None
    if not isinstance(value, str):
        raise FieldInvalid("text", variant="not_a_string")
    text = _without_control_chars(value).strip()
    if required and not text:
        raise FieldRequired("text", variant="text_message")
    if len(text) > settings.MESSAGE_MAX_CHARS:
        raise TextTooLong()
    return text or None


# Looked up once: Message.Type.values builds a new list on every access.
_MESSAGE_TYPES = frozenset(Message.Type.values)
_TEXT, _IMAGE = Message.Type.TEXT, Message.Type.IMAGE


def parse_message(data: Any) -> MessageInput:
    """Check a message_to_admin / message_to_visitor payload of the contract."""
    data = require_mapping(data)
    thread_id = parse_thread_id(data.get("thread_id"))
    kind = data.get("type", _TEXT)
    if not isinstance(kind, str) or kind not in _MESSAGE_TYPES:
        raise FieldInvalid("type", variant="message_type")
    client_id = parse_client_id(data.get("client_id"))
    if kind == _TEXT:
        return MessageInput(thread_id, kind, parse_text(data.get("text"), True), None, client_id)
    file_url = data.get("file_url")
    if not isinstance(file_url, str) or not file_url:
        raise FieldRequired("file_url", variant=f"{kind}_message")
    if not is_own_upload_url(file_url, kind):
        raise FieldInvalid("file_url", variant=f"not_own_{kind}")
    text = parse_text(data.get("text"), False)
    if kind == _IMAGE:
        width, height = _pixels(data.get("width"), "width"), _pixels(data.get("height"), "height")
        if width is None or height is None:
            width = height = None
        return MessageInput(thread_id, kind, text, file_url, client_id, width=width, height=height)
    return MessageInput(
        thread_id, kind, text, file_url, client_id, duration_ms=_duration_ms(data.get("duration"))
    )


MAX_PIXELS_SIDE = 100_000
MAX_DURATION_SECONDS = 24 * 3600


def _number(value: Any, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise FieldInvalid(field)
    return float(value)


def _pixels(value: Any, field: str) -> int | None:
    """Optional width or height of a photo: a whole number of pixels, 1 to 100,000."""
    number = _number(value, field)
    if number is None:
        return None
    if number != int(number) or not 1 <= number <= MAX_PIXELS_SIDE:
        raise FieldInvalid(field)
    return int(number)


def _duration_ms(value: Any) -> int | None:
    """Optional length of a voice note in seconds (a day at most), stored in milliseconds."""
    number = _number(value, "duration")
    if number is None:
        return None
    if not 0 <= number <= MAX_DURATION_SECONDS:
        raise FieldInvalid("duration")
    return round(number * 1000)


def parse_email(value: Any) -> str:
    """A visitor's email address ("" clears it), checked with Django's EmailValidator."""
    from django.core.exceptions import ValidationError
    from django.core.validators import EmailValidator

    from chatdesk.refusals import EmailInvalid

    if value is None:
        return ""
    if not isinstance(value, str):
        raise FieldInvalid("email", variant="not_a_string")
    address = value.strip()
    if not address:
        return ""
    if len(address) > 254:
        raise EmailInvalid()
    try:
        EmailValidator()(address)
    except ValidationError:
        raise EmailInvalid() from None
    return address
