"""Code tables of disputes: GB/T 31000-2015 tables 5.55–5.58 and the judicial-administration
statistics classes (司法行政 人民调解 statistics), with the mapping between the two.

Our own transcription (codes are facts). Names stay in Chinese as printed: they are the
codes' official wording, exchanged with other systems and typed by clerks as they are. The
5.56 and 5.58 tables have two levels: two digits for a group, four for an item.
"""

from __future__ import annotations

# 5.55 事件规模
SCALE = {"01": "个体性事件", "02": "一般群体性事件", "03": "重大群体性事件"}

# 5.56 事件类别 (纠纷类型). A case takes a four-digit item where one fits, else its group.
TYPES: dict[str, str] = {
    "01": "婚恋家庭纠纷", "0101": "恋爱及婚姻", "0102": "抚养赡养监护", "0103": "分家与继承",
    "0199": "其他婚恋家庭纠纷",
    "02": "邻里纠纷", "0201": "用水排水通行通风采光", "0202": "相邻土地建筑利用",
    "0203": "相邻污染损害防止", "0299": "其他邻里纠纷",
    "03": "人格权纠纷", "0301": "姓名肖像", "0302": "名誉隐私", "0303": "身体健康及人身自由",
    "0399": "其他人格权纠纷",
    "04": "物权相关纠纷", "0401": "财物返还及损害赔偿", "0402": "物业及其管理",
    "0403": "房屋等不动产登记", "0499": "其他物权相关纠纷",
    "05": "侵权相关纠纷", "0501": "教育机构", "0502": "医疗损害", "0503": "交通事故",
    "0504": "环境污染", "0505": "产品责任", "0506": "网络侵权", "0507": "劳务损害",
    "0599": "其他侵权相关纠纷",
    "06": "合同及相关纠纷", "0601": "消费及服务", "0602": "房产买卖租赁", "0603": "交易贸易",
    "0604": "运输仓储", "0699": "其他合同纠纷",
    "07": "劳动人事争议", "0701": "劳动合同、劳务派遣", "0702": "社会保险", "0703": "福利待遇",
    "0704": "人事争议", "0799": "其他劳动人事争议",
    "08": "金融借贷纠纷", "0801": "证券基金期货", "0802": "投资信托理财", "0803": "保险",
    "0804": "借贷及担保", "0899": "其他金融借贷纠纷",
    "09": "土地及资源权属纠纷", "0901": "土地承包经营", "0902": "宅基地使用", "0903": "山林矿产",
    "0904": "水域水利", "0999": "其他土地及资源权属纠纷",
    "10": "其他民商事纠纷", "1001": "知识产权", "1002": "公司企业设立解散", "1003": "海事海商",
    "1004": "竞争纠纷", "1005": "票据与信用证", "1006": "无因管理与不当得利",
    "1099": "其他民商事纠纷(其他)",
    "11": "城乡建设发展纠纷", "1101": "国有土地上房屋征收", "1102": "农村集体土地征用",
    "1103": "城乡规划及拆违", "1104": "基础设施建设及市政市容", "1105": "移民安置",
    "1199": "其他城乡建设发展纠纷",
    "12": "涉民政纠纷", "1201": "村(社区)选举和管理", "1202": "优抚救助", "1203": "区划边界",
    "1299": "其他涉民政纠纷",
    "13": "其他行政执法纠纷", "1301": "城市管理", "1302": "教育文体管理", "1303": "工商税务管理",
    "1304": "安全生产管理", "1305": "交通运输管理", "1306": "海事渔事管理",
    "1307": "计划生育管理", "1399": "其他行政执法纠纷(其他)",
    "14": "涉法涉诉纠纷", "1401": "涉公安", "1402": "涉检察院", "1403": "涉法院",
    "1404": "涉司法行政机关",
    "15": "涉组织涉纪检纠纷", "1501": "组织人事", "1502": "干部作风",
    "1599": "其他涉组织涉纪检纠纷",
    "16": "涉民族宗教纠纷", "1601": "涉民族问题", "1602": "涉宗教问题",
    "99": "其他纠纷",
}

# 5.57 主要当事人人员类别
PARTY_CLASSES = {
    "0101": "机关企事业单位从业人员", "0102": "农林牧渔从业人员", "0103": "个体或自由职业人员",
    "0104": "军人", "0105": "离退休人员", "0106": "学生", "0107": "无业人员", "0199": "其他人员",
    "0201": "涉企事业单位改制人员", "0202": "军队退役人员", "0203": "原民办、国企教师",
    "0204": "国有企业退休职工", "0205": "返城知青", "0206": "失独人员", "0207": "农村进城务工人员",
    "0299": "其他群体性诉求人员",
}

# 5.58 化解方式
METHODS = {
    "0101": "司法调解", "0102": "行政调解", "0103": "人民调解", "0104": "仲裁调解",
    "0105": "商事调解", "0106": "行业调解", "0107": "律师调解", "0199": "其他调解",
    "0201": "民商事仲裁", "0202": "农村土地承包经营纠纷仲裁", "0203": "劳动人事争议仲裁",
    "0204": "其他仲裁", "03": "行政复议", "04": "行政裁决", "05": "诉讼", "06": "协商和解",
}
PEOPLES_MEDIATION = "0103"

# The statistics classes of people's mediation reports (司法行政), kept as their own dimension.
STAT_CLASSES = {
    "marriage": "婚姻家庭纠纷", "neighbour": "邻里纠纷", "homestead": "房屋宅基地纠纷",
    "contract": "合同纠纷", "business": "生产经营纠纷", "damages": "损害赔偿纠纷",
    "land": "山林土地纠纷", "demolition": "征地拆迁纠纷", "environment": "环境污染纠纷",
    "labour": "劳动争议纠纷", "consumer": "消费纠纷", "medical": "医疗纠纷",
    "traffic": "道路交通事故纠纷", "property": "物业纠纷", "other": "其他纠纷",
}

# 5.56 code (item first, then its group) → statistics class.
_STAT_OF_TYPE = {
    "01": "marriage", "02": "neighbour", "03": "damages", "0401": "damages",
    "0402": "property", "0403": "homestead", "04": "other", "0501": "damages",
    "0502": "medical", "0503": "traffic", "0504": "environment", "0505": "consumer",
    "0506": "damages", "0507": "damages", "05": "damages", "0601": "consumer",
    "0602": "homestead", "06": "contract", "07": "labour", "08": "contract", "0902": "homestead",
    "09": "land", "10": "business", "1101": "demolition", "1102": "demolition",
    "1103": "demolition", "1105": "demolition",
}


def stat_class_of(type_code: str) -> str:
    """The statistics class a 5.56 code falls in by default (a clerk may correct it)."""
    return _STAT_OF_TYPE.get(type_code) or _STAT_OF_TYPE.get(type_code[:2]) or "other"


def type_name(code: str) -> str:
    """"侵权相关纠纷/医疗损害" for an item, the group's name for a group."""
    if len(code) == 4 and code[:2] in TYPES:
        return f"{TYPES[code[:2]]}/{TYPES.get(code, code)}"
    return TYPES.get(code, code)


def type_choices() -> list[tuple[str, str]]:
    return [(code, type_name(code)) for code in TYPES]


def method_choices() -> list[tuple[str, str]]:
    return list(METHODS.items())


def party_class_choices() -> list[tuple[str, str]]:
    return list(PARTY_CLASSES.items())


def stat_class_choices() -> list[tuple[str, str]]:
    return list(STAT_CLASSES.items())


def scale_choices() -> list[tuple[str, str]]:
    return list(SCALE.items())


def serves_type(prefixes, type_code: str) -> bool:
    """Whether a body declaring these 5.56 codes (groups or items; none = every type) takes
    a case of `type_code`."""
    return not prefixes or any(type_code.startswith(p) for p in prefixes)
