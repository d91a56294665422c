from django.db import migrations

UNIQUE = {
    "delivery_shipment": ("uniq_shipment", "company_id, waybill, day"),
    "delivery_inspection": ("uniq_inspection", "company_id, waybill, day"),
    "delivery_xrayscan": ("uniq_scan", "company_id, waybill, day, scanned_at"),
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from zhili.delivery.partitions import ensure_partitions, partition

    for table, unique in UNIQUE.items():
        partition(schema_editor, table, unique)
    ensure_partitions()


class Migration(migrations.Migration):
    dependencies = [("delivery", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
