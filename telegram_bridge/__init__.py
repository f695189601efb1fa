"""The Telegram bridge: sign-in codes, visitor messages to the admin chat, replies back."""


def status() -> dict:
    """Configured or not, the last send error, how many sends wait (for /healthz)."""
    from .state import status as bridge_status

    return bridge_status()
