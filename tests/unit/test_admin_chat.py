"""The admin chat's id after Telegram upgrades the group, lasting refusals, and which
Bot API errors will not heal by retrying (telegram_bridge/admin_chat.py, client.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from telegram_bridge import admin_chat, outbox
from telegram_bridge.client import TelegramError
from telegram_bridge.models import OutboxItem

pytestmark = pytest.mark.django_db

GROUP = "-4001"
SUPERGROUP = "-1004001"


@pytest.fixture(autouse=True)
def admin_chat_from_env(settings):
    settings.TELEGRAM_CHAT_ID = GROUP
    admin_chat.forget_cache()
    yield
    admin_chat.forget_cache()


@pytest.mark.parametrize(
    ("status", "description", "code"),
    [
        (403, "Forbidden: bot was kicked from the supergroup chat", "bot_removed"),
        (403, "Forbidden: bot was kicked from the group chat", "bot_removed"),
        (403, "Forbidden: bot is not a member of the supergroup chat", "bot_removed"),
        (403, "Forbidden: bot was blocked by the user", "bot_blocked"),
        (403, "Forbidden: user is deactivated", "user_deactivated"),
        (400, "Bad Request: chat not found", "chat_not_found"),
        (401, "Unauthorized", "unauthorized"),
        (400, "Bad Request: message is too long", None),
        (400, "Bad Request: TOPIC_CLOSED", None),
        (429, "Too Many Requests: retry after 3", None),
        (500, "Internal Server Error", None),
        (None, "Telegram unreachable (ConnectionError)", None),
    ],
)
def test_which_refusals_last(status, description, code):
    error = TelegramError(f"sendMessage: HTTP {status} {description}", status=status)
    assert error.lasting == code
    assert error.topic_closed == (description == "Bad Request: TOPIC_CLOSED")


def test_the_environment_gives_the_first_id_and_a_migration_the_next():
    assert admin_chat.current() == GROUP and admin_chat.previous_ids() == []
    waiting = OutboxItem.objects.create(kind="message", chat_id=GROUP)
    failed = OutboxItem.objects.create(kind="message", chat_id=GROUP, state="failed", attempts=5)
    elsewhere = OutboxItem.objects.create(kind="notice", chat_id="777")
    assert admin_chat.follow_migration(GROUP, SUPERGROUP, via="test") is True
    assert admin_chat.current() == SUPERGROUP and admin_chat.previous_ids() == [GROUP]
    assert admin_chat.is_admin_chat(int(SUPERGROUP)) and not admin_chat.is_admin_chat(GROUP)
    for item, chat, state, attempts in (
        (waiting, SUPERGROUP, "pending", 0),
        (failed, SUPERGROUP, "pending", 0),
    ):
        item.refresh_from_db()
        assert (item.chat_id, item.state, item.attempts) == (chat, state, attempts)
    elsewhere.refresh_from_db()
    assert elsewhere.chat_id == "777"
    # Followed once: the same news again changes nothing, another chat's is not ours.
    assert admin_chat.follow_migration(GROUP, SUPERGROUP, via="again") is True
    assert admin_chat.follow_migration("-999", "-1000999", via="other") is False
    assert admin_chat.current() == SUPERGROUP


def test_another_configured_chat_wins_over_a_stored_migration(settings):
    admin_chat.follow_migration(GROUP, SUPERGROUP, via="test")
    settings.TELEGRAM_CHAT_ID = "-1009999"
    admin_chat.forget_cache()
    assert admin_chat.current() == "-1009999" and admin_chat.previous_ids() == []


def test_a_refusal_holds_sends_for_a_while_then_lets_one_probe(clock):
    admin_chat.refuse(GROUP, "bot_removed", "403")
    assert admin_chat.refused_now(GROUP)["reason"] == "the bot was removed from the admin chat"
    assert admin_chat.refused_now("-5") is None
    clock.advance((admin_chat.PROBE_EVERY - timedelta(seconds=1)).total_seconds())
    assert admin_chat.refused_now(GROUP) is not None
    clock.advance(2)
    assert admin_chat.refused_now(GROUP) is None  # one item tries again
    assert admin_chat.refusal()["code"] == "bot_removed"  # still reported until it heals
    assert admin_chat.clear_refusal("-5") is False
    assert admin_chat.clear_refusal(GROUP) is True and admin_chat.refusal() is None


def test_requeue_sends_failed_items_again_to_the_current_chat():
    admin_chat.follow_migration(GROUP, SUPERGROUP, via="test")
    stale = OutboxItem.objects.create(kind="message", chat_id=GROUP, state="failed", attempts=1)
    pending = OutboxItem.objects.create(kind="message", chat_id=SUPERGROUP, attempts=2)
    admin_chat.refuse(SUPERGROUP, "bot_removed")
    assert outbox.requeue(OutboxItem.objects.all()) == 1
    stale.refresh_from_db()
    pending.refresh_from_db()
    assert (stale.chat_id, stale.state, stale.attempts) == (SUPERGROUP, "pending", 0)
    assert (pending.state, pending.attempts) == ("pending", 2)  # not a failed one: untouched
    assert admin_chat.refusal() is None


def test_the_hint_goes_once_an_hour_per_person(clock):
    assert admin_chat.hint_due(42) is True
    assert admin_chat.hint_due(42) is False
    assert admin_chat.hint_due(43) is True
    clock.advance(admin_chat.HINT_EVERY.total_seconds() + 1)
    assert admin_chat.hint_due(42) is True
