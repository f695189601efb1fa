"""What a visitor's email says: HTML + plain text, in the language of their page."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from chat.models import Message, Thread

from . import links


def author_name(message: Message) -> str | None:
    """The agent who wrote `message` (None: a reply from before agents had names)."""
    agent = message.agent if message.agent_id else None
    return agent.name if agent is not None and agent.name else None


def _entry(message: Message) -> dict:
    local = timezone.localtime(message.created_at)
    return {
        "from_visitor": message.sender == Message.Sender.VISITOR,
        "author": author_name(message) if message.sender == Message.Sender.ADMIN else None,
        "type": message.type,
        "text": message.content_text or "",
        "url": links.absolute(message.file_path) if message.file_path else "",
        "time": local.strftime("%Y-%m-%d %H:%M"),
    }


def _email(thread: Thread, to: str, subject: str, template: str, context: dict) -> EmailMultiAlternatives:
    unsubscribe = links.unsubscribe_url(to)
    context = {
        **context,
        "thread": thread,
        "resume_url": links.resume_url(thread),
        "unsubscribe_url": unsubscribe,
        "link_days": settings.EMAIL_LINK_MAX_AGE_DAYS,
    }
    text = render_to_string(f"notifications/{template}.txt", context)
    html = render_to_string(f"notifications/{template}.html", context)
    email = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={
            # Mail clients' own unsubscribe button (RFC 2369, one click: RFC 8058).
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    email.attach_alternative(html, "text/html")
    return email


def replies_email(thread: Thread, replies: list[Message], to: str) -> EmailMultiAlternatives:
    with translation.override(thread.email_language or settings.LANGUAGE_CODE):
        authors = sorted({name for name in (author_name(m) for m in replies) if name})
        subject = (
            _("%(name)s replied to your message") % {"name": ", ".join(authors)}
            if authors
            else _("New reply to your message")
        )
        return _email(
            thread, to, subject, "replies", {"entries": [_entry(m) for m in replies], "authors": authors}
        )


def transcript_email(thread: Thread, messages: list[Message], to: str) -> EmailMultiAlternatives:
    with translation.override(thread.email_language or settings.LANGUAGE_CODE):
        subject = _("Your conversation with us")
        return _email(thread, to, subject, "transcript", {"entries": [_entry(m) for m in messages]})
