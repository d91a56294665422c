from django_tasks import task

from zhili.core.scheduler import cron


@cron("delivery-partitions", "17 3 * * *")
@task()
def ensure_partitions() -> int:
    """Create the coming months' partitions of the record tables (PostgreSQL)."""
    from zhili.delivery.partitions import ensure_partitions as ensure

    return ensure()


@cron("delivery-orders-sweep", "* * * * *")
@task()
def sweep_orders() -> dict:
    """Rectification orders: warn before the answer deadline, mark overdue (the outlet and its
    regulators are told), climb the escalation ladder."""
    from zhili.core.workflow import sweep
    from zhili.delivery.models import RectificationOrder

    return sweep(RectificationOrder)


@cron("delivery-reconcile", "*/15 * * * *")
@task()
def reconcile_recent_days() -> int:
    """Flags a concurrent batch could not see (parcels and their inspections or scans
    committed at the same moment), for the last three days; their rollups rebuilt."""
    import datetime as dt

    from django.utils import timezone

    from zhili.delivery.ingest import reconcile_days

    today = timezone.localdate()
    return reconcile_days(today - dt.timedelta(days=3), today)
