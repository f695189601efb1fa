"""Django's PostgreSQL backend, with writes that travel with the transaction's COMMIT.

With the Telegram bridge on, every visitor message also queues its outbox row, in the
message's own transaction (a message forwarded after a crash must not be lost). Sent on
its own, that INSERT is a round trip between the store's and the COMMIT's, and the
database thread sleeps and wakes for its answer, which on this machine costs more CPU
than the statement (bench/README.md, twelfth round). chatdesk.prepared.write_at_commit
queues such a write here, and the next statement takes it along in its round trip: the
COMMIT, or any statement that comes first (it may read the row).
"""

from __future__ import annotations

from django.db.backends.postgresql import base
from django.db.backends.utils import debug_transaction

from chatdesk import prepared


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # (sql, params) of the current transaction's writes not sent yet, in order.
        self.writes_at_commit: list[tuple[str, dict]] = []

    def send_writes_at_commit(self) -> None:
        """Send the waiting writes now: another statement is about to run."""
        if self.writes_at_commit and self.connection is not None:
            writes, self.writes_at_commit = self.writes_at_commit, []
            with self.wrap_database_errors:
                prepared.send_writes(self, writes, commit=False)

    def _cursor(self, name=None):
        self.send_writes_at_commit()
        return super()._cursor(name)

    def _commit(self):
        writes, self.writes_at_commit = self.writes_at_commit, []
        if not writes or self.connection is None:
            return super()._commit()
        with debug_transaction(self, "COMMIT"), self.wrap_database_errors:
            prepared.send_writes(self, writes, commit=True)

    def _rollback(self):
        self.writes_at_commit = []
        return super()._rollback()

    def _close(self):
        self.writes_at_commit = []
        return super()._close()
