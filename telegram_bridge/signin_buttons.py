"""The sign-in code message's buttons, "Sign in as me" and "Approve" (telegram_bridge.otp
explains the flow)."""

from __future__ import annotations

import logging
import re

from django.utils import translation
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import otp

from . import callbacks, language
from .messages import esc
from .otp import CALLBACK_PREFIX, buttons

logger = logging.getLogger("telegram_bridge.signin")

CODE_RE = re.compile(r"\b(\d{6})\b")


def handle(press: callbacks.Press) -> str:
    action, _sep, ref = press.data.partition(":")
    if action not in ("me", "ok") or not ref:
        press.answer(callbacks.NO_LONGER_WORKS)
        return "signin:bad_data"
    agent = press.agent()
    if agent is None:
        press.answer(gettext_lazy("Only members of the admin chat can sign in."), alert=True)
        logger.warning("signin_press_refused user=%s reason=not_member", press.user.get("id"))
        return "signin:not_member"
    result, row = otp.press(ref, agent, approve=action == "ok")
    if result is otp.Press.GONE:
        press.answer(gettext_lazy("This code was used, replaced or has expired."))
        return "signin:gone"
    if result is otp.Press.TAKEN:
        if row is not None and row.agent is not None:
            press.answer(format_lazy(gettext_lazy("This code is {name}'s."), name=row.agent.name))
        else:
            press.answer(gettext_lazy("This code is another agent's."))
        return "signin:taken"
    name = esc(agent.name)
    if result is otp.Press.APPROVED:
        press.answer(format_lazy(gettext_lazy("Approved: the browser signs in as {name}."), name=agent.name))
        with translation.override(language.desk()):  # the chat's message: the desk's language
            press.edit(_("Approved for <b>%(name)s</b>; the browser is signing in…") % {"name": name})
        logger.info("signin_approved agent=%s", agent.pk)
        return "signin:approved"
    # "Sign in as me": the code stays readable (the message shows it), now marked as theirs.
    match = CODE_RE.search(str(press.message.get("text") or ""))
    code = f": <code>{match.group(1)}</code>" if match else ""
    press.answer(format_lazy(gettext_lazy("The code signs in {name}."), name=agent.name))
    with translation.override(language.desk()):
        press.edit(
            _("Code for <b>%(name)s</b>") % {"name": name} + code, reply_markup=buttons(ref, claim=False)
        )
    logger.info("signin_claimed agent=%s", agent.pk)
    return "signin:claimed"


callbacks.register(CALLBACK_PREFIX, handle)
