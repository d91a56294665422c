"""Seed the calendar with every year the chinese_calendar package knows (2004–2026 in 1.11.0).
Later years: upgrade the package and run `zhili manage seed_workdays`, or enter them by hand."""

from django.db import migrations


def seed(apps, schema_editor):
    from zhili.workdays.seeding import seed

    seed(model=apps.get_model("workdays", "CalendarDay"), using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("workdays", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
