"""The statistics rollup becomes monthly and narrow (one table per breakdown). Its rows are
rebuilt from the events: the old daily rows are dropped and every month is marked stale."""

from django.db import migrations, models


def mark_all_months(apps, schema_editor):
    Event = apps.get_model("events", "Event")
    Dirty = apps.get_model("events", "EventStatDirty")
    months = {d.replace(day=1) for d in Event.objects.dates("reported_at", "month")}
    Dirty.objects.bulk_create([Dirty(month=m) for m in months], ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("events", "0003_event_list_indexes")]

    operations = [
        migrations.DeleteModel(name="EventStat"),
        migrations.DeleteModel(name="EventStatDirty"),
        migrations.CreateModel(
            name="EventStatDirty",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True,
                                           serialize=False, verbose_name="ID")),
                ("month", models.DateField(unique=True)),
            ],
        ),
        migrations.CreateModel(
            name="EventStat",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True,
                                           serialize=False, verbose_name="ID")),
                ("month", models.DateField()),
                ("area_code", models.CharField(max_length=15)),
                ("dim", models.CharField(choices=[("area", "Area"), ("category", "Category"),
                                                  ("channel", "Channel"),
                                                  ("org", "Lead organisation"),
                                                  ("step", "Step")],
                                         max_length=8)),
                ("key", models.CharField(blank=True, max_length=40)),
                ("reported", models.PositiveIntegerField(default=0)),
                ("closed", models.PositiveIntegerField(default=0)),
                ("closed_on_time", models.PositiveIntegerField(default=0)),
                ("overdue", models.PositiveIntegerField(default=0)),
                ("returned", models.PositiveIntegerField(default=0)),
                ("reopened", models.PositiveIntegerField(default=0)),
                ("solved_on_spot", models.PositiveIntegerField(default=0)),
                ("evaluated", models.PositiveIntegerField(default=0)),
                ("satisfied", models.PositiveIntegerField(default=0)),
                ("close_seconds", models.BigIntegerField(default=0)),
            ],
            options={
                "indexes": [models.Index(fields=["dim", "area_code", "month"],
                                         name="events_even_dim_5ff6bb_idx"),
                            models.Index(fields=["month"], name="events_even_month_f70a31_idx")],
            },
        ),
        migrations.RunPython(mark_all_months, migrations.RunPython.noop),
    ]
