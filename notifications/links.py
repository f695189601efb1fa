"""The signed links in visitors' emails: reopen a conversation, unsubscribe.

Both are `django.core.signing` values (HMAC with SECRET_KEY), so nobody can make one for
another thread or address. A reopen link names one thread and its generation (raised
when the thread is cleared, which revokes every earlier link) and works for
EMAIL_LINK_MAX_AGE_DAYS; an unsubscribe link names an address and never expires.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

RESUME_SALT = "chatdesk.notifications.resume"
UNSUBSCRIBE_SALT = "chatdesk.notifications.unsubscribe"


class BadLink(Exception):
    """Tampered, expired, or for a thread that was cleared or deleted since."""


@dataclass(frozen=True)
class ResumeTarget:
    thread_id: uuid.UUID
    generation: int


def absolute(path_or_url: str) -> str:
    if path_or_url.startswith(("http://", "https://")):
        return path_or_url
    return settings.SITE_URL + path_or_url


def resume_token(thread_id: uuid.UUID, generation: int) -> str:
    return signing.dumps({"t": str(thread_id), "g": int(generation)}, salt=RESUME_SALT)


def resume_url(thread) -> str:
    return absolute(reverse("email-resume", args=[resume_token(thread.id, thread.generation)]))


def read_resume_token(token: str) -> ResumeTarget:
    try:
        value = signing.loads(token, salt=RESUME_SALT, max_age=settings.EMAIL_LINK_MAX_AGE_DAYS * 86400)
        return ResumeTarget(uuid.UUID(value["t"]), int(value["g"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise BadLink() from None


def unsubscribe_token(address: str) -> str:
    return signing.dumps({"e": address.strip().lower()}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(address: str) -> str:
    return absolute(reverse("email-unsubscribe", args=[unsubscribe_token(address)]))


def read_unsubscribe_token(token: str) -> str:
    try:
        address = signing.loads(token, salt=UNSUBSCRIBE_SALT)["e"]
    except (signing.BadSignature, KeyError, TypeError):
        raise BadLink() from None
    if not isinstance(address, str) or "@" not in address:
        raise BadLink()
    return address
