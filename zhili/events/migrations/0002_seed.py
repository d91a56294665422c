from django.db import migrations


def seed(apps, schema_editor):
    from zhili.events.seed import seed as run

    run(apps.get_model("events", "EventCategory"), apps.get_model("events", "SLARule"),
        apps.get_model("core", "EscalationStep"))


class Migration(migrations.Migration):
    dependencies = [("events", "0001_initial"), ("core", "0003_escalationstep_notification")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
