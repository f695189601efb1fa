"""The client's address, for rate limits and logs."""

from django.conf import settings


def client_ip(meta: dict) -> str:
    """REMOTE_ADDR, or the proxy's X-Forwarded-For when TRUST_X_FORWARDED_FOR is on.

    Only trust the header behind a proxy that sets it; otherwise clients could forge it
    to escape rate limits.
    """
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return meta.get("REMOTE_ADDR") or "unknown"
