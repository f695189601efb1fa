"""Hot-path statements on PostgreSQL with server-side parameters (issue 16).

Django's psycopg backend binds parameters on the client: every execution quotes each value
in Python and the server parses and plans the statement text again. A statement run on
psycopg's own cursor instead sends only its values, and psycopg prepares it once per
connection (the `prepare_threshold` in settings.DATABASES). Django's debug cursor does not
see these, so they are logged here the way it logs its own (tests count statements).
run_in_one_trip goes below psycopg, to libpq's pipeline, for the visitor messages' store.
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

    started = time.monotonic()
    with psycopg.Cursor(connection.connection) as cursor:
        yield cursor
    if connection.queries_logged:
        connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})


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
    and the transaction's BEGIN is a round trip before it. Here libpq queues the BEGIN, the
    statement's preparation (once per connection), an execution per row and the sync, and
    they leave in one write; the answers are read as they come. Parameters go in psycopg's
    text form and PostgreSQL infers their types from the statement, as it does for
    Django's client-side parameters, so a NULL in one row and a value in the next use the
    same prepared statement.
    """
    from psycopg import pq
    from psycopg.adapt import Transformer

    started = time.monotonic()
    raw = connection.connection
    statement = _one_trip_statement(sql)
    # DATABASE_PREPARED_STATEMENTS=0 (a pooler that cannot keep them): unnamed statements,
    # parsed each time, still in one trip.
    named = raw.prepare_threshold is not None
    prepared = _PREPARED.setdefault(raw, set())
    prepare = named and statement.name not in prepared
    with raw.lock:
        pgconn = raw.pgconn
        begin = not raw.autocommit and pgconn.transaction_status == pq.TransactionStatus.IDLE
        transformer = Transformer.from_context(raw)
        params = [transformer.dump_sequence(row, statement.formats) for row in rows]
        counts, error, missing = raw.wait(_one_trip(pgconn, statement, params, begin, prepare, named))
    if missing:
        prepared.discard(statement.name)
    elif prepare:
        prepared.add(statement.name)
    if connection.queries_logged:
        logged = f"{len(rows)} times, in one trip: {sql}"
        connection.queries_log.append({"sql": logged, "time": f"{time.monotonic() - started:.3f}"})
    if error is not None:
        raise OneTripError(error, missing)
    return counts


class _OneTripStatement:
    """`sql` with PostgreSQL's numbered placeholders, and the name it is prepared under."""

    def __init__(self, sql: str) -> None:
        from psycopg.adapt import PyFormat

        count = sql.count("%s")
        numbers = iter(range(1, count + 1))
        self.query = re.sub("%s", lambda _: f"${next(numbers)}", sql).encode()
        self.name = b"chatdesk_" + hashlib.sha1(self.query).hexdigest()[:16].encode()
        self.formats = [PyFormat.TEXT] * count


@functools.lru_cache(maxsize=32)
def _one_trip_statement(sql: str) -> _OneTripStatement:
    return _OneTripStatement(sql)


# The statements prepared on each psycopg connection; a connection's entry goes with it.
_PREPARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# PostgreSQL's "prepared statement does not exist".
_INVALID_STATEMENT_NAME = b"26000"


def _one_trip(pgconn, statement: _OneTripStatement, rows: list, begin: bool, prepare: bool, named: bool):
    """libpq in pipeline mode: everything queued and flushed at once, then the answers up
    to the sync: (each row's count, the first error or None, whether it was a missing
    prepared statement)."""
    from psycopg import generators, pq

    status = pq.ExecStatus
    pgconn.enter_pipeline_mode()
    try:
        if begin:
            pgconn.send_query_params(b"BEGIN", None)
        if prepare:
            pgconn.send_prepare(statement.name, statement.query)
        for params in rows:
            if named:
                pgconn.send_query_prepared(statement.name, params)
            else:
                pgconn.send_query_params(statement.query, params)
        pgconn.pipeline_sync()
        yield from generators.send(pgconn)
        # The answers come one command at a time, in the order sent.
        answering = ["begin"] * begin + ["prepare"] * prepare + ["row"] * len(rows)
        counts: list[int] = []
        error = None
        missing = False
        while True:
            results = yield from generators.fetch_many(pgconn)
            if results and results[-1].status == status.PIPELINE_SYNC:
                break
            command = answering.pop(0) if answering else None
            for result in results:
                if result.status == status.FATAL_ERROR:
                    if error is None:
                        error = result.get_error_message()
                        sqlstate = result.error_field(pq.DiagnosticField.SQLSTATE)
                        missing = sqlstate == _INVALID_STATEMENT_NAME
                elif result.status == status.COMMAND_OK and command == "row":
                    counts.append(result.command_tuples or 0)
        return counts, error, missing
    finally:
        pgconn.exit_pipeline_mode()
