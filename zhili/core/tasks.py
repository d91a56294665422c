"""Platform housekeeping run by the scheduler."""

import datetime as dt

from django.utils import timezone
from django_tasks import task

from zhili.core.scheduler import cron, sweep_stuck


@cron("sweep-stuck-tasks", "* * * * *")
@task()
def sweep_stuck_tasks() -> dict:
    return sweep_stuck()


@cron("prune-old-runs", "17 3 * * *")
@task()
def prune_old_runs() -> int:
    """Scheduler slots and finished task results older than 30 days are not needed."""
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from zhili.core.models import ScheduledRun

    cutoff = timezone.now() - dt.timedelta(days=30)
    removed, _ = ScheduledRun.objects.filter(slot__lt=cutoff).delete()
    done, _ = DBTaskResult.objects.filter(
        status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED],
        finished_at__lt=cutoff).delete()
    return removed + done
