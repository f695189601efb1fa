"""Hot-path statements on PostgreSQL with server-side parameters (issue 16).

Django's psycopg backend binds parameters on the client: every execution quotes each value
in Python and the server parses and plans the statement text again. A statement run on
psycopg's own cursor instead sends only its values, and psycopg prepares it once per
connection (the `prepare_threshold` in settings.DATABASES). Django's debug cursor does not
see these, so they are logged here the way it logs its own (tests count statements).
run_in_one_trip goes below psycopg, to libpq's pipeline, for the visitor messages' store,
and write_at_commit sends an outbox row with the transaction's COMMIT.
"""

from __future__ import annotations

import functools
import hashlib
import re
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def server_cursor(connection, sql: str) -> Iterator:
    """A psycopg cursor on `connection` (Django's, PostgreSQL) with server-side parameters,
    for running `sql`: logged like Django's own."""
    import psycopg  # only PostgreSQL gets here

    _send_waiting_writes(connection)
    started = time.monotonic()
    with psycopg.Cursor(connection.connection) as cursor:
        yield cursor
    _log(connection, sql, started)


def execute(connection, sql: str, params) -> None:
    """Run `sql` once with server-side parameters (see server_cursor)."""
    with server_cursor(connection, sql) as cursor:
        cursor.execute(sql, params)


class OneTripError(Exception):
    """A statement of run_in_one_trip failed: the transaction is aborted, roll it back.
    `statement_missing`: the server had lost the prepared statement (psycopg deallocates
    every prepared statement of a connection after a rollback); the next call prepares
    it again."""

    def __init__(self, message: str, statement_missing: bool) -> None:
        super().__init__(message)
        self.statement_missing = statement_missing


def run_in_one_trip(connection, sql: str, rows: list[list]) -> list[int]:
    """Run `sql` once per parameter row in one round trip, inside the current transaction
    (opening it, if this is its first statement): each row's count of affected rows, in
    order. Raises OneTripError if one failed; the transaction must then roll back.

    What psycopg's own pipeline (executemany) does, minus what it costs per row: it sends
    each row on its own (a poll and a send() a row, a Python generator step around each),
    and psycopg's transaction sends its BEGIN as a round trip of its own. Here the BEGIN, the
    statement's preparation (once per connection), an execution per row and the sync are
    queued, and they leave in one write; the answers are read as they come. Parameters go in
    psycopg's text form and PostgreSQL infers their types from the statement, as it does for
    Django's client-side parameters, so a NULL in one row and a value in the next use the
    same prepared statement.
    """
    from psycopg import pq

    _send_waiting_writes(connection)
    started = time.monotonic()
    raw = connection.connection
    statement = _one_trip_statement(sql)
    with raw.lock:
        begin = not raw.autocommit and raw.pgconn.transaction_status == pq.TransactionStatus.IDLE
        trip = _Trip(raw, begin=begin, commit=False)
        trip.add(statement, rows)
        counts, failed = trip.run()
    _log(connection, f"{len(rows)} times, in one trip: {sql}", started)
    if failed is not None:
        raise OneTripError(failed.get_error_message(), trip.statement_missing)
    return counts


def write_at_commit(connection, sql: str, params: dict) -> None:
    """Run `sql` (server-side parameters, named) in the current transaction, sent with the
    next statement's round trip: the COMMIT's, usually (chatdesk.postgresql_backend). For
    an outbox row written as a message is stored: on this machine the database thread's
    sleep and wake-up for each answer cost more CPU than the statement (bench/README.md,
    twelfth round).

    Nothing sees the difference: any statement run on the connection before the COMMIT
    (a read of the row, a savepoint, a rollback to one) sends the waiting writes first,
    and a failed one fails the COMMIT, which then rolls back. Outside a transaction, or
    on another database, it runs at once, as `execute` does."""
    if isinstance(getattr(connection, "writes_at_commit", None), list) and connection.in_atomic_block:
        connection.writes_at_commit.append((sql, params))
    else:
        execute(connection, sql, params)


def send_writes(connection, writes: list[tuple[str, dict]], commit: bool) -> None:
    """Send the `writes` (sql, params) that waited for the COMMIT (write_at_commit), in one
    round trip, with the COMMIT when `commit`. If one of them (or the COMMIT) fails,
    psycopg's error for it is raised, and the transaction is left to roll back (Django's
    atomic does)."""
    import psycopg
    from psycopg import pq

    started = time.monotonic()
    raw = connection.connection
    with raw.lock:
        begin = raw.pgconn.transaction_status == pq.TransactionStatus.IDLE
        # Not prepared: a lost prepared statement (psycopg deallocates them all after a
        # rollback) would fail the transaction here, with nothing to retry it.
        trip = _Trip(raw, begin=begin, commit=commit, named=False)
        for sql, params in writes:
            trip.add(_one_trip_statement(sql), [params])
        _counts, failed = trip.run()
    for sql, _params in writes:
        _log(connection, f"{'with the COMMIT' if commit else 'before the next statement'}: {sql}", started)
    if failed is not None:
        raise psycopg.errors.error_from_result(failed, encoding=raw.pgconn._encoding)


def _send_waiting_writes(connection) -> None:
    """Before a statement that bypasses Django's cursor (below), as Django's does."""
    send = getattr(connection, "send_writes_at_commit", None)
    if send is not None:
        send()


def _log(connection, sql: str, started: float) -> None:
    if connection.queries_logged:
        connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})


class _OneTripStatement:
    """`sql` with PostgreSQL's numbered placeholders (for `%s`, or for each distinct
    `%(name)s` in order), and the name it is prepared under."""

    def __init__(self, sql: str) -> None:
        from psycopg.adapt import PyFormat

        self.names: list[str] | None = None
        numbers: dict[str, int] = {}
        positional = 0

        def number(match: re.Match) -> str:
            nonlocal positional
            if match.group(0) == "%%":
                return "%"
            name = match.group(1)
            if name is None:
                positional += 1
                return f"${positional}"
            numbers.setdefault(name, len(numbers) + 1)
            return f"${numbers[name]}"

        self.query = _PLACEHOLDER.sub(number, sql).encode()
        if numbers:
            if positional:
                raise ValueError("mixed %s and %(name)s placeholders")
            self.names = list(numbers)
        self.name = b"chatdesk_" + hashlib.sha1(self.query).hexdigest()[:16].encode()
        self.formats = [PyFormat.TEXT] * (len(numbers) or positional)

    def values(self, params) -> list:
        """`params` (a sequence, or a mapping for named placeholders) in placeholder order."""
        return list(params) if self.names is None else [params[name] for name in self.names]


_PLACEHOLDER = re.compile(r"%%|%s|%\((\w+)\)s")


@functools.lru_cache(maxsize=32)
def _one_trip_statement(sql: str) -> _OneTripStatement:
    return _OneTripStatement(sql)


# The statements prepared on each psycopg connection; a connection's entry goes with it.
_PREPARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# PostgreSQL's "prepared statement does not exist".
_INVALID_STATEMENT_NAME = b"26000"


class _Trip:
    """Commands for libpq's pipeline mode, queued and flushed in one write, then their
    answers read up to the sync. Call with the psycopg connection's lock held.

    With prepared statements on (`named` and the connection's prepare_threshold), a statement is
    prepared the first time this connection sends it and executed by name after that;
    psycopg deallocates every prepared statement after a rollback, so a trip that finds its
    statement gone forgets it (`statement_missing`) and the next one prepares it again."""

    def __init__(self, raw, begin: bool, commit: bool, named: bool = True) -> None:
        from psycopg.adapt import Transformer

        self.raw = raw
        self.begin = begin
        self.commit = commit
        self.named = named and raw.prepare_threshold is not None
        self.prepared = _PREPARED.setdefault(raw, set())
        self.transformer = Transformer.from_context(raw)
        self.commands: list[tuple[_OneTripStatement, bool, list]] = []
        self.statement_missing = False

    def add(self, statement: _OneTripStatement, rows: list) -> None:
        queued = {s.name for s, prepare, _rows in self.commands if prepare}
        prepare = self.named and statement.name not in self.prepared and statement.name not in queued
        dump = self.transformer.dump_sequence
        params = [dump(statement.values(row), statement.formats) for row in rows]
        self.commands.append((statement, prepare, params))

    def run(self):
        """(each row's count of affected rows, the first failed result or None)."""
        counts, failed, made = self.raw.wait(self._pipeline())
        if failed is not None and _sqlstate(failed) == _INVALID_STATEMENT_NAME:
            self.statement_missing = True
            self.prepared.difference_update(statement.name for statement, _prepare, _rows in self.commands)
        # Preparing is not undone by a rollback: what the server made, it keeps.
        self.prepared.update(made)
        return counts, failed

    def _pipeline(self):
        from psycopg import generators, pq

        pgconn = self.raw.pgconn
        status = pq.ExecStatus
        answering: list[bytes | str | None] = []  # per command: _ROW, the name it prepares, or None
        pgconn.enter_pipeline_mode()
        try:
            if self.begin:
                pgconn.send_query_params(b"BEGIN", None)
                answering.append(None)
            for statement, prepare, rows in self.commands:
                if prepare:
                    pgconn.send_prepare(statement.name, statement.query)
                    answering.append(statement.name)
                for params in rows:
                    if self.named:
                        pgconn.send_query_prepared(statement.name, params)
                    else:
                        pgconn.send_query_params(statement.query, params)
                    answering.append(_ROW)
            if self.commit:
                pgconn.send_query_params(b"COMMIT", None)
                answering.append(None)
            pgconn.pipeline_sync()
            yield from generators.send(pgconn)
            # The answers come one command at a time, in the order sent.
            answering.reverse()
            counts: list[int] = []
            failed = None
            made: set[bytes] = set()
            while True:
                results = yield from generators.fetch_many(pgconn)
                if results and results[-1].status == status.PIPELINE_SYNC:
                    break
                command = answering.pop() if answering else None
                for result in results:
                    if result.status == status.FATAL_ERROR:
                        failed = failed or result
                    elif result.status == status.COMMAND_OK and command == _ROW:
                        counts.append(result.command_tuples or 0)
                    elif result.status == status.COMMAND_OK and isinstance(command, bytes):
                        made.add(command)
            return counts, failed, made
        finally:
            pgconn.exit_pipeline_mode()


_ROW = "row"  # in _Trip's answers to come: an execution (a prepare's is its name, bytes)


def _sqlstate(result) -> bytes | None:
    from psycopg import pq

    return result.error_field(pq.DiagnosticField.SQLSTATE)
