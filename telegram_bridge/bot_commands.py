"""Commands admins send in the Telegram chat: /threads, /thread <id>, /help."""

from __future__ import annotations

import re

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from chat import selectors
from chat.models import Thread
from chat.serializers import is_online

from . import language, outbox
from .messages import esc, short_id
from .models import Topic


def help_text() -> str:
    topics = _(", or simply write in a visitor's topic") if settings.TELEGRAM_TOPICS else ""
    return "\n".join(
        [
            _("<b>chatdesk</b> — visitor messages arrive here."),
            "• "
            + _("<b>Reply</b> to a visitor's message to answer them (text, photo or voice note)%(topics)s.")
            % {"topics": topics},
            "• " + _("/threads [n] — the n most recent conversations (10 by default)"),
            "• " + _("/open [n], /mine [n] — the open conversations, and those assigned to you"),
            "• " + _("/thread &lt;id&gt; — a conversation's last messages; reply to that to answer it"),
            "• " + _("/help — this text"),
        ]
    )


THREADS_LIMIT = 4000  # characters of a /threads answer (Telegram takes 4096)
COMMAND_RE = re.compile(r"^/([A-Za-z_]+)(?:@\S+)?(?:\s+(.*))?$", re.S)


def run(message: dict, topic_id: int | None) -> str:
    """Answer one command, in the desk's language (TELEGRAM_LANGUAGE)."""
    with translation.override(language.desk()):
        return _run(message, topic_id)


def _run(message: dict, topic_id: int | None) -> str:
    match = COMMAND_RE.match(message.get("text", "").strip())
    name = match.group(1).lower() if match else ""
    argument = (match.group(2) or "").strip() if match else ""
    reply_to = message.get("message_id")
    if name in ("threads", "list"):
        outbox.notice(threads_text(argument), reply_to=reply_to, topic_id=topic_id)
        return "command:threads"
    if name in ("open", "mine"):  # issue 13: the open conversations, or the writer's own
        within = Thread.objects.filter(status=Thread.Status.OPEN)
        title = _("Open conversations")
        if name == "mine":
            agent = _writer_agent(message)
            within = within.filter(assignee=agent) if agent is not None else within.none()
            title = _("Your open conversations")
        text = threads_text(
            argument, within=within, title=title, empty=_("%(title)s: none.") % {"title": title}
        )
        outbox.notice(text, reply_to=reply_to, topic_id=topic_id)
        return f"command:{name}"
    if name == "thread":
        text, thread_id = thread_text(argument)
        outbox.notice(text, reply_to=reply_to, topic_id=topic_id, thread_id=thread_id)
        return "command:thread"
    outbox.notice(help_text(), reply_to=reply_to, topic_id=topic_id)
    return "command:help"


def _when(value) -> str:
    return timezone.localtime(value).strftime("%d.%m %H:%M") if value else "—"


def _last(thread: Thread, limit: int = 60) -> str:
    if thread.last_message_type in ("image", "audio") and not thread.last_message_text:
        return f"[{thread.last_message_type}]"
    text = (thread.last_message_text or "").replace("\n", " ")
    return esc(text[:limit] + ("…" if len(text) > limit else "")) or "<i>" + _("no messages") + "</i>"


def _writer_agent(message: dict):
    """The agent of the admin-chat member who sent the command (None: no such user)."""
    from accounts import agents

    user = message.get("from")
    if not isinstance(user, dict) or not isinstance(user.get("id"), int) or user.get("is_bot"):
        return None
    return agents.for_telegram_user(user)


def threads_text(argument: str, within=None, title: str | None = None, empty: str | None = None) -> str:
    title = title or _("Recent conversations")
    empty = empty or _("No conversations yet.")
    count = int(argument) if argument.isdigit() else 10
    threads = selectors.recent_threads(max(1, min(count, 30)), within=within)
    if not threads:
        return empty
    topics = dict(
        Topic.objects.filter(thread_id__in=[t.id for t in threads]).values_list("thread_id", "topic_id")
    )
    footer = "\n" + _("/thread &lt;id&gt; shows a conversation; reply to it to answer.")
    lines = []
    for number, thread in enumerate(threads, 1):
        dot = "🟢" if is_online(thread) else "⚪"
        topic = " · topic" if thread.id in topics else ""
        line = (
            f"{number}. {dot} <b>{esc(thread.display_name)}</b> <code>#{short_id(thread.id)}</code>{topic}\n"
            f"    {_last(thread)} · {_when(thread.last_message_at or thread.created_at)}"
        )
        # Telegram refuses a message over 4096 characters: the newest conversations fit.
        if sum(len(existing) + 1 for existing in lines) + len(line) + len(footer) + 100 > THREADS_LIMIT:
            break
        lines.append(line)
    shown = _("%(shown)d of %(all)d") % {"shown": len(lines), "all": len(threads)}
    head = f"<b>{title}</b> ({shown if len(lines) < len(threads) else len(threads)})"
    return "\n".join([head, *lines, footer])


def thread_text(argument: str) -> tuple[str, object]:
    prefix = argument.lstrip("#").lower()
    if not re.fullmatch(r"[0-9a-f-]{4,36}", prefix):
        return _("Give a thread id from /threads, like <code>/thread 1a2b3c4d</code>."), None
    matches = list(Thread.objects.filter(id__startswith=prefix)[:2])
    if len(matches) != 1:
        return (
            _("No such conversation.")
            if not matches
            else _("Several conversations match; give more of the id.")
        ), None
    thread = matches[0]
    lines = [
        f"<b>{esc(thread.display_name)}</b> <code>#{short_id(thread.id)}</code> · "
        + ("🟢 " + _("online") if is_online(thread) else "⚪ " + _("offline"))
    ]
    for message in reversed(selectors.thread_messages(thread.id, 8)):
        who = "👤" if message.sender == "visitor" else "↩️"
        body = esc((message.content_text or "")[:300]) if message.content_text else f"[{message.type}]"
        line = f"{who} {_when(message.created_at)} {body}"
        if sum(len(existing) + 1 for existing in lines) + len(line) > 3500:
            break  # Telegram's limit is 4096; the newest messages matter most
        lines.insert(1, line)
    lines.append("\n<i>" + _("Reply to this message to answer.") + "</i>")
    return "\n".join(lines), thread.id
