"""The six built-in categories of 回归工程 with their GB/T 31000 fields (seeded by a migration).

Each field definition is a dict: `name` (key in `Supervision.details`), `label`, `type` (text,
date, bool, int, choice, multichoice), `required`, and for codes either `table` (a GB/T 31000
code table in `codetables`) or `choices` ({code: label}, for local fields). `gbt` is the field's
number in its GB/T 31000 table (fields 1–19 are the common person block, kept on `Person`);
`past` refuses dates after today; `not_before` names a date field this one cannot precede.

Deliberately not in `details`:
- the standard's contact people (guardian 监护人, controller 管控人, helper 帮扶人: name, ID
  number, phone, address) are members of the helper team (`HelperMember`), whose ID number,
  phone and address are encrypted at rest — a JSON column would keep them in plain text;
- T19 field 30 目前危险性评估等级 (5.32) is `Supervision.risk_level` (risk scale "danger"),
  changed only with a reason and logged.
"""

from __future__ import annotations

from zhili.special.choices import HelperRole, ManagementLevel, RiskScale


def f(name, label, type_, *, required=False, gbt=None, **extra) -> dict:
    field = {"name": name, "label": label, "type": type_, "required": required}
    if gbt is not None:
        field["gbt"] = gbt
    field.update(extra)
    return field


T, D, B, I, C, M = "text", "date", "bool", "int", "choice", "multichoice"  # noqa: E741

# T19 肇事肇祸等严重精神障碍患者 (fields 22–24 guardian → helper team; 30 → risk level).
MENTAL = [
    f("family_economy", "家庭经济状况", C, required=True, gbt=20, table="5.30"),
    f("on_subsistence", "是否纳入低保", B, required=True, gbt=21),
    f("first_onset_on", "初次发病日期", D, gbt=25, past=True),
    f("diagnosis", "目前诊断类型", C, required=True, gbt=26, table="5.31"),
    f("has_incidents", "有无肇事肇祸史", B, required=True, gbt=27),
    f("incident_count", "肇事肇祸次数", I, gbt=28, max=999),
    f("last_incident_on", "上次肇事肇祸日期", D, gbt=29, past=True),
    f("treatment", "治疗情况", C, required=True, gbt=31, table="5.33"),
    f("hospital", "治疗医院名称", T, gbt=32, max_length=100),
    f("hospitalisation_reasons", "实施住院治疗原因", M, gbt=33, table="5.34"),
    f("rehab_org", "接收康复训练机构名称", T, gbt=34, max_length=100),
    f("managers", "参与管理人员", M, gbt=35, table="5.35"),
    f("assistance", "帮扶情况", M, gbt=36, table="5.36"),
]

# T22 重点青少年 (22–26 guardian and 29–30 helper → helper team).
YOUTH = [
    f("youth_type", "人员类型", C, required=True, gbt=20, table="5.41"),
    f("family", "家庭情况", C, required=True, gbt=21, table="5.42"),
    f("offended", "是否违法犯罪", B, required=True, gbt=27),
    f("offence", "违法犯罪情况", T, gbt=28, max_length=1024),
    f("help_means", "帮扶手段", C, required=True, gbt=31, table="5.43"),
    f("help", "帮扶情况", T, gbt=32, max_length=1024),
]

# T20 吸毒人员 (22–23 controller and 25–26 helper → helper team). 29/30 are GA 332.2/332.4
# codes, not transcribed: kept as text. The rehabilitation term (禁毒法 第三十三条, 第四十八条:
# community rehabilitation up to three years) is a local addition (no `gbt`).
DRUG = [
    f("first_found_on", "初次发现日期", D, required=True, gbt=20, past=True),
    f("control", "管控情况", C, required=True, gbt=21, table="5.37"),
    f("help", "帮扶情况", T, gbt=24, max_length=1024),
    f("has_crime_record", "有无犯罪史", B, gbt=27),
    f("crime", "犯罪情况", T, gbt=28, max_length=1024),
    f("cause", "吸毒原因", T, gbt=29, max_length=20),
    f("consequence", "吸毒后果", T, gbt=30, max_length=20),
    f("rehab_kind", "戒毒康复类型", C, choices={"01": "社区戒毒", "02": "社区康复",
                                            "03": "社会面戒断"}),
    f("rehab_start", "戒毒康复开始日期", D),
    f("rehab_end", "戒毒康复结束日期", D, not_before="rehab_start"),
]

# T17 刑满释放人员. 28/29 are marked required in the standard, but a person not yet placed
# has neither — field 30 (未安置原因) says why — so they are optional here.
RELEASED = [
    f("recidivist", "是否累犯", B, required=True, gbt=20),
    f("original_crime", "原罪名", C, required=True, gbt=21, table="5.20"),
    f("sentence", "原判刑期", T, required=True, gbt=22, max_length=50),
    f("prison", "服刑场所", T, required=True, gbt=23, max_length=100),
    f("released_on", "释放日期", D, required=True, gbt=24, past=True),
    f("risk_type", "危险性评估类型", C, required=True, gbt=25, table="5.21"),
    f("linked_on", "衔接日期", D, required=True, gbt=26, not_before="released_on"),
    f("linkage", "衔接情况", C, required=True, gbt=27, table="5.22"),
    f("placed_on", "安置日期", D, gbt=28, not_before="released_on"),
    f("placement", "安置情况", C, gbt=29, table="5.23"),
    f("not_placed_reason", "未安置原因", T, gbt=30, max_length=1024),
    f("help", "帮教情况", T, gbt=31, max_length=1024),
    f("reoffended", "是否重新犯罪", B, required=True, gbt=32),
    f("reoffence", "重新犯罪罪名", T, gbt=33, max_length=100),
]

# T18 社区矫正人员.
CORRECTION = [
    f("correction_no", "社区矫正人员编号", T, required=True, gbt=20, max_length=16),
    f("detention_place", "原羁押场所", T, gbt=21, max_length=100),
    f("correction_type", "矫正类别", C, required=True, gbt=22, table="5.24"),
    f("case_category", "案件类别", T, required=True, gbt=23, max_length=6,
      help="GA 240.1"),
    f("crime", "具体罪名", T, required=True, gbt=24, max_length=100),
    f("sentence", "原判刑期", T, gbt=25, max_length=50),
    f("sentence_start", "原判刑开始日期", D, gbt=26),
    f("sentence_end", "原判刑结束日期", D, gbt=27, not_before="sentence_start"),
    f("correction_start", "矫正开始日期", D, required=True, gbt=28),
    f("correction_end", "矫正结束日期", D, required=True, gbt=29, not_before="correction_start"),
    f("reception", "接收方式", C, required=True, gbt=30, table="5.25"),
    f("four_histories", "“四史”情况", M, gbt=31, table="5.26"),
    f("habitual", "是否累惯犯", B, gbt=32),
    f("three_involvements", "“三涉”情况", M, gbt=33, table="5.27"),
    f("has_team", "是否建立矫正小组", B, required=True, gbt=34),
    f("team_makeup", "矫正小组人员组成情况", M, gbt=35, table="5.28"),
    f("termination", "矫正解除(终止)类型", C, gbt=36, table="5.29"),
    f("absconded", "是否有脱管", B, required=True, gbt=37),
    f("abscond_reason", "脱管原因", T, gbt=38, max_length=1024),
    f("abscond_oversight", "检察监督脱管情况", T, gbt=39, max_length=1024),
    f("abscond_correction", "脱管纠正情况", T, gbt=40, max_length=1024),
    f("unmanaged", "是否有漏管", B, required=True, gbt=41),
    f("unmanaged_reason", "漏管原因", T, gbt=42, max_length=1024),
    f("unmanaged_oversight", "检察监督漏管情况", T, gbt=43, max_length=1024),
    f("unmanaged_correction", "漏管纠正情况", T, gbt=44, max_length=1024),
    f("rewards", "奖惩情况", T, gbt=45, max_length=1024),
    f("penalty_changes", "刑罚变更执行情况", T, gbt=46, max_length=1024),
    f("reoffended", "是否重新犯罪", B, required=True, gbt=47),
    f("reoffence", "重新犯罪名称", T, gbt=48, max_length=100),
]

# 邪教人员: not a GB/T 31000 class (Nantong's 回归工程 lists it; the standard's "X" local
# extension). A local field set modelled on what grid systems record: which organisation, how
# deeply involved, the education-and-transformation (教育转化) status and the help given.
CULT = [
    f("organisation", "涉及组织", T, required=True, max_length=100),
    f("involvement", "涉入程度", C, required=True,
      choices={"01": "骨干", "02": "一般参与", "03": "受蒙蔽参与"}),
    f("involved_since", "涉入时间", D, past=True),
    f("transformation", "转化情况", C, required=True,
      choices={"01": "已转化", "02": "转化中", "03": "未转化", "04": "转化后反复"}),
    f("transformed_on", "转化日期", D, past=True, not_before="involved_since"),
    f("measures", "教育转化措施", T, max_length=1024),
    f("help", "帮扶情况", T, max_length=1024),
]

S, K, G = ManagementLevel.STRICT, ManagementLevel.KEY, ManagementLevel.GENERAL
FOUR_ONES = [HelperRole.DOCTOR, HelperRole.GUARDIAN, HelperRole.CADRE, HelperRole.POLICE]

# code → (name, GB/T 31000 table, risk scale, {level: days between visits}, team roles, fields)
CATEGORIES = {
    "mental": ("严重精神障碍患者", "T19", RiskScale.DANGER, {S: 7, K: 14, G: 30},
               [str(r) for r in FOUR_ONES], MENTAL),
    "youth": ("重点青少年", "T22", RiskScale.HML, {S: 15, K: 30, G: 60},
              [str(HelperRole.GUARDIAN)], YOUTH),
    "drug": ("社区戒毒/吸毒人员", "T20", RiskScale.HML, {S: 7, K: 15, G: 30},
             [str(HelperRole.CONTROLLER)], DRUG),
    "released": ("刑满释放人员", "T17", RiskScale.HML, {S: 15, K: 30, G: 90}, [], RELEASED),
    "correction": ("社区矫正人员", "T18", RiskScale.HML, {S: 7, K: 15, G: 30},
                   [str(HelperRole.JUDICIAL)], CORRECTION),
    "cult": ("邪教人员", "", RiskScale.HML, {S: 15, K: 30, G: 90}, [], CULT),
}


def seed(SpecialCategory, EscalationStep) -> None:  # noqa: N803 (historical models)
    """Create the six categories and the escalation ladders (idempotent)."""
    for order, (code, (name, table, scale, days, roles, fields)) in enumerate(
            CATEGORIES.items(), start=1):
        SpecialCategory.objects.update_or_create(
            code=code, defaults={"name": name, "builtin": True, "gbt_table": table,
                                 "risk_scale": str(scale),
                                 "visit_days": {str(k): v for k, v in days.items()},
                                 "team_roles": roles, "field_definitions": fields,
                                 "sort": order * 10})
    for workflow, ladder in LADDERS.items():
        for level, minutes, action in ladder:
            EscalationStep.objects.get_or_create(
                workflow=workflow, level=level,
                defaults={"after_minutes": minutes, "action": action})


# (level, minutes after the deadline, action). An overdue visit: the town centre at once, the
# county three days later, the visitors again after a week. An unanswered handover: remind the
# receiving side, then the common upper level a working day later.
LADDERS = {
    "special.supervision": [(1, 0, "notify_supervisor"), (2, 3 * 1440, "supervise"),
                            (3, 7 * 1440, "notify_holder")],
    "special.handover": [(1, 0, "notify_holder"), (2, 1440, "supervise")],
}
