"""★ Continue in Telegram (issue 14): a visitor moves their conversation to the bot.

1. The visitor page asks `GET /api/telegram/continue` whether it may offer the button (the
   bot is configured and its username known: getMe, cached in BridgeState), and on a press
   `POST /api/telegram/continue {thread_id}` (their own thread) for a link
   `https://t.me/<bot>?start=<token>`. The token is a random server-side id (prefix
   "c_", 34 characters of A-Z a-z 0-9 _ -), bound to that thread, single use, expiring
   after TELEGRAM_CONTINUE_TOKEN_SECONDS.
2. Pressing Start sends the bot `/start <token>` from the visitor's private chat: the
   token is spent (one UPDATE that also checks expiry and earlier use), the chat is
   linked to the thread (VisitorChat) and the history so far is sent there.
3. From then on the visitor's private messages (text, photo, voice) are stored as visitor
   messages of the thread through chat.services (so they reach the panel and the admin
   chat like any visitor message), and every agent reply (panel or admin chat) is queued
   to their chat too (outbox kind "visitor"). `/stop` unlinks.

A private chat that is not linked never reaches a thread, the admin chat or another
visitor: it gets a short answer (here, or the agents' help text in agent_chats).
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from chat import blocks, selectors, services
from chat.attachments.files import StorageFailed
from chat.models import Message, Thread
from chat.realtime.identity import VISITOR_THREADS_KEY
from chat.validation import parse_thread_id
from chatdesk import ratelimit, refusals
from chatdesk.clientip import client_ip
from chatdesk.refusals import (
    InvalidPayload,
    NotYourThread,
    RateLimited,
    Refusal,
    TelegramContinueUnavailable,
    UnknownThread,
)

from . import language, messages, outbox, state
from .client import TelegramClient, TelegramError
from .models import ContinueToken, OutboxItem, VisitorChat

logger = logging.getLogger("telegram_bridge.visitors")

TOKEN_PREFIX = "c_"
USERNAME_KEY = "bot_username"
LINKS_PER_HOUR_PER_IP = 30

# The visitor's chat speaks the visitor's Telegram language when the desk has it.
LINKED = _(
    "You are now talking with the support team here. Write as you would on the "
    "web page: text, photos and voice notes reach them, and their answers come here. "
    "Send /stop to stop."
)
REFUSED = _(
    "This link does not work any more (it was used already, or it expired). Press "
    "“Continue in Telegram” on the chat page again for a new one."
)
STOPPED = _(
    "Stopped: new answers are shown on the chat page only. Press “Continue in Telegram” there to come back."
)
LINKED_HELP = _("You are linked to your conversation: just write here. Send /stop to stop.")
UNSUPPORTED = _("Only text, photos and voice notes reach the support team; this one was not sent.")
NOT_DELIVERED = _("Not delivered: {reason}")
GONE = _("This conversation was closed on the chat page. Send /stop and start again from the chat.")
HISTORY_TITLE = _("<b>Your conversation so far</b>")
YOU = _("You")
SUPPORT = _("Support")
PHOTO = _("[photo]")
VOICE_NOTE = _("[voice note]")


def is_configured() -> bool:
    return bool(settings.TELEGRAM_BOT_TOKEN and settings.TELEGRAM_CHAT_ID)


def bot_username(client: TelegramClient | None = None) -> str | None:
    """The bot's @username (without @): getMe once, then cached in BridgeState."""
    if not is_configured():
        return None
    cached = state.get_value(USERNAME_KEY)
    if cached:
        return cached
    try:
        me = (client or TelegramClient.from_settings()).call("getMe")
    except TelegramError as exc:
        logger.warning("telegram_getme_failed error=%r", str(exc))
        return None
    username = (me or {}).get("username")
    if not isinstance(username, str) or not username:
        return None
    state.set_value(USERNAME_KEY, username)
    return username


# --- the visitor page's routes -------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def continue_view(request: HttpRequest) -> JsonResponse:
    """GET: {"available", "bot"}. POST {thread_id} (CSRF, the visitor's own thread):
    201 {"success": true, "url", "expires_in"}."""
    try:
        if request.method == "GET":
            username = bot_username()
            return JsonResponse({"available": username is not None, "bot": username})
        return _new_link(request)
    except Refusal as exc:
        return refusals.http_response(exc)


def _new_link(request: HttpRequest) -> JsonResponse:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise InvalidPayload(variant="not_json") from None
    if not isinstance(body, dict):
        raise InvalidPayload(variant="not_an_object")
    thread_id = parse_thread_id(body.get("thread_id"))
    if str(thread_id) not in request.session.get(VISITOR_THREADS_KEY, []):
        raise NotYourThread()
    if not Thread.objects.filter(id=thread_id).exists():
        raise UnknownThread()
    username = bot_username()
    if username is None:
        raise TelegramContinueUnavailable()
    if not ratelimit.hit("telegram_continue", client_ip(request.META), LINKS_PER_HOUR_PER_IP, 3600):
        raise RateLimited(retry_after=ratelimit.retry_after(3600))
    token = new_token(thread_id)
    return JsonResponse(
        {
            "success": True,
            "url": f"https://t.me/{username}?start={token}",
            "expires_in": settings.TELEGRAM_CONTINUE_TOKEN_SECONDS,
        },
        status=201,
    )


def new_token(thread_id) -> str:
    # 24 random bytes: 32 URL-safe characters (A-Z a-z 0-9 _ -), as Telegram's start allows.
    token = TOKEN_PREFIX + secrets.token_urlsafe(24)
    now = timezone.now()
    ContinueToken.objects.filter(expires_at__lt=now - timedelta(days=1)).delete()
    ContinueToken.objects.create(
        token=token,
        thread_id=thread_id,
        expires_at=now + timedelta(seconds=settings.TELEGRAM_CONTINUE_TOKEN_SECONDS),
    )
    return token


# --- the visitor's private chat with the bot ---------------------------------------------


def _say(chat_id: int, text_html: str) -> None:
    """An answer to the visitor's chat, through the outbox (durable, paced, ahead of the
    replies): kind "visitor" with a text, so a refusal of that chat stays with it."""
    outbox.enqueue(
        OutboxItem.Kind.VISITOR,
        chat_id=chat_id,
        payload={"text": str(text_html)},
        priority=OutboxItem.Priority.NOTICE,
    )


def start_token(text: str) -> str | None:
    """The visitor token of a `/start <token>` text, else None."""
    parts = text.split()
    if len(parts) == 2 and parts[0] in ("/start",) and parts[1].startswith(TOKEN_PREFIX):
        return parts[1]
    return None


def handle_private(message: dict, receiver) -> str | None:
    """A private message to the bot: the visitor side of it, or None (not a visitor's: the
    agents' private chat handling answers it)."""
    user = message.get("from") or {}
    chat_id = (message.get("chat") or {}).get("id")
    if not isinstance(chat_id, int) or user.get("is_bot") or not isinstance(user.get("id"), int):
        return None
    with translation.override(language.of_user(user)):
        return _handle_private(message, receiver, user, chat_id)


def _handle_private(message: dict, receiver, user: dict, chat_id: int) -> str | None:
    text = message.get("text") if isinstance(message.get("text"), str) else None
    token = start_token(text) if text else None
    if token is not None:
        return _link(chat_id, user["id"], token)
    link = VisitorChat.objects.filter(chat_id=chat_id).first()
    if link is None:
        return None
    if text is not None and text.split()[0] in ("/stop", "/stop@" + (state.get_value(USERNAME_KEY) or "")):
        VisitorChat.objects.filter(pk=link.pk).delete()
        _say(chat_id, STOPPED)
        logger.info("telegram_visitor_stopped thread=%s", link.thread_id)
        return "visitor:stopped"
    if text is not None and text.startswith("/"):
        _say(chat_id, LINKED_HELP)
        return "visitor:help"
    return _store(link, chat_id, message, receiver)


def _link(chat_id: int, user_id: int, token: str) -> str:
    now = timezone.now()
    with transaction.atomic():
        row = ContinueToken.objects.filter(token=token).first()
        spent = ContinueToken.objects.filter(token=token, used_at__isnull=True, expires_at__gt=now).update(
            used_at=now, used_by_chat_id=chat_id
        )
        thread = Thread.objects.filter(id=row.thread_id).first() if spent and row is not None else None
        if thread is None:
            reason = "unknown" if row is None else ("used" if row.used_at else "expired")
            logger.warning("telegram_visitor_link_refused reason=%s", reason if spent == 0 else "thread_gone")
            _say(chat_id, REFUSED)
            return "visitor:token_refused"
        VisitorChat.objects.update_or_create(
            chat_id=chat_id, defaults={"user_id": user_id, "thread_id": thread.id, "linked_at": now}
        )
        _say(chat_id, LINKED)
        for piece in _history(thread):
            _say(chat_id, piece)
    logger.info("telegram_visitor_linked thread=%s", thread.id)
    return "visitor:linked"


def _history(thread: Thread) -> list[str]:
    """The conversation so far as Telegram texts (each within Telegram's limit)."""
    rows = selectors.thread_messages(thread.id, settings.MESSAGES_DEFAULT_LIMIT)
    if not rows:
        return []
    lines = []
    for message in rows:
        who = YOU if message.sender == Message.Sender.VISITOR else _agent_name(message)
        what = message.content_text or ""
        if message.type == Message.Type.IMAGE:
            what = f"{PHOTO} {what}".strip()
        elif message.type == Message.Type.AUDIO:
            what = f"{VOICE_NOTE} {what}".strip()
        lines.append(f"{who}: {what}")
    title = str(HISTORY_TITLE)
    budget = messages.TEXT_LIMIT - len(title) - 1
    return [f"{title}\n{piece}" for piece in messages.split_text("\n".join(lines), budget)]


def _agent_name(message: Message) -> str:
    agent = getattr(message, "agent", None) if getattr(message, "agent_id", None) else None
    return agent.name if agent is not None else str(SUPPORT)


def _store(link: VisitorChat, chat_id: int, message: dict, receiver) -> str:
    thread = Thread.objects.filter(id=link.thread_id).first()
    if thread is None:
        _say(chat_id, GONE)
        return "visitor:thread_gone"
    try:
        data = receiver.message_input(thread.id, chat_id, message)
    except (Refusal, TelegramError, StorageFailed) as exc:
        _say(chat_id, NOT_DELIVERED.format(reason=messages.esc(str(exc))))
        return "visitor:refused"
    if data is None:
        _say(chat_id, UNSUPPORTED)
        return "visitor:unsupported"
    visitor = blocks.Visitor(thread.visitor_ip or None, thread.visitor_key_hash or None)
    try:
        _stored, created = services.post_visitor_message(data, via="telegram", visitor=visitor)
    except Refusal as exc:  # blocked, or the thread went meanwhile
        _say(chat_id, NOT_DELIVERED.format(reason=messages.esc(str(exc.text()))))
        return "visitor:refused"
    return "visitor:stored" if created else "visitor:duplicate"


# --- agents' replies to the visitor's chat ---------------------------------------------------


def on_messages_posted(sender, messages: list[Message], via: str, **kwargs) -> None:
    """An agent answered (panel or admin chat): queue it to each linked visitor chat, in
    the transaction that stores the reply."""
    if not is_configured():
        return
    for message in messages:
        if message.sender != Message.Sender.ADMIN:
            continue
        for chat_id in VisitorChat.objects.filter(thread_id=message.thread_id).values_list(
            "chat_id", flat=True
        ):
            outbox.enqueue(
                OutboxItem.Kind.VISITOR, chat_id=chat_id, thread_id=message.thread_id, message_id=message.id
            )


def deliver(sender, item: OutboxItem) -> bool:
    """Send an item to a visitor's chat: the bot's answer (`payload.text`), or reply
    `item.message_id` (a text in parts, resumed after the last one sent; a file with its
    caption). True when done. The visitor blocking the bot (or deleting their account) is
    their /stop: the chat is unlinked and nothing else is tried; it is not the admin
    chat's refusal (the panel's banner)."""
    try:
        return _deliver(sender, item)
    except TelegramError as exc:
        if exc.lasting in (None, "unauthorized"):
            raise
        VisitorChat.objects.filter(chat_id=int(item.chat_id)).delete()
        OutboxItem.objects.filter(kind=OutboxItem.Kind.VISITOR, chat_id=item.chat_id).exclude(
            pk=item.pk
        ).delete()
        logger.warning("telegram_visitor_chat_gone chat_id=%s reason=%s", item.chat_id, exc.lasting)
        return True


def _deliver(sender, item: OutboxItem) -> bool:
    text = (item.payload or {}).get("text")
    if item.message_id is None:
        if text:
            sender.call(item.chat_id, "sendMessage", text=text, parse_mode="HTML", **messages_no_preview())
        return True
    message = Message.objects.select_related("agent").filter(id=item.message_id).first()
    linked = VisitorChat.objects.filter(
        chat_id=int(item.chat_id), thread_id=getattr(message, "thread_id", None)
    )
    if message is None or not linked.exists():
        return True  # deleted, or the visitor stopped meanwhile
    head = f"<b>{messages.esc(_agent_name(message))}</b>"
    if message.type == Message.Type.TEXT:
        pieces = messages.split_text(message.content_text or "", messages.TEXT_LIMIT - len(head) - 1)
        index = min(item.parts_done, len(pieces) - 1)
        sender.call(item.chat_id, "sendMessage", text=f"{head}\n{pieces[index]}", parse_mode="HTML")
        item.parts_done = index + 1
        OutboxItem.objects.filter(pk=item.pk).update(parts_done=item.parts_done)
        return item.parts_done >= len(pieces)
    caption = messages.split_text(message.content_text or "", messages.CAPTION_LIMIT - len(head) - 1)[0]
    upload = messages.media_upload(message)
    sender.call(
        item.chat_id,
        upload.method,
        caption=f"{head}\n{caption}" if caption else head,
        parse_mode="HTML",
        **upload.params,
        **upload.file_params(),
    )
    return True


def messages_no_preview() -> dict:
    return {"link_preview_options": {"is_disabled": True}}


def on_threads_deleted(sender, thread_ids, **kwargs) -> None:
    """A deleted conversation takes its Telegram link and unused links with it."""
    ids = list(thread_ids)
    VisitorChat.objects.filter(thread_id__in=ids).delete()
    ContinueToken.objects.filter(thread_id__in=ids).delete()


def on_all_cleared(sender, **kwargs) -> None:
    VisitorChat.objects.all().delete()
    ContinueToken.objects.all().delete()


def connect() -> None:
    from chat import signals

    signals.threads_deleted.connect(on_threads_deleted, dispatch_uid="telegram_bridge.visitor_link.deleted")
    signals.all_cleared.connect(on_all_cleared, dispatch_uid="telegram_bridge.visitor_link.all_cleared")
    signals.messages_posted.connect(
        on_messages_posted, dispatch_uid="telegram_bridge.visitor_link.messages_posted"
    )
