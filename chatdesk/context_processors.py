"""Template context every page gets: the limits the pages' scripts enforce before the
server has to refuse (read from settings, passed to JavaScript in data- attributes)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def chat_limits(request: HttpRequest) -> dict:
    return {
        "chat_limits": {
            "message_max_chars": settings.MESSAGE_MAX_CHARS,
            "name_max_chars": settings.DISPLAY_NAME_MAX_CHARS,
            "upload_max_bytes": settings.UPLOAD_MAX_BYTES,
            "online_window_seconds": settings.ONLINE_WINDOW_SECONDS,
        }
    }
