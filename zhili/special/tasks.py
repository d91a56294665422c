from django_tasks import task

from zhili.core.scheduler import cron


@cron("special-sweep", "* * * * *")
@task()
def sweep_deadlines() -> dict:
    """Warn before visits and handover answers are due, mark them overdue, escalate."""
    from zhili.special.deadlines import sweep_all

    return sweep_all()
