"""Default event categories, time limits and escalation ladder (seeded by a migration;
administrators edit them afterwards)."""

# (group code, group name, [(code, name, urgency, keywords)])
CATEGORIES = [
    ("city", "城市管理", [
        ("street-vending", "占道经营", "normal", "占道 摆摊 流动摊贩 出店经营 夜市 占用人行道"),
        ("illegal-building", "违章搭建", "normal", "违建 违章 搭建 私搭乱建 加盖 彩钢棚"),
        ("clutter", "乱堆乱放", "normal", "乱堆 乱放 杂物 建筑垃圾 堆放"),
        ("illegal-ads", "违规广告", "normal", "小广告 牛皮癣 横幅 乱贴 乱涂"),
    ]),
    ("environment", "环境卫生", [
        ("garbage", "垃圾清运", "normal", "垃圾 垃圾桶 清运 满溢 卫生 脏乱"),
        ("sewage", "污水排放", "normal", "污水 排污 臭味 下水道 堵塞 外溢"),
        ("noise", "噪音扰民", "normal", "噪音 噪声 扰民 施工 广场舞 深夜 吵"),
        ("burning", "露天焚烧", "urgent", "焚烧 烧秸秆 烟 浓烟 烧垃圾"),
    ]),
    ("facilities", "公共设施", [
        ("road-damage", "道路破损", "normal", "路面 破损 坑洼 塌陷 道路 裂缝"),
        ("manhole", "井盖缺失", "critical", "井盖 窨井 缺失 破损 下陷"),
        ("street-light", "路灯损坏", "normal", "路灯 不亮 灯杆 照明"),
        ("utilities", "水电气故障", "urgent", "停水 停电 漏水 水管 爆管 电线"),
    ]),
    ("safety", "安全隐患", [
        ("fire-hazard", "消防隐患", "urgent", "消防 楼道 堆物 消防通道 堵塞 灭火器 飞线"),
        ("ebike-charging", "电动车违规充电", "urgent", "电动车 充电 飞线 楼道充电 电瓶"),
        ("gas-hazard", "燃气隐患", "critical", "燃气 煤气 液化气 泄漏 气味"),
        ("dangerous-building", "危房危墙", "critical", "危房 危墙 倒塌 开裂 坍塌"),
    ]),
    ("order", "社会治安", [
        ("group-rental", "群租房", "normal", "群租 出租房 隔断 人员复杂 租户"),
        ("public-order", "治安隐患", "urgent", "可疑 打架 斗殴 偷盗 治安 聚集"),
    ]),
    ("dispute", "矛盾纠纷", [
        ("neighbour-dispute", "邻里纠纷", "normal", "邻居 邻里 纠纷 争吵 漏水 占用"),
        ("family-dispute", "婚姻家庭纠纷", "normal", "家庭 婚姻 赡养 离婚 夫妻"),
        ("labour-dispute", "劳资纠纷", "urgent", "工资 欠薪 讨薪 拖欠 农民工 劳资"),
        ("property-dispute", "物业纠纷", "normal", "物业 物业费 小区 业主 电梯 停车"),
    ]),
    ("service", "民生服务", [
        ("assistance", "困难帮扶", "normal", "困难 帮扶 救助 低保 独居 老人 残疾"),
        ("consultation", "政策咨询", "normal", "咨询 政策 办理 证明 医保 社保"),
    ]),
]

# (step, amount, unit) defaults, then overrides by urgency for the handling step.
DEFAULT_LIMITS = [
    ("accept", 30, "minutes"), ("dispatch", 1, "work_hours"), ("sign", 2, "work_hours"),
    ("handle", 3, "work_days"), ("arbitrate", 1, "work_hours"), ("verify", 1, "work_days"),
    ("close", 1, "work_hours"),
]
URGENCY_LIMITS = [
    ("urgent", "accept", 15, "minutes"), ("urgent", "sign", 1, "work_hours"),
    ("urgent", "handle", 1, "work_days"),
    ("critical", "accept", 10, "minutes"), ("critical", "dispatch", 15, "minutes"),
    ("critical", "sign", 30, "minutes"), ("critical", "handle", 4, "work_hours"),
    ("critical", "verify", 2, "work_hours"),
]
# (level, minutes after the deadline, action)
LADDER = [(1, 0, "notify_supervisor"), (2, 240, "supervise"), (3, 1440, "notify_holder")]


def seed(category_model, sla_model, ladder_model) -> None:
    """Idempotent: adds what is missing, never overwrites an administrator's edits."""
    order = 0
    for group_code, group_name, children in CATEGORIES:
        group, _ = category_model.objects.get_or_create(
            code=group_code, defaults={"name": group_name, "sort": order, "is_public": False})
        for code, name, urgency, keywords in children:
            order += 1
            category_model.objects.get_or_create(code=code, defaults={
                "name": name, "parent": group, "default_urgency": urgency,
                "keywords": keywords, "sort": order})
    for step, amount, unit in DEFAULT_LIMITS:
        sla_model.objects.get_or_create(category=None, urgency="", step=step,
                                        defaults={"amount": amount, "unit": unit})
    for urgency, step, amount, unit in URGENCY_LIMITS:
        sla_model.objects.get_or_create(category=None, urgency=urgency, step=step,
                                        defaults={"amount": amount, "unit": unit})
    for level, minutes, action in LADDER:
        ladder_model.objects.get_or_create(workflow="events.event", level=level,
                                           defaults={"after_minutes": minutes,
                                                     "action": action})
