"""A few gauges for Prometheus, computed on request from the database (cheap grouped counts).

Per-process request counters are deliberately absent: with several gunicorn workers they would
be wrong without a multiprocess registry; the access log and nginx cover request rates.
"""

from __future__ import annotations

from django.db.models import Count


def _lines(name: str, help_text: str, samples: list[tuple[dict, float]]) -> list[str]:
    out = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    for labels, value in samples:
        label = ",".join(f'{k}="{v}"' for k, v in labels.items())
        out.append(f"{name}{{{label}}} {value}" if label else f"{name} {value}")
    return out


def render() -> str:
    from django_tasks_db.models import DBTaskResult

    from zhili.accounts.models import User
    from zhili.areas.choices import AreaLevel
    from zhili.areas.models import Area
    from zhili.core.models import AuditChainHead, Job

    areas = dict(Area.objects.active().values_list("level").annotate(n=Count("id")).order_by())
    jobs = dict(Job.objects.values_list("status").annotate(n=Count("id")).order_by())
    tasks = dict(DBTaskResult.objects.values_list("status").annotate(n=Count("id")).order_by())
    head = AuditChainHead.objects.filter(pk=1).first()
    lines = [
        *_lines("zhili_areas", "Active areas by level.",
                [({"level": AreaLevel(k).name.lower()}, v) for k, v in sorted(areas.items())]),
        *_lines("zhili_users_active", "Active human user accounts.",
                [({}, User.objects.people().filter(is_active=True).count())]),
        *_lines("zhili_jobs", "Background jobs by status.",
                [({"status": k}, v) for k, v in sorted(jobs.items())]),
        *_lines("zhili_tasks", "Task queue entries by status.",
                [({"status": k}, v) for k, v in sorted(tasks.items())]),
        *_lines("zhili_audit_rows", "Rows in the audit chain.", [({}, head.seq if head else 0)]),
    ]
    return "\n".join(lines) + "\n"
