"""The order in which the outbox sender sends, step by step, against the fake Bot API.

The sender (telegram_bridge/sender.py) runs here in the test's own thread on the test
database, its HTTP calls going to a fake Bot API; time is the `clock` fixture (retries
come due when the test moves it), and the pacer lets every send through, so each test
sees exactly which item each step chose:

- sign-in messages, then the bot's notices, then the chat;
- within the chat, round-robin over threads (the one served least recently first), each
  thread in its own order: a flood in one thread delays another thread's first message by
  one send, not by the flood;
- an item waiting for its retry holds back every later item of its chat, and goes first
  when its retry is due.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import services
from chat.validation import MessageInput
from telegram_bridge import admin_chat, outbox
from telegram_bridge.client import TelegramClient
from telegram_bridge.models import OutboxItem
from telegram_bridge.sender import Pacer, Sender
from tests.support.fake_telegram import FakeTelegram

pytestmark = pytest.mark.django_db

TOKEN = "123:order"
CHAT_ID = -1005


@pytest.fixture
def bot():
    fake = FakeTelegram(token=TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture
def sender(bot, settings, clock) -> Sender:
    settings.TELEGRAM_BOT_TOKEN = TOKEN
    settings.TELEGRAM_CHAT_ID = str(CHAT_ID)
    settings.TELEGRAM_API_BASE = bot.url
    settings.TELEGRAM_TOPICS = False
    settings.TELEGRAM_RETRY_BASE_MS = 1000
    # Rows get their created_at / next_attempt_at from the real clock (field defaults):
    # the test's clock starts a minute later, so they are due, and stands still.
    clock.set(datetime.now(UTC) + timedelta(minutes=1))
    return Sender(TelegramClient(TOKEN, bot.url), Pacer(interval=0.0, group_per_minute=1000))


def visitor(name: str):
    return services.create_thread(name)


def say(thread, text: str) -> None:
    services.post_visitor_message(MessageInput(thread.id, "text", text, None, None))


def answer_from_panel(thread, text: str) -> None:
    services.post_admin_message(MessageInput(thread.id, "text", text, None, None), via="panel")


def delivered(bot: FakeTelegram) -> list[str]:
    """What the admin chat received, in order (a forward's last line is the message)."""
    return [c.params["text"].rsplit("\n", 1)[-1] for c in bot.sent("sendMessage")]


def run(sender: Sender, steps: int | None = None) -> None:
    """`steps` steps, or until nothing is left that is due."""
    for _ in range(steps if steps is not None else 1000):
        before = sender.delivered
        sender.step(idle=0.0)
        if steps is None and sender.delivered == before:
            return


def test_sign_in_then_notices_then_threads_in_turn(sender, bot):
    ali, bora = visitor("Ali"), visitor("Bora")
    for i in range(1, 5):
        say(ali, f"a{i}")
    say(bora, "b1")
    say(bora, "b2")
    outbox.notice("a notice")
    outbox.notice("another notice")
    outbox.notice("sign-in code", priority=OutboxItem.Priority.SIGN_IN)
    run(sender)
    assert delivered(bot) == [
        "sign-in code",
        "a notice",
        "another notice",
        "a1",
        "b1",
        "a2",
        "b2",
        "a3",
        "a4",
    ]
    assert OutboxItem.objects.count() == 0


def test_a_flood_in_one_thread_delays_others_by_one_send(sender, bot):
    flooder, late, answered = visitor("Flood"), visitor("Late"), visitor("Answered")
    for i in range(50):
        say(flooder, f"flood {i:02d}")
    run(sender, steps=5)
    assert delivered(bot) == [f"flood {i:02d}" for i in range(5)]
    say(late, "first words")
    answer_from_panel(answered, "an answer from the panel")
    run(sender, steps=3)
    assert delivered(bot)[5:] == ["first words", "an answer from the panel", "flood 05"]
    run(sender)
    texts = delivered(bot)
    assert len(texts) == 52
    flood = [t for t in texts if t.startswith("flood")]
    assert flood == [f"flood {i:02d}" for i in range(50)]  # the flooder's own order holds


def test_a_thread_that_keeps_writing_takes_turns_with_the_others(sender, bot):
    one, two, three = visitor("One"), visitor("Two"), visitor("Three")
    for i in range(3):
        say(one, f"one {i}")
    say(two, "two 0")
    run(sender, steps=2)
    say(three, "three 0")
    say(two, "two 1")
    run(sender)
    assert delivered(bot) == ["one 0", "two 0", "three 0", "one 1", "two 1", "one 2"]


def test_a_failing_item_holds_back_the_later_items_of_its_chat(sender, bot, clock):
    ali, bora = visitor("Ali"), visitor("Bora")
    say(ali, "a1")
    say(ali, "a2")
    say(bora, "b1")
    bot.fail("sendMessage", 1, status=500)
    run(sender, steps=1)
    refused = [c for c in bot.calls if not c.ok]
    assert [c.params["text"].rsplit("\n", 1)[-1] for c in refused] == ["a1"]
    first = OutboxItem.objects.get(message_id__isnull=False, attempts=1)
    assert first.state == OutboxItem.State.PENDING and first.next_attempt_at > clock.now

    # Until its retry is due nothing goes to that chat: not the thread's next message, not
    # another visitor's, not a notice, not a message that arrives meanwhile.
    outbox.notice("a notice")
    say(visitor("Cem"), "c1")
    run(sender, steps=5)
    assert delivered(bot) == []
    assert len(bot.calls) == 1

    clock.set(first.next_attempt_at)
    run(sender)
    # The retried item goes first, then the notice, then the threads in turn.
    assert delivered(bot) == ["a1", "a notice", "b1", "c1", "a2"]
    assert OutboxItem.objects.count() == 0


def test_an_item_given_up_on_no_longer_holds_the_chat(sender, bot, settings):
    ali = visitor("Ali")
    say(ali, "a1")
    say(ali, "a2")
    first = OutboxItem.objects.order_by("id").first()
    OutboxItem.objects.filter(pk=first.pk).update(state=OutboxItem.State.FAILED, attempts=5)
    run(sender)
    assert delivered(bot) == ["a2"]
    assert list(OutboxItem.objects.values_list("state", flat=True)) == [OutboxItem.State.FAILED]


def test_other_chats_are_not_held_by_a_failing_one(sender, bot, clock):
    ali = visitor("Ali")
    say(ali, "to the admin chat")
    bot.fail("sendMessage", 1, status=500)
    run(sender, steps=1)
    assert [str(c.params["chat_id"]) for c in bot.calls if not c.ok] == [str(CHAT_ID)]
    outbox.enqueue(OutboxItem.Kind.NOTICE, chat_id=-2002, payload={"text": "to another chat"})
    say(ali, "also to the admin chat")
    run(sender)
    assert delivered(bot) == ["to another chat"]
    clock.advance(60)
    run(sender)
    assert delivered(bot) == ["to another chat", "to the admin chat", "also to the admin chat"]


def test_a_message_deleted_before_its_turn_is_skipped(sender, bot):
    ali, bora = visitor("Ali"), visitor("Bora")
    say(ali, "a1")
    say(bora, "b1")
    services.clear_thread(ali.id)
    run(sender)
    assert delivered(bot) == ["b1"]
    assert OutboxItem.objects.count() == 0


def test_a_group_commit_queues_cards_then_messages_in_a_fixed_number_of_statements(
    sender, bot, settings, monkeypatch
):
    """A group stored together (group commit) is queued for the admin chat together: the
    card of each thread new to the chat ahead of its messages, every message in order,
    and the work per group does not grow with the group (issue 16: it was two
    statements per message)."""
    settings.TELEGRAM_CARDS = True
    # The admin chat's id is looked up before each group and kept; a slow moment on a busy
    # machine must not make its 2 s run out inside the group and count the lookup.
    monkeypatch.setattr(admin_chat, "CACHE_SECONDS", 3600.0)
    admin_chat.forget_cache()
    old, new = visitor("Old"), visitor("New")
    say(old, "first")  # Old's card is queued with its first message
    OutboxItem.objects.all().delete()

    def group(size: int) -> int:
        items = [
            (MessageInput(t.id, "text", f"{t.display_name} {i}", None, None), None)
            for i in range(size)
            for t in (old, new)
        ]
        admin_chat.current()  # cached: its lookup is not the group's work
        with CaptureQueriesContext(connection) as queries:
            services.post_visitor_messages(items)
        return sum("telegram_" in q["sql"] for q in queries.captured_queries)

    small = group(2)
    queued = list(OutboxItem.objects.order_by("id").values_list("kind", "thread_id"))
    assert queued == [
        (OutboxItem.Kind.CARD, new.id),
        (OutboxItem.Kind.MESSAGE, old.id),
        (OutboxItem.Kind.MESSAGE, new.id),
        (OutboxItem.Kind.MESSAGE, old.id),
        (OutboxItem.Kind.MESSAGE, new.id),
    ]
    large = group(20)
    # The cards not made yet (New's) and their items (one statement on PostgreSQL, which
    # waits for the COMMIT, two on SQLite); the messages' items. Then: the cards not made
    # yet (none); the messages' items.
    assert small == (2 if connection.vendor == "postgresql" else 3)
    assert large == 2
    assert OutboxItem.objects.filter(kind=OutboxItem.Kind.MESSAGE).count() == 44


def test_a_paced_admin_chat_is_not_read_lane_by_lane_and_other_chats_still_go(bot, sender):
    """In a flood the pacer holds the admin chat for seconds at a time while hundreds of
    commits wake the sender: a step then costs a few statements, however many threads
    are queued (issue 16: it read every lane of every chat), and a visitor's own chat,
    which the pacer does not hold, is still served."""
    monotonic = [1000.0]
    sender.pacer = Pacer(interval=1.0, group_per_minute=20, clock=lambda: monotonic[0])
    threads = [visitor(f"V{i}") for i in range(30)]
    for thread in threads:
        say(thread, "hello")
    run(sender, steps=1)
    assert delivered(bot) == ["hello"]
    outbox.enqueue(OutboxItem.Kind.NOTICE, chat_id=4242, payload={"text": "to a private chat"})

    assert sender.step(idle=1.0) == 0.0  # sent: look again at once
    assert [c.params["chat_id"] for c in bot.sent("sendMessage")][-1] in (4242, "4242")
    with CaptureQueriesContext(connection) as queries:
        wait = sender.step(idle=5.0)
    assert 0 < wait <= 1.0  # the admin chat's next turn, a second after its last message
    assert len(bot.sent("sendMessage")) == 2
    lane_reads = [q for q in queries.captured_queries if "AS lane" in q["sql"]]  # Sender.next_lane
    assert lane_reads == []
    assert len(queries.captured_queries) <= 5


def test_new_conversations_arriving_together_get_their_cards_in_a_fixed_number_of_statements(
    sender, bot, settings
):
    """A busy minute's first messages (every one a new conversation) are queued with their
    cards by a fixed number of statements, not a savepoint and two INSERTs each: at 500
    new conversations a second that made every group wait (bench/README.md)."""
    settings.TELEGRAM_CARDS = True
    threads = [visitor(f"Visitor {i}") for i in range(30)]
    items = [(MessageInput(t.id, "text", f"hello from {t.display_name}", None, None), None) for t in threads]
    admin_chat.current()  # cached for 2 s: its lookup is not the group's work
    with CaptureQueriesContext(connection) as queries:
        services.post_visitor_messages(items)
    statements = [q["sql"] for q in queries.captured_queries]
    # The cards and their items (one statement on PostgreSQL); the messages' items.
    assert sum("telegram_" in sql for sql in statements) == (2 if connection.vendor == "postgresql" else 3)
    assert not any(sql.startswith("SAVEPOINT") for sql in statements[2:-1])
    queued = list(OutboxItem.objects.order_by("id").values_list("kind", "thread_id"))
    assert queued[:30] == [(OutboxItem.Kind.CARD, t.id) for t in threads]
    assert queued[30:] == [(OutboxItem.Kind.MESSAGE, t.id) for t in threads]


def test_a_card_another_transaction_made_is_not_queued_twice(sender, settings):
    from telegram_bridge.models import ThreadCard

    settings.TELEGRAM_CARDS = True
    mine, theirs = visitor("Mine"), visitor("Theirs")
    ThreadCard.objects.create(thread_id=theirs.id)  # made meanwhile, by the panel's reply
    services.post_visitor_messages(
        [
            (MessageInput(t.id, "text", f"first from {t.display_name}", None, None), None)
            for t in (mine, theirs)
        ]
    )
    queued = list(OutboxItem.objects.order_by("id").values_list("kind", "thread_id"))
    assert queued == [
        (OutboxItem.Kind.CARD, mine.id),
        (OutboxItem.Kind.MESSAGE, mine.id),
        (OutboxItem.Kind.MESSAGE, theirs.id),
    ]
    assert ThreadCard.objects.filter(thread_id__in=[mine.id, theirs.id]).count() == 2


def test_queued_items_are_the_rows_the_orm_would_store(sender, bot, settings):
    """outbox._insert_items and insert_items_for_made write the visitor messages' items and
    their conversations' cards in SQL; each row is what OutboxItem.objects.create() stores,
    field by field (a field added later fails here)."""
    settings.TELEGRAM_CARDS = True
    thread = visitor("Rows")
    say(thread, "the message")
    by_sql = OutboxItem.objects.get(kind=OutboxItem.Kind.MESSAGE, thread_id=thread.id)
    message_id = by_sql.message_id
    by_orm = OutboxItem.objects.create(
        kind=OutboxItem.Kind.MESSAGE, chat_id=by_sql.chat_id, thread_id=thread.id, message_id=message_id
    )
    card_by_sql = OutboxItem.objects.get(kind=OutboxItem.Kind.CARD, thread_id=thread.id)
    card_by_orm = OutboxItem.objects.create(
        kind=OutboxItem.Kind.CARD, chat_id=by_sql.chat_id, thread_id=thread.id, payload={"action": "send"}
    )
    for sql_row, orm_row in ((by_sql, by_orm), (card_by_sql, card_by_orm)):
        for field in OutboxItem._meta.concrete_fields:
            if field.name in ("id", "created_at", "next_attempt_at"):
                continue
            assert getattr(sql_row, field.attname) == getattr(orm_row, field.attname), field.name
        assert sql_row.next_attempt_at == sql_row.created_at
    assert by_sql.message_id is not None and card_by_sql.message_id is None


def test_items_for_a_chat_the_pacer_holds_do_not_wake_the_sender_and_others_do(
    bot, sender, django_capture_on_commit_callbacks
):
    """In a flood every commit used to wake the sender to find the admin chat still
    paced (issue 16): once a step has said which chats must wait (published as the
    worker does), a commit of items that must wait anyway wakes nobody. Anything else
    does: a notice (it may take the minute's last place), another chat, a requeue, and
    the chat's items once its turn has come."""
    monotonic = [1000.0]
    sender.pacer = Pacer(interval=1.0, group_per_minute=20, clock=lambda: monotonic[0])
    for thread in [visitor(f"V{i}") for i in range(3)]:
        say(thread, "hello")
    run(sender, steps=1)
    outbox.wakeup.looking()
    assert sender.step(idle=5.0) > 0  # the admin chat's next turn is a second away
    outbox.wakeup.looked(sender.waiting)

    def wakes(commit) -> bool:
        outbox.wakeup.looked(sender.waiting)  # as published, nothing woken yet
        with django_capture_on_commit_callbacks(execute=True):
            commit()
        return outbox.wakeup.is_set()

    assert not wakes(lambda: say(visitor("Later"), "me too"))
    assert wakes(lambda: outbox.notice("a notice"))
    assert wakes(lambda: outbox.enqueue(OutboxItem.Kind.NOTICE, chat_id=4242, payload={"text": "hi"}))
    assert wakes(outbox.wakeup.set)

    monotonic[0] += 1.0  # its turn: the step sends, and the next one waits for nothing known
    outbox.wakeup.looking()
    assert sender.step(idle=5.0) == 0.0
    outbox.wakeup.looked(sender.waiting)
    assert wakes(lambda: say(visitor("Last"), "and me"))
    outbox.wakeup.looking()


def test_what_was_committed_while_a_step_ran_wakes_the_sender_only_if_it_need_not_wait(
    bot, sender, django_capture_on_commit_callbacks
):
    """A step takes a while, and every commit during it wakes the sender (the step may have
    read before it). In a flood that made the sender look again at every gap only to find
    the admin chat paced (issue 16). When the step publishes which chats must wait, the
    wakes of items that must wait anyway are dropped; any other wake of that time stands."""
    monotonic = [1000.0]
    sender.pacer = Pacer(interval=1.0, group_per_minute=20, clock=lambda: monotonic[0])
    for thread in [visitor(f"V{i}") for i in range(3)]:
        say(thread, "hello")
    run(sender, steps=1)

    def step_while(commit) -> bool:
        """Whether the sender is awake after a step during which `commit` committed, after
        the step's read (so what the step found does not know of it)."""
        outbox.wakeup.looking()
        assert sender.step(idle=5.0) > 0  # the admin chat is paced: nothing sent
        with django_capture_on_commit_callbacks(execute=True):
            commit()
        outbox.wakeup.looked(sender.waiting)
        return outbox.wakeup.is_set()

    assert not step_while(lambda: say(visitor("Flood"), "one of many"))
    assert step_while(lambda: outbox.notice("a notice"))
    assert step_while(outbox.wakeup.set)
    assert step_while(lambda: outbox.enqueue(OutboxItem.Kind.NOTICE, chat_id=4242, payload={"text": "hi"}))
    outbox.wakeup.looking()


def test_a_send_costs_a_fixed_number_of_statements_however_many_threads_wait(sender, bot, settings):
    """In a flood each send is a turn of the admin chat, taken every few seconds on a
    thread that shares the server's CPU with its sockets: it must not grow with the queue
    (issue 16: it read every lane and made a transaction of each bookkeeping write)."""
    settings.TELEGRAM_CARDS = True

    def statements_per_send(threads: int) -> list[int]:
        OutboxItem.objects.all().delete()
        for thread in [visitor(f"V{i}") for i in range(threads)]:
            say(thread, "hello")
            say(thread, "again")
        counts = []
        for _ in range(4):  # cards first (each thread's lane), then their messages in turn
            with CaptureQueriesContext(connection) as queries:
                before = sender.delivered
                sender.step(idle=0.0)
            assert sender.delivered == before + 1
            counts.append(len(queries.captured_queries))
        return counts

    statements_per_send(2)  # the first send makes the bridge's state rows
    few, many = statements_per_send(3), statements_per_send(60)
    assert few == many
    assert max(many) <= 15


def test_the_turns_of_lanes_that_emptied_are_forgotten(sender, bot):
    """The sender remembers when it served each lane (round-robin); lanes that emptied
    are dropped now and then, so a desk that saw a hundred thousand visitors does not
    keep a turn for each."""
    for thread in [visitor(f"V{i}") for i in range(250)]:
        say(thread, "hello")
    run(sender)
    assert sender.delivered == 250
    assert len(sender.served) <= 100
