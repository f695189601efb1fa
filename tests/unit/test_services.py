"""The chat domain's operations (chat/services.py): what they store, what they refuse,
which events they send after commit, and the signals the Telegram bridge follows."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from chat import selectors, services, signals
from chat.events import ADMIN_ROOM
from chat.models import Message, TelegramLink, Thread
from chat.serializers import message_to_dict, thread_to_dict
from chat.validation import MessageInput

pytestmark = pytest.mark.django_db


def text(thread_id, body: str, client_id: str | None = None) -> MessageInput:
    return MessageInput(uuid.UUID(str(thread_id)), "text", body, None, client_id)


@pytest.fixture
def posted(monkeypatch):
    """(message text, via) of every message the messages_posted signal announced."""
    seen: list[tuple[str, str]] = []

    def receiver(sender, messages, via, **kwargs):
        assert sender is Message
        seen.extend((message.content_text, via) for message in messages)

    signals.messages_posted.connect(receiver, dispatch_uid="unit-test-posted")
    yield seen
    signals.messages_posted.disconnect(dispatch_uid="unit-test-posted")


def fresh(thread: Thread) -> Thread:
    return Thread.objects.get(pk=thread.pk)


# --- Opening a thread, heartbeats, seen -------------------------------------------------


def test_create_thread_stores_it_and_tells_the_admins(clock, published):
    thread = published.commit(services.create_thread, "Ahmet")
    stored = fresh(thread)
    assert stored.display_name == "Ahmet"
    assert stored.created_at == clock.now
    assert stored.last_activity_at == clock.now
    assert stored.has_messages is False
    assert stored.last_message_at is None
    assert published == [("thread_created", thread_to_dict(stored), ADMIN_ROOM)]


def test_a_thread_remembers_its_visitor_and_a_folded_name_for_search(published):
    from chat import blocks

    visitor = blocks.Visitor.of("10.0.0.2", "key-ayse")
    stored = fresh(services.create_thread("Ayşe", visitor))
    assert (stored.visitor_ip, stored.visitor_key_hash, stored.search_name) == (
        "10.0.0.2",
        blocks.key_hash("key-ayse"),
        "ayse",
    )
    # The longest name there is (80 characters), folded to more than the search column's
    # 200: "\ufb03" (the ligature ffi) folds to three letters.
    anonymous = fresh(services.create_thread("\ufb03" * 80))
    assert (anonymous.visitor_ip, anonymous.visitor_key_hash, anonymous.search_name) == (
        None,
        None,
        ("ffi" * 80)[:200],
    )


def test_record_activity_marks_the_thread_active_now(clock, published):
    thread = services.create_thread("Ahmet")
    later = clock.advance(30)
    assert published.commit(services.record_activity, thread.id) is True
    assert fresh(thread).last_activity_at == later
    assert published.named("visitor_online") == [({"thread_id": str(thread.id)}, ADMIN_ROOM)]


def test_record_activity_of_an_unknown_thread_is_false_and_silent(published):
    assert published.commit(services.record_activity, uuid.uuid4()) is False
    assert published == []


def test_mark_seen_tells_the_visitor_and_the_admins(published):
    thread = services.create_thread("Ahmet")
    assert published.commit(services.mark_seen, thread.id, "2026-03-01 15:00:00") is True
    told = [(data["thread_id"], data["seen_at"], room) for data, room in published.named("admin_seen")]
    seen = (str(thread.id), "2026-03-01 15:00:00")
    assert told == [(*seen, str(thread.id)), (*seen, ADMIN_ROOM)]


def test_mark_seen_stores_the_newest_visitor_message_as_seen(clock, published):
    from chat.serializers import iso_time

    thread = services.create_thread("Ahmet")
    other = services.create_thread("Ayşe")
    clock.advance(1)
    services.post_visitor_message(text(thread.id, "first"))
    newest = clock.advance(1)
    services.post_visitor_message(text(thread.id, "second"))
    clock.advance(1)
    services.post_admin_message(text(thread.id, "an answer is not the visitor's"))
    services.post_visitor_message(text(other.id, "another thread's"))
    clock.advance(5)
    published.clear()
    assert published.commit(services.mark_seen, thread.id) is True
    assert fresh(thread).admin_seen_at == newest
    assert fresh(other).admin_seen_at is None
    assert [data["seen_iso"] for data, _ in published.named("admin_seen")] == [iso_time(newest)] * 2


def test_mark_seen_without_visitor_messages_is_now(clock, published):
    thread = services.create_thread("Ahmet")
    now = clock.advance(7)
    assert published.commit(services.mark_seen, thread.id) is True
    assert fresh(thread).admin_seen_at == now
    assert [data["seen_iso"] for data, _ in published.named("admin_seen")] == [None, None]


def test_mark_seen_of_an_unknown_thread_is_false_and_silent(published):
    assert published.commit(services.mark_seen, uuid.uuid4()) is False
    assert published == []


# --- Storing messages --------------------------------------------------------------------


def test_a_visitor_message_is_stored_and_sent_to_the_admins(clock, published, posted):
    thread = services.create_thread("Ahmet")
    at = clock.advance(5)
    message, created = published.commit(services.post_visitor_message, text(thread.id, "Merhaba", "c-1"))
    assert created is True
    stored = Message.objects.get()
    assert (stored.id, stored.sender, stored.type, stored.content_text, stored.client_id) == (
        message.id,
        "visitor",
        "text",
        "Merhaba",
        "c-1",
    )
    assert stored.created_at == at
    thread = fresh(thread)
    assert (thread.last_message_text, thread.last_message_type, thread.last_message_at) == (
        "Merhaba",
        "text",
        at,
    )
    assert (thread.has_messages, thread.sorted_at, thread.last_activity_at) == (True, at, at)
    assert published.named("message_from_visitor") == [(message_to_dict(stored), ADMIN_ROOM)]
    assert posted == [("Merhaba", "socket")]


def test_an_admin_message_goes_to_the_visitor_and_to_the_other_panels(clock, published, posted):
    thread = services.create_thread("Ahmet")
    opened = clock.now
    at = clock.advance(5)
    message, created = published.commit(services.post_admin_message, text(thread.id, "Selam"), "telegram")
    assert created is True
    payload = message_to_dict(Message.objects.get())
    assert payload["sender"] == "admin"
    assert published.named("message_from_admin") == [(payload, str(thread.id))]
    assert published.named("message_from_telegram") == [({**payload, "via": "telegram"}, ADMIN_ROOM)]
    thread = fresh(thread)
    assert (thread.last_message_text, thread.last_message_at) == ("Selam", at)
    # An admin's answer is not the visitor's activity.
    assert thread.last_activity_at == opened
    assert posted == [("Selam", "telegram")]


def test_an_admin_message_comes_from_the_panel_unless_told_otherwise(published, posted):
    thread = services.create_thread("Ahmet")
    published.commit(services.post_admin_message, text(thread.id, "Merhaba"))
    payload = message_to_dict(Message.objects.get())
    assert published.named("message_from_telegram") == [({**payload, "via": "panel"}, ADMIN_ROOM)]
    assert posted == [("Merhaba", "panel")]


def test_an_admin_message_is_stored_and_sent_as_its_agents(published):
    from accounts.models import Agent

    ayse = Agent.objects.create(name="Ayşe")
    thread = services.create_thread("Ahmet")
    message, _ = published.commit(services.post_admin_message, text(thread.id, "Selam"), "panel", ayse)
    assert Message.objects.get().agent_id == ayse.pk
    ((payload, room),) = published.named("message_from_admin")
    assert (payload["agent"]["name"], room) == ("Ayşe", str(thread.id))


def test_a_visitors_message_after_an_answer_reopens_the_resolved_thread(clock, published):
    """The store's fast UPDATE must keep the thread's state rules whatever it is given:
    here a visitor known by address and session (as the socket layer sends), after an
    admin's answer (the thread has its first response)."""
    from chat import blocks

    thread = services.create_thread("Ahmet")
    services.post_admin_message(text(thread.id, "Merhaba"))
    services.resolve_thread(thread.id)
    at = clock.advance(30)
    visitor = blocks.Visitor.of("10.0.0.2", "key-ahmet")
    published.commit(services.post_visitor_message, text(thread.id, "one more thing"), visitor=visitor)
    stored = fresh(thread)
    assert (stored.status, stored.reopened_at, stored.last_activity_at) == ("open", at, at)
    assert [event["change"] for event, _ in published.named("thread_updated")] == ["reopened"]


def test_a_stored_message_is_returned_as_saved(published):
    """The store writes with its own SQL; the instance it returns must still behave as
    one save() stored (a later save() updates that row)."""
    thread = services.create_thread("Ahmet")
    message, _ = services.post_visitor_message(text(thread.id, "typo"))
    message.content_text = "fixed"
    message.save()
    assert list(Message.objects.values_list("id", "content_text")) == [(message.id, "fixed")]


def test_a_resend_of_a_client_id_is_stored_once(clock, published, posted):
    thread = services.create_thread("Ahmet")
    first, created = published.commit(services.post_visitor_message, text(thread.id, "once", "c-1"))
    clock.advance(10)
    again, created_again = published.commit(services.post_visitor_message, text(thread.id, "once", "c-1"))
    assert (created, created_again) == (True, False)
    assert again.id == first.id
    assert again.created_at == first.created_at
    assert Message.objects.count() == 1
    assert len(published.named("message_from_visitor")) == 1
    assert posted == [("once", "socket")]


def test_a_resend_returns_its_own_message(published):
    one, two = services.create_thread("Ahmet"), services.create_thread("Ayşe")

    # Messages that share all but one of (thread, sender, client_id) have the lowest ids: a
    # lookup that forgot one of the three would find one of them first.
    def stored(id_: int, thread, sender: str, client_id: str) -> Message:
        return Message.objects.create(
            id=uuid.UUID(int=id_), thread=thread, sender=sender, type="text", client_id=client_id
        )

    others = [
        stored(1, one, Message.Sender.VISITOR, "c-1"),
        stored(2, two, Message.Sender.ADMIN, "c-1"),
        stored(3, two, Message.Sender.VISITOR, "c-2"),
    ]
    own, _ = services.post_visitor_message(text(two.id, "hello", "c-1"))
    again, created = services.post_visitor_message(text(two.id, "hello", "c-1"))
    assert (again.id, again.thread_id, created) == (own.id, two.id, False)
    assert own.id not in {m.id for m in others}


def test_the_client_id_is_scoped_to_thread_and_sender(published):
    one = services.create_thread("Ahmet")
    two = services.create_thread("Ayşe")
    _, a = services.post_visitor_message(text(one.id, "hi", "same"))
    _, b = services.post_admin_message(text(one.id, "hello", "same"))
    _, c = services.post_visitor_message(text(two.id, "hey", "same"))
    assert (a, b, c) == (True, True, True)
    assert Message.objects.count() == 3


def test_messages_without_client_id_are_all_stored():
    thread = services.create_thread("Ahmet")
    results = [services.post_visitor_message(text(thread.id, "same text"))[1] for _ in range(3)]
    assert results == [True, True, True]
    assert Message.objects.count() == 3


@pytest.mark.parametrize("post", [services.post_visitor_message, services.post_admin_message])
@pytest.mark.parametrize("client_id", [None, "c-1"])
def test_a_message_to_an_unknown_thread_is_refused(post, client_id, published, posted):
    missing = uuid.uuid4()
    with pytest.raises(services.ThreadNotFound) as caught:
        published.commit(post, text(missing, "hello?", client_id))
    assert caught.value.thread_id == str(missing)
    assert Message.objects.count() == 0
    assert published == []
    assert posted == []


def test_a_deleted_thread_refuses_a_resend_too():
    thread = services.create_thread("Ahmet")
    services.post_visitor_message(text(thread.id, "hi", "c-1"))
    services.delete_threads([thread.id])
    with pytest.raises(services.ThreadNotFound):
        services.post_visitor_message(text(thread.id, "hi", "c-1"))


# --- The thread's last message: never overwritten by an older one ----------------------


def test_an_older_message_stored_late_does_not_become_the_last(clock, published):
    """Two stores race for the thread's row: the one stamped later got there first."""
    thread = services.create_thread("Ahmet")
    early = clock.advance(1)
    late = clock.advance(1)
    services.post_visitor_message(text(thread.id, "newer"))  # stamped `late`
    clock.set(early)
    older, created = published.commit(services.post_visitor_message, text(thread.id, "older"))
    assert created is True
    assert older.created_at == early
    thread = fresh(thread)
    assert (thread.last_message_text, thread.last_message_at, thread.sorted_at) == ("newer", late, late)
    # ...but the older message is stored, delivered, and its visitor counted active.
    assert [m.content_text for m in selectors.thread_messages(thread.id, 10)] == ["older", "newer"]
    assert published.named("message_from_visitor") == [(message_to_dict(older), ADMIN_ROOM)]
    assert thread.last_activity_at == early
    listed = thread_to_dict(selectors.recent_threads(10)[0])
    assert (listed["last_message"], listed["id"]) == ("newer", str(thread.id))


def test_an_older_admin_message_stored_late_leaves_the_activity_alone(clock):
    thread = services.create_thread("Ahmet")
    opened = clock.now
    clock.advance(2)
    services.post_admin_message(text(thread.id, "newer"))
    clock.advance(-1)
    _, created = services.post_admin_message(text(thread.id, "older"))
    assert created is True
    thread = fresh(thread)
    assert (thread.last_message_text, thread.last_activity_at) == ("newer", opened)
    assert Message.objects.count() == 2


def test_a_message_stamped_the_same_instant_becomes_the_last(clock):
    thread = services.create_thread("Ahmet")
    clock.advance(1)
    services.post_visitor_message(text(thread.id, "first"))
    services.post_visitor_message(text(thread.id, "second"))
    assert fresh(thread).last_message_text == "second"


# --- Telegram links ------------------------------------------------------------------------


def test_link_telegram_message_is_stored_once():
    thread = services.create_thread("Ahmet")
    assert services.link_telegram_message(thread.id, -100, 7) is True
    assert services.link_telegram_message(thread.id, -100, 7) is True
    assert list(TelegramLink.objects.values_list("chat_id", "message_id", "thread_id")) == [
        (-100, 7, thread.id)
    ]


def test_a_link_keeps_the_thread_it_was_made_for():
    first = services.create_thread("Ahmet")
    second = services.create_thread("Ayşe")
    services.link_telegram_message(first.id, -100, 7)
    assert services.link_telegram_message(second.id, -100, 7) is True
    assert TelegramLink.objects.get().thread_id == first.id


def test_link_to_an_unknown_thread_is_false():
    assert services.link_telegram_message(uuid.uuid4(), -100, 7) is False
    assert TelegramLink.objects.count() == 0


# --- Clearing and deleting -------------------------------------------------------------


@pytest.fixture
def cleared_signals():
    seen: list[tuple[str, object]] = []

    def on_cleared(sender, thread_id, **kwargs):
        assert sender is Thread
        seen.append(("thread_cleared", thread_id))

    def on_deleted(sender, thread_ids, **kwargs):
        assert sender is Thread
        seen.append(("threads_deleted", sorted(thread_ids)))

    def on_all(sender, **kwargs):
        assert sender is Thread
        seen.append(("all_cleared", None))

    signals.thread_cleared.connect(on_cleared, dispatch_uid="unit-cleared")
    signals.threads_deleted.connect(on_deleted, dispatch_uid="unit-deleted")
    signals.all_cleared.connect(on_all, dispatch_uid="unit-all")
    yield seen
    signals.thread_cleared.disconnect(dispatch_uid="unit-cleared")
    signals.threads_deleted.disconnect(dispatch_uid="unit-deleted")
    signals.all_cleared.disconnect(dispatch_uid="unit-all")


def test_clear_thread_deletes_its_messages_and_keeps_the_thread(clock, published, cleared_signals):
    thread = services.create_thread("Ahmet")
    created_at = clock.now
    other = services.create_thread("Ayşe")
    clock.advance(1)
    for body in ("a", "b", "c"):
        services.post_visitor_message(text(thread.id, body))
    services.post_visitor_message(text(other.id, "stays"))
    services.link_telegram_message(thread.id, -100, 1)
    assert published.commit(services.clear_thread, thread.id) == 3
    thread = fresh(thread)
    assert (thread.last_message_text, thread.last_message_type, thread.last_message_at) == (None, None, None)
    assert (thread.has_messages, thread.sorted_at) == (False, created_at)
    assert list(Message.objects.values_list("content_text", flat=True)) == ["stays"]
    assert TelegramLink.objects.count() == 1  # replies to old messages still find the visitor
    payload = {"thread_id": str(thread.id)}
    assert published == [("thread_cleared", payload, ADMIN_ROOM), ("thread_cleared", payload, str(thread.id))]
    assert cleared_signals == [("thread_cleared", thread.id)]


def test_each_clear_starts_a_new_generation_of_the_thread_only(published):
    """Links signed for a thread (emails) name its generation: a clear must move it on by
    exactly one, and leave other threads' links working."""
    thread = services.create_thread("Ahmet")
    other = services.create_thread("Ayşe")
    assert (fresh(thread).generation, fresh(other).generation) == (0, 0)
    published.commit(services.clear_thread, thread.id)
    assert (fresh(thread).generation, fresh(other).generation) == (1, 0)
    published.commit(services.clear_thread, thread.id)
    assert (fresh(thread).generation, fresh(other).generation) == (2, 0)


def test_thread_not_found_is_the_unknown_thread_refusal():
    assert services.ThreadNotFound().thread_id == ""
    missing = services.ThreadNotFound("2b1f3c4d")
    assert (missing.thread_id, missing.code, missing.status) == ("2b1f3c4d", "unknown_thread", 404)
    assert isinstance(missing, LookupError)


def test_clear_an_unknown_thread_is_refused(published, cleared_signals):
    missing = uuid.uuid4()
    with pytest.raises(services.ThreadNotFound) as caught:
        published.commit(services.clear_thread, missing)
    assert caught.value.thread_id == str(missing)
    assert published == []
    assert cleared_signals == []


def test_delete_threads_removes_them_with_their_messages_and_links(published, cleared_signals):
    keep = services.create_thread("Keep")
    gone = [services.create_thread(f"Gone {i}") for i in range(2)]
    for thread in (keep, *gone):
        services.post_visitor_message(text(thread.id, "hi"))
        services.link_telegram_message(
            thread.id, -100, Thread.objects.count() * 10 + len(thread.display_name)
        )
    missing = uuid.uuid4()
    assert published.commit(services.delete_threads, [gone[0].id, str(gone[1].id), missing]) == 2
    assert list(Thread.objects.values_list("id", flat=True)) == [keep.id]
    assert list(Message.objects.values_list("thread_id", flat=True)) == [keep.id]
    assert list(TelegramLink.objects.values_list("thread_id", flat=True)) == [keep.id]
    expected = []
    for thread in gone:
        payload = {"thread_id": str(thread.id)}
        expected += [("thread_deleted", payload, ADMIN_ROOM), ("thread_deleted", payload, str(thread.id))]
    assert sorted(published, key=repr) == sorted(expected, key=repr)
    assert cleared_signals == [("threads_deleted", sorted(t.id for t in gone))]


def test_clear_all_deletes_everything_and_tells_the_admins(published, cleared_signals):
    for name in ("Ahmet", "Ayşe"):
        thread = services.create_thread(name)
        services.post_visitor_message(text(thread.id, "hi"))
        services.link_telegram_message(thread.id, -100, len(name))
    ids = [str(t) for t in Thread.objects.values_list("id", flat=True)]
    published.clear()
    published.commit(services.clear_all)
    assert (Thread.objects.count(), Message.objects.count(), TelegramLink.objects.count()) == (0, 0, 0)
    assert published[0] == ("all_cleared", {}, ADMIN_ROOM)
    # Open visitor pages are emptied too, each by its own room.
    assert sorted(published[1:], key=repr) == sorted(
        (("thread_deleted", {"thread_id": t}, t) for t in ids), key=repr
    )
    assert cleared_signals == [("all_cleared", None)]


def test_events_wait_for_the_commit(published):
    """Nothing is sent while the transaction is open: a rollback would make it a lie."""
    from django.db import transaction

    with pytest.raises(RuntimeError):
        with published._capture(execute=True):
            with transaction.atomic():
                thread = services.create_thread("Rolled back")
                services.post_visitor_message(text(thread.id, "never"))
                raise RuntimeError("roll back")
    assert published == []
    assert Thread.objects.filter(display_name="Rolled back").count() == 0


def test_thread_created_payload_uses_the_clock(clock):
    thread = services.create_thread("Zeynep")
    assert thread_to_dict(thread, clock.now + timedelta(seconds=1))["online"] is True


@pytest.mark.parametrize("with_agent", [False, True])
def test_a_new_message_is_built_as_message_would_build_it(with_agent):
    """services._new_message skips Model.__init__ (the hot path): it must still set every
    field Message(...) sets, to the same values, and cache the agent the same way."""
    from accounts.models import Agent

    agent = Agent.objects.create(name="Mert", telegram_user_id=42) if with_agent else None
    thread = services.create_thread("Ayşe")
    data = MessageInput(thread.id, "image", "Şu fotoğraf", "/media/x.png", "c-1", width=640, height=480)
    fast = services._new_message(Message.Sender.VISITOR, data, agent)
    slow = Message(
        id=fast.id,
        thread_id=thread.id,
        sender=Message.Sender.VISITOR,
        type="image",
        content_text="Şu fotoğraf",
        file_path="/media/x.png",
        client_id="c-1",
        created_at=fast.created_at,
        width=640,
        height=480,
        search_text="su fotograf",
        agent=agent,
    )
    for field in Message._meta.concrete_fields:
        assert field.attname in fast.__dict__, f"_new_message does not set {field.attname}"
        assert getattr(fast, field.attname) == getattr(slow, field.attname), field.attname
    assert fast.agent == slow.agent and fast._state.adding and fast._state.db is None
    fast.save(force_insert=True)  # and it is a model Django can store
    assert Message.objects.get(id=fast.id).content_text == "Şu fotoğraf"
