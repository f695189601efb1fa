"""SQLite only: expression indexes on the insights' durations (seconds from a thread's
start to its first response / its resolution), so a percentile is an index walk to an
OFFSET instead of a sort (chat/insights.py; PostgreSQL uses percentile_cont)."""

from django.db import migrations

INDEXES = {
    "thread_first_response_secs_idx": ("first_response_at",),
    "thread_resolution_secs_idx": ("resolved_at",),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for name, (column,) in INDEXES.items():
        seconds = f"((julianday({column}) - julianday(created_at)) * 86400.0)"
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON threads ({seconds}, created_at) WHERE {column} IS NOT NULL"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("chat", "0011_insights_covering_index")]

    operations = [migrations.RunPython(create, drop)]
