"""Print a fresh admin sign-in code, for servers without a Telegram bot."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts import otp

logger = logging.getLogger("accounts")


class Command(BaseCommand):
    help = (
        "Issue a one-time admin sign-in code and print it (only the code, on stdout). "
        "Use it when Telegram is not configured: the sign-in page's 'send code' then "
        "delivers nothing, and an operator with shell access hands out the code instead. "
        "The code is single use and valid for OTP_TTL_SECONDS (default 5 minutes); "
        "codes issued earlier stay valid until they expire."
    )

    def handle(self, *args, **options):
        code = otp.issue_code()
        # The code itself never goes to the log, only the fact that one was issued.
        logger.info("otp_issued delivery=command")
        self.stdout.write(code)
        minutes = settings.OTP_TTL_SECONDS / 60
        self.stderr.write(f"Sign-in code issued; single use, valid for {minutes:g} minutes.")
