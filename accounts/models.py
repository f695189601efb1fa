"""Sign-in state kept in the database, so every server process sees the same."""

from django.db import models


class OneTimeCode(models.Model):
    """A sign-in code. `owner` is a hash of the session that asked for it (one live code
    per session); operator codes (`manage.py issue_login_code`) have none."""

    # Only keyed hashes are stored: a database dump reveals neither a live code nor a
    # session key.
    code_hash = models.CharField(max_length=64)
    owner = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        kind = "session" if self.owner else "operator"
        return f"{kind} code issued {self.created_at:%Y-%m-%d %H:%M:%S}"


class LimitCounter(models.Model):
    """One fixed-window rate-limit count (chatdesk.ratelimit without Redis): rows outlive
    any cache eviction and are deleted once their window is over."""

    name = models.CharField(max_length=200, unique=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.name}={self.count}"
