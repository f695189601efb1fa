"""Hot-path statements on PostgreSQL with server-side parameters (issue 16).

Django's psycopg backend binds parameters on the client: every execution quotes each value
in Python and the server parses and plans the statement text again. write_at_commit goes
below psycopg, to libpq's pipeline: it sends only the values (the statement prepared once
per connection where it can be retried, with prepared statements on: `prepare_threshold`
in settings.DATABASES), and a group of visitor messages, its conversations' new cards and
its Telegram outbox rows leave with their transaction's COMMIT, in one round trip.
Django's debug cursor does not see them, so they are logged here the way it logs its own
(tests count statements).
"""

from __future__ import annotations

import functools
import hashlib
import re
import time
import weakref


def write_at_commit(connection, sql: str, rows: list, prepare: bool = False) -> None:
    """Run `sql` (server-side parameters, `%s` or `%(name)s`) once per parameter row of
    `rows`, in the current transaction, in the round trip of the next statement: the
    COMMIT's, usually (chatdesk.postgresql_backend). On this machine the database thread's
    sleep and wake-up for each answer cost more CPU than a statement (bench/README.md,
    twelfth round): a group of visitor messages and its Telegram outbox rows go to the
    server with the COMMIT, in one write, and come back in one answer.

    Nothing sees the difference: any statement run on the connection before the COMMIT (a
    read, a savepoint, a rollback to one) sends the waiting writes first, and one that
    fails fails that statement, or the COMMIT, which then rolls back: the caller hears
    psycopg's error for it. Outside a transaction the rows go at once. With `prepare` (and
    prepared statements on) the statement is prepared once per connection, and one that
    finds it gone (psycopg deallocates every prepared statement after a rollback) fails
    with InvalidSqlStatementName; the next prepares it again. A write that could not be
    tried again leaves `prepare` off."""
    writes = getattr(connection, "writes_at_commit", None)
    if isinstance(writes, list) and connection.in_atomic_block:
        writes.append((sql, rows, prepare))
        return
    connection.ensure_connection()
    with connection.wrap_database_errors:
        send_writes(connection, [(sql, rows, prepare)], commit=False)


def send_writes(connection, writes: list[tuple[str, list, bool]], commit: bool) -> None:
    """Send `writes` ((sql, rows, prepare) each, see write_at_commit) in one round trip
    (with the transaction's BEGIN if nothing opened it yet), and the COMMIT when `commit`.
    Raises psycopg's error for the first that failed; the transaction must then roll back.

    Below psycopg, in libpq's pipeline mode: psycopg's executemany sends each row on its
    own (a poll and a send() a row, a Python generator step around each) and its
    transaction's BEGIN as a round trip of its own. Parameters go in psycopg's text form
    and PostgreSQL infers their types from the statement, as it does for Django's
    client-side parameters, so a NULL in one row and a value in the next use the same
    prepared statement."""
    import psycopg
    from psycopg import pq

    started = time.monotonic()
    raw = connection.connection
    with raw.lock:
        begin = not raw.autocommit and raw.pgconn.transaction_status == pq.TransactionStatus.IDLE
        trip = _Trip(raw, begin=begin, commit=commit)
        for sql, rows, prepare in writes:
            trip.add(_one_trip_statement(sql), rows, prepare)
        failed = trip.run()
    when = "with the COMMIT" if commit else "in one trip"
    for sql, rows, _prepare in writes:
        _log(connection, f"{len(rows)} times, {when}: {sql}" if len(rows) > 1 else f"{when}: {sql}", started)
    if failed is not None:
        raise psycopg.errors.error_from_result(failed, encoding=raw.pgconn._encoding)


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

    With prepared statements on (the connection's prepare_threshold), a statement added
    with `prepare` is prepared the first time this connection sends it and executed by name
    after that. A trip that finds one gone forgets the connection's marks of its statements
    (psycopg deallocates every prepared statement after a rollback), and the next
    prepares them again."""

    def __init__(self, raw, begin: bool, commit: bool) -> None:
        from psycopg.adapt import Transformer

        self.raw = raw
        self.begin = begin
        self.commit = commit
        self.can_prepare = raw.prepare_threshold is not None
        self.prepared = _PREPARED.setdefault(raw, set())
        self.transformer = Transformer.from_context(raw)
        # (statement, whether it is executed by name, whether this trip prepares it, params)
        self.commands: list[tuple[_OneTripStatement, bool, bool, list]] = []

    def add(self, statement: _OneTripStatement, rows: list, prepare: bool) -> None:
        named = prepare and self.can_prepare
        queued = {command[0].name for command in self.commands if command[2]}
        make = named and statement.name not in self.prepared and statement.name not in queued
        dump = self.transformer.dump_sequence
        params = [dump(statement.values(row), statement.formats) for row in rows]
        self.commands.append((statement, named, make, params))

    def run(self):
        """The first failed result, or None."""
        failed, made = self.raw.wait(self._pipeline())
        if failed is not None and _sqlstate(failed) == _INVALID_STATEMENT_NAME:
            self.prepared.difference_update(command[0].name for command in self.commands if command[1])
        # Preparing is not undone by a rollback: what the server made, it keeps.
        self.prepared.update(made)
        return failed

    def _pipeline(self):
        from psycopg import generators, pq

        pgconn = self.raw.pgconn
        status = pq.ExecStatus
        made_by: list[bytes | None] = []  # per command sent: the name it prepares, or None
        pgconn.enter_pipeline_mode()
        try:
            if self.begin:
                pgconn.send_query_params(b"BEGIN", None)
                made_by.append(None)
            for statement, named, make, rows in self.commands:
                if make:
                    pgconn.send_prepare(statement.name, statement.query)
                    made_by.append(statement.name)
                for params in rows:
                    if named:
                        pgconn.send_query_prepared(statement.name, params)
                    else:
                        pgconn.send_query_params(statement.query, params)
                    made_by.append(None)
            if self.commit:
                pgconn.send_query_params(b"COMMIT", None)
                made_by.append(None)
            pgconn.pipeline_sync()
            yield from generators.send(pgconn)
            # The answers come one command at a time, in the order sent.
            made_by.reverse()
            failed = None
            made: set[bytes] = set()
            while True:
                results = yield from generators.fetch_many(pgconn)
                if results and results[-1].status == status.PIPELINE_SYNC:
                    break
                name = made_by.pop() if made_by else None
                for result in results:
                    if result.status == status.FATAL_ERROR:
                        failed = failed or result
                    elif result.status == status.COMMAND_OK and name is not None:
                        made.add(name)
            return failed, made
        finally:
            pgconn.exit_pipeline_mode()


def _sqlstate(result) -> bytes | None:
    from psycopg import pq

    return result.error_field(pq.DiagnosticField.SQLSTATE)
