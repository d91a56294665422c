from django_tasks import task

from zhili.core.scheduler import cron


@cron("process-rezonings", "*/5 * * * *")  # catches up if an enqueue was lost
@task()
def process_rezonings() -> int:
    """Rewrite live rows for pending boundary changes (enqueued when a change commits)."""
    from zhili.areas.services import process_pending_rezonings

    return process_pending_rezonings()
