"""manage.py agents list|add|deactivate|activate: the desk's named agents, for ops."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import URLValidator

from accounts import agents, signin
from accounts.models import Agent

logger = logging.getLogger("accounts")


class Command(BaseCommand):
    help = (
        "Manage the agents who answer visitors (issue 13). `list` prints every agent (id, "
        "name, Telegram user and username, whether the bot reaches them privately, active); "
        "`add NAME [--telegram-user-id ID] [--username NAME] [--avatar-url URL]` adds one; "
        "`deactivate AGENT` stops an agent signing in and ends their panel sessions; "
        "`activate AGENT` lets them in again. AGENT is an id, @username or exact name. "
        "Exit codes: 0 done, 1 error (no such agent, duplicate Telegram user), 2 usage error."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="list|add|deactivate|activate")
        sub.add_parser("list", help="Print every agent.")
        add = sub.add_parser("add", help="Add an agent.")
        add.add_argument("name", help="Display name visitors see above replies, e.g. Ayşe.")
        add.add_argument("--telegram-user-id", type=int, help="Their Telegram user id (numeric).")
        add.add_argument("--username", default="", help="Their Telegram @username (without @ is fine).")
        add.add_argument("--avatar-url", default="", help="An https URL of their picture.")
        for action in ("deactivate", "activate"):
            one = sub.add_parser(action, help=f"{action.capitalize()} an agent.")
            one.add_argument("agent", help="Agent id, @username or exact name.")

    def handle(self, *args, action: str, **options):
        return getattr(self, f"do_{action}")(**options)

    def do_list(self, **options):
        rows = list(Agent.objects.order_by("id"))
        if not rows:
            self.stdout.write("No agents yet.")
            return
        self.stdout.write("id\tname\ttelegram_user_id\tusername\tprivate_chat\tactive")
        for agent in rows:
            self.stdout.write(
                "\t".join(
                    [
                        str(agent.pk),
                        agent.name,
                        str(agent.telegram_user_id or "-"),
                        f"@{agent.telegram_username}" if agent.telegram_username else "-",
                        "yes" if agent.telegram_private_chat_id else "no",
                        "yes" if agent.is_active else "no",
                    ]
                )
            )

    def do_add(self, name: str, telegram_user_id=None, username="", avatar_url="", **options):
        name = name.strip()
        if not name or len(name) > agents.NAME_MAX:
            raise CommandError(f"The name must be 1 to {agents.NAME_MAX} characters.", returncode=2)
        if avatar_url:
            try:
                URLValidator(schemes=["https", "http"])(avatar_url)
            except ValidationError:
                raise CommandError("--avatar-url must be an http(s) URL.", returncode=2) from None
        if telegram_user_id is not None and Agent.objects.filter(telegram_user_id=telegram_user_id).exists():
            raise CommandError(f"An agent with Telegram user id {telegram_user_id} exists already.")
        agent = Agent.objects.create(
            name=name,
            telegram_user_id=telegram_user_id,
            telegram_username=username.lstrip("@")[:64],
            avatar_url=avatar_url,
        )
        logger.info("agent_added agent=%s via=command", agent.pk)
        self.stdout.write(f"Added agent {agent.pk}: {agent.name}")

    def _find(self, handle: str) -> Agent:
        agent = None
        if handle.isdigit():
            agent = Agent.objects.filter(pk=int(handle)).first()
        if agent is None:
            field = "telegram_username__iexact" if handle.startswith("@") else "name__iexact"
            matches = list(Agent.objects.filter(**{field: handle.lstrip("@")})[:2])
            if len(matches) > 1:
                raise CommandError(f"Several agents match {handle!r}; give the id (see `agents list`).")
            agent = matches[0] if matches else None
        if agent is None:
            raise CommandError(f"No agent {handle!r}; see `manage.py agents list`.")
        return agent

    def do_deactivate(self, agent: str, **options):
        found = self._find(agent)
        found.is_active = False
        found.save(update_fields=["is_active"])
        ended = signin.sign_out_agent(found)
        logger.info("agent_deactivated agent=%s sessions_ended=%s", found.pk, ended)
        self.stdout.write(f"Deactivated {found.name} ({ended} panel session(s) ended).")

    def do_activate(self, agent: str, **options):
        found = self._find(agent)
        found.is_active = True
        found.save(update_fields=["is_active"])
        self.stdout.write(f"Activated {found.name}.")
