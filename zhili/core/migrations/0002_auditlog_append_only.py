"""The audit log is append-only at the database level too: UPDATE and DELETE are refused."""

from django.db import migrations


def install(apps, schema_editor):
    from zhili.core import dbguard

    dbguard.install(schema_editor.connection)


def remove(apps, schema_editor):
    from zhili.core import dbguard

    dbguard.remove(schema_editor.connection)


def create_head(apps, schema_editor):
    head = apps.get_model("core", "AuditChainHead")
    head.objects.get_or_create(pk=1, defaults={"seq": 0, "hash": "0" * 64})


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.RunPython(install, remove),
        migrations.RunPython(create_head, migrations.RunPython.noop),
    ]
