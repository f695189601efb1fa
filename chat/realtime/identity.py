"""Who a socket connection is: its Django session, admin or visitor, and its threads.

A visitor owns the threads their session created (remembered in the session, so a
reload or a closed tab comes back to the same conversation) and, without a session
cookie, the threads their connection created. Nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module

from django.conf import settings
from django.http.cookie import parse_cookie

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


def load_identity(session_key: str | None) -> Identity:
    """Read the Django session behind a socket connection (a database/cache read)."""
    if not session_key:
        return Identity()
    session = _session_store()(session_key=session_key)
    if not session.exists(session_key):
        return Identity()
    return Identity(
        session_key=session_key,
        is_admin=session.get("admin") is True,
        thread_ids=set(session.get(VISITOR_THREADS_KEY, [])),
    )


def session_is_admin(session_key: str | None) -> bool:
    """Is this session (still) signed in as admin? Checked on every admin event, so
    signing out anywhere takes effect at once."""
    if not session_key:
        return False
    return _session_store()(session_key=session_key).get("admin") is True


def remember_thread(session_key: str | None, thread_id: str) -> None:
    """Add a thread to the visitor's session so it survives a reload."""
    if not session_key:
        return
    session = _session_store()(session_key=session_key)
    if not session.exists(session_key):
        return
    threads = [t for t in session.get(VISITOR_THREADS_KEY, []) if t != thread_id]
    threads.append(thread_id)
    session[VISITOR_THREADS_KEY] = threads[-MAX_REMEMBERED_THREADS:]
    session.save()
