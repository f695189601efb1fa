"""Keyset paging of the thread list and of a thread's history (chat/selectors.py):
every row once, in order, whatever the page size, ties included."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chat import selectors
from chat.models import Message, Thread

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def thread(name: str, sorted_at: datetime, has_messages: bool) -> Thread:
    return Thread.objects.create(
        display_name=name,
        sorted_at=sorted_at,
        has_messages=has_messages,
        last_message_at=sorted_at if has_messages else None,
    )


@pytest.fixture
def threads() -> list[Thread]:
    """Threads in the list's order: with messages, newest first (ties by id, descending),
    then those without, newest first."""
    made = []
    for i in range(5):
        made.append(thread(f"m{i}", T0 + timedelta(minutes=i), True))
    for i in range(3):  # three threads whose last messages share one instant
        made.append(thread(f"tie{i}", T0 + timedelta(minutes=10), True))
    for i in range(4):
        made.append(thread(f"empty{i}", T0 + timedelta(minutes=i * 2), False))
    made.append(thread("empty-tie", T0 + timedelta(minutes=2), False))
    return sorted(made, key=lambda t: (t.has_messages, t.sorted_at, t.id.hex), reverse=True)


def cursor(row) -> selectors.ThreadCursor:
    """As the API builds it: from the thread the client names as `before`."""
    anchor = selectors.get_thread(row.id)
    return (anchor.has_messages, anchor.sorted_at, anchor.id)


def walk_threads(limit: int, rows: bool = False, within=None) -> list[uuid.UUID]:
    seen, before = [], None
    for _ in range(100):
        page = selectors.recent_threads(limit, before, rows=rows, within=within)
        assert len(page) <= limit
        seen += [t.id for t in page]
        if len(page) < limit:
            return seen
        before = cursor(page[-1])
    raise AssertionError("paging never ended")


def test_first_page_is_the_newest(threads):
    assert [t.id for t in selectors.recent_threads(4)] == [t.id for t in threads[:4]]
    assert [t.display_name for t in selectors.recent_threads(100)][-5:] == [
        "empty3",
        "empty2",
        *[t.display_name for t in threads[-3:]],
    ]


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 5, 7, 8, 12, 13, 14, 100])
def test_paging_the_threads_sees_each_once_in_order(threads, limit):
    assert walk_threads(limit) == [t.id for t in threads]


@pytest.mark.parametrize("limit", [1, 3, 8])
def test_paging_rows_matches_paging_models(threads, limit):
    assert walk_threads(limit, rows=True) == [t.id for t in threads]
    row = selectors.thread_rows(1)[0]
    assert row._fields == selectors.THREAD_FIELDS
    assert row.id == threads[0].id


@pytest.mark.parametrize("limit", [1, 2, 3, 100])
def test_paging_within_a_subset_sees_only_it_in_order(threads, limit):
    """Search pages through the threads it matched (`within`), in the list's order,
    across the group with messages into the one without."""
    subset = [t for t in threads if t.display_name in {"m1", "tie2", "empty0", "empty-tie"}]
    within = Thread.objects.filter(id__in=[t.id for t in subset])
    assert walk_threads(limit, within=within) == [t.id for t in subset]
    assert walk_threads(limit, rows=True, within=within) == [t.id for t in subset]


def test_a_page_crosses_into_the_threads_without_messages(threads):
    with_messages = [t for t in threads if t.has_messages]
    page = selectors.recent_threads(3, cursor(with_messages[-2]))
    assert [t.id for t in page] == [with_messages[-1].id, threads[len(with_messages)].id, threads[9].id]


def test_paging_from_the_last_thread_without_messages_is_empty(threads):
    assert selectors.recent_threads(5, cursor(threads[-1])) == []


def test_no_threads_no_pages():
    assert selectors.recent_threads(10) == []
    assert selectors.recent_threads(10, (True, T0, uuid.uuid4())) == []


def add_messages(thread_obj: Thread, times: list[datetime]) -> list[Message]:
    return [
        Message.objects.create(thread=thread_obj, sender="visitor", content_text=f"#{n}", created_at=at)
        for n, at in enumerate(times)
    ]


@pytest.fixture
def history() -> tuple[Thread, list[Message]]:
    mine = Thread.objects.create(display_name="mine")
    other = Thread.objects.create(display_name="other")
    times = [T0 + timedelta(seconds=s) for s in (0, 1, 1, 1, 2, 3, 3, 4)]
    made = add_messages(mine, times)
    add_messages(other, [T0 + timedelta(seconds=s) for s in range(6)])
    return mine, sorted(made, key=lambda m: (m.created_at, m.id.hex))


def test_history_is_the_newest_messages_oldest_first(history):
    mine, ordered = history
    assert [m.id for m in selectors.thread_messages(mine.id, 100)] == [m.id for m in ordered]
    assert [m.id for m in selectors.thread_messages(mine.id, 3)] == [m.id for m in ordered[-3:]]


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 7, 8, 9])
def test_paging_back_through_history_sees_each_once(history, limit):
    mine, ordered = history
    seen, before = [], None
    while True:
        page = selectors.thread_messages(mine.id, limit, before)
        assert len(page) <= limit
        seen = [m.id for m in page] + seen
        if len(page) < limit:
            break
        before = page[0]
    assert seen == [m.id for m in ordered]


def test_history_rows(history):
    mine, ordered = history
    rows = selectors.message_rows(mine.id, 2, ordered[3])
    assert [r.id for r in rows] == [ordered[1].id, ordered[2].id]
    assert rows[0]._fields == selectors.MESSAGE_FIELDS


def test_history_of_an_unknown_thread_is_empty(history):
    assert selectors.thread_messages(uuid.uuid4(), 10) == []


def test_get_thread_and_message(history):
    mine, ordered = history
    assert selectors.get_thread(mine.id) == mine
    assert selectors.get_thread(uuid.uuid4()) is None
    assert selectors.get_message(ordered[0].id) == ordered[0]
    assert selectors.get_message(uuid.uuid4()) is None


def test_models_or_rows(threads, history):
    mine, ordered = history
    assert all(isinstance(t, Thread) for t in selectors.recent_threads(3))
    assert all(isinstance(t, Thread) for t in selectors.recent_threads(3, cursor(threads[0])))
    assert all(isinstance(m, Message) for m in selectors.thread_messages(mine.id, 3))
    assert all(isinstance(m, Message) for m in selectors.thread_messages(mine.id, 3, ordered[-1]))
    assert [r._fields for r in selectors.thread_rows(2)] == [selectors.THREAD_FIELDS] * 2
    assert [r._fields for r in selectors.message_rows(mine.id, 2)] == [selectors.MESSAGE_FIELDS] * 2


def test_row_pages_take_limit_and_cursor(threads, history):
    mine, ordered = history
    page = selectors.thread_rows(2, cursor(threads[3]))
    assert [r.id for r in page] == [threads[4].id, threads[5].id]
    messages = selectors.message_rows(mine.id, 2, ordered[-1])
    assert [r.id for r in messages] == [ordered[-3].id, ordered[-2].id]
