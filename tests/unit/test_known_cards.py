"""The threads a server process knows to have their card (telegram_bridge.card.known_cards).

Every visitor message used to ask the database which of its group's threads already had
a card in the admin chat; the answer never changes for a thread once it is yes, so the
process remembers it (issue 16). What must hold: a known thread costs no statement, a
card made by a transaction that rolled back is not taken as made, and the memory stays
bounded.
"""

from __future__ import annotations

import contextlib
import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from chat import services
from chat.validation import MessageInput
from telegram_bridge import admin_chat
from telegram_bridge.card import KnownCards, known_cards
from telegram_bridge.models import OutboxItem, ThreadCard

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def bridge_with_cards(settings):
    settings.TELEGRAM_BOT_TOKEN = "123:cards"
    settings.TELEGRAM_CHAT_ID = "-1007"
    settings.TELEGRAM_CARDS = True
    admin_chat.current()  # cached for 2 s: its lookup is not the message's work


def say(thread, text: str) -> None:
    services.post_visitor_message(MessageInput(thread.id, "text", text, None, None))


def queued(thread) -> list[str]:
    return list(OutboxItem.objects.filter(thread_id=thread.id).order_by("id").values_list("kind", flat=True))


def test_a_thread_known_to_have_its_card_is_not_looked_up_again(django_capture_on_commit_callbacks):
    thread = services.create_thread("Known")
    with django_capture_on_commit_callbacks(execute=True):
        say(thread, "first")
    assert thread.id in known_cards

    with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as queries:
        say(thread, "second")
    assert [q["sql"] for q in queries.captured_queries if "telegram_cards" in q["sql"]] == []
    assert queued(thread) == [OutboxItem.Kind.CARD, OutboxItem.Kind.MESSAGE, OutboxItem.Kind.MESSAGE]


def test_a_card_made_in_a_transaction_that_rolled_back_is_made_again(django_capture_on_commit_callbacks):
    """A group that fails is rolled back and stored again one by one: the card it made is
    gone with it, so its thread must not count as having one."""
    thread = services.create_thread("Rolled back")
    with django_capture_on_commit_callbacks(execute=True):
        with contextlib.suppress(RuntimeError), transaction.atomic():
            say(thread, "lost")
            raise RuntimeError("the group failed")
    assert thread.id not in known_cards
    assert not ThreadCard.objects.filter(thread_id=thread.id).exists()

    with django_capture_on_commit_callbacks(execute=True):
        say(thread, "stored")
    assert queued(thread) == [OutboxItem.Kind.CARD, OutboxItem.Kind.MESSAGE]
    assert thread.id in known_cards


def test_a_deleted_thread_is_forgotten(django_capture_on_commit_callbacks):
    thread = services.create_thread("Deleted")
    with django_capture_on_commit_callbacks(execute=True):
        say(thread, "hello")
    assert thread.id in known_cards
    services.delete_threads([thread.id])
    assert thread.id not in known_cards


def test_the_process_remembers_at_most_its_size_the_newest_kept():
    known = KnownCards(size=3)
    ids = [uuid.uuid4() for _ in range(5)]
    known.add(ids[:2])
    known.add(ids[2:])
    assert [thread_id in known for thread_id in ids] == [False, False, True, True, True]
    assert len(known) == 3
    known.forget()
    assert len(known) == 0
