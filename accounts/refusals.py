"""The sign-in's refusals: stable codes the login page switches on (see chatdesk.refusals)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from chatdesk.refusals import RateLimited, Refusal

__all__ = [
    "AgentInactive",
    "AgentInvalid",
    "AgentUnreachable",
    "CodeExpired",
    "CodeInvalid",
    "CodeNotRequested",
    "CodeWrong",
    "DeliveryFailed",
    "RateLimited",
    "SignInRateLimited",
    "TooManyTries",
]


class SignInRateLimited(RateLimited):
    """`rate_limited`, worded for the sign-in page (same code, so no `code` of its own)."""

    variants = {
        "requests": _("Too many codes requested; wait a few minutes and try again."),
        "wrong_codes": _("Too many wrong codes; try again later."),
    }


class CodeInvalid(Refusal):
    code = "code_invalid"
    message = _("Enter the 6-digit code.")


class CodeWrong(Refusal):
    code = "code_wrong"
    message = _("Wrong code.")


class CodeExpired(Refusal):
    code = "code_expired"
    message = _("The code has expired. Request a new code.")


class CodeNotRequested(Refusal):
    code = "code_not_requested"
    message = _("No code was requested, or it was already used. Request a new code.")


class TooManyTries(Refusal):
    code = "too_many_tries"
    message = _("Too many wrong tries for this code. Request a new code.")


class DeliveryFailed(Refusal):
    """The delivery backend could not hand the code over; the code was withdrawn."""

    code = "delivery_failed"
    status = 502
    message = _("Could not send the code; try again shortly.")


class AgentUnreachable(Refusal):
    """`/request-otp` with `{"agent": ...}`: no active agent by that name whom the code can
    reach (for Telegram: who has sent /start to the bot in private). The same answer for
    a name nobody has, so it tells nothing the admin chat does not already know."""

    code = "agent_unreachable"
    status = 409
    message = _(
        "The code cannot be sent to that agent: check the name, and that they have sent "
        "/start to the bot in a private chat."
    )


class AgentInvalid(Refusal):
    code = "agent_invalid"
    message = _("Give an agent as @username or name, up to 80 characters.")


class AgentInactive(Refusal):
    """The code belongs to an agent who was deactivated since: it signs nobody in."""

    code = "agent_inactive"
    status = 403
    message = _("This agent was deactivated; ask a colleague to reactivate you.")
