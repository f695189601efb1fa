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
    # Issue 13: the agent the browser signs in as with this code (pressed "Sign in as me",
    # the code went to their private chat, or an operator issued it for them).
    agent = models.ForeignKey("Agent", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # The server-side id the code message's buttons carry (callback_data), the message
    # itself (edited once the code is used), and "Approve": the waiting browser may sign
    # in without typing the code (accounts.views.approval_status).
    ref = models.CharField(max_length=32, null=True, blank=True, unique=True)
    telegram_chat_id = models.BigIntegerField(null=True, blank=True)
    telegram_message_id = models.BigIntegerField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)

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


class Agent(models.Model):
    """A person who answers visitors: from the panel (their signed-in session belongs to
    them) or from the Telegram admin chat (their Telegram user maps to them)."""

    name = models.CharField(max_length=80)
    # A URL of our own upload storage (an uploaded picture, possibly a path like
    # /uploads/images/...) or any http(s) URL; checked by accounts.admin's form.
    avatar_url = models.CharField(max_length=500, blank=True, default="")
    telegram_user_id = models.BigIntegerField(null=True, blank=True, unique=True)
    telegram_username = models.CharField(max_length=64, blank=True, default="", db_index=True)
    # Learned when the agent sends /start to the bot in a private chat; sign-in codes for
    # this agent (`{"agent": "@username"}`) go there.
    telegram_private_chat_id = models.BigIntegerField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def to_dict(self) -> dict:
        """The `agent` object of payloads (messages, threads' assignee): {id, name, avatar_url}."""
        return {"id": self.pk, "name": self.name, "avatar_url": self.avatar_url or None}
