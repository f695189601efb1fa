"""Which visitor an admin's Telegram message answers (telegram_bridge/inbound.find_thread):
the replied-to message's link, looked up by chat AND message id (Telegram numbers
messages per chat), or the forum topic the message was written in, or, once the admin
group was upgraded to a supergroup, an external reply to a message of the old group."""

from __future__ import annotations

import json
import uuid

import pytest

from chat import services
from telegram_bridge import admin_chat
from telegram_bridge.inbound import find_thread
from telegram_bridge.models import BridgeState, Topic

pytestmark = pytest.mark.django_db

GROUP = -1001
OLD_GROUP = -2002  # e.g. the group before its upgrade to a supergroup: same message ids


@pytest.fixture
def threads():
    return services.create_thread("Ahmet"), services.create_thread("Ayşe")


def reply_to(message_id, **extra) -> dict:
    return {"message_id": 900, "text": "answer", "reply_to_message": {"message_id": message_id}, **extra}


def test_a_reply_goes_to_the_thread_of_the_replied_message(threads):
    ahmet, ayse = threads
    services.link_telegram_message(ahmet.id, GROUP, 10)
    services.link_telegram_message(ayse.id, GROUP, 11)
    assert find_thread(GROUP, reply_to(10)) == ahmet.id
    assert find_thread(GROUP, reply_to(11)) == ayse.id


def test_the_same_message_id_in_two_chats_is_two_links(threads):
    ahmet, ayse = threads
    services.link_telegram_message(ahmet.id, OLD_GROUP, 10)
    services.link_telegram_message(ayse.id, GROUP, 10)
    assert find_thread(GROUP, reply_to(10)) == ayse.id
    assert find_thread(OLD_GROUP, reply_to(10)) == ahmet.id
    assert find_thread(-3003, reply_to(10)) is None


@pytest.mark.parametrize(
    "message",
    [
        {"message_id": 900, "text": "no reply"},
        reply_to(12345),
        {"message_id": 900, "reply_to_message": "10"},
        {"message_id": 900, "reply_to_message": {"message_id": "10"}},
        {"message_id": 900, "reply_to_message": {}},
        {"message_id": 900, "reply_to_message": None},
    ],
)
def test_no_link_no_thread(threads, message):
    services.link_telegram_message(threads[0].id, GROUP, 10)
    assert find_thread(GROUP, message) is None


def topic_message(topic_id, **extra) -> dict:
    return {"message_id": 901, "text": "hi", "is_topic_message": True, "message_thread_id": topic_id, **extra}


def test_a_message_in_a_visitors_topic_goes_to_that_visitor(threads, settings):
    settings.TELEGRAM_TOPICS = True
    ahmet, ayse = threads
    Topic.objects.create(thread_id=ahmet.id, chat_id=GROUP, topic_id=5, name="Ahmet")
    Topic.objects.create(thread_id=ayse.id, chat_id=OLD_GROUP, topic_id=5, name="Ayşe")
    assert find_thread(GROUP, topic_message(5)) == ahmet.id
    assert find_thread(OLD_GROUP, topic_message(5)) == ayse.id
    assert find_thread(GROUP, topic_message(6)) is None
    # Not marked as a topic message (the General topic), or no topic id: no topic lookup.
    assert find_thread(GROUP, topic_message(5, is_topic_message=False)) is None
    assert find_thread(GROUP, topic_message(None)) is None


def test_the_topic_wins_over_the_reply(threads, settings):
    settings.TELEGRAM_TOPICS = True
    ahmet, ayse = threads
    Topic.objects.create(thread_id=ahmet.id, chat_id=GROUP, topic_id=5, name="Ahmet")
    services.link_telegram_message(ayse.id, GROUP, 10)
    assert find_thread(GROUP, topic_message(5, reply_to_message={"message_id": 10})) == ahmet.id


def test_a_topic_of_a_deleted_thread_falls_back_to_the_reply(threads, settings):
    settings.TELEGRAM_TOPICS = True
    ahmet, ayse = threads
    Topic.objects.create(thread_id=uuid.uuid4(), chat_id=GROUP, topic_id=7, name="Gone")
    services.link_telegram_message(ayse.id, GROUP, 10)
    assert find_thread(GROUP, topic_message(7)) is None
    assert find_thread(GROUP, topic_message(7, reply_to_message={"message_id": 10})) == ayse.id


def test_topics_off_ignores_topics(threads, settings):
    settings.TELEGRAM_TOPICS = False
    ahmet, _ = threads
    Topic.objects.create(thread_id=ahmet.id, chat_id=GROUP, topic_id=5, name="Ahmet")
    assert find_thread(GROUP, topic_message(5)) is None


def test_a_reply_to_the_topics_creation_message_is_no_reply(threads):
    """In a forum topic, Telegram sets reply_to_message to the topic's creation message:
    that id may equal a linked message's, and still answers no visitor."""
    services.link_telegram_message(threads[0].id, GROUP, 10)
    created = {"message_id": 10, "forum_topic_created": {"name": "Ahmet"}}
    assert find_thread(GROUP, {"message_id": 900, "reply_to_message": created}) is None


@pytest.fixture
def upgraded(settings):
    """The admin group OLD_GROUP became the supergroup GROUP (as follow_migration stores it)."""
    settings.TELEGRAM_CHAT_ID = str(OLD_GROUP)
    state = {
        admin_chat.CURRENT: str(GROUP),
        admin_chat.FROM_ENV: str(OLD_GROUP),
        admin_chat.PREVIOUS: json.dumps([OLD_GROUP]),
    }
    for key, value in state.items():
        BridgeState.objects.create(key=key, value=value)
    admin_chat.forget_cache()
    yield
    admin_chat.forget_cache()


def external_reply(chat_id, message_id, **extra) -> dict:
    chat = {"id": chat_id, "type": "group", "title": "Admins"}
    return {"message_id": 900, "external_reply": {"chat": chat, "message_id": message_id}, **extra}


def test_an_external_reply_to_the_old_admin_groups_message_finds_its_thread(threads, upgraded):
    ahmet, ayse = threads
    # The supergroup numbers from 1 again; its link is stored first, so a lookup that
    # ignored the old chat's id would find it.
    services.link_telegram_message(ayse.id, GROUP, 10)
    services.link_telegram_message(ahmet.id, OLD_GROUP, 10)
    assert find_thread(GROUP, external_reply(OLD_GROUP, 10)) == ahmet.id
    assert find_thread(GROUP, reply_to(10)) == ayse.id
    # A real reply that finds its link wins over an external one.
    assert find_thread(GROUP, external_reply(OLD_GROUP, 10, reply_to_message={"message_id": 10})) == ayse.id
    # A reply without a link falls through to the external reply.
    assert find_thread(GROUP, external_reply(OLD_GROUP, 10, reply_to_message={"message_id": 99})) == ahmet.id


@pytest.mark.parametrize(
    "message",
    [
        external_reply(-3003, 10),  # a chat that never was the admin chat
        external_reply(OLD_GROUP, 11),  # no link to that message
        external_reply(OLD_GROUP, "10"),
        external_reply(str(OLD_GROUP), 10),
        {"message_id": 900, "external_reply": {"message_id": 10}},
        {"message_id": 900, "external_reply": {"chat": None, "message_id": 10}},
        {"message_id": 900, "external_reply": "10"},
    ],
)
def test_an_external_reply_elsewhere_or_malformed_finds_nothing(threads, upgraded, message):
    services.link_telegram_message(threads[0].id, OLD_GROUP, 10)
    services.link_telegram_message(threads[1].id, -3003, 10)
    assert find_thread(GROUP, message) is None
