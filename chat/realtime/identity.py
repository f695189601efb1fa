"""Who a socket connection is: its Django session, admin or visitor, and its threads.

A visitor owns the threads their session created (remembered in the session, so a
reload or a closed tab comes back to the same conversation) and, without a session
cookie, the threads their connection created. Nothing else.

Visitors' sessions are created when they are needed, not for every page view: the
visitor page only hands out a *reserved* session key (`reserve_visitor_key`, signed by
us, no database row), and the session row is created under that key when the visitor
first opens a conversation (`remember_thread`). A key we did not sign is never adopted.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from importlib import import_module

from django.conf import settings
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError
from django.http.cookie import parse_cookie
from django.utils.crypto import get_random_string

from accounts import signin

VISITOR_THREADS_KEY = "visitor_threads"
# A visitor who keeps opening new conversations keeps only their newest ones.
MAX_REMEMBERED_THREADS = 20


@dataclass
class Identity:
    session_key: str | None = None
    is_admin: bool = False
    thread_ids: set[str] = field(default_factory=set)


def _session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def session_key_from_cookie_header(header: str) -> str | None:
    """The session key in a Cookie header, read by Django's own parser (as for HTTP).

    The standard library's SimpleCookie gives up on the whole header when any cookie has
    a JSON value or a space (consent banners, analytics on the parent domain); Django's
    parser reads each cookie on its own, so sockets see the same session the pages do.
    """
    return parse_cookie(header or "").get(settings.SESSION_COOKIE_NAME) or None


def _key_signature(random_part: str) -> str:
    digest = hmac.new(
        settings.SECRET_KEY.encode(), b"visitor-session:" + random_part.encode(), hashlib.sha256
    )
    number = int.from_bytes(digest.digest()[:8], "big")
    signature = ""
    while len(signature) < 12:
        number, digit = divmod(number, 36)
        signature += VALID_KEY_CHARS[digit]
    return signature


def reserve_visitor_key() -> str:
    """A new session key for a visitor, signed so that only keys we handed out are ever
    turned into sessions; nothing is stored until the visitor chats."""
    random_part = get_random_string(28, VALID_KEY_CHARS)
    return random_part + _key_signature(random_part)


def is_reserved_key(session_key: str | None) -> bool:
    if not session_key or len(session_key) != 40:
        return False
    return hmac.compare_digest(session_key[28:], _key_signature(session_key[:28]))


def load_identity(session_key: str | None) -> Identity:
    """Read the Django session behind a socket connection (a database/cache read).

    A reserved key without a session yet still identifies the visitor: their first
    conversation creates the session under it."""
    if not session_key:
        return Identity()
    session = _session_store()(session_key=session_key)
    if not session.exists(session_key):
        return Identity(session_key=session_key) if is_reserved_key(session_key) else Identity()
    return Identity(
        session_key=session_key,
        is_admin=signin.session_is_admin(session_key),
        thread_ids=set(session.get(VISITOR_THREADS_KEY, [])),
    )


def session_is_admin(session_key: str | None) -> bool:
    """Is this session (still) signed in as admin? Checked on every admin event, so
    signing out anywhere takes effect at once."""
    return signin.session_is_admin(session_key)


def remember_thread(session_key: str | None, thread_id: str) -> None:
    """Add a thread to the visitor's session so it survives a reload; a reserved key's
    session is created now."""
    if not session_key:
        return
    store = _session_store()
    session = store(session_key=session_key)
    if not session.exists(session_key):
        if not is_reserved_key(session_key):
            return
        # A fresh, empty session under this key (loading it would pick a new random key).
        session._session_cache = {VISITOR_THREADS_KEY: [thread_id]}
        try:
            session.save(must_create=True)
            return
        except CreateError:  # another socket of this visitor created it just now
            session = store(session_key=session_key)
    threads = [t for t in session.get(VISITOR_THREADS_KEY, []) if t != thread_id]
    threads.append(thread_id)
    session[VISITOR_THREADS_KEY] = threads[-MAX_REMEMBERED_THREADS:]
    session.save()
