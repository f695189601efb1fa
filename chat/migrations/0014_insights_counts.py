"""Insights' daily roll-ups (chat/rollups.py), filled from the threads there are; and on
PostgreSQL, indexes on the two durations in seconds, so a percentile reads only the
threads of the buckets around its rank (chat/insights.py; SQLite has its own, 0012)."""

from django.db import migrations, models

POSTGRES_INDEXES = {
    "thread_first_response_secs_idx": "first_response_at",
    "thread_resolution_secs_idx": "resolved_at",
}


def fill(apps, schema_editor):
    from chat import rollups

    rollups.rebuild(apps.get_model("chat", "Thread"), apps.get_model("chat", "InsightsCount"))


def create_postgres_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in POSTGRES_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON threads "
            # INCLUDE: with both columns in the index, an index-only scan (no table rows).
            f"((EXTRACT(EPOCH FROM ({column} - created_at))), created_at) INCLUDE ({column}) "
            f"WHERE {column} IS NOT NULL"
        )


def drop_postgres_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in POSTGRES_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0013_visitor_context"),
    ]

    operations = [
        migrations.CreateModel(
            name="InsightsCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("h", "started, per local hour"),
                            ("a", "started, per assignee"),
                            ("r", "resolved, per assignee"),
                            ("f", "first response time, per duration bucket"),
                            ("d", "resolution time, per duration bucket"),
                        ],
                        max_length=1,
                    ),
                ),
                ("slot", models.IntegerField()),
                ("count", models.IntegerField(default=0)),
            ],
            options={
                "db_table": "insights_counts",
                "constraints": [
                    models.UniqueConstraint(fields=("kind", "day", "slot"), name="insights_count_unique")
                ],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.RunPython(create_postgres_indexes, drop_postgres_indexes),
    ]
