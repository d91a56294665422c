from django_tasks import task

from zhili.core.scheduler import cron


@cron("disputes-sweep", "* * * * *")
@task()
def sweep_deadlines() -> dict:
    """Warn before deadlines, mark overdue (with an alert), climb the escalation ladder."""
    from zhili.disputes.deadlines import sweep_all

    return sweep_all()


@cron("disputes-rollup", "*/2 * * * *")
@task()
def rebuild_statistics() -> int:
    from zhili.disputes.stats import rebuild_dirty

    return rebuild_dirty()
