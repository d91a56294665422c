"""Code tables of the registry: the national standards GB/T 31000 points to for the person block,
and its own clause-5 tables used by T12–T16, T23 and T24 (see docs/domain.md §1.4–1.6).

Each table is a `CodeTable` subclass: `entries` lists `(code, English label, standard name)`.
The English label is the msgid shown in the UI (marked at import, translated when shown);
the standard name is the standard's wording, which is what clerks type into spreadsheets,
so `parse()` accepts a code, a standard name or a label. Model fields take
`choices=Table.choices` (a callable: migrations refer to it instead of copying the list).
"""

from __future__ import annotations

from django.utils.translation import gettext, gettext_lazy

# Entries are marked, not translated, where they are written (`_` is gettext_noop here): a
# label is translated each time it is shown.
from django.utils.translation import gettext_noop as _


class CodeTable:
    """A closed list of codes. Subclasses set `title`, `standard` and `entries`."""

    title = ""
    standard = ""
    entries: tuple[tuple[str, str, str], ...] = ()
    # Other names clerks write for a code ("本科" for 大学本科教育): {name: code}.
    aliases: dict[str, str] = {}
    _labels: dict[str, str]
    _names: dict[str, str]
    _lookup: dict[str, str]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._labels = {code: label for code, label, _name in cls.entries}
        cls._names = {code: name for code, _label, name in cls.entries}
        lookup: dict[str, str] = {}
        for code, label, name in cls.entries:
            for key in (code, name, str(label)):
                lookup.setdefault(_key(key), code)
        for name, code in cls.aliases.items():
            lookup.setdefault(_key(name), code)
        cls._lookup = lookup

    @classmethod
    def choices(cls) -> list[tuple[str, object]]:
        return [(code, gettext_lazy(label)) for code, label, _name in cls.entries]

    @classmethod
    def codes(cls) -> list[str]:
        return [code for code, _label, _name in cls.entries]

    @classmethod
    def valid(cls, code: str | None) -> bool:
        return code in cls._labels

    @classmethod
    def label(cls, code: str | None) -> str:
        """The (translated) label of a code; the code itself when unknown, "" when empty."""
        if not code:
            return ""
        label = cls._labels.get(code)
        return gettext(label) if label else code

    @classmethod
    def standard_name(cls, code: str | None) -> str:
        return cls._names.get(code or "", "")

    @classmethod
    def parse(cls, text) -> str | None:
        """The code for a typed value: a code ("01", or "1" for a two-digit table), the
        standard's name ("汉族", "汉") or the English label; None when nothing matches."""
        if text is None:
            return None
        raw = str(text).strip()
        if not raw:
            return None
        key = _key(raw)
        if key in cls._lookup:
            return cls._lookup[key]
        width = len(cls.entries[0][0]) if cls.entries else 0
        if raw.isdigit() and len(raw) < width:
            return cls._lookup.get(raw.zfill(width))
        # "汉" for "汉族", "男性" for "男": the standard's names with or without their suffix.
        for suffix in ("族", "性"):
            if key.endswith(suffix) and key[:-1] in cls._lookup:
                return cls._lookup[key[:-1]]
            if _key(raw + suffix) in cls._lookup:
                return cls._lookup[_key(raw + suffix)]
        return None


def _key(text: str) -> str:
    return "".join(str(text).split()).lower()


# --- the person block (GB/T 31000 fields 1–19) ---------------------------------------------------

class Sex(CodeTable):
    title, standard = gettext_lazy("Sex"), "GB/T 2261.1"
    entries = (
        ("0", _("Unknown"), "未知的性别"),
        ("1", _("Male"), "男"),
        ("2", _("Female"), "女"),
        ("9", _("Not stated"), "未说明的性别"),
    )


# What validate_id_number says (odd/even sequence digit) → the GB/T 2261.1 code.
SEX_FROM_ID = {"male": "1", "female": "2"}


class MaritalStatus(CodeTable):
    title, standard = gettext_lazy("Marital status"), "GB/T 2261.2"
    entries = (
        ("10", _("Unmarried"), "未婚"),
        ("20", _("Married"), "已婚"),
        ("21", _("First marriage"), "初婚"),
        ("22", _("Remarried"), "再婚"),
        ("23", _("Remarried to the former spouse"), "复婚"),
        ("30", _("Widowed"), "丧偶"),
        ("40", _("Divorced"), "离婚"),
        ("90", _("Marital status not stated"), "未说明的婚姻状况"),
    )


class Ethnicity(CodeTable):
    title, standard = gettext_lazy("Ethnicity"), "GB/T 3304"
    entries = (
        ("01", _("Han"), "汉族"), ("02", _("Mongol"), "蒙古族"), ("03", _("Hui"), "回族"),
        ("04", _("Tibetan"), "藏族"), ("05", _("Uyghur"), "维吾尔族"), ("06", _("Miao"), "苗族"),
        ("07", _("Yi"), "彝族"), ("08", _("Zhuang"), "壮族"), ("09", _("Buyei"), "布依族"),
        ("10", _("Korean"), "朝鲜族"), ("11", _("Manchu"), "满族"), ("12", _("Dong"), "侗族"),
        ("13", _("Yao"), "瑶族"), ("14", _("Bai"), "白族"), ("15", _("Tujia"), "土家族"),
        ("16", _("Hani"), "哈尼族"), ("17", _("Kazakh"), "哈萨克族"), ("18", _("Dai"), "傣族"),
        ("19", _("Li"), "黎族"), ("20", _("Lisu"), "傈僳族"), ("21", _("Va"), "佤族"),
        ("22", _("She"), "畲族"), ("23", _("Gaoshan"), "高山族"), ("24", _("Lahu"), "拉祜族"),
        ("25", _("Sui"), "水族"), ("26", _("Dongxiang"), "东乡族"), ("27", _("Naxi"), "纳西族"),
        ("28", _("Jingpo"), "景颇族"), ("29", _("Kyrgyz"), "柯尔克孜族"), ("30", _("Tu"), "土族"),
        ("31", _("Daur"), "达斡尔族"), ("32", _("Mulao"), "仫佬族"), ("33", _("Qiang"), "羌族"),
        ("34", _("Blang"), "布朗族"), ("35", _("Salar"), "撒拉族"), ("36", _("Maonan"), "毛南族"),
        ("37", _("Gelao"), "仡佬族"), ("38", _("Xibe"), "锡伯族"), ("39", _("Achang"), "阿昌族"),
        ("40", _("Pumi"), "普米族"), ("41", _("Tajik"), "塔吉克族"), ("42", _("Nu"), "怒族"),
        ("43", _("Uzbek"), "乌孜别克族"), ("44", _("Russian"), "俄罗斯族"),
        ("45", _("Evenki"), "鄂温克族"),
        ("46", _("De'ang"), "德昂族"),
        ("47", _("Bonan"), "保安族"),
        ("48", _("Yugur"), "裕固族"), ("49", _("Gin"), "京族"), ("50", _("Tatar"), "塔塔尔族"),
        ("51", _("Derung"), "独龙族"),
        ("52", _("Oroqen"), "鄂伦春族"),
        ("53", _("Hezhen"), "赫哲族"),
        ("54", _("Monba"), "门巴族"), ("55", _("Lhoba"), "珞巴族"), ("56", _("Jino"), "基诺族"),
        ("97", _("Other, not identified"), "其他未识别民族"),
        ("98", _("Chinese citizen of foreign origin"), "外国血统中国籍人士"),
    )


class PoliticalStatus(CodeTable):
    title, standard = gettext_lazy("Political status"), "GB/T 4762"
    aliases = {"党员": "01", "中共党员": "01", "预备党员": "02", "团员": "03",
               "共青团员": "03", "无党派": "12"}
    entries = (
        ("01", _("CPC member"), "中国共产党党员"),
        ("02", _("CPC probationary member"), "中国共产党预备党员"),
        ("03", _("Communist Youth League member"), "中国共产主义青年团团员"),
        ("04", _("Revolutionary Committee of the Kuomintang member"), "中国国民党革命委员会会员"),
        ("05", _("China Democratic League member"), "中国民主同盟盟员"),
        ("06", _("China National Democratic Construction Association member"),
         "中国民主建国会会员"),
        ("07", _("China Association for Promoting Democracy member"), "中国民主促进会会员"),
        ("08", _("Chinese Peasants' and Workers' Democratic Party member"), "中国农工民主党党员"),
        ("09", _("China Zhi Gong Party member"), "中国致公党党员"),
        ("10", _("Jiusan Society member"), "九三学社社员"),
        ("11", _("Taiwan Democratic Self-Government League member"), "台湾民主自治同盟盟员"),
        ("12", _("No party affiliation (public figure)"), "无党派人士"),
        ("13", _("Ordinary citizen"), "群众"),
    )


class Education(CodeTable):
    """The main (level) codes of GB/T 4658-2006, plus doctorate and master's degrees."""

    title, standard = gettext_lazy("Education"), "GB/T 4658"
    aliases = {"研究生": "10", "博士": "11", "硕士": "14", "本科": "20", "大学本科": "20",
               "大专": "30", "专科": "30", "中专": "40", "职高": "40", "技校": "40",
               "高中": "60", "初中": "70", "小学": "80", "文盲": "90", "其他": "90"}
    entries = (
        ("10", _("Postgraduate"), "研究生教育"),
        ("11", _("Doctorate"), "博士研究生毕业"),
        ("14", _("Master's degree"), "硕士研究生毕业"),
        ("20", _("Bachelor's degree"), "大学本科教育"),
        ("30", _("Junior college"), "专科教育"),
        ("40", _("Secondary vocational"), "中等职业教育"),
        ("60", _("Senior high school"), "普通高级中学教育"),
        ("70", _("Junior high school"), "初级中学教育"),
        ("80", _("Primary school"), "小学教育"),
        ("90", _("Other education"), "其他"),
    )


class Religion(CodeTable):
    # GA 214.12 main codes (secondary source: not checked against the standard's text).
    title, standard = gettext_lazy("Religion"), "GA 214.12"
    entries = (
        ("00", _("No religion"), "无宗教信仰"),
        ("10", _("Buddhism"), "佛教"),
        ("20", _("Tibetan Buddhism"), "喇嘛教"),
        ("30", _("Taoism"), "道教"),
        ("40", _("Catholicism"), "天主教"),
        ("50", _("Protestantism"), "基督教"),
        ("60", _("Eastern Orthodoxy"), "东正教"),
        ("70", _("Islam"), "伊斯兰教"),
        ("99", _("Other religion"), "其他"),
    )


class IdType(CodeTable):
    """Identity documents (GA/T 517), the ones a registry meets."""

    title, standard = gettext_lazy("ID document type"), "GA/T 517"
    entries = (
        ("111", _("Resident identity card"), "居民身份证"),
        ("112", _("Temporary resident identity card"), "临时居民身份证"),
        ("113", _("Household register"), "户口簿"),
        ("114", _("PLA officer's card"), "中国人民解放军军官证"),
        ("115", _("Armed police officer's card"), "中国人民武装警察部队警官证"),
        ("117", _("Birth certificate"), "出生医学证明"),
        ("414", _("Ordinary passport"), "普通护照"),
        ("411", _("Diplomatic passport"), "外交护照"),
        ("412", _("Service passport"), "公务护照"),
        ("420", _("Hong Kong SAR passport"), "香港特别行政区护照"),
        ("421", _("Macao SAR passport"), "澳门特别行政区护照"),
        ("511", _("Mainland travel permit for Taiwan residents"), "台湾居民来往大陆通行证"),
        ("516", _("Home-return permit (Hong Kong and Macao)"), "港澳同胞回乡证"),
        ("990", _("Other document"), "其他证件"),
    )


RESIDENT_ID = "111"


class Relationship(CodeTable):
    # GB/T 4761 main codes (secondary source).
    title, standard = gettext_lazy("Relationship"), "GB/T 4761"
    entries = (
        ("01", _("Self"), "本人"),
        ("02", _("Head of household"), "户主"),
        ("10", _("Spouse"), "配偶"),
        ("20", _("Son"), "子"),
        ("30", _("Daughter"), "女"),
        ("40", _("Grandchild"), "孙子、孙女或外孙子、外孙女"),
        ("50", _("Parent"), "父母"),
        ("60", _("Grandparent"), "祖父母或外祖父母"),
        ("70", _("Sibling"), "兄、弟、姐、妹"),
        ("80", _("Other relative"), "其他亲属"),
        ("99", _("Not related"), "非亲属"),
    )


# --- GB/T 31000 clause 5 ------------------------------------------------------------------------

class HouseholdMatch(CodeTable):
    title, standard = gettext_lazy("Living at the registered address"), "GB/T 31000 5.10"
    entries = (
        ("01", _("Lives at the registered address"), "一致"),
        ("02", _("Lives elsewhere"), "不一致"),
    )


class InflowReason(CodeTable):
    title, standard = gettext_lazy("Reason for moving here"), "GB/T 31000 5.11"
    entries = (
        ("01", _("Work"), "务工"), ("02", _("Farming"), "务农"), ("03", _("Business"), "经商"),
        ("04", _("Study or training"), "学习培训"), ("05", _("Marriage"), "婚嫁"),
        ("06", _("Accompanying family"), "随迁"), ("07", _("Medical treatment"), "治病疗养"),
        ("08", _("Staying with relatives or friends"), "投亲靠友"),
        ("09", _("Job transfer"), "工作调动"), ("99", _("Other reason"), "其他"),
    )


class PermitType(CodeTable):
    title, standard = gettext_lazy("Residence permit type"), "GB/T 31000 5.12"
    entries = (
        ("01", _("Residence permit"), "居住证"),
        ("02", _("Temporary residence permit"), "暂住证"),
        ("99", _("Other permit"), "其他"),
    )


class ResidenceType(CodeTable):
    title, standard = gettext_lazy("Type of residence"), "GB/T 31000 5.13"
    entries = (
        ("01", _("Own house"), "自购房屋"), ("02", _("Rented house"), "租赁房屋"),
        ("03", _("Lodging"), "寄宿"), ("04", _("Staying with others"), "借住"),
        ("05", _("Employer's dormitory"), "单位宿舍"),
        ("06", _("Temporary dormitory"), "临时性宿舍"),
        ("07", _("Migrant workers' apartment"), "农民工公寓"), ("99", _("Other residence"), "其他"),
    )


class Health(CodeTable):
    title, standard = gettext_lazy("Health"), "GB/T 31000 5.14"
    entries = (
        ("01", _("Very good"), "很好"), ("02", _("Good"), "较好"), ("03", _("Fair"), "一般"),
        ("04", _("Poor"), "较差"), ("05", _("Very poor"), "很差"),
    )


class LeftBehindType(CodeTable):
    title, standard = gettext_lazy("Left-behind group"), "GB/T 31000 5.15"
    entries = (
        ("01", _("Left-behind elderly"), "留守老人"),
        ("02", _("Left-behind women"), "留守妇女"),
        ("03", _("Left-behind children"), "留守儿童"),
    )


class VisitPurpose(CodeTable):
    title, standard = gettext_lazy("Purpose of stay in China"), "GB/T 31000 5.16"
    entries = (
        ("01", _("Business visit"), "商务"), ("02", _("Employment"), "就业"),
        ("03", _("Study"), "学习"), ("04", _("Settlement"), "定居"),
        ("05", _("Visiting relatives"), "探亲"), ("99", _("Other purpose"), "其他"),
    )


class BuildingUse(CodeTable):
    title, standard = gettext_lazy("Building use"), "GB/T 31000 5.17"
    entries = (
        ("01", _("Residential"), "住宅"),
        ("02", _("Commercial"), "商业"),
        ("03", _("Office"), "办公"),
        ("04", _("Industrial"), "工业"), ("05", _("Storage"), "仓储"),
        ("06", _("Mixed commercial and residential"), "商住混用"), ("99", _("Other use"), "其他"),
    )


class RentalUse(CodeTable):
    title, standard = gettext_lazy("Rental use"), "GB/T 31000 5.18"
    entries = (
        ("01", _("Dormitory"), "宿舍"), ("02", _("Dwelling"), "住房"), ("03", _("Shop"), "商铺"),
        ("04", _("Office"), "办公"), ("05", _("Warehouse"), "仓库"), ("06", _("Workshop"), "厂房"),
        ("99", _("Other use"), "其他"),
    )


class RentalHazard(CodeTable):
    title, standard = gettext_lazy("Hazard"), "GB/T 31000 5.19"
    entries = (
        ("00", _("No hazard"), "无"), ("01", _("Fire hazard"), "火灾隐患"),
        ("02", _("Public-order hazard"), "治安隐患"), ("03", _("Dispute hazard"), "矛盾纠纷隐患"),
        ("04", _("Hazardous chemicals"), "危化物品隐患"),
        ("05", _("Infectious disease hazard"), "疾病传染隐患"), ("99", _("Other hazard"), "其他"),
    )


class EnterpriseType(CodeTable):
    title, standard = gettext_lazy("Enterprise type"), "GB/T 31000 5.44"
    entries = (
        ("01", _("Domestic enterprise"), "内资企业"),
        ("02", _("Foreign-funded enterprise"), "外资企业"),
        ("03", _("Individual business"), "个体工商户"),
        ("04", _("Farmers' cooperative"), "农民专业合作社"),
        ("99", _("Other enterprise"), "其他企业"),
    )


class SafetyHazard(CodeTable):
    title, standard = gettext_lazy("Safety hazard"), "GB/T 31000 5.45"
    entries = (
        ("00", _("No hazard"), "无"), ("01", _("Public-order hazard"), "治安隐患"),
        ("02", _("Fire-safety hazard"), "消防隐患"), ("03", _("Dispute hazard"), "矛盾纠纷隐患"),
        ("04", _("Labour dispute hazard"), "劳资纠纷隐患"), ("99", _("Other hazard"), "其他"),
    )


class Attention(CodeTable):
    title, standard = gettext_lazy("Attention level"), "GB/T 31000 5.46"
    entries = (("01", _("High"), "高"), ("02", _("Medium"), "中"), ("03", _("Low"), "低"))


class SocialOrgType(CodeTable):
    title, standard = _("Social organisation type"), "GB/T 31000 5.47"
    entries = (
        ("01", _("Social association"), "社会团体"),
        ("02", _("Private non-enterprise unit"), "民办非企业单位"),
        ("03", _("Foundation"), "基金会"), ("99", _("Other organisation"), "其他"),
    )


TABLES: dict[str, type[CodeTable]] = {
    table.__name__: table for table in (
        Sex, MaritalStatus, Ethnicity, PoliticalStatus, Education, Religion, IdType,
        Relationship, HouseholdMatch, InflowReason, PermitType, ResidenceType, Health,
        LeftBehindType, VisitPurpose, BuildingUse, RentalUse, RentalHazard, EnterpriseType,
        SafetyHazard, Attention, SocialOrgType,
    )
}
