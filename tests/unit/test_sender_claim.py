"""An outbox item is claimed by one sender at a time (Sender.claim): the claim records who
took it and when, a second sender cannot take it while the claim is fresh, and can once
the claim has timed out (its sender died). Time is the `clock` fixture."""

from __future__ import annotations

import pytest

from telegram_bridge import sender as sender_module
from telegram_bridge.models import OutboxItem
from telegram_bridge.sender import Sender

pytestmark = pytest.mark.django_db

TIMEOUT = 120


@pytest.fixture(autouse=True)
def claim_timeout(settings):
    settings.TELEGRAM_CLAIM_TIMEOUT_SECONDS = TIMEOUT


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
    clock.advance(TIMEOUT)  # exactly the timeout: still the first sender's
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
