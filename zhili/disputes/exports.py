"""The monthly dispute report (大调解月报) as an Excel workbook, built by a background job from
the same figures as the statistics page: scoped to the user who asked for it, watermarked with
who exported it and when, and audited. Aggregates only: no personal data."""

from __future__ import annotations

import datetime as dt
import tempfile

from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.core import audit
from zhili.core.jobs import job_handler, save_output
from zhili.disputes import stats

KIND = "disputes.stats_export"
# Sheet names and headers are the report's own wording (exchanged as printed), like the
# events export's headers.
SUMMARY_HEADERS = ["区域", "区域代码", "受理案件", "办结案件", "调解成功率(%)", "按期办结率(%)",
                   "平均办结天数", "司法确认申请", "司法确认有效", "涉及金额(元)", "群体性纠纷"]
KEY_HEADERS = ["受理案件", "办结案件", "调解成功", "调解成功率(%)", "按期办结率(%)", "平均办结天数",
               "司法确认申请", "涉及金额(元)"]
TOTAL = "合计"


def _number(value):
    """Cells hold numbers (Excel sums them); an undefined rate stays empty."""
    return None if value is None else float(value)


def _summary_row(name, code, r) -> list:
    return [name, code, r["cases"], r["concluded"], _number(r["success_rate"]),
            _number(r["on_time_rate"]), _number(r["avg_days"]), r["confirmations"],
            r["confirmed_valid"], _number(r["amount"]), r["group"]]


def _key_row(name, r) -> list:
    return [name, r["cases"], r["concluded"], r["success"], _number(r["success_rate"]),
            _number(r["on_time_rate"]), _number(r["avg_days"]), r["confirmations"],
            _number(r["amount"])]


def sheets(figures: dict) -> list[tuple[str, list[str], list[list]]]:
    """(sheet name, headers, rows) of the report, from `stats.summary` figures."""
    totals = figures["totals"]
    return [
        ("汇总", SUMMARY_HEADERS,
         [*(_summary_row(r["name"], r["p"], r) for r in figures["by_area"]),
          _summary_row(TOTAL, "", totals)]),
        ("按类型", ["纠纷类型", *KEY_HEADERS],
         [*(_key_row(r["name"], r) for r in figures["by_type"]), _key_row(TOTAL, totals)]),
        ("按渠道", ["受理渠道", *KEY_HEADERS],
         [*(_key_row(r["name"], r) for r in figures["by_channel"]), _key_row(TOTAL, totals)]),
        ("按调解组织", ["调解组织", *KEY_HEADERS],
         [_key_row(r["name"], r) for r in figures["by_body"]]),
    ]


def write_report(out, title: str, parts, footer: str, progress=None) -> None:
    """Write the workbook to the binary file `out`. constant_memory flushes each row to a
    temporary file as it is written (xlsxwriter turns that off in its in-memory mode, so the
    workbook is written to a file, not to a buffer)."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(out, {"constant_memory": True,
                                         "strings_to_numbers": False,
                                         "tmpdir": tempfile.gettempdir()})
    bold = workbook.add_format({"bold": True})
    text = workbook.add_format({"num_format": "@"})
    for name, headers, rows in parts:
        sheet = workbook.add_worksheet(name)
        sheet.write_string(0, 0, title, bold)
        for col, header in enumerate(headers):
            sheet.write_string(1, col, header, bold)
        sheet.freeze_panes(2, 1)
        sheet.set_column(0, 0, 24)
        sheet.set_column(1, len(headers) - 1, 12)
        row_index = 1
        for row_index, row in enumerate(rows, start=2):
            for col, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, int | float) and not isinstance(value, bool):
                    sheet.write_number(row_index, col, value)
                else:
                    # Area codes are text: keep their leading zeros.
                    sheet.write_string(row_index, col, str(value), text)
            if progress is not None:
                progress.advance()
        sheet.write_string(row_index + 2, 0, footer)
    workbook.close()


def month_label(month: dt.date) -> str:
    return f"{month:%Y-%m}"


@job_handler(KIND)
def run_report(job, progress) -> dict:
    actor = job.created_by
    month = dt.date.fromisoformat(f"{job.params['month']}-01")
    root = stats.root_area(actor, job.params.get("area") or None)
    if root is None:
        raise ValueError(_("The area of the report is outside your area of responsibility."))
    figures = stats.summary(actor, months=(month, month), area_prefix=root.prefix, limit=None)
    parts = sheets(figures)
    progress.total(sum(len(rows) for _name, _headers, rows in parts))
    stamp = timezone.localtime()
    title = _("%(area)s dispute mediation report, %(month)s") % {
        "area": root.name, "month": month_label(month)}
    footer = _("Exported by %(user)s at %(time)s; figures as of %(as_of)s.") % {
        "user": actor.username, "time": stamp.strftime("%Y-%m-%d %H:%M"),
        "as_of": timezone.localtime(figures["as_of"]).strftime("%Y-%m-%d %H:%M")
        if figures["as_of"] else "—"}
    with tempfile.TemporaryFile() as out:
        write_report(out, title, parts, footer, progress)
        out.seek(0)
        content = out.read()
    filename = f"disputes-{month:%Y%m}-{root.prefix}-{stamp:%Y%m%d-%H%M}.xlsx"
    save_output(job, filename, content)
    totals = figures["totals"]
    audit.record(actor=actor, action="dispute.stats_export", area_code=root.code,
                 changes={"month": month_label(month), "area": root.code, "file": filename,
                          "cases": totals["cases"]})
    return {"cases": totals["cases"], "areas": len(figures["by_area"])}
