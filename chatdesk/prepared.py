"""Hot-path statements on PostgreSQL with server-side parameters (issue 16).

Django's psycopg backend binds parameters on the client: every execution quotes each value
in Python and the server parses and plans the statement text again. A statement run on
psycopg's own cursor instead sends only its values, and psycopg prepares it once per
connection (the `prepare_threshold` in settings.DATABASES). Django's debug cursor does not
see these, so they are logged here the way it logs its own (tests count statements).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def server_cursor(connection, sql: str, times: int = 1) -> Iterator:
    """A psycopg cursor on `connection` (Django's, PostgreSQL) with server-side parameters,
    for running `sql` (`times` rows of an executemany): logged like Django's own."""
    import psycopg  # only PostgreSQL gets here

    started = time.monotonic()
    with psycopg.Cursor(connection.connection) as cursor:
        yield cursor
    if connection.queries_logged:
        logged = sql if times == 1 else f"{times} times: {sql}"
        connection.queries_log.append({"sql": logged, "time": f"{time.monotonic() - started:.3f}"})


def execute(connection, sql: str, params) -> None:
    """Run `sql` once with server-side parameters (see server_cursor)."""
    with server_cursor(connection, sql) as cursor:
        cursor.execute(sql, params)
