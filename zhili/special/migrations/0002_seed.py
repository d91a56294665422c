from django.db import migrations


def seed(apps, schema_editor):
    from zhili.special.builtin import seed as run

    run(apps.get_model("special", "SpecialCategory"), apps.get_model("core", "EscalationStep"))


class Migration(migrations.Migration):
    dependencies = [("special", "0001_initial"), ("core", "0003_escalationstep_notification")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
