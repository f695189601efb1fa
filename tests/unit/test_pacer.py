"""The sender's pacer against a controlled clock: Telegram's per-chat limits, exactly.

About one message a second to any chat (TELEGRAM_SEND_INTERVAL_MS) and at most
TELEGRAM_GROUP_MESSAGES_PER_MINUTE to a group (a negative chat id) in any 60 seconds.
"""

from __future__ import annotations

import pytest

from telegram_bridge.models import OutboxItem
from telegram_bridge.sender import Pacer

GROUP = "-1001234"
PRIVATE = "4242"


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def monotonic() -> Monotonic:
    return Monotonic()


def send_when_allowed(pacer: Pacer, monotonic: Monotonic, chat_id: str) -> None:
    """Wait as long as the pacer says, then send."""
    monotonic.now += pacer.wait_for(chat_id)
    assert pacer.wait_for(chat_id) == 0.0
    pacer.record(chat_id)


def test_a_chat_never_written_to_may_be_written_to_now(monotonic):
    pacer = Pacer(interval=1.0, group_per_minute=20, clock=monotonic)
    assert pacer.wait_for(GROUP) == 0.0
    assert pacer.wait_for(PRIVATE) == 0.0


def test_one_message_per_interval_per_chat(monotonic):
    pacer = Pacer(interval=1.0, group_per_minute=20, clock=monotonic)
    pacer.record(PRIVATE)
    assert pacer.wait_for(PRIVATE) == 1.0
    monotonic.now += 0.25
    assert pacer.wait_for(PRIVATE) == 0.75
    # Another chat has its own pace.
    assert pacer.wait_for("777") == 0.0
    monotonic.now += 0.75
    assert pacer.wait_for(PRIVATE) == 0.0


def test_a_group_takes_at_most_its_cap_per_minute(monotonic):
    pacer = Pacer(interval=1.0, group_per_minute=20, clock=monotonic)
    start = monotonic.now
    for _ in range(20):
        send_when_allowed(pacer, monotonic, GROUP)
    # 20 messages went out one second apart (t = 0 ... 19); the 21st waits until the first
    # is a minute old (t = 60), not one interval (t = 20).
    assert monotonic.now == start + 19
    assert pacer.wait_for(GROUP) == 41.0
    monotonic.now += 40.5
    assert pacer.wait_for(GROUP) == 0.5
    monotonic.now += 0.5
    assert pacer.wait_for(GROUP) == 0.0
    pacer.record(GROUP)  # t = 60: the 21st
    # The 22nd: the second (t = 1) must be a minute old.
    assert pacer.wait_for(GROUP) == 1.0


def test_the_cap_counts_any_sixty_seconds_not_a_calendar_minute(monotonic):
    pacer = Pacer(interval=0.0, group_per_minute=3, clock=monotonic)
    for offset in (0.0, 30.0, 59.0):
        monotonic.now = 1000.0 + offset
        pacer.record(GROUP)
    monotonic.now = 1059.5
    assert pacer.wait_for(GROUP) == 0.5  # the one at t = 0 leaves the window at t = 60
    monotonic.now = 1060.0
    assert pacer.wait_for(GROUP) == 0.0
    pacer.record(GROUP)
    assert pacer.wait_for(GROUP) == 30.0  # now the one at t = 30 is the oldest of three


def test_private_chats_have_no_minute_cap(monotonic):
    pacer = Pacer(interval=0.0, group_per_minute=3, clock=monotonic)
    for _ in range(10):
        pacer.record(PRIVATE)
    assert pacer.wait_for(PRIVATE) == 0.0
    for _ in range(3):
        pacer.record(GROUP)
    assert pacer.wait_for(GROUP) == 60.0


def test_settings_are_the_default(monotonic, settings):
    settings.TELEGRAM_SEND_INTERVAL_MS = 250
    settings.TELEGRAM_GROUP_MESSAGES_PER_MINUTE = 2
    pacer = Pacer(clock=monotonic)
    pacer.record(GROUP)
    assert pacer.wait_for(GROUP) == 0.25
    monotonic.now += 1
    pacer.record(GROUP)
    assert pacer.wait_for(GROUP) == 59.0


def test_chat_traffic_leaves_room_in_a_groups_minute_for_notices_and_sign_in(monotonic):
    chat, notice, sign_in = OutboxItem.Priority.CHAT, OutboxItem.Priority.NOTICE, OutboxItem.Priority.SIGN_IN
    pacer = Pacer(interval=1.0, group_per_minute=20, clock=monotonic)
    for _ in range(18):
        monotonic.now += pacer.wait_for(GROUP, chat)
        pacer.record(GROUP)
    monotonic.now += 1  # t = 18: the interval has passed
    # A flood of forwards has had 18 of the 20; a notice may have the 19th, sign-in the 20th.
    assert pacer.wait_for(GROUP, chat) == 42.0
    assert pacer.wait_for(GROUP, notice) == 0.0
    pacer.record(GROUP)
    monotonic.now += 1
    assert pacer.wait_for(GROUP, notice) == 41.0
    assert pacer.wait_for(GROUP, sign_in) == 0.0
    pacer.record(GROUP)
    monotonic.now += 1
    assert pacer.wait_for(GROUP, sign_in) == 40.0
    # Private chats have no minute cap, whatever the priority.
    for _ in range(30):
        pacer.record(PRIVATE)
    monotonic.now += 1
    assert pacer.wait_for(PRIVATE, chat) == 0.0


def test_a_tiny_cap_still_lets_chat_traffic_through(monotonic):
    pacer = Pacer(interval=0.0, group_per_minute=2, clock=monotonic)
    assert pacer.wait_for(GROUP, OutboxItem.Priority.CHAT) == 0.0
    pacer.record(GROUP)
    assert pacer.wait_for(GROUP, OutboxItem.Priority.CHAT) == 60.0
    assert pacer.wait_for(GROUP, OutboxItem.Priority.SIGN_IN) == 0.0


def test_a_message_leaves_the_window_exactly_a_minute_after_it_was_sent(monotonic):
    """The pacer forgets what left the last 60 seconds (its memory stays one minute's
    worth): a message sent at t = 0 is gone at t = 60, one sent at t = 0.5 is not yet."""
    pacer = Pacer(interval=0.0, group_per_minute=20, clock=monotonic)
    pacer.record(GROUP)
    monotonic.now += 0.5
    pacer.record(GROUP)
    monotonic.now = 1060.0
    assert pacer.wait_for(GROUP) == 0.0
    assert list(pacer.sent[GROUP]) == [1000.5]
    monotonic.now = 1060.5
    assert pacer.wait_for(GROUP) == 0.0
    assert list(pacer.sent[GROUP]) == []


def test_after_a_minute_of_silence_a_chat_may_be_written_to_now(monotonic):
    """The last minute's history is all gone: nothing to wait for."""
    pacer = Pacer(interval=1.0, group_per_minute=20, clock=monotonic)
    pacer.record(PRIVATE)
    pacer.record(GROUP)
    monotonic.now += 60
    assert pacer.wait_for(PRIVATE) == 0.0
    assert pacer.wait_for(GROUP) == 0.0
    assert (list(pacer.sent[PRIVATE]), list(pacer.sent[GROUP])) == ([], [])
