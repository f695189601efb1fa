"""Django's SQLite backend, with its placeholder rewrite done once per statement text.

Django writes SQL with `%s` placeholders and its SQLite cursor turns them into sqlite3's
`?` with a regular expression on every execution. For the store of a visitor message that
was 2.6% of the SQLite server's CPU at 500 msg/s (bench/README.md, eleventh round): the
same few statements, rewritten thousands of times a second. The rewrite depends only on
the text, so it is kept, for the most recent texts (ORM statements with lists of varying
length make new texts; the bound keeps them from growing the process).
"""

from __future__ import annotations

import functools

from django.db.backends.sqlite3 import base


@functools.lru_cache(maxsize=512)
def _qmark(query: str) -> str:
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    def convert_query(self, query, *, param_names=None):
        if param_names is None:
            return _qmark(query)
        return super().convert_query(query, param_names=param_names)


class DatabaseWrapper(base.DatabaseWrapper):
    def create_cursor(self, name=None):
        return self.connection.cursor(factory=SQLiteCursorWrapper)
