"""Small helpers for the JSON answers of the API."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, JsonResponse


def json_error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"success": False, "error": message}, status=status)


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object body; an empty body counts as {}.

    Raises ValueError with a client-facing reason for anything else.
    """
    if not request.body:
        return {}
    try:
        data = json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError("Request body must be JSON.") from None
    if not isinstance(data, dict):
        raise ValueError("Request body must be a JSON object.")
    return data


def service_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean a backing service (database, Redis) is down, not a bug."""
    from django.db import DatabaseError
    from redis.exceptions import RedisError

    return (DatabaseError, RedisError)


def service_unavailable() -> JsonResponse:
    response = json_error("The chat is temporarily unavailable; please retry.", status=503)
    response["Retry-After"] = "5"
    return response
