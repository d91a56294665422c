"""Excel export of an event list, as a background job: scoped to the exporter, personal data
masked, watermarked with who exported it and when, and audited."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.core import audit, tabular
from zhili.core.jobs import job_handler, save_output
from zhili.core.pii import mask_name, mask_phone
from zhili.events.filters import EventFilter
from zhili.events.models import Event

HEADERS = ["编号", "标题", "类别", "状态", "紧急程度", "渠道", "区域", "区域代码", "地址",
           "上报时间", "当前期限", "是否超期", "主办单位", "结案时间", "满意度", "上报人",
           "联系方式"]


def _rows(queryset, progress):
    local = timezone.localtime
    for e in queryset.select_related("category", "area", "lead_org").iterator(chunk_size=2000):
        progress.advance()
        yield [
            e.number, e.title, e.category.name, e.get_state_display(), e.get_urgency_display(),
            e.get_channel_display(), e.area.name, e.area_code.rstrip("0"), e.address,
            local(e.reported_at).strftime("%Y-%m-%d %H:%M"),
            local(e.deadline_at).strftime("%Y-%m-%d %H:%M") if e.deadline_at else "",
            "是" if e.ever_overdue else "否", e.lead_org.name if e.lead_org else "",
            local(e.closed_at).strftime("%Y-%m-%d %H:%M") if e.closed_at else "",
            e.get_satisfaction_display(), mask_name(e.reporter_name),
            mask_phone(e.reporter_contact or ""),
        ]


@job_handler("events.export")
def run_export(job, progress) -> dict:
    actor = job.created_by
    queryset = EventFilter(job.params.get("filters") or {}).apply(
        Event.objects.restrict(actor, "export"), actor)
    total = queryset.count()
    progress.total(total)
    stamp = timezone.localtime()
    footer = _("Exported by %(user)s at %(time)s — personal data masked; do not forward.") % {
        "user": actor.username, "time": stamp.strftime("%Y-%m-%d %H:%M")}
    content = tabular.write_xlsx(HEADERS, _rows(queryset, progress), sheet="events",
                                 footer=footer)
    filename = f"events-{stamp:%Y%m%d-%H%M}.xlsx"
    save_output(job, filename, content)
    audit.record(actor=actor, action="event.export",
                 changes={"rows": total, "filters": job.params.get("filters") or {},
                          "file": filename})
    return {"rows": total}
