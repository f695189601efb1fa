"""Who is a signed-in panel admin: the one owner of that fact in the session.

Only this module reads or writes the admin flag of a Django session (the way
`django.contrib.auth` owns SESSION_KEY). Other apps ask `is_admin(request)` for HTTP and
`session_is_admin(session_key)` for sockets, and learn about sign-outs from the
`admin_signed_out` signal instead of being imported here.
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.dispatch import Signal
from django.http import HttpRequest
from django.middleware.csrf import rotate_token

# The session entry that marks a signed-in panel admin. The value "admin" is what
# sessions signed in before this module existed carry, so they stay signed in.
ADMIN_SESSION_KEY = "admin"
# The session entry naming the agent (accounts.Agent id) the panel session belongs to.
# Sessions signed in before agents existed have none: they act as no agent.
AGENT_SESSION_KEY = "agent_id"

# Sent after an admin session has ended, with `session_key` (the key it had). Receivers
# close what the session opened (the chat app closes its panel sockets).
admin_signed_out = Signal()

# Sent after a sign-in code (typed, or approved) was used, with `agent` (or None),
# `chat_id` and `message_id` of the code's Telegram message: the bridge edits it to
# "Signed in: <name>".
code_used = Signal()


def _session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def _agent_allowed(agent_id) -> bool:
    """A session signed in as an agent stays an admin while that agent is active (a
    deactivated agent is out at once, in every process, whatever sessions' caches hold).
    Sessions from before agents existed have no agent and stay admins."""
    if agent_id is None:
        return True
    from .models import Agent

    return Agent.objects.filter(pk=agent_id, is_active=True).exists()


def is_admin(request: HttpRequest) -> bool:
    if request.session.get(ADMIN_SESSION_KEY) is not True:
        return False
    allowed = getattr(request, "_chatdesk_agent_allowed", None)
    if allowed is None:
        allowed = request._chatdesk_agent_allowed = _agent_allowed(request.session.get(AGENT_SESSION_KEY))
    return allowed


def session_is_admin(session_key: str | None) -> bool:
    """Is this session (still) signed in as admin? For sockets, which carry only the key."""
    if not session_key:
        return False
    session = _session_store()(session_key=session_key)
    return session.get(ADMIN_SESSION_KEY) is True and _agent_allowed(session.get(AGENT_SESSION_KEY))


def sign_in(request: HttpRequest, agent=None) -> None:
    """Make this browser an admin acting as `agent` (an accounts.Agent, or None): a new
    session key and a new CSRF token, so whatever key or token someone planted before
    sign-in is worthless."""
    request.session.cycle_key()
    request.__dict__.pop("_chatdesk_agent_allowed", None)
    request.session[ADMIN_SESSION_KEY] = True
    if agent is not None:
        request.session[AGENT_SESSION_KEY] = agent.pk
    else:
        request.session.pop(AGENT_SESSION_KEY, None)
    rotate_token(request)


def _active_agent(agent_id):
    from .models import Agent

    if not isinstance(agent_id, int) or isinstance(agent_id, bool):
        return None
    return Agent.objects.filter(pk=agent_id, is_active=True).first()


def current_agent(request: HttpRequest):
    """The agent this panel request acts as: None without an admin session, for a session
    signed in before agents existed, or when the agent was deactivated since."""
    if not is_admin(request):
        return None
    return _active_agent(request.session.get(AGENT_SESSION_KEY))


def agent_for_session(session_key: str | None):
    """current_agent() for sockets, which carry only the session key (a database read:
    call it off the event loop). Re-read on each call, like session_is_admin."""
    if not session_key:
        return None
    session = _session_store()(session_key=session_key)
    if session.get(ADMIN_SESSION_KEY) is not True:
        return None
    return _active_agent(session.get(AGENT_SESSION_KEY))


def sign_out(request: HttpRequest) -> bool:
    """End this browser's session; returns whether it was an admin's. Receivers of
    `admin_signed_out` run before the answer goes out."""
    session_key = request.session.session_key
    was_admin = is_admin(request)
    request.session.flush()
    rotate_token(request)
    if was_admin and session_key:
        admin_signed_out.send(sender=sign_out, session_key=session_key)
    return was_admin


def sign_out_agent(agent) -> int:
    """End every panel session of `agent` (deactivated): their sockets are closed like at
    sign-out. Scans the live sessions (an ops action, rare); returns how many ended."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    ended = 0
    store = _session_store()
    for row in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        data = row.get_decoded()
        if data.get(ADMIN_SESSION_KEY) is True and data.get(AGENT_SESSION_KEY) == agent.pk:
            store(session_key=row.session_key).delete(row.session_key)
            admin_signed_out.send(sender=sign_out_agent, session_key=row.session_key)
            ended += 1
    return ended
