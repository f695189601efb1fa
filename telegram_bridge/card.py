"""The control card (issue 13): each thread's first message in the admin chat (pinned in
its forum topic) shows the visitor, the status, the assignee and what else is known, with
the buttons Claim, Resolve / Reopen, Block and Open in panel.

- Sending and editing go through the outbox (kind "card"): the card is queued in the
  thread's lane ahead of the message that opened it, and re-drawn (editMessageText) from
  the thread's current state whenever `chat.signals.thread_updated` says it changed,
  whoever changed it (a button here, the panel, a visitor's message reopening it).
- A press (`callback_query`, prefix "card") is answered at once (answerCallbackQuery,
  not queued), after doing the same domain operation as the panel (chat.services) as the
  presser's agent; presses by non-members of the admin chat are refused.
- Callback data is "card:<action>:<card id>:<state version>:<signature>" (under 64
  bytes): the card is looked up server-side, the HMAC stops made-up data, and a press
  whose version is older than the thread's state answers "This conversation has changed"
  and does nothing. A callback query delivered twice acts once (HandledCallback).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import logging
import threading
import uuid
from datetime import timedelta
from urllib.parse import urlparse

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chat import services, signals
from chat.models import Message, Thread
from chatdesk.refusals import Refusal

from . import callbacks, language, outbox
from .client import TelegramError
from .messages import esc, short_id
from .models import HandledCallback, OutboxItem, ThreadCard
from .otp import is_configured

logger = logging.getLogger("telegram_bridge.card")

PREFIX = "card"
ACTIONS = {"c": "claim", "r": "resolve", "o": "reopen", "b": "block"}
BLOCK_DURATION = "24h"
KEEP_HANDLED = timedelta(days=2)
CHANGED = gettext_lazy("This conversation has changed.")
DELETED = gettext_lazy("This conversation was deleted.")


def enabled() -> bool:
    return bool(settings.TELEGRAM_CARDS) and is_configured()


# --- callback data -----------------------------------------------------------------------


def _signature(action: str, card_id: int, version: int) -> str:
    mac = hmac.new(
        settings.SECRET_KEY.encode(), f"telegram-card:{action}:{card_id}:{version}".encode(), hashlib.sha256
    )
    return base64.urlsafe_b64encode(mac.digest()[:8]).decode().rstrip("=")


def callback_data(action: str, card_id: int, version: int) -> str:
    return f"{PREFIX}:{action}:{card_id}:{version}:{_signature(action, card_id, version)}"


def parse_data(data: str) -> tuple[str, int, int] | None:
    """(action, card id, version) of a press's data after "card:", None when not ours."""
    parts = data.split(":")
    if len(parts) != 4 or parts[0] not in ACTIONS or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    action, card_id, version = parts[0], int(parts[1]), int(parts[2])
    if not hmac.compare_digest(parts[3], _signature(action, card_id, version)):
        return None
    return action, card_id, version


# --- what the card shows -------------------------------------------------------------------


def panel_url(thread_id) -> str | None:
    """The panel with the thread open, or None when SITE_URL is not a public address
    (Telegram refuses URL buttons to localhost)."""
    base = settings.SITE_URL or ""
    parsed = urlparse(base)
    host = parsed.hostname or ""
    if parsed.scheme not in ("http", "https") or not host or host == "localhost":
        return None
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        pass
    return f"{base}/admin?thread={thread_id}"


def _when(value) -> str:
    return timezone.localtime(value).strftime("%d.%m.%Y %H:%M")


def render(thread: Thread, card: ThreadCard) -> tuple[str, dict]:
    """The card's text (HTML) and inline keyboard for the thread as it is now, in the
    desk's language (TELEGRAM_LANGUAGE)."""
    with translation.override(language.desk()):
        return _render(thread, card)


def _render(thread: Thread, card: ThreadCard) -> tuple[str, dict]:
    resolved = thread.status == Thread.Status.RESOLVED
    status = "✅ " + _("Resolved") if resolved else "🟢 " + _("Open")
    assignee = esc(thread.assignee.name) if thread.assignee_id and thread.assignee else _("nobody")
    lines = [
        f"🗂 <b>{esc(thread.display_name)}</b> · <code>#{short_id(thread.id)}</code>",
        _("Status: %(status)s") % {"status": status},
        _("Assigned to: %(name)s") % {"name": assignee},
    ]
    page = getattr(thread, "page_url", "") or ""  # visitor context (issue 14), when known
    if page:
        lines.append(_("Page: %(url)s") % {"url": esc(page[:300])})
    if thread.email:
        lines.append(_("Email: %(email)s") % {"email": esc(thread.email)})
    blocked = thread.blocked_until is not None and thread.blocked_until > timezone.now()
    if blocked:
        lines.append("⛔ " + _("Blocked until %(time)s") % {"time": _when(thread.blocked_until)})
    lines.append(_("Started %(time)s") % {"time": _when(thread.created_at)})
    version = thread.state_version
    first_row = []
    if not thread.assignee_id and not resolved:
        first_row.append({"text": "🙋 " + _("Claim"), "callback_data": callback_data("c", card.pk, version)})
    if resolved:
        first_row.append({"text": "↩️ " + _("Reopen"), "callback_data": callback_data("o", card.pk, version)})
    else:
        first_row.append(
            {"text": "✅ " + _("Resolve"), "callback_data": callback_data("r", card.pk, version)}
        )
    second_row = []
    if not blocked:
        second_row.append(
            {"text": "⛔ " + _("Block 24 h"), "callback_data": callback_data("b", card.pk, version)}
        )
    url = panel_url(thread.id)
    if url:
        second_row.append({"text": _("Open in panel"), "url": url})
    keyboard = [row for row in (first_row, second_row) if row]
    return "\n".join(lines), {"inline_keyboard": keyboard}


# --- following the chat ------------------------------------------------------------------


class KnownCards:
    """The threads this process knows to have their card, so that a visitor message
    needs no lookup (issue 16: the lookup was about a tenth of a message's CPU with the
    bridge on). A card lives as long as its thread and thread ids are never reused, so an
    entry never goes stale; it is added only once the transaction that found or made the
    card has committed. At most `size` threads, the oldest dropped first: a thread
    dropped is looked up again."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._ids: dict[uuid.UUID, None] = {}
        self._lock = threading.Lock()

    def __contains__(self, thread_id: uuid.UUID) -> bool:
        return thread_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, thread_ids) -> None:
        with self._lock:
            for thread_id in thread_ids:
                self._ids[thread_id] = None
            while len(self._ids) > self.size:
                del self._ids[next(iter(self._ids))]

    def forget(self, thread_ids=None) -> None:
        with self._lock:
            if thread_ids is None:
                self._ids.clear()
                return
            for thread_id in thread_ids:
                self._ids.pop(thread_id, None)


known_cards = KnownCards()


def on_messages_posted(sender, messages: list[Message], via: str, **kwargs) -> None:
    """A thread's first message in the admin chat: queue its card first, in the thread's
    lane (connected before the outbox's own receiver, so the card's item comes first).
    Threads this process knows to have a card cost nothing; for the others, the group
    creates the cards that do not exist yet and queues an item for each it created (no
    lookup first: nearly every thread this process does not know yet is new). A card
    another transaction made meanwhile (the thread's reply from the panel, another server
    process) is skipped: its maker queues it, once. When a group of new conversations
    arrives together (a site's busy minute) that is one INSERT, where a savepoint and an
    INSERT each made the group wait on every one of them in turn."""
    if not enabled():
        return
    thread_ids = [
        thread_id
        for thread_id in dict.fromkeys(m.thread_id for m in outbox.forwarded(messages, via))
        if thread_id not in known_cards
    ]
    if not thread_ids:
        return
    if transaction.get_connection().vendor == "postgresql":
        # Cards and items in one statement, which waits for the COMMIT's round trip.
        outbox.insert_items_for_made(_CARDS_MADE_SQL, OutboxItem.Kind.CARD, thread_ids, {"action": "send"})
    else:
        created = _create_cards(thread_ids)
        outbox.enqueue_each(
            OutboxItem.Kind.CARD,
            [thread_id for thread_id in thread_ids if thread_id in created],
            payload={"action": "send"},
        )
    # Every one of them has its card once this commits (found, made here, or made by the
    # transaction that won the race); a rollback drops this with the cards it made.
    transaction.on_commit(lambda: known_cards.add(thread_ids))


_CARDS_INTO = f"INSERT INTO {ThreadCard._meta.db_table} (thread_id, shown_version, created_at)"
_CARDS_SKIP_MADE = " ON CONFLICT (thread_id) DO NOTHING RETURNING thread_id"
# PostgreSQL: the ids as one comma-separated list (%(threads)s, as outbox.insert_items_for_made).
_CARDS_MADE_SQL = (
    f"{_CARDS_INTO} SELECT thread_id::uuid, 0, %(now)s::timestamptz"
    f" FROM unnest(string_to_array(%(threads)s, ',')) AS thread_id{_CARDS_SKIP_MADE}"
)


def _create_cards(thread_ids: list) -> set:
    """SQLite: create the cards of `thread_ids` in one statement; the ids whose card this
    call created."""
    connection = transaction.get_connection()
    created_at = connection.ops.adapt_datetimefield_value(timezone.now())
    to_db = ThreadCard._meta.get_field("thread_id").get_db_prep_value
    rows = ", ".join(["(%s, 0, %s)"] * len(thread_ids))
    params = [value for thread_id in thread_ids for value in (to_db(thread_id, connection), created_at)]
    with connection.cursor() as cursor:
        cursor.execute(f"{_CARDS_INTO} VALUES {rows}{_CARDS_SKIP_MADE}", params)
        field = ThreadCard._meta.get_field("thread_id")
        return {field.to_python(value) for (value,) in cursor.fetchall()}


def on_thread_updated(sender, thread: Thread, change: str, by=None, **kwargs) -> None:
    """Re-draw the card (ahead of chat traffic); one queued edit is enough, since it draws
    the state at the time it goes out."""
    if not enabled() or not ThreadCard.objects.filter(thread_id=thread.id).exists():
        return
    queued = OutboxItem.objects.filter(
        kind=OutboxItem.Kind.CARD,
        thread_id=thread.id,
        state=OutboxItem.State.PENDING,
        claimed_at__isnull=True,
        payload__action="edit",
    )
    if queued.exists():
        return
    outbox.enqueue(
        OutboxItem.Kind.CARD,
        thread_id=thread.id,
        payload={"action": "edit"},
        priority=OutboxItem.Priority.NOTICE,
    )


def on_threads_deleted(sender, thread_ids, **kwargs) -> None:
    ThreadCard.objects.filter(thread_id__in=list(thread_ids)).delete()
    known_cards.forget(list(thread_ids))


def on_all_cleared(sender, **kwargs) -> None:
    ThreadCard.objects.all().delete()
    known_cards.forget()


def connect() -> None:
    """Connect before outbox.connect(): receivers run in the order they were connected."""
    signals.messages_posted.connect(on_messages_posted, dispatch_uid="telegram_bridge.card.messages_posted")
    signals.thread_updated.connect(on_thread_updated, dispatch_uid="telegram_bridge.card.thread_updated")
    signals.threads_deleted.connect(on_threads_deleted, dispatch_uid="telegram_bridge.card.threads_deleted")
    signals.all_cleared.connect(on_all_cleared, dispatch_uid="telegram_bridge.card.all_cleared")


# --- sending (called by the outbox worker) -----------------------------------------------


def deliver(sender, item: OutboxItem) -> None:
    """Send the card (the first time) or edit it to the thread's current state."""
    card = ThreadCard.objects.filter(thread_id=item.thread_id).first()
    thread = Thread.objects.select_related("assignee").filter(id=item.thread_id).first()
    if card is None or thread is None:
        return  # deleted meanwhile
    text, markup = render(thread, card)
    if card.message_id is None:
        if (item.payload or {}).get("action") != "send":
            return  # not sent yet: the send draws the state it finds
        topic_id = sender.topic_for(thread, item.chat_id) if settings.TELEGRAM_TOPICS else None
        result = sender.call(
            item.chat_id,
            "sendMessage",
            text=text,
            parse_mode="HTML",
            reply_markup=markup,
            message_thread_id=topic_id,
        )
        chat_id, message_id = result["chat"]["id"], result["message_id"]
        ThreadCard.objects.filter(pk=card.pk).update(
            chat_id=chat_id, message_id=message_id, shown_version=thread.state_version
        )
        # A reply to the card answers the visitor, as a reply to their message does.
        services.link_telegram_message(thread.id, chat_id, message_id)
        if topic_id is not None:
            try:
                sender.client.call(
                    "pinChatMessage", chat_id=chat_id, message_id=message_id, disable_notification=True
                )
            except TelegramError as exc:  # the bot may not pin: the card is still the first message
                logger.warning("telegram_card_pin_failed thread=%s error=%r", thread.id, str(exc))
        return
    try:
        sender.call(
            str(card.chat_id),
            "editMessageText",
            message_id=card.message_id,
            text=text,
            parse_mode="HTML",
            reply_markup=markup,
        )
    except TelegramError as exc:
        described = str(exc).lower()
        if "not modified" in described:
            pass  # it already shows this
        elif exc.permanent and ("not found" in described or "can't be edited" in described):
            logger.warning("telegram_card_gone thread=%s error=%r", thread.id, str(exc))
            return  # deleted in Telegram: nothing to edit
        else:
            raise
    ThreadCard.objects.filter(pk=card.pk).update(shown_version=thread.state_version)


# --- presses -----------------------------------------------------------------------------


def _act(action: str, thread_id: uuid.UUID, agent) -> Promise:
    """Do the button's operation as `agent`; returns the presser's toast."""
    if action == "c":
        _, changed = services.claim_thread(thread_id, agent)
        return (
            gettext_lazy("You have this conversation.") if changed else gettext_lazy("It is already yours.")
        )
    if action == "r":
        _, changed = services.resolve_thread(thread_id, by=agent)
        return gettext_lazy("Resolved.") if changed else gettext_lazy("Already resolved.")
    if action == "o":
        _, changed = services.reopen_thread(thread_id, by=agent)
        return gettext_lazy("Reopened.") if changed else gettext_lazy("Already open.")
    services.block_visitor(thread_id, BLOCK_DURATION, by=agent)
    return gettext_lazy("The visitor is blocked for 24 hours.")


def handle(press: callbacks.Press) -> str:
    parsed = parse_data(press.data)
    if parsed is None:
        press.answer(callbacks.NO_LONGER_WORKS)
        return "card:bad_data"
    action, card_id, version = parsed
    agent = press.agent()
    if agent is None:
        press.answer(gettext_lazy("Only agents of this desk can use these buttons."), alert=True)
        logger.warning("card_press_refused user=%s reason=not_agent", press.user.get("id"))
        return "card:not_agent"
    card = ThreadCard.objects.filter(pk=card_id).first()
    if card is None:
        press.answer(DELETED)
        return "card:gone"
    callback_id = str(press.query.get("id"))[:64]
    with transaction.atomic():
        try:
            with transaction.atomic():
                HandledCallback.objects.create(callback_id=callback_id)
        except IntegrityError:
            # Telegram delivered this press again: it was acted on (and answered) once.
            return "card:duplicate"
        # The thread's row stays locked from the version check to the change.
        thread = Thread.objects.select_for_update().filter(id=card.thread_id).first()
        if thread is None:
            outcome, toast = "card:gone", DELETED
        elif thread.state_version != version:
            outcome, toast = "card:stale", CHANGED
        else:
            try:
                toast = _act(action, thread.id, agent)
                outcome = f"card:{ACTIONS[action]}"
            except Refusal as exc:
                # Rendered when answered, in the presser's language like the other toasts.
                outcome, toast = f"card:refused:{exc.code}", lazy(exc.text, str)()
    press.answer(toast)
    HandledCallback.objects.filter(handled_at__lt=timezone.now() - KEEP_HANDLED).delete()
    logger.info("card_press outcome=%s agent=%s thread=%s", outcome, agent.pk, card.thread_id)
    return outcome


callbacks.register(PREFIX, handle)
