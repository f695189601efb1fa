"""Every "no" chatdesk answers, as data: a stable code, an HTTP status, a translatable message.

Clients (the pages, scripts, the Telegram bridge's callers) switch on `code`, never on the
English text, which is translated into the reader's language. A refusal is raised where
the decision is made and rendered once per interface: `http_response()` for the JSON API
(`{"success": false, "error": ..., "code": ...}`; views raise, `RefusalMiddleware`
renders) and `ack()` for Socket.IO acknowledgements (`{"ok": false, "error": ...,
"code": ...}`; the socket `event` decorator renders, in the connection's language); both
may carry extra fields (e.g. `retry_after`, `field`). Modelled on Zulip's
`JsonableError` / `ErrorCode`.

Each refusal type is a subclass with class attributes: `code`, `status`, `message`, and
optionally `variants`, other wordings of the same refusal chosen by key (still one code).
Every text is written once, in its type. A subclass that does not set its own `code` is
the same refusal under a domain name (e.g. `chat.services.ThreadNotFound`).
`tests/unit/test_refusals.py` walks them all and checks that each has a unique code and
a Turkish translation. Upload refusals live in `chat/attachments/refusals.py`, sign-in ones
in `accounts/`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import JsonResponse
from django.http.cookie import parse_cookie
from django.utils import translation
from django.utils.translation import gettext_lazy as _


class Refusal(Exception):
    """Base of all refusals. Subclasses set `code`, `status` and `message`.

    `message` is a lazy translatable string that may use %(name)s placeholders, filled
    from the keyword arguments; `variant` picks another wording from `variants`; `extra`
    fields go into the answer as they are.
    """

    code = "refused"
    status = 400
    message = _("The request was refused.")
    variants: Mapping[str, Any] = {}

    def __init__(self, *, variant: str | None = None, extra: dict[str, Any] | None = None, **params: Any):
        if variant is not None:
            self.message = self.variants[variant]
        self.variant = variant
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


def client_language(cookie_header: str = "", accept_language: str = "") -> str:
    """The language to answer a client in, where there is no Django request (sockets, the
    raw 413): the `django_language` cookie, else Accept-Language, matched to
    settings.LANGUAGES, else LANGUAGE_CODE — the order of Django's LocaleMiddleware."""
    from django.http import HttpRequest

    request = HttpRequest()
    request.COOKIES = parse_cookie(cookie_header or "")
    if accept_language:
        request.META["HTTP_ACCEPT_LANGUAGE"] = accept_language
    return translation.get_language_from_request(request) or settings.LANGUAGE_CODE


def all_types() -> list[type[Refusal]]:
    """Every refusal type defined anywhere (for the catalogue test and the docs): each
    class that sets its own `code`; import the modules that define refusals first."""
    found, todo = [], [Refusal]
    while todo:
        cls = todo.pop()
        if "code" in cls.__dict__:
            found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


# --- Generic -----------------------------------------------------------------------------


class InvalidInput(Refusal, ValueError):
    """A payload or parameter we refuse; subclasses name what was wrong. (A ValueError
    too, so code that parses input may catch either.)"""

    code = "invalid_input"
    message = _("The request is not valid.")


class InvalidPayload(InvalidInput):
    """Not the one JSON object an event or an API call takes."""

    code = "invalid_payload"
    message = _("Payload must be a JSON object.")
    variants = {
        "too_many_arguments": _("Send one JSON object."),
        "not_json": _("Request body must be JSON."),
        "not_an_object": _("Request body must be a JSON object."),
        "not_telegram_update": _("Not a Telegram update."),
    }


class FieldRequired(InvalidInput):
    """A field the request must carry is missing or empty; `field` names it."""

    code = "field_required"
    message = _("%(field)s is required.")
    variants = {
        "text_message": _("text is required for a text message."),
        "image_message": _("file_url is required for an image message."),
        "audio_message": _("file_url is required for an audio message."),
    }

    def __init__(self, field: str, *, variant: str | None = None):
        super().__init__(variant=variant, extra={"field": field}, field=field)


class FieldInvalid(InvalidInput):
    """A field has a value we refuse; `field` names it, the variant says why."""

    code = "field_invalid"
    message = _("%(field)s is not valid.")
    variants = {
        "not_an_id": _("%(field)s is not a valid id."),
        "not_a_string": _("%(field)s must be a string."),
        "client_id": _("client_id must be 1-64 letters, digits or _.:-"),
        "message_type": _("type must be one of: text, image, audio."),
        "not_own_image": _("file_url must be an image uploaded to this chat."),
        "not_own_audio": _("file_url must be an audio uploaded to this chat."),
        "not_whole_number": _("%(field)s must be a whole number."),
        "below_one": _("%(field)s must be at least 1."),
        "not_listed_thread": _("before must be the id of a listed thread."),
        "not_thread_message": _("before must be the id of a message of this thread."),
        "block_duration": _("duration must be one of: 1h, 24h, 7d."),
        "view": _("view must be one of: open, mine, unassigned, resolved."),
        "shortcut": _("shortcut must be 1-32 lower-case letters, digits, _ or -."),
        "canned_language": _("language must be tr or en."),
    }

    def __init__(self, field: str, *, variant: str | None = None):
        super().__init__(variant=variant, extra={"field": field}, field=field)


class TextTooLong(InvalidInput):
    code = "text_too_long"
    message = _("text is longer than %(limit)s characters.")

    def __init__(self):
        super().__init__(limit=settings.MESSAGE_MAX_CHARS)


class NameRequired(InvalidInput):
    code = "name_required"
    message = _("display_name is required.")


class NameTooLong(InvalidInput):
    code = "name_too_long"
    message = _("display_name is longer than %(limit)s characters.")

    def __init__(self):
        super().__init__(limit=settings.DISPLAY_NAME_MAX_CHARS)


class MalformedRequest(Refusal):
    """A request body or header Django or we cannot parse."""

    code = "malformed_request"
    message = _("Malformed request.")
    variants = {
        "multipart": _("Malformed multipart body."),
        "content_length": _("Invalid Content-Length."),
    }


class Forbidden(Refusal):
    """A caller that did not prove who it is (e.g. Telegram's webhook secret is wrong)."""

    code = "forbidden"
    status = 403
    message = _("Forbidden.")


class CsrfFailed(Refusal):
    code = "csrf_failed"
    status = 403
    message = _("CSRF check failed: reload the page and try again.")


class BodyTooLarge(Refusal):
    code = "body_too_large"
    status = 413
    message = _("The request body is too large.")


class FileTooLarge(Refusal):
    """An upload past UPLOAD_MAX_BYTES (here, not in chat/attachments/, because the server's
    body limit answers it too, before the application runs)."""

    code = "file_too_large"
    status = 413
    message = _("The file is larger than %(limit_mb)s MB.")

    def __init__(self):
        super().__init__(limit_mb=settings.UPLOAD_MAX_BYTES // (1024 * 1024))


class RateLimited(Refusal):
    """Too many of something; `retry_after` (seconds) in the answer when it is known."""

    code = "rate_limited"
    status = 429
    message = _("Too many requests; slow down.")
    variants = {"uploads": _("Too many uploads; wait a minute and try again.")}

    def __init__(self, *, variant: str | None = None, retry_after: int | None = None):
        extra = {"retry_after": retry_after} if retry_after is not None else None
        super().__init__(variant=variant, extra=extra)


class TemporarilyUnavailable(Refusal):
    """A backing service (database, Redis) is down; the client should retry."""

    code = "temporarily_unavailable"
    status = 503
    message = _("The chat is temporarily unavailable; please retry.")


class ServerError(Refusal):
    code = "server_error"
    status = 500
    message = _("Server error; please retry.")


# --- Chat --------------------------------------------------------------------------------


class AdminRequired(Refusal):
    code = "admin_required"
    status = 401
    message = _("Admin sign-in required.")


class UnknownThread(Refusal):
    """No conversation with that id (deleted, or never existed)."""

    code = "unknown_thread"
    status = 404
    message = _("Unknown thread.")


class NotYourThread(Refusal):
    code = "not_your_thread"
    status = 403
    message = _("This thread does not belong to this visitor.")


class TooManyConnections(Refusal):
    """A socket connect past SOCKETIO_MAX_CONNECTIONS_PER_IP from one address."""

    code = "too_many_connections"
    status = 429
    message = _("Too many connections from this address.")


class ConversationLimit(Refusal):
    """A new conversation past CONVERSATIONS_PER_HOUR_PER_IP from one address; the
    address's existing conversations keep working. `retry_after` in seconds."""

    code = "conversation_limit"
    status = 429
    message = _("Too many new conversations from this address; continue an open one or try again later.")

    def __init__(self, *, retry_after: int):
        super().__init__(extra={"retry_after": retry_after})


class NestedTooDeep(InvalidInput):
    """JSON (a request body, a socket event's payload) nested deeper than the parser
    goes; refused like any other invalid input instead of failing with RecursionError."""

    code = "nested_too_deep"
    message = _("The JSON is nested too deeply.")


class MalformedTelegramMessage(InvalidInput):
    """A Telegram update whose fields are not what the Bot API sends (a `photo` that is
    not a list of sizes...): refused input, with a notice to the admin who sent it."""

    code = "malformed_telegram_message"
    message = _("This message could not be read, so it was not delivered.")


# --- The desk's life cycle (issue 13) -----------------------------------------------------


class Blocked(Refusal):
    """The visitor (their address or session) was blocked by an agent for a while: they
    may not write or open conversations. `retry_after` says when they may again."""

    code = "blocked"
    status = 403
    message = _("Sorry, you cannot send messages here right now. Please try again later.")

    def __init__(self, *, until=None):
        from django.utils import timezone

        extra = {}
        if until is not None:
            extra["retry_after"] = max(1, int((until - timezone.now()).total_seconds()))
        super().__init__(extra=extra)


class AgentRequired(Refusal):
    """A desk action that needs a named agent, from a panel session that has none."""

    code = "agent_required"
    status = 403
    message = _("Sign in again as a named agent to do this.")


class UnknownAgent(Refusal):
    code = "unknown_agent"
    status = 404
    message = _("No active agent with that id.")


class AlreadyAssigned(Refusal):
    """Claiming a conversation another agent has already claimed (assign it instead)."""

    code = "already_assigned"
    status = 409
    message = _("%(name)s has already claimed this conversation.")

    def __init__(self, *, name: str):
        super().__init__(name=name)


class ShortcutTaken(Refusal):
    code = "shortcut_taken"
    status = 409
    message = _("A canned reply with this shortcut and language exists already.")


class UnknownCannedReply(Refusal):
    code = "unknown_canned_reply"
    status = 404
    message = _("No canned reply with that id.")


class EmailInvalid(InvalidInput):
    """An address the visitor typed that is not an email address (Django's EmailValidator)."""

    code = "email_invalid"
    message = _("Please enter a valid email address.")


class EmailRequired(Refusal):
    """Something that is sent by email (the transcript) while the thread has no address."""

    code = "email_required"
    status = 409
    message = _("Leave your email address first.")


class EmailUnavailable(Refusal):
    """This desk sends no emails (no EMAIL_URL)."""

    code = "email_unavailable"
    status = 503
    message = _("This chat does not send emails.")


# --- Edits (issue 15) --------------------------------------------------------------------


class UnknownMessage(Refusal):
    """No message with that id (deleted with its thread, or never existed)."""

    code = "unknown_message"
    status = 404
    message = _("Unknown message.")


class NotYourMessage(Refusal):
    """An agent may edit only their own replies (not a visitor's, not a colleague's)."""

    code = "not_your_message"
    status = 403
    message = _("You can only edit your own replies.")


class NotEditable(Refusal):
    """Only text can be edited: a reply's text, or a photo's or voice note's caption,
    within the edit window."""

    code = "not_editable"
    status = 409
    message = _("This message can no longer be edited.")


class TelegramContinueUnavailable(Refusal):
    """ "Continue in Telegram" needs the bot configured and its username known (getMe)."""

    code = "telegram_unavailable"
    status = 503
    message = _("Continuing in Telegram is not available right now.")
