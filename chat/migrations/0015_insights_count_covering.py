"""Insights' roll-ups: covering indexes for the sums per day and per slot, and the
started counters keyed by weekday * 24 + hour (recounted)."""

from django.db import migrations, models


def recount(apps, schema_editor):
    from chat import rollups

    rollups.rebuild(apps.get_model("chat", "Thread"), apps.get_model("chat", "InsightsCount"))


class Migration(migrations.Migration):

    dependencies = [
        ('chat', '0014_insights_counts'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='insightscount',
            index=models.Index(fields=['kind', 'day', 'slot', 'count'], name='insights_count_day_idx'),
        ),
        migrations.AddIndex(
            model_name='insightscount',
            index=models.Index(fields=['kind', 'slot', 'day', 'count'], name='insights_count_slot_idx'),
        ),
        migrations.RunPython(recount, migrations.RunPython.noop),
    ]
