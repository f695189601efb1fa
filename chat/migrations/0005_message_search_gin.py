"""Full-text search over every message on PostgreSQL: a GIN index on the folded text.

chat/selectors.py searches with to_tsvector('simple', search_text), the same expression,
so the planner uses this index (built from the same expression). SQLite has no GIN: there the search is a LIKE (nothing
to create here).
"""

from django.db import migrations

INDEX = "message_search_gin_idx"


def search_index():
    """The index on exactly the expression chat/selectors.py searches with."""
    from django.contrib.postgres.indexes import GinIndex
    from django.contrib.postgres.search import SearchVector

    return GinIndex(SearchVector("search_text", config="simple"), name=INDEX)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.add_index(apps.get_model("chat", "Message"), search_index())


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("chat", "0004_reading")]

    operations = [migrations.RunPython(create_index, drop_index)]
