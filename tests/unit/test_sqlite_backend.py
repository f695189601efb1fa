"""chatdesk/sqlite_backend: Django's SQLite backend with the %s → ? rewrite done once per
statement text (bench/README.md, eleventh round). What Django's own rewrite does must
still hold: placeholders, a literal %% and named parameters."""

from __future__ import annotations

import pytest
from django.db import connection, connections

from chat.models import Thread
from chatdesk.sqlite_backend import base

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite backend"),
]


def test_the_default_database_runs_on_it():
    assert isinstance(connections["default"], base.DatabaseWrapper)
    with connection.cursor() as cursor:
        assert isinstance(cursor.cursor, base.SQLiteCursorWrapper)


def test_statements_answer_as_with_djangos_rewrite():
    Thread.objects.create(display_name="100% sure")
    Thread.objects.create(display_name="Ada")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT display_name FROM threads WHERE display_name LIKE '%%\\%%%%' ESCAPE '\\' AND id != %s",
            ["-"],
        )
        assert cursor.fetchall() == [("100% sure",)]
        cursor.execute("SELECT display_name FROM threads WHERE display_name = %(name)s", {"name": "Ada"})
        assert cursor.fetchall() == [("Ada",)]
        cursor.executemany("UPDATE threads SET display_name = %s WHERE display_name = %s", [("Bo", "Ada")])
    assert Thread.objects.filter(display_name="Bo").count() == 1
    # The ORM's own statements, on the same cursor class.
    assert list(Thread.objects.filter(display_name__contains="%").values_list("display_name", flat=True)) == [
        "100% sure"
    ]


def test_a_text_is_rewritten_once_and_the_kept_texts_are_bounded():
    base._qmark.cache_clear()
    with connection.cursor() as cursor:
        for _ in range(3):
            cursor.execute("SELECT %s + %s", [1, 2])
            assert cursor.fetchone() == (3,)
    info = base._qmark.cache_info()
    assert (info.misses, info.hits) == (1, 2)
    with connection.cursor() as cursor:
        for n in range(base._qmark.cache_info().maxsize + 100):
            cursor.execute(f"SELECT %s + {n}", [1])
    assert base._qmark.cache_info().currsize == base._qmark.cache_info().maxsize
