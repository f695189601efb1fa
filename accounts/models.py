"""One-time sign-in codes, kept in the database so every worker sees the same codes."""

from django.db import models


class OneTimeCode(models.Model):
    # Only a keyed hash is stored: a database dump does not reveal a live code.
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    consumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["consumed_at", "expires_at"], name="otp_active_idx")]

    def __str__(self) -> str:
        return f"code issued {self.created_at:%Y-%m-%d %H:%M:%S}"
