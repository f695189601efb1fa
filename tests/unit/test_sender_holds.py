"""Which chats the Telegram sender must hold back, and until when (Sender.look): a chat
whose item waits for its retry, or whose item is claimed by a sender (being sent now, or
by one that died: until the claim times out). Later items of that chat wait, so order
holds across processes. And an item is claimed by one sender at a time (Sender.claim):
the claim records who took it and when; a second sender cannot take it until the claim
has timed out (its sender died)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from telegram_bridge import sender as sender_module
from telegram_bridge.models import OutboxItem
from telegram_bridge.sender import Sender

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CLAIM = timedelta(seconds=120)


@pytest.fixture(autouse=True)
def claim_timeout(settings):
    settings.TELEGRAM_CLAIM_TIMEOUT_SECONDS = 120


def item(chat_id: str, **fields) -> OutboxItem:
    fields.setdefault("next_attempt_at", NOW)
    return OutboxItem.objects.create(kind="notice", chat_id=chat_id, **fields)


def holds() -> dict:
    return Sender(client=object()).look(NOW)[0]


def ready() -> dict:
    return Sender(client=object()).look(NOW)[1]


def test_nothing_waits_when_every_item_is_due():
    item("-1", next_attempt_at=NOW)
    item("-2", next_attempt_at=NOW - timedelta(seconds=5))
    assert holds() == {}


def test_a_retry_not_due_yet_holds_its_chat_until_the_latest_retry():
    item("-1", next_attempt_at=NOW + timedelta(seconds=30))
    item("-1", next_attempt_at=NOW + timedelta(seconds=90))
    item("-2", next_attempt_at=NOW)
    assert holds() == {"-1": NOW + timedelta(seconds=90)}


def test_a_claimed_item_holds_its_chat_until_the_claim_expires():
    item("-1", claimed_at=NOW - timedelta(seconds=10), claimed_by="other:1")
    item("-1", claimed_at=NOW - timedelta(seconds=50), claimed_by="other:2")
    item("-2")
    assert holds() == {"-1": NOW - timedelta(seconds=10) + CLAIM}


def test_an_expired_claim_holds_nothing():
    item("-1", claimed_at=NOW - CLAIM - timedelta(seconds=1), claimed_by="dead:1")
    assert holds() == {}
    item("-2", claimed_at=NOW - CLAIM, claimed_by="dead:2")  # expires at this very moment
    assert holds() == {"-2": NOW}


def test_a_claim_in_the_future_holds_too():
    """Clocks of two servers differ: a claim stamped ahead still holds its chat."""
    item("-1", claimed_at=NOW + timedelta(seconds=5), claimed_by="ahead:1")
    assert holds() == {"-1": NOW + timedelta(seconds=5) + CLAIM}


def test_the_later_of_a_retry_and_a_claim_wins():
    item("-1", next_attempt_at=NOW + timedelta(seconds=500))
    item("-1", claimed_at=NOW - timedelta(seconds=10), claimed_by="other:1")
    item("-2", next_attempt_at=NOW + timedelta(seconds=10))
    item("-2", claimed_at=NOW - timedelta(seconds=10), claimed_by="other:1")
    assert holds() == {"-1": NOW + timedelta(seconds=500), "-2": NOW - timedelta(seconds=10) + CLAIM}


def test_a_chat_not_held_is_ready_with_its_most_urgent_priority():
    item("-1", priority=OutboxItem.Priority.CHAT)
    item("-1", priority=OutboxItem.Priority.NOTICE)
    item("-2", priority=OutboxItem.Priority.CHAT)
    item("-3", priority=OutboxItem.Priority.SIGN_IN, next_attempt_at=NOW + timedelta(seconds=5))
    item("-4", state=OutboxItem.State.FAILED)
    assert ready() == {"-1": OutboxItem.Priority.NOTICE, "-2": OutboxItem.Priority.CHAT}
    assert holds() == {"-3": NOW + timedelta(seconds=5)}


def test_failed_items_hold_nothing():
    item("-1", state=OutboxItem.State.FAILED, next_attempt_at=NOW + timedelta(hours=1))
    item("-2", state=OutboxItem.State.FAILED, claimed_at=NOW, claimed_by="x:1")
    assert holds() == {}


# --- Claims (the `clock` fixture is the time) -----------------------------------------


def new_sender(monkeypatch, worker_id: str) -> Sender:
    """A sender of another process: claims carry its WORKER_ID."""
    monkeypatch.setattr(sender_module, "WORKER_ID", worker_id)
    return Sender(client=object())


def claim_of(item: OutboxItem) -> tuple:
    item.refresh_from_db()
    return item.claimed_at, item.claimed_by


def test_a_claim_records_who_and_when(clock, monkeypatch):
    item = OutboxItem.objects.create(kind="notice", chat_id="-1")
    clock.advance(5)
    assert new_sender(monkeypatch, "one:1").claim(item) is True
    assert claim_of(item) == (clock.now, "one:1")


def test_a_second_sender_waits_until_the_claim_times_out(clock, monkeypatch):
    item = OutboxItem.objects.create(kind="notice", chat_id="-1")
    claimed_at = clock.now
    assert new_sender(monkeypatch, "one:1").claim(item) is True
    other = new_sender(monkeypatch, "two:2")
    assert other.claim(item) is False
    clock.advance(CLAIM.seconds)  # exactly the timeout: still the first sender's
    assert other.claim(item) is False
    assert claim_of(item) == (claimed_at, "one:1")
    clock.advance(1)
    assert other.claim(item) is True
    assert claim_of(item) == (clock.now, "two:2")
    # The claim is the second sender's now: the first (back to life) waits in turn.
    assert new_sender(monkeypatch, "one:1").claim(item) is False


def test_only_the_claimed_item_is_taken(clock, monkeypatch):
    first = OutboxItem.objects.create(kind="notice", chat_id="-1")
    second = OutboxItem.objects.create(kind="notice", chat_id="-1")
    assert new_sender(monkeypatch, "one:1").claim(first) is True
    assert claim_of(second) == (None, "")
    assert new_sender(monkeypatch, "two:2").claim(second) is True


def test_a_failed_item_cannot_be_claimed(clock, monkeypatch):
    item = OutboxItem.objects.create(kind="notice", chat_id="-1", state=OutboxItem.State.FAILED)
    assert new_sender(monkeypatch, "one:1").claim(item) is False
    assert claim_of(item) == (None, "")
