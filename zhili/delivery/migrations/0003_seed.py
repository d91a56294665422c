from django.db import migrations


def seed(apps, schema_editor):
    from zhili.delivery.codetables import PROHIBITED_SEED

    term = apps.get_model("delivery", "ProhibitedTerm")
    for category, words in PROHIBITED_SEED:
        for word in words:
            term.objects.get_or_create(term=word, defaults={"category": category})
    step = apps.get_model("core", "EscalationStep")
    # An unanswered rectification order: remind the outlet at once, tell the regulator's
    # superior a day later.
    for level, minutes, action in [(1, 0, "notify_holder"), (2, 1440, "notify_supervisor")]:
        step.objects.get_or_create(workflow="delivery.rectificationorder", level=level,
                                   defaults={"after_minutes": minutes, "action": action})


class Migration(migrations.Migration):
    dependencies = [("delivery", "0002_partitions"), ("core", "0004_unmaskgrant")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
