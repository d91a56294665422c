import datetime as dt

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus

from zhili.core import scheduler
from zhili.core.models import Job, JobStatus, ScheduledRun


@pytest.mark.django_db
def test_each_slot_runs_once_however_many_schedulers_tick():
    now = timezone.make_aware(dt.datetime(2026, 11, 26, 10, 7, 30))
    first = scheduler.tick(now)
    assert "sweep-stuck-tasks" in first
    # A second scheduler (or the same one, a moment later) finds every slot claimed.
    assert scheduler.tick(now + dt.timedelta(seconds=5)) == []
    assert ScheduledRun.objects.filter(job="sweep-stuck-tasks").count() == 1
    later = scheduler.tick(now + dt.timedelta(minutes=1))
    assert "sweep-stuck-tasks" in later


def test_latest_slot_respects_the_schedule():
    now = timezone.make_aware(dt.datetime(2026, 11, 26, 10, 7, 30))
    slot = scheduler.latest_slot("*/5 * * * *", now, dt.timedelta(hours=1))
    assert slot.hour == 10 and slot.minute == 5


@pytest.mark.django_db(transaction=True)
def test_sweeper_retries_tasks_of_a_killed_worker_and_fails_them_after_three(settings):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from zhili.core.tasks import sweep_stuck_tasks

    result = sweep_stuck_tasks.using(backend="default").enqueue()
    old = timezone.now() - dt.timedelta(hours=2)
    DBTaskResult.objects.filter(pk=result.id).update(status=TaskResultStatus.RUNNING,
                                                     started_at=old, worker_ids=["w1"])
    job = Job.objects.create(kind="x", title="x", status=JobStatus.RUNNING, started_at=old)
    outcome = scheduler.sweep_stuck()
    assert outcome == {"retried": 1, "failed": 0, "jobs_interrupted": 1}
    assert DBTaskResult.objects.get(pk=result.id).status == TaskResultStatus.READY
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "interrupted" in job.message
    DBTaskResult.objects.filter(pk=result.id).update(status=TaskResultStatus.RUNNING,
                                                     started_at=old, worker_ids=["a", "b", "c"])
    assert scheduler.sweep_stuck()["failed"] == 1
