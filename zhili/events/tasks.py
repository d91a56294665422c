from django_tasks import task

from zhili.core.scheduler import cron


@task()
def announce_report(event_id: int) -> None:
    from zhili.events.models import Event
    from zhili.events.services import announce_report as announce

    event = Event.objects.filter(pk=event_id).select_related("area", "category").first()
    if event is not None:
        announce(event)


@cron("events-sweep", "* * * * *")
@task()
def sweep_deadlines() -> dict:
    """Warn before deadlines, mark overdue, climb the escalation ladder."""
    from zhili.events.deadlines import sweep_all

    return sweep_all()


@cron("events-rollup", "*/2 * * * *")
@task()
def rebuild_statistics() -> int:
    from zhili.events.stats import rebuild_dirty

    return rebuild_dirty()


@cron("events-learn", "*/10 * * * *")
@task()
def learn_categories() -> int:
    """Fold the dispatchers' latest category confirmations into the suggestions."""
    from zhili.events.suggest import train

    return train()


@cron("events-retrain", "40 2 * * *")
@task()
def retrain_categories() -> int:
    from zhili.events.suggest import train

    return train(full=True)
