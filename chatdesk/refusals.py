"""Every "no" chatdesk answers, as data: a stable code, an HTTP status, a translatable message.

Clients (the pages, scripts, the Telegram bridge's callers) switch on `code`, never on the
English text, which is translated into the reader's language. A refusal is raised where
the decision is made and rendered once per interface: `http_response()` for the JSON API
(`{"success": false, "error": ..., "code": ...}`) and `ack()` for Socket.IO
acknowledgements (`{"ok": false, "error": ..., "code": ...}`); both may carry extra
fields (e.g. `retry_after`). Modelled on Zulip's `JsonableError` / `ErrorCode`.

Each refusal type below is a subclass with class attributes; `tests/unit/test_refusals.py`
walks them all and checks that each has a unique code and a Turkish translation.
"""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _


class Refusal(Exception):
    """Base of all refusals. Subclasses set `code`, `status` and `message`.

    `message` is a lazy translatable string that may use %(name)s placeholders, filled
    from the keyword arguments; `extra` fields go into the answer as they are.
    """

    code = "refused"
    status = 400
    message = _("The request was refused.")

    def __init__(self, message: Any = None, /, *, extra: dict[str, Any] | None = None, **params: Any):
        if message is not None:
            self.message = message
        self.params = params
        self.extra = extra or {}
        super().__init__(self.code)

    def text(self) -> str:
        """The message in the active language, with its parameters filled in."""
        text = str(self.message)
        return text % self.params if self.params else text

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.text(), "code": self.code, **self.extra}

    def __str__(self) -> str:
        return self.text()


def http_response(refusal: Refusal) -> JsonResponse:
    """The JSON API's answer: {"success": false, "error": <translated>, "code": ...}."""
    response = JsonResponse({"success": False, **refusal.as_dict()}, status=refusal.status)
    if "retry_after" in refusal.extra:
        response["Retry-After"] = str(int(refusal.extra["retry_after"]))
    return response


def ack(refusal: Refusal) -> dict[str, Any]:
    """A Socket.IO acknowledgement: {"ok": false, "error": <translated>, "code": ...}."""
    return {"ok": False, **refusal.as_dict()}


def all_types() -> list[type[Refusal]]:
    """Every refusal type defined anywhere (for the catalogue test and the docs)."""
    found, todo = [], [Refusal]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


# --- Generic -----------------------------------------------------------------------------


class InvalidInput(Refusal):
    """A payload or parameter we refuse; subclasses name what was wrong."""

    code = "invalid_input"
    message = _("The request is not valid.")


class RateLimited(Refusal):
    code = "rate_limited"
    status = 429
    message = _("Too many requests; slow down.")


class TemporarilyUnavailable(Refusal):
    code = "temporarily_unavailable"
    status = 503
    message = _("The chat is temporarily unavailable; please retry.")


class ServerError(Refusal):
    code = "server_error"
    status = 500
    message = _("Server error; please retry.")


class AdminRequired(Refusal):
    code = "admin_required"
    status = 401
    message = _("Admin sign-in required.")
