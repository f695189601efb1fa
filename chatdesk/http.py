"""Small helpers for the JSON answers of the API."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, JsonResponse

from . import refusals
from .refusals import InvalidPayload, NestedTooDeep, TemporarilyUnavailable

# Seconds a client is told to wait before retrying during an outage.
OUTAGE_RETRY_AFTER = 5


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object body; an empty body counts as {}.

    Raises InvalidPayload (a refusal, and a ValueError) for anything else.
    """
    if not request.body:
        return {}
    try:
        data = json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidPayload(variant="not_json") from None
    except RecursionError:
        raise NestedTooDeep() from None
    if not isinstance(data, dict):
        raise InvalidPayload(variant="not_an_object")
    return data


def service_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean a backing service (database, Redis) is down, not a bug."""
    from django.db import DatabaseError
    from redis.exceptions import RedisError

    return (DatabaseError, RedisError)


def service_unavailable() -> JsonResponse:
    return refusals.http_response(TemporarilyUnavailable(extra={"retry_after": OUTAGE_RETRY_AFTER}))
