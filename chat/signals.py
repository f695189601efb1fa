"""Signals the chat domain sends, so other apps (the Telegram bridge) can follow along.

Receivers of `messages_posted` run inside the transaction that stores the messages, so
whatever they record (an outbox entry) is stored together with them or not at all. On
PostgreSQL a group's statements may still be waiting to go with the COMMIT when they run
(chatdesk.prepared.write_at_commit): any statement a receiver runs sends them first, so it
sees the messages stored.
"""

from django.dispatch import Signal

# kwargs: messages (a list, in the order they were stored: one, or the group a group
# commit stored together, so a receiver can do its work once per group), via ("socket",
# "panel", "telegram", "http", "command")
messages_posted = Signal()
# kwargs: thread_id
thread_cleared = Signal()
# kwargs: thread_ids
threads_deleted = Signal()
# no kwargs
all_cleared = Signal()
# kwargs: thread (after the change), change ("claimed", "assigned", "unassigned",
# "resolved", "reopened", "blocked", "unblocked"), by (the Agent, or None). Sent inside the
# transaction of the change.
thread_updated = Signal()
# kwargs: message (after the change), via ("panel", "telegram"). Sent inside the
# transaction of chat.services.edit_message.
message_edited = Signal()
