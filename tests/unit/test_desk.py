"""The desk's life cycle (issue 13) in the domain: claim, assign, resolve, reopen (also by
a visitor's message, inside the message store's own UPDATE), first response, blocks,
per-agent unread counts, the panel's views and canned replies."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from chat import blocks, canned, desk, services, signals
from chat.events import ADMIN_ROOM
from chat.models import CannedReply, Message, Thread, VisitorBlock
from chat.serializers import agent_to_dict, thread_state
from chat.validation import MessageInput
from chatdesk.refusals import (
    AgentRequired,
    AlreadyAssigned,
    Blocked,
    FieldInvalid,
    FieldRequired,
    ShortcutTaken,
    UnknownAgent,
    UnknownCannedReply,
)

pytestmark = pytest.mark.django_db


def text(thread_id, body: str) -> MessageInput:
    return MessageInput(uuid.UUID(str(thread_id)), "text", body, None, None)


def make_agent(name: str):
    from accounts.models import Agent

    return Agent.objects.create(name=name)


@pytest.fixture
def ayse():
    return make_agent("Ayşe")


@pytest.fixture
def mert():
    return make_agent("Mert")


@pytest.fixture
def changes():
    """(thread id, change, by) of every thread_updated signal."""
    seen: list[tuple[str, str, object]] = []

    def receiver(sender, thread, change, by, **kwargs):
        seen.append((str(thread.id), change, by))

    signals.thread_updated.connect(receiver, dispatch_uid="unit-test-changes")
    yield seen
    signals.thread_updated.disconnect(dispatch_uid="unit-test-changes")


def fresh(thread: Thread) -> Thread:
    return Thread.objects.get(pk=thread.pk)


# --- Claim, assign, resolve, reopen -------------------------------------------------------


def test_claim_assigns_the_agent_and_tells_every_panel(ayse, published, changes):
    thread = services.create_thread("Ahmet")
    claimed, changed = published.commit(services.claim_thread, thread.id, ayse)
    assert changed is True
    stored = fresh(thread)
    assert (stored.assignee_id, stored.state_version) == (ayse.pk, 1)
    event = thread_state(stored, change="claimed", by=ayse)
    assert event["assignee"] == agent_to_dict(ayse)
    assert event["by"] == agent_to_dict(ayse)
    assert published.named("thread_updated") == [(event, ADMIN_ROOM)]
    assert changes == [(str(thread.id), "claimed", ayse)]


def test_claiming_ones_own_thread_changes_nothing(ayse, published):
    thread = services.create_thread("Ahmet")
    services.claim_thread(thread.id, ayse)
    _, changed = published.commit(services.claim_thread, thread.id, ayse)
    assert changed is False
    assert fresh(thread).state_version == 1
    assert published.named("thread_updated") == []


def test_a_thread_someone_claimed_cannot_be_claimed_by_another(ayse, mert, published):
    thread = services.create_thread("Ahmet")
    services.claim_thread(thread.id, ayse)
    with pytest.raises(AlreadyAssigned) as refused:
        published.commit(services.claim_thread, thread.id, mert)
    assert refused.value.code == "already_assigned"
    assert fresh(thread).assignee_id == ayse.pk
    assert published == []


def test_claiming_needs_an_agent_and_a_thread(ayse):
    thread = services.create_thread("Ahmet")
    with pytest.raises(AgentRequired):
        services.claim_thread(thread.id, None)
    with pytest.raises(services.ThreadNotFound):
        services.claim_thread(uuid.uuid4(), ayse)


def test_assign_gives_the_thread_to_another_agent_or_nobody(ayse, mert, published, changes):
    thread = services.create_thread("Ahmet")
    services.claim_thread(thread.id, ayse)
    _, changed = published.commit(services.assign_thread, thread.id, mert.pk, ayse)
    assert changed is True
    assert fresh(thread).assignee_id == mert.pk
    _, changed = published.commit(services.assign_thread, thread.id, None, mert)
    assert changed is True
    assert fresh(thread).assignee_id is None
    assert [(c, by) for _, c, by in changes] == [("claimed", ayse), ("assigned", ayse), ("unassigned", mert)]
    assert [e["assignee"] for e, _ in published.named("thread_updated")] == [agent_to_dict(mert), None]


def test_assigning_an_unknown_or_inactive_agent_is_refused(ayse, mert):
    thread = services.create_thread("Ahmet")
    with pytest.raises(UnknownAgent):
        services.assign_thread(thread.id, 987654, ayse)
    type(mert).objects.filter(pk=mert.pk).update(is_active=False)
    with pytest.raises(UnknownAgent):
        services.assign_thread(thread.id, mert.pk, ayse)
    assert fresh(thread).assignee_id is None


def test_resolve_then_reopen(clock, ayse, published, changes):
    thread = services.create_thread("Ahmet")
    at = clock.advance(60)
    _, changed = published.commit(services.resolve_thread, thread.id, ayse)
    assert changed is True
    stored = fresh(thread)
    assert (stored.status, stored.resolved_at, stored.state_version) == ("resolved", at, 1)
    # Resolving again is a no-op (a double press, a retried button).
    _, changed = published.commit(services.resolve_thread, thread.id, ayse)
    assert changed is False
    later = clock.advance(60)
    _, changed = published.commit(services.reopen_thread, thread.id, ayse)
    assert changed is True
    stored = fresh(thread)
    assert (stored.status, stored.resolved_at, stored.reopened_at, stored.state_version) == (
        "open",
        None,
        later,
        2,
    )
    assert [e["change"] for e, _ in published.named("thread_updated")] == ["resolved", "reopened"]
    assert [e["status"] for e, _ in published.named("thread_updated")] == ["resolved", "open"]
    assert [c for _, c, _ in changes] == ["resolved", "reopened"]


# --- A visitor's message reopens; the first admin reply is the first response ------------------


def test_a_visitor_message_reopens_a_resolved_thread(clock, ayse, published, changes):
    thread = services.create_thread("Ahmet")
    services.claim_thread(thread.id, ayse)
    services.resolve_thread(thread.id, ayse)
    at = clock.advance(30)
    message, created = published.commit(services.post_visitor_message, text(thread.id, "one more thing"))
    assert created is True
    stored = fresh(thread)
    assert (stored.status, stored.resolved_at, stored.reopened_at, stored.state_version) == (
        "open",
        None,
        at,
        3,
    )
    assert stored.assignee_id == ayse.pk  # still hers
    assert [name for name, _, _ in published] == ["message_from_visitor", "thread_updated"]
    event, room = published.named("thread_updated")[0]
    assert (event["change"], event["status"], event["by"], room) == ("reopened", "open", None, ADMIN_ROOM)
    assert changes[-1] == (str(thread.id), "reopened", None)


def test_a_visitor_message_to_an_open_thread_changes_no_state(clock, published):
    thread = services.create_thread("Ahmet")
    clock.advance(5)
    published.commit(services.post_visitor_message, text(thread.id, "hello"))
    stored = fresh(thread)
    assert (stored.status, stored.reopened_at, stored.state_version) == ("open", None, 0)
    assert [name for name, _, _ in published] == ["message_from_visitor"]


def test_a_late_visitor_message_reopens_too(clock, published):
    """The store's other path: a newer last message is set, so the UPDATE matched nothing."""
    thread = services.create_thread("Ahmet")
    early = clock.advance(1)
    clock.advance(1)
    services.post_visitor_message(text(thread.id, "newer"))
    services.resolve_thread(thread.id)
    clock.set(early)
    published.commit(services.post_visitor_message, text(thread.id, "older"))
    stored = fresh(thread)
    assert (stored.status, stored.resolved_at, stored.last_message_text) == ("open", None, "newer")
    assert [e["change"] for e, _ in published.named("thread_updated")] == ["reopened"]


def test_the_first_admin_reply_is_the_first_response(clock):
    thread = services.create_thread("Ahmet")
    services.post_visitor_message(text(thread.id, "hi"))
    first = clock.advance(90)
    services.post_admin_message(text(thread.id, "hello"))
    clock.advance(30)
    services.post_admin_message(text(thread.id, "anything else?"))
    assert fresh(thread).first_response_at == first
    # An admin's reply never reopens a resolved thread.
    services.resolve_thread(thread.id)
    services.post_admin_message(text(thread.id, "closing note"))
    assert fresh(thread).status == "resolved"


def test_clearing_keeps_the_life_cycle(ayse):
    thread = services.create_thread("Ahmet")
    services.post_visitor_message(text(thread.id, "hi"))
    services.claim_thread(thread.id, ayse)
    services.resolve_thread(thread.id, ayse)
    services.clear_thread(thread.id)
    stored = fresh(thread)
    assert (stored.status, stored.assignee_id) == ("resolved", ayse.pk)


# --- Blocking -----------------------------------------------------------------------------------


def visitor(ip: str, key: str | None = None) -> blocks.Visitor:
    return blocks.Visitor.of(ip, key)


def test_a_blocked_visitor_cannot_write_or_open_threads(clock, ayse, published):
    thread = services.create_thread("Spammer", visitor("10.0.0.2", "key-spammer"))
    thread, block = published.commit(services.block_visitor, thread.id, "24h", ayse)
    assert block.expires_at == clock.now + timedelta(hours=24)
    assert (block.ip, block.created_by, block.attempts) == ("10.0.0.2", ayse, 0)
    assert block.key_hash == blocks.key_hash("key-spammer") != "key-spammer"
    assert fresh(thread).blocked_until == block.expires_at
    assert [e["change"] for e, _ in published.named("thread_updated")] == ["blocked"]

    # By address (a new session) and by session (a new address): refused, counted, not stored.
    with pytest.raises(Blocked) as refused:
        services.post_visitor_message(text(thread.id, "buy now"), visitor=visitor("10.0.0.2", "other-key"))
    assert refused.value.extra == {"retry_after": 24 * 3600}
    with pytest.raises(Blocked):
        services.create_thread("Spammer again", visitor("10.0.0.9", "key-spammer"))
    assert Message.objects.count() == 0
    assert Thread.objects.count() == 1
    block.refresh_from_db()
    assert (block.attempts, block.last_attempt_at) == (2, clock.now)

    # Someone else is not affected.
    other = services.create_thread("Ayla", visitor("10.0.0.3", "key-ayla"))
    _, created = services.post_visitor_message(text(other.id, "hi"), visitor=visitor("10.0.0.3", "key-ayla"))
    assert created is True


def test_a_block_ends_by_itself_and_staff_can_lift_it(clock, published):
    thread = services.create_thread("Spammer", visitor("10.0.0.2"))
    _, block = services.block_visitor(thread.id, "1h")
    clock.advance(3601)
    _, created = services.post_visitor_message(text(thread.id, "back"), visitor=visitor("10.0.0.2"))
    assert created is True

    _, block = services.block_visitor(thread.id, "7d")
    with pytest.raises(Blocked):
        services.create_thread("x", visitor("10.0.0.2"))
    assert published.commit(services.unblock, block.pk) is True
    services.create_thread("x", visitor("10.0.0.2"))
    block.refresh_from_db()
    assert (block.expires_at, block.attempts) == (clock.now, 1)
    assert fresh(thread).blocked_until is None
    assert [e["change"] for e, _ in published.named("thread_updated")] == ["unblocked"]


def test_a_block_needs_a_known_duration():
    thread = services.create_thread("Ahmet", visitor("10.0.0.2"))
    with pytest.raises(FieldInvalid) as refused:
        services.block_visitor(thread.id, "forever")
    assert refused.value.extra == {"field": "duration"}
    assert VisitorBlock.objects.count() == 0


def test_a_visitor_without_address_or_session_matches_no_block():
    thread = services.create_thread("Ahmet", visitor("10.0.0.2"))
    services.block_visitor(thread.id, "1h")
    assert blocks.active_block(blocks.Visitor(None, None)) is None


# --- Views, counts and unread per agent -----------------------------------------------------------


def test_views_and_their_counts(ayse, mert):
    mine = services.create_thread("Mine")
    services.claim_thread(mine.id, ayse)
    theirs = services.create_thread("Theirs")
    services.claim_thread(theirs.id, mert)
    nobody = services.create_thread("Nobody")
    done = services.create_thread("Done")
    services.resolve_thread(done.id)

    def names(view, agent):
        return sorted(t.display_name for t in desk.view_threads(view, agent))

    assert names("open", ayse) == ["Mine", "Nobody", "Theirs"]
    assert names("mine", ayse) == ["Mine"]
    assert names("mine", None) == []
    assert names("unassigned", ayse) == ["Nobody"]
    assert names("resolved", ayse) == ["Done"]
    assert desk.view_counts(ayse) == {"open": 3, "mine": 1, "unassigned": 1, "resolved": 1}
    assert desk.view_counts(None) == {"open": 3, "mine": 0, "unassigned": 1, "resolved": 1}
    assert nobody.pk


def test_unknown_views_are_refused():
    assert desk.parse_view(None) is None
    assert desk.parse_view("") is None
    with pytest.raises(FieldInvalid):
        desk.parse_view("everything")


def test_unread_is_counted_per_agent(clock, ayse, mert, published):
    thread = services.create_thread("Ahmet")
    quiet = services.create_thread("Quiet")
    for body in ("one", "two"):
        clock.advance(1)
        services.post_visitor_message(text(thread.id, body))
    clock.advance(1)
    services.post_admin_message(text(thread.id, "answer"))
    rows = list(Thread.objects.all())
    assert desk.unread_counts(ayse, rows) == {thread.id: 2}

    clock.advance(1)
    assert published.commit(services.mark_read, thread.id, ayse) is True
    assert published.named("thread_updated") == [
        ({"thread_id": str(thread.id), "change": "read", "reader": ayse.pk, "unread": 0}, ADMIN_ROOM)
    ]
    assert desk.unread_counts(ayse, list(Thread.objects.all())) == {}
    assert desk.unread_counts(mert, list(Thread.objects.all())) == {thread.id: 2}

    clock.advance(1)
    services.post_visitor_message(text(thread.id, "three"))
    assert desk.unread_counts(ayse, list(Thread.objects.all())) == {thread.id: 1}
    assert desk.unread_counts(None, list(Thread.objects.all())) == {}
    assert quiet.pk


# --- Canned replies -------------------------------------------------------------------------------


def test_canned_replies_are_added_edited_and_deleted():
    hours = canned.create({"shortcut": "/Hours", "language": "en", "text": " We open at 9. "})
    assert canned.to_dict(hours) == {
        "id": hours.pk,
        "shortcut": "hours",
        "language": "en",
        "text": "We open at 9.",
    }
    saat = canned.create({"shortcut": "hours", "language": "tr", "text": "9'da açarız."})
    with pytest.raises(ShortcutTaken):
        canned.create({"shortcut": "hours", "language": "tr", "text": "again"})
    canned.update(saat.pk, {"shortcut": "saat", "language": "tr", "text": "Saat 9'da açarız."})
    assert canned.all_replies() == [
        {"id": hours.pk, "shortcut": "hours", "language": "en", "text": "We open at 9."},
        {"id": saat.pk, "shortcut": "saat", "language": "tr", "text": "Saat 9'da açarız."},
    ]
    canned.delete(hours.pk)
    with pytest.raises(UnknownCannedReply):
        canned.delete(hours.pk)
    with pytest.raises(UnknownCannedReply):
        canned.update(hours.pk, {"shortcut": "x", "language": "en", "text": "y"})
    assert CannedReply.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "refusal", "field"),
    [
        ({"language": "en", "text": "x"}, FieldRequired, "shortcut"),
        ({"shortcut": "has space", "language": "en", "text": "x"}, FieldInvalid, "shortcut"),
        ({"shortcut": "a" * 33, "language": "en", "text": "x"}, FieldInvalid, "shortcut"),
        ({"shortcut": "ok", "language": "de", "text": "x"}, FieldInvalid, "language"),
        ({"shortcut": "ok", "language": "en", "text": "  "}, FieldRequired, "text"),
    ],
)
def test_canned_replies_are_validated(data, refusal, field):
    with pytest.raises(refusal) as refused:
        canned.create(data)
    assert refused.value.extra == {"field": field}
