"""Canned replies: saved answers agents insert by typing their shortcut (`/hours`) in the
composer. Managed in the panel (GET/POST /api/canned...) and in the Django admin."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from chatdesk.refusals import FieldInvalid, FieldRequired, ShortcutTaken, TextTooLong, UnknownCannedReply

from .models import CannedReply

SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
LANGUAGES = {choice for choice, _ in CannedReply.Language.choices}


def to_dict(reply: CannedReply) -> dict[str, Any]:
    return {"id": reply.pk, "shortcut": reply.shortcut, "language": reply.language, "text": reply.text}


def all_replies() -> list[dict[str, Any]]:
    return [to_dict(r) for r in CannedReply.objects.order_by("shortcut", "language")]


def parse(data: dict) -> dict[str, str]:
    """{shortcut, language, text} from a request: shortcut without its slash, lower case
    letters, digits, _ and - (1-32); language tr or en; text 1 to MESSAGE_MAX_CHARS."""
    shortcut = data.get("shortcut")
    if not isinstance(shortcut, str) or not shortcut.strip().lstrip("/"):
        raise FieldRequired("shortcut")
    shortcut = shortcut.strip().lstrip("/").lower()
    if not SHORTCUT.match(shortcut):
        raise FieldInvalid("shortcut", variant="shortcut")
    language = data.get("language")
    if language not in LANGUAGES:
        raise FieldInvalid("language", variant="canned_language")
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise FieldRequired("text")
    text = text.strip()
    if len(text) > settings.MESSAGE_MAX_CHARS:
        raise TextTooLong()
    return {"shortcut": shortcut, "language": language, "text": text}


def create(data: dict) -> CannedReply:
    fields = parse(data)
    try:
        with transaction.atomic():
            return CannedReply.objects.create(**fields)
    except IntegrityError:
        raise ShortcutTaken() from None


def update(reply_id: int, data: dict) -> CannedReply:
    fields = parse(data)
    try:
        with transaction.atomic():
            reply = CannedReply.objects.select_for_update().filter(pk=reply_id).first()
            if reply is None:
                raise UnknownCannedReply()
            for name, value in fields.items():
                setattr(reply, name, value)
            reply.save()
            return reply
    except IntegrityError:
        raise ShortcutTaken() from None


def delete(reply_id: int) -> None:
    deleted, _ = CannedReply.objects.filter(pk=reply_id).delete()
    if not deleted:
        raise UnknownCannedReply()
