import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    """Message.created_at: auto_now_add -> default=timezone.now (chosen before the INSERT).

    Nothing changes in the database (Django's defaults live in Python), so this is a
    state-only change: SQLite would otherwise rebuild the whole messages table for it.
    """

    dependencies = [
        ("chat", "0002_message_thread_time_id_idx"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="message",
                    name="created_at",
                    field=models.DateTimeField(default=django.utils.timezone.now),
                ),
            ],
            database_operations=[],
        ),
    ]
