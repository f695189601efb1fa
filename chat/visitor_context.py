"""Visitor context (issue 14): what agents see about the visitor they are talking to.

The visitor's page sends it with `join` (field `context`) and again with the `context`
event when the visitor navigates (the launcher tells the frame). Only what the chat page
sends while the visitor uses the chat is stored (docs/privacy.md):

- `page_url` (http/https only, at most 2 KB), `page_title` (at most 200 characters),
  `referrer` (same rules as the URL);
- `language` (a BCP 47 tag such as "tr-TR"), `timezone` (an IANA name such as
  "Europe/Istanbul") and `utc_offset_minutes` (minutes east of UTC, as the browser
  reported it), so the panel shows the visitor's local time;
- `browser` and `os`, parsed on the server from the socket's User-Agent header with
  ua-parser (never sent by the page);
- `previous_conversations`: how many other conversations this browser session had.

`parse()` is strict (the `context` event refuses a bad field with `field_invalid`);
`parse_lenient()` drops bad fields instead (a join never fails for its context).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from chatdesk.refusals import FieldInvalid

from .validation import require_mapping

URL_MAX_BYTES = 2048
TITLE_MAX_CHARS = 200
USER_AGENT_MAX_CHARS = 512
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,4}$")
_TIMEZONE = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,3}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _url(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise FieldInvalid(field, variant="not_a_string")
    value = value.strip()
    if not value:
        return ""
    if len(value.encode()) > URL_MAX_BYTES or _CONTROL.search(value):
        raise FieldInvalid(field)
    try:
        parts = urlsplit(value)
    except ValueError:
        raise FieldInvalid(field) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise FieldInvalid(field)
    return value


def _title(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise FieldInvalid(field, variant="not_a_string")
    value = " ".join(_CONTROL.sub(" ", value).split())
    if len(value) > TITLE_MAX_CHARS:
        raise FieldInvalid(field)
    return value


def _pattern(pattern: re.Pattern, max_chars: int):
    def parse(value: Any, field: str) -> str:
        if not isinstance(value, str):
            raise FieldInvalid(field, variant="not_a_string")
        if value and (len(value) > max_chars or not pattern.match(value)):
            raise FieldInvalid(field)
        return value

    return parse


def _offset(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -16 * 60 <= value <= 16 * 60:
        raise FieldInvalid(field)
    return value


# What the page may send, and how each field is checked.
_FIELDS = {
    "page_url": _url,
    "page_title": _title,
    "referrer": _url,
    "language": _pattern(_LANGUAGE, 35),
    "timezone": _pattern(_TIMEZONE, 64),
    "utc_offset_minutes": _offset,
}


def parse(data: Any) -> dict[str, Any]:
    """The page's context object, checked: unknown keys are ignored, a bad value is
    refused (`field_invalid`, field `context.<name>`)."""
    data = require_mapping(data)
    return {
        name: check(data[name], f"context.{name}")
        for name, check in _FIELDS.items()
        if data.get(name) is not None
    }


def parse_lenient(data: Any) -> dict[str, Any]:
    """Like parse(), but a bad or missing field is left out instead of refused."""
    if not isinstance(data, dict):
        return {}
    parsed = {}
    for name, check in _FIELDS.items():
        if data.get(name) is None:
            continue
        try:
            parsed[name] = check(data[name], f"context.{name}")
        except FieldInvalid:
            continue
    return parsed


def browser_and_os(user_agent: str | None) -> dict[str, str]:
    """{"browser": "Chrome 120", "os": "Windows 10"} from a User-Agent header (ua-parser's
    maintained rules); empty strings for what it does not recognise."""
    if not user_agent:
        return {"browser": "", "os": ""}
    from ua_parser import parse as parse_user_agent

    result = parse_user_agent(user_agent[:USER_AGENT_MAX_CHARS])

    def name(part) -> str:
        if part is None or part.family in ("Other", ""):
            return ""
        return " ".join(bit for bit in (part.family, part.major) if bit)

    return {"browser": name(result.user_agent), "os": name(result.os)}


def public(thread) -> dict[str, Any] | None:
    """A thread's context as payloads carry it (`context`), None before any was sent."""
    stored = getattr(thread, "visitor_context", None) or {}
    if not stored:
        return None
    return {
        "page_url": stored.get("page_url", ""),
        "page_title": stored.get("page_title", ""),
        "referrer": stored.get("referrer", ""),
        "language": stored.get("language", ""),
        "timezone": stored.get("timezone", ""),
        "utc_offset_minutes": stored.get("utc_offset_minutes"),
        "browser": stored.get("browser", ""),
        "os": stored.get("os", ""),
        "previous_conversations": stored.get("previous_conversations", 0),
        "updated_iso": stored.get("updated_iso"),
    }


def summary_lines(thread) -> list[str]:
    """Plain-text lines for Telegram (the first forwarded message): page, browser and OS,
    language and local zone, earlier conversations. Empty without context."""
    context = public(thread)
    if context is None:
        return []
    lines = []
    if context["page_url"]:
        title = f" ({context['page_title'][:80]})" if context["page_title"] else ""
        lines.append(f"Page: {context['page_url'][:300]}{title}")
    device = " on ".join(bit for bit in (context["browser"], context["os"]) if bit)
    if device:
        lines.append(f"Browser: {device}")
    where = ", ".join(bit for bit in (context["language"], context["timezone"]) if bit)
    if where:
        lines.append(f"Language / zone: {where}")
    if context["referrer"]:
        lines.append(f"Came from: {context['referrer'][:200]}")
    if context["previous_conversations"]:
        lines.append(f"Earlier conversations: {context['previous_conversations']}")
    return lines
