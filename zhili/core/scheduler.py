"""Cron jobs run exactly once per time slot, however many schedulers run.

Each due (job, slot) is claimed by inserting a `ScheduledRun` row; the unique constraint lets
exactly one scheduler win, and only the winner enqueues the task. Slots missed while no
scheduler ran are not replayed beyond the most recent one: jobs catch up by themselves (the
sweeps look at current state, not at the slot).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from cronsim import CronSim
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from zhili.core.models import Job, JobStatus, ScheduledRun

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CronJob:
    name: str
    schedule: str  # cron expression, in the server's time zone
    task: object  # a django_tasks Task


_jobs: dict[str, CronJob] = {}


def cron(name: str, schedule: str):
    """Register a django_tasks task to run on a cron schedule."""
    CronSim(schedule, timezone.now())  # refuse a bad expression at import time

    def decorator(task):
        _jobs[name] = CronJob(name, schedule, task)
        return task

    return decorator


def registered() -> list[CronJob]:
    return list(_jobs.values())


def latest_slot(schedule: str, now: dt.datetime, lookback: dt.timedelta) -> dt.datetime | None:
    """The most recent time ≤ now the schedule fires, within `lookback`."""
    local_now = timezone.localtime(now).replace(second=0, microsecond=0)
    start = local_now - lookback
    last = None
    for fire in CronSim(schedule, start):
        if fire > local_now:
            break
        last = fire
    return last


def tick(now: dt.datetime | None = None) -> list[str]:
    """Claim and enqueue every job whose latest slot has not run yet; returns job names."""
    now = now or timezone.now()
    started = []
    for job in registered():
        slot = latest_slot(job.schedule, now, dt.timedelta(hours=1))
        if slot is None:
            continue
        try:
            with transaction.atomic():
                run = ScheduledRun.objects.create(job=job.name, slot=slot)
                result = job.task.enqueue()
                run.task_result_id = str(result.id)
                run.save(update_fields=["task_result_id"])
        except IntegrityError:
            continue  # another scheduler claimed this slot
        started.append(job.name)
    return started


def sweep_stuck(now: dt.datetime | None = None) -> dict:
    """Recover from killed workers: tasks RUNNING for too long are retried (up to 3 attempts)
    or failed, and user-visible jobs they were running are marked interrupted."""
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    cutoff = now - dt.timedelta(minutes=settings.ZHILI_TASK_STUCK_MINUTES)
    retried = failed = 0
    for result in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING,
                                              started_at__lt=cutoff):
        if len(result.worker_ids or []) < 3:
            result.status = TaskResultStatus.READY
            result.run_after = now
            result.save(update_fields=["status", "run_after"])
            retried += 1
        else:
            result.status = TaskResultStatus.FAILED
            result.finished_at = now
            result.exception_class_path = "zhili.core.scheduler.LostWorker"
            result.traceback = "The worker stopped while running this task (3 attempts)."
            result.save(update_fields=["status", "finished_at", "exception_class_path",
                                       "traceback"])
            failed += 1
    jobs = Job.objects.filter(status=JobStatus.RUNNING, started_at__lt=cutoff).update(
        status=JobStatus.FAILED, finished_at=now,
        message="The job was interrupted (the worker stopped). Start it again.",
    )
    return {"retried": retried, "failed": failed, "jobs_interrupted": jobs}
