"""Print an admin sign-in code an operator hands out (servers without Telegram)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts import agents, otp

logger = logging.getLogger("accounts")


class Command(BaseCommand):
    help = (
        "Issue a one-time admin sign-in code and print it (only the code, on stdout). "
        "Use it when Telegram is not configured (LOGIN_CODE_BACKEND is the operator "
        "backend): the sign-in page's 'send code' then delivers nothing, and an operator "
        "with shell access hands out the code instead. The code belongs to no browser: "
        "the first browser that enters it signs in. It is single use, valid for "
        "OTP_TTL_SECONDS (default 5 minutes) and allows OTP_MAX_ATTEMPTS wrong tries. "
        "With --agent the browser signs in as that agent (replies carry their name). "
        "Exit codes: 0 done, 1 no such active agent, 2 usage error."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--agent",
            help="The agent the code signs in: @username or exact name (see `manage.py agents list`).",
        )

    def handle(self, *args, agent=None, **options):
        found = None
        if agent:
            found = agents.find(agent)
            if found is None:
                raise CommandError(
                    f"No single active agent {agent!r}; add one with `manage.py agents add NAME`."
                )
        code = otp.issue_operator_code(found)
        # The code itself never goes to the log, only the fact that one was issued.
        logger.info("otp_issued delivery=command")
        self.stdout.write(code)
        minutes = settings.OTP_TTL_SECONDS / 60
        self.stderr.write(f"Sign-in code issued; single use, valid for {minutes:g} minutes.")
