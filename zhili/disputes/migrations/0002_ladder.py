from django.db import migrations

# (level, minutes after the deadline, action): tell the routing centre at once, the upper
# level's 督办 a day later.
LADDER = [(1, 0, "notify_supervisor"), (2, 1440, "supervise")]


def seed(apps, schema_editor):
    step = apps.get_model("core", "EscalationStep")
    for level, minutes, action in LADDER:
        step.objects.get_or_create(workflow="disputes.dispute", level=level,
                                   defaults={"after_minutes": minutes, "action": action})


class Migration(migrations.Migration):
    dependencies = [("disputes", "0001_initial"), ("core", "0004_unmaskgrant")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
