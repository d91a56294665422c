"""User-visible background jobs: a row with status and progress, run by the task worker.

A module registers a handler for a job kind; `start_job` stores the row and enqueues the run
when the transaction commits. The handler acts as the user who started the job, in the
position they were acting in, so scoping applies to jobs exactly as to requests.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from zhili.core.models import Job, JobStatus

logger = logging.getLogger(__name__)

_handlers: dict[str, Callable] = {}


def job_handler(kind: str):
    """Register `fn(job, progress)`; it returns a result dict (and may set output files)."""

    def decorator(fn):
        _handlers[kind] = fn
        return fn

    return decorator


def start_job(*, actor, kind: str, title: str, params: dict | None = None,
              input_name: str | None = None, input_data: bytes | None = None) -> Job:
    if kind not in _handlers:
        raise ValueError(f"no handler registered for job kind {kind!r}")
    position = actor.active_position
    params = {**(params or {}), "position_id": position.pk if position else None}
    job = Job(kind=kind, title=title, created_by=actor, params=params,
              area_code=position.area_code if position else "")
    if input_data is not None:
        job.input_file.save(input_name or "upload.bin", ContentFile(input_data), save=False)
    job.save()
    transaction.on_commit(lambda: run_job.enqueue(job.pk))
    return job


class Progress:
    """Updates the job row at most every half second, so progress costs little."""

    def __init__(self, job: Job):
        self.job = job
        self._last = 0.0

    def total(self, n: int) -> None:
        self.job.progress_total = n
        Job.objects.filter(pk=self.job.pk).update(progress_total=n)

    def advance(self, n: int = 1, *, force: bool = False) -> None:
        self.job.progress_done += n
        now = time.monotonic()
        if force or now - self._last > 0.5:
            self._last = now
            Job.objects.filter(pk=self.job.pk).update(progress_done=self.job.progress_done)


def save_output(job: Job, filename: str, data: bytes) -> None:
    job.output_file.save(filename, ContentFile(data), save=False)
    job.result = {**job.result, "filename": filename}


@task()
def run_job(job_id: int) -> str:
    # Claim with a conditional UPDATE: a redelivered task finds the job taken and stops.
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now())
    if not claimed:
        return "skipped"
    job = Job.objects.select_related("created_by").get(pk=job_id)
    actor = job.created_by
    if actor is not None:
        actor._chosen_position_id = job.params.get("position_id")
    try:
        result = _handlers[job.kind](job, Progress(job)) or {}
    except Exception as exc:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, message=str(message)[:2000],
                                             finished_at=timezone.now())
        return JobStatus.FAILED
    job.result = {**job.result, **result}
    job.status = JobStatus.SUCCEEDED
    job.finished_at = timezone.now()
    if job.progress_total:
        job.progress_done = job.progress_total
    job.save(update_fields=["result", "status", "finished_at", "progress_done", "output_file",
                            "message"])
    return JobStatus.SUCCEEDED
