"""Finding and creating agents (accounts.Agent): from a Telegram user, a name or @username.

Only the accounts app creates agents. A Telegram user becomes an agent on first use when
they are a member of the admin chat (the caller checks membership: telegram_bridge asks
the Bot API; a message written in the admin chat proves it by itself).
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from .models import Agent

DEFAULT_AGENT_NAME = "Admin"
NAME_MAX = Agent._meta.get_field("name").max_length


def telegram_name(user: dict[str, Any]) -> str:
    """A Telegram user's display name: first and last name, else @username, else the id."""
    parts = [str(user.get(key) or "").strip() for key in ("first_name", "last_name")]
    name = " ".join(part for part in parts if part)
    if not name and user.get("username"):
        name = f"@{user['username']}"
    return (name or f"Telegram {user.get('id')}")[:NAME_MAX]


def by_telegram_user(user_id: int) -> Agent | None:
    return Agent.objects.filter(telegram_user_id=user_id).first()


def for_telegram_user(user: dict[str, Any]) -> Agent:
    """The agent of this Telegram user (`message.from`, `callback_query.from`), created on
    first use; their @username is kept current. Call only for members of the admin chat."""
    user_id = int(user["id"])
    username = str(user.get("username") or "")[:64]
    agent = by_telegram_user(user_id)
    if agent is None:
        try:
            with transaction.atomic():
                return Agent.objects.create(
                    name=telegram_name(user), telegram_user_id=user_id, telegram_username=username
                )
        except IntegrityError:  # the same user's other update created it just now
            agent = Agent.objects.get(telegram_user_id=user_id)
    if agent.telegram_username != username:
        agent.telegram_username = username
        agent.save(update_fields=["telegram_username"])
    return agent


def find(handle: str) -> Agent | None:
    """An active agent by "@username" (their Telegram username) or by display name, both
    without regard to case; None when there is none (or several share the name)."""
    handle = (handle or "").strip()
    if not handle:
        return None
    active = Agent.objects.filter(is_active=True)
    if handle.startswith("@"):
        matches = list(active.filter(telegram_username__iexact=handle[1:])[:2])
    else:
        matches = list(active.filter(name__iexact=handle)[:2])
    return matches[0] if len(matches) == 1 else None


def named(name: str) -> Agent:
    """The active agent called `name`, created when there is none (development sign-in)."""
    agent = find(name)
    if agent is None:
        agent = Agent.objects.create(name=name.strip()[:NAME_MAX])
    return agent


def default_agent() -> Agent:
    """The agent the development sign-in uses when no name is given ("Admin")."""
    return named(DEFAULT_AGENT_NAME)
