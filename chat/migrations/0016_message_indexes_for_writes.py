"""Two fewer index entries to write for every visitor message (bench/README.md, tenth round).

- messages.thread_id had an index of its own beside message_thread_time_id_idx, which
  starts with the thread and serves every lookup by it: dropped.
- messages.agent_id is set only on agents' replies: its index keeps only those rows.

The state changes (db_index=False) are written as the index statements they stand for:
Django would rebuild the whole messages table on SQLite to drop an index.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_avatar_url_any_url"),
        ("chat", "0015_insights_count_covering"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="message",
                    name="agent",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="messages",
                        to="accounts.agent",
                    ),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="thread",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="messages",
                        to="chat.thread",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS messages_thread_id_637cedbf",
                    "CREATE INDEX messages_thread_id_637cedbf ON messages (thread_id)",
                ),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS messages_agent_id_e444671b",
                    "CREATE INDEX messages_agent_id_e444671b ON messages (agent_id)",
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(
                condition=models.Q(("agent__isnull", False)), fields=["agent"], name="message_agent_idx"
            ),
        ),
    ]
