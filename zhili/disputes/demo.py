"""Demo disputes (大调解 "一综多专").

The registry first: a body for every demo organisation of the kind "mediation" (each town's
people's mediation committee takes every type; the professional bodies of the 19 categories at
city and county level take the GB/T 31000 5.56 types of their category; the city's other centres
are comprehensive), with two to six mediators each, and the demo mediators' accounts bound to
their bodies.

Then a year of cases across the city: the channel mix, weighted dispute types with their
seasons (family quarrels around the Spring Festival, wage arrears at the year's end), parties
with valid ID numbers (GB 11643) and credit codes (GB 32100) — some of them again in later
cases, some group disputes, hot spots — and what happened to each: routing (a few escalated,
declined or not accepted), acceptance, sessions, extensions, agreements written or oral,
signatures, judicial confirmations, follow-ups, broken agreements mediated again, failures with
the parties' guidance, withdrawals; the recent cases are still open, a few are overdue and
supervised. Written in bulk (not through the services) so the demo builds in seconds; the rows,
the encrypted personal data and the transition log are those the services and the deadline
sweep would have written (the clocks are started by the services' own `_start_step`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import heapq
import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.areas.choices import AreaLevel
from zhili.core import codes, pii, workflow
from zhili.core.pii.validation import id_check_digit, org_code_check_char, uscc_check_char
from zhili.disputes import codetables, rules, services
from zhili.disputes.choices import (
    OPEN_STATES,
    AgreementForm,
    AlertKind,
    AlertState,
    BodyKind,
    Channel,
    ConfirmationResult,
    DisputeState,
    FollowUpMethod,
    Fulfilment,
    Guidance,
    Outcome,
    PartyKind,
    PartySide,
    Satisfaction,
    Step,
    SupervisionState,
)
from zhili.disputes.models import (
    Agreement,
    Dispute,
    DisputeAlert,
    DisputeSupervision,
    DisputeTransition,
    FollowUp,
    JudicialConfirmation,
    MediationBody,
    MediationSession,
    Mediator,
    Party,
)
from zhili.disputes.stats import rebuild_all
from zhili.workdays import clock

S = DisputeState
SEED = 3206
COUNTS = {"small": 3000, "city": 30000}
# Recent cases of the demo town whose check_risks runs (alerts in the centre's list).
ALERT_SAMPLE = {"small": 150, "city": 600}
HOME_TOWN = "320612001"  # 金沙街道, where the demo users work
HOME_SHARE = 0.08  # of the cases land in the demo town, so its pages are lively
FRESH = 16  # the last cases arrived in the demo town over the past days: open work everywhere
# Their types: cases for the demo town's committee and the county's medical body above all.
FRESH_TYPES = ["0502", "0201", "0402", "0102", "0503", "0502", "0201", "0703", "0101", "0401",
               "0201", "0402", "0502", "0303", "0102", "0201"]
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)

# --- the registry --------------------------------------------------------------------------

# Professional category (the organisation's name says it) → GB/T 31000 5.56 codes served.
CATEGORY_TYPES = {
    "医患纠纷": ["0502"], "交通事故": ["0503"], "劳动人事争议": ["07"], "婚姻家庭": ["01"],
    "物业纠纷": ["0402"], "消费纠纷": ["0601"], "环境保护": ["0504"],
    "沿江沿海水域": ["0904", "1306"], "涉校纠纷": ["0501"],
    "征地拆迁": ["1101", "1102", "1103"], "建设工程": ["1104"], "知识产权": ["1001"],
    "金融纠纷": ["08"], "旅游纠纷": ["0601"], "电子商务": ["0506", "0601"],
    "保险纠纷": ["0803"], "商事纠纷": ["0603", "10"], "道路运输": ["0604", "1305"],
    "农村土地承包": ["0901"],
}
# Agreement number prefixes: "通州医调〔2026〕第15号".
CATEGORY_ABBR = {
    "医患纠纷": "医调", "交通事故": "交调", "劳动人事争议": "劳调", "婚姻家庭": "婚调",
    "物业纠纷": "物调", "消费纠纷": "消调", "环境保护": "环调", "沿江沿海水域": "水调",
    "涉校纠纷": "校调", "征地拆迁": "拆调", "建设工程": "建调", "知识产权": "知调",
    "金融纠纷": "金调", "旅游纠纷": "旅调", "电子商务": "电商调", "保险纠纷": "保调",
    "商事纠纷": "商调", "道路运输": "运调", "农村土地承包": "土调",
}
# The city's other centres: (abbreviation, 5.58 resolution method of their cases).
CENTRES = {"律师调解中心": ("律调", "0107"), "商会调解中心": ("商会调", "0105"),
           "价格争议调解中心": ("价调", "0102"), "涉侨纠纷调解中心": ("侨调", "0103"),
           "个人调解工作室联合会": ("工作室调", "0103")}
COUNTY_SHORT = {"南通经济技术开发区": "开发区"}
SPECIALITIES = {
    "committee": ["老党员", "退休教师", "村(居)干部", "司法所工作人员", "法律服务工作者", "律师"],
    "医患纠纷": ["退休医生", "医学专家", "律师"], "交通事故": ["退休民警", "保险理赔", "律师"],
    "劳动人事争议": ["人社工作人员", "工会干部", "律师"], "婚姻家庭": ["妇联干部", "心理咨询师"],
    "物业纠纷": ["物业管理专家", "社区干部"], "征地拆迁": ["退休干部", "土地评估师"],
    "other": ["律师", "退休法官", "行业专家", "法律服务工作者"],
}

# --- people and places -----------------------------------------------------------------------

SURNAMES = ("张王李陈刘杨黄吴徐朱周顾陆沈钱施曹季缪冯蔡袁倪丁范姜蒋邱曾葛严秦薛瞿成"
            "何高胡孙马郭林罗梁宋郑谢韩唐许邓")
MALE_CHARS = "伟强磊军勇杰涛斌超明辉刚健平建国志华俊峰宇浩凯鹏飞海波林东"
FEMALE_CHARS = "芳娟敏静丽艳娜秀英霞玲燕琴红梅兰凤洁萍婷雪慧晶莉倩颖雯"
FIRMS = ["恒盛", "鑫达", "华宇", "通泰", "江海", "宏远", "金诚", "瑞丰", "永兴", "天成", "海通",
         "联创", "盛达", "裕隆", "东升", "中恒", "博远", "嘉禾", "润发", "锦程"]
TRADES = ["纺织", "家纺", "建筑劳务", "机械制造", "电子科技", "船舶配件", "食品", "物流", "服装",
          "五金"]
ESTATES = ["花园", "新村", "家园", "名都", "雅苑", "公馆"]
ROADS = ["人民路", "工农路", "青年路", "长江路", "世纪大道", "金沙路", "新金路", "府前路", "兴东路",
         "通京大道", "南山路", "东方大道"]
ORIGINS = ["341221", "341225", "341282", "411522", "411526", "510921", "320923", "321323",
           "340826", "362329", "522121", "130529"]  # where migrant workers come from
REGIONS = {"320671": ["320602", "320612"]}  # no ID numbers were ever issued for 开发区
INSURERS = ["中国人民财产保险股份有限公司南通市分公司",
            "中国平安财产保险股份有限公司南通中心支公司",
            "中国太平洋财产保险股份有限公司南通中心支公司",
            "中华联合财产保险股份有限公司南通中心支公司"]
COURTS = {"320612": ("南通市通州区人民法院", "0612"), "320613": ("南通市崇川区人民法院", "0602"),
          "320614": ("南通市海门区人民法院", "0684"), "320623": ("如东县人民法院", "0623"),
          "320671": ("南通经济技术开发区人民法院", "0691"), "320681": ("启东市人民法院", "0681"),
          "320682": ("如皋市人民法院", "0682"), "320685": ("海安市人民法院", "0621")}
# The Spring Festival (春节), the peak of family disputes and, before it, of unpaid wages.
SPRING_FESTIVAL = {2023: (1, 22), 2024: (2, 10), 2025: (1, 29), 2026: (2, 17), 2027: (2, 6),
                   2028: (1, 26), 2029: (2, 13), 2030: (2, 3), 2031: (1, 23), 2032: (2, 11)}


@dataclass(frozen=True)
class Kind:
    """A kind of dispute: its 5.56 code, how common it is, when it peaks, who is on the other
    side, what it is about and what an agreement says."""

    code: str
    weight: float
    texts: tuple[tuple[str, str], ...]  # (title, description): {a} {b} {n} {amount} {place}
    issue: str
    terms: tuple[str, ...]  # {a} {b} {amount} {due}
    respondent: str = "person"  # or an organisation pool: employer, property, hospital …
    applicant: str = "person"
    amount: tuple[int, int] | None = None
    group: float = 0.0  # share of group disputes (5 people or more)
    group_size: tuple[int, int] = (5, 20)
    season: str = ""  # spring, yearend, summer, farming
    place: str = "home"  # home, road, hospital, shop, estate, field, site, school, company
    complex: bool = False
    hint: str = ""  # the professional category preferred among equally specific bodies
    intensify: float = 0.02
    confirm: float = 0.08  # share of written agreements taken to court for confirmation
    event: str = ""  # the grid-event category a case of this kind may come from


K = Kind
KINDS = [
    K("0201", 8, (("邻里排水纠纷", "{a}反映邻居{b}新砌的排水沟将雨水引向其宅基地，院墙受潮，"
                   "多次协商未果，双方发生争吵。"),
                  ("楼上漏水纠纷", "{a}家卫生间顶部渗水，认为系楼上{b}家防水层损坏所致，要求维修并"
                   "赔偿损失{amount}元，{b}不认可。"),
                  ("公共通道通行纠纷", "{a}反映{b}在两家之间的公共通道上堆放杂物、搭建棚屋，影响"
                   "通行，双方多次争执。")),
      "排水（通行）设施的整改及损失赔偿",
      ("{b}于{due}前自行整改，恢复原状，不再影响{a}家正常使用。",
       "{b}一次性补偿{a}损失人民币{amount}元。", "双方今后互谅互让，和睦相处。"),
      amount=(500, 8000), season="summer", event="neighbour-dispute"),
    K("0202", 5, (("建房采光纠纷", "{b}翻建房屋加高一层，{a}认为遮挡其住房采光，要求停止加建或给予"
                   "补偿。"),
                  ("围墙界址纠纷", "{a}与{b}两家相邻，{b}重砌围墙时向{a}家一侧移出约三十公分，"
                   "{a}要求拆除。")),
      "相邻建筑对采光、界址的影响及补偿",
      ("{b}一次性补偿{a}人民币{amount}元。", "{b}按双方现场确认的界线施工，不再越界。",
       "双方就此纠纷再无其他争议。"),
      amount=(2000, 30000), season="farming", event="neighbour-dispute"),
    K("0203", 2, (("噪声扰民纠纷", "{a}反映楼下{b}开设的小作坊夜间机器噪声大，严重影响家人休息。"),
                  ("油烟污染纠纷", "{a}反映{b}经营的烧烤摊油烟直排其住宅窗口，要求整改。")),
      "噪声（油烟）对相邻住户的影响",
      ("{b}于{due}前加装隔音（净化）设施，每晚二十一时后停止作业。",
       "双方同意由社区监督履行。"),
      event="neighbour-dispute"),
    K("0101", 4, (("婚约彩礼返还纠纷", "{a}与{b}解除婚约后，就已给付的彩礼{amount}元是否返还发生"
                   "争议，双方家庭多次争吵。"),
                  ("离婚财产分割纠纷", "{a}与{b}协议离婚，就共同购买的车辆和存款{amount}元的分割"
                   "发生争议。")),
      "彩礼（共同财产）的返还与分割",
      ("{b}于{due}前返还{a}人民币{amount}元。", "双方就此纠纷再无其他争议。"),
      amount=(30000, 200000), season="spring", hint="婚姻家庭", event="family-dispute"),
    K("0102", 6, (("老人赡养纠纷", "{a}年逾七旬，与子女{b}等就赡养费负担和轮流照料问题发生矛盾，"
                   "老人情绪低落。"),
                  ("子女抚养费纠纷", "{a}与{b}离婚后，孩子随{a}生活，{b}已八个月未支付抚养费。")),
      "赡养（抚养）费用的负担和照料方式",
      ("{b}自本月起每月十日前支付赡养（抚养）费人民币{amount}元。",
       "子女轮流照料老人生活起居，每人一个月。", "双方今后互相尊重，不再争吵。"),
      amount=(500, 3000), season="spring", hint="婚姻家庭", event="family-dispute"),
    K("0103", 3, (("遗产继承纠纷", "{a}与{b}就父母留下的房屋及存款的继承分割发生争议，"
                   "兄妹关系紧张。"),),
      "遗产的范围及分割办法",
      ("父母遗留房屋归{b}所有，{b}于{due}前补偿{a}人民币{amount}元。",
       "双方就遗产继承再无其他争议。"),
      amount=(50000, 600000), season="spring", hint="婚姻家庭", event="family-dispute"),
    K("0402", 7, (("物业服务纠纷", "{a}等业主反映{b}电梯长期故障、保洁不到位，拒交物业费，物业公司"
                   "催缴引发矛盾。"),
                  ("小区停车费纠纷", "{a}对{b}上调小区停车费有异议，双方在小区门口发生争执。"),
                  ("房屋渗漏维修纠纷", "{a}家外墙渗水，要求{b}动用维修资金维修，{b}以手续未齐为由"
                   "拖延。")),
      "物业服务质量、收费及维修责任",
      ("{b}于{due}前完成维修（整改），并向业主公示。",
       "{a}于整改完成后补交物业费人民币{amount}元。", "双方同意由社区居委会监督履行。"),
      respondent="property", amount=(800, 6000), group=0.25, group_size=(5, 60),
      place="estate", event="property-dispute"),
    K("0401", 4, (("财产损害赔偿纠纷", "{b}驾驶农用车倒车时撞坏{a}家院墙和电动车，"
                   "双方就赔偿金额协商不成。"),
                  ("借用物品返还纠纷", "{b}借用{a}的农机具后损坏，拒绝赔偿。")),
      "财物损失的金额和赔偿",
      ("{b}于{due}前一次性赔偿{a}损失人民币{amount}元。", "双方就此纠纷再无其他争议。"),
      amount=(1000, 20000)),
    K("0303", 3, (("殴打致伤赔偿纠纷", "{a}与{b}因琐事发生口角后厮打，{a}受轻微伤，要求赔偿医药费、"
                   "误工费共计{amount}元。"),),
      "医疗费、误工费等损失的赔偿",
      ("{b}向{a}赔礼道歉。", "{b}于{due}前一次性赔偿{a}医药费、误工费等共计人民币{amount}元。",
       "双方就此纠纷再无其他争议。"),
      amount=(2000, 30000), place="road"),
    K("0503", 9, (("交通事故赔偿纠纷", "{a}驾驶电动自行车行至{place}时与{b}驾驶的小型轿车相撞受伤，"
                   "交警认定{b}负主要责任，双方就医疗费、误工费等赔偿发生争议。"),
                  ("交通事故财产损失纠纷", "{b}驾驶货车在{place}追尾{a}驾驶的轿车，双方就车辆维修费"
                   "{amount}元的赔偿发生争议。")),
      "交通事故造成的人身损害和财产损失赔偿",
      ("{b}（含保险公司理赔部分）于{due}前赔偿{a}医疗费、误工费、护理费等共计人民币{amount}元。",
       "{a}的后续治疗费用由双方另行协商。", "双方就此次事故再无其他争议。"),
      amount=(5000, 150000), place="road", confirm=0.25, hint="交通事故"),
    K("0502", 2.5, (("医疗损害赔偿纠纷", "{a}的家属在{b}住院治疗期间病情加重，家属认为医院存在诊疗"
                     "过错，要求赔偿{amount}元。"),
                    ("术后感染赔偿纠纷", "{a}在{b}手术后发生感染，再次住院治疗，要求医院赔偿。")),
      "医疗行为是否存在过错及赔偿数额",
      ("{b}一次性补偿{a}人民币{amount}元。", "{a}及其家属不再以任何方式到医院聚集、反映。",
       "双方就此次医疗纠纷再无其他争议。"),
      respondent="hospital", amount=(20000, 400000), group=0.08, group_size=(5, 12),
      place="hospital", complex=True, intensify=0.15, confirm=0.4, hint="医患纠纷"),
    K("0703", 5, (("拖欠工资纠纷", "{a}等{n}名工人反映{b}拖欠{months}个月工资共计{amount}元，"
                   "年关将至，工人情绪激动。"),
                  ("拖欠加班费纠纷", "{a}反映{b}长期安排加班但未足额支付加班费，要求补发。")),
      "拖欠工资（加班费）的数额和支付时间",
      ("{b}于{due}前一次性支付{a}等人工资共计人民币{amount}元。",
       "劳动者不再以聚集等方式讨要工资。", "双方就此劳动报酬争议再无其他争议。"),
      respondent="employer", amount=(8000, 400000), group=0.45, group_size=(5, 45),
      season="yearend", place="company", complex=True, intensify=0.12, confirm=0.2,
      hint="劳动人事争议", event="labour-dispute"),
    K("0701", 4, (("解除劳动合同补偿纠纷", "{b}以经营困难为由解除与{a}的劳动合同，未支付经济补偿，"
                   "{a}要求支付{amount}元。"),
                  ("未签劳动合同纠纷", "{a}在{b}工作一年未签订书面劳动合同，离职时要求支付"
                   "双倍工资。")),
      "解除劳动合同的经济补偿",
      ("{b}于{due}前支付{a}经济补偿金人民币{amount}元。", "双方劳动关系于本协议签订之日解除。",
       "双方就劳动关系再无其他争议。"),
      respondent="employer", amount=(5000, 80000), season="yearend", place="company",
      hint="劳动人事争议", event="labour-dispute"),
    K("0507", 2, (("雇工受伤赔偿纠纷", "{a}在为{b}翻建房屋时从脚手架上摔下受伤，"
                   "双方就赔偿发生争议。"),),
      "劳务过程中受伤的责任和赔偿",
      ("{b}于{due}前赔偿{a}医疗费、误工费等共计人民币{amount}元。", "双方就此纠纷再无其他争议。"),
      amount=(5000, 80000), place="site"),
    K("0601", 4, (("预付卡退费纠纷", "{a}等人在{b}办理的预付卡，商家停业后无法退费，"
                   "涉及金额{amount}元。"),
                  ("商品质量纠纷", "{a}在{b}购买的家电使用一周即出现故障，要求退货，"
                   "商家只同意维修。"),
                  ("装修质量纠纷", "{a}家由{b}装修，入住后墙面开裂、地板起拱，要求返工并赔偿。")),
      "商品（服务）质量及退费",
      ("{b}于{due}前向{a}退还费用人民币{amount}元。", "双方就此消费纠纷再无其他争议。"),
      respondent="shop", amount=(500, 30000), group=0.12, group_size=(5, 40), place="shop",
      hint="消费纠纷"),
    K("0601", 0.8, (("旅游服务纠纷", "{a}参加{b}组织的旅游团，行程被擅自缩减、购物点增加，要求退还"
                     "部分团费。"),),
      "旅游服务合同的履行及退费",
      ("{b}于{due}前向{a}退还团费人民币{amount}元。", "双方就此次旅游纠纷再无其他争议。"),
      respondent="travel", amount=(800, 12000), place="shop", hint="旅游纠纷"),
    K("0506", 0.6, (("网购交易纠纷", "{a}在{b}开设的网店购买的商品与描述不符，要求退货退款，"
                     "店家拒绝。"),),
      "网络交易商品与描述不符的退货退款",
      ("{b}于{due}前为{a}办理退货，退还货款人民币{amount}元。", "双方就此次交易再无其他争议。"),
      respondent="online", amount=(300, 8000), place="shop", hint="电子商务"),
    K("0602", 3, (("房屋租赁纠纷", "{a}将房屋出租给{b}，{b}拖欠房租{amount}元并拒不搬离。"),
                  ("二手房买卖纠纷", "{a}购买{b}的二手房后发现房屋漏水，要求{b}承担维修费用。")),
      "房租（房款）的支付和房屋的交付",
      ("{b}于{due}前支付{a}欠付房租人民币{amount}元并腾退房屋。", "双方就此纠纷再无其他争议。"),
      amount=(3000, 60000)),
    K("0804", 4, (("民间借贷纠纷", "{b}向{a}借款{amount}元用于经营，约定期限已过仍未归还。"),),
      "借款本金、利息的数额和归还期限",
      ("{b}分期归还{a}借款本金人民币{amount}元，最后一期于{due}前付清。",
       "{b}按期还款的，{a}放弃利息主张。"),
      amount=(10000, 300000), confirm=0.3, hint="金融纠纷"),
    K("0803", 0.8, (("保险理赔纠纷", "{a}的车辆出险后向{b}申请理赔，对定损金额有异议，"
                     "双方协商未果。"),),
      "保险定损金额及理赔",
      ("{b}于{due}前向{a}支付理赔款人民币{amount}元。", "双方就此次理赔再无其他争议。"),
      respondent="insurer", amount=(3000, 80000), place="shop", hint="保险纠纷"),
    K("0603", 1.5, (("买卖合同货款纠纷", "{a}向{b}供应原材料，{b}拖欠货款{amount}元。"),),
      "货款的数额和支付方式",
      ("{b}分两期支付{a}货款人民币{amount}元，于{due}前付清。", "双方就此买卖合同再无其他争议。"),
      applicant="company", respondent="company", amount=(20000, 800000), place="company",
      confirm=0.35, hint="商事纠纷"),
    K("1001", 0.3, (("家纺图案著作权纠纷", "{a}认为{b}销售的床品使用了其享有著作权的花型图案，"
                     "要求停止销售并赔偿。"),),
      "是否构成侵权及赔偿数额",
      ("{b}即日起停止销售涉案产品。", "{b}于{due}前赔偿{a}人民币{amount}元。"),
      applicant="company", respondent="company", amount=(10000, 200000), place="company",
      hint="知识产权"),
    K("0604", 0.5, (("货物运输损失纠纷", "{b}承运{a}的一批货物途中受潮损坏，"
                     "双方就损失赔偿发生争议。"),),
      "运输途中货损的责任和赔偿",
      ("{b}于{due}前赔偿{a}货物损失人民币{amount}元。", "双方就此次运输再无其他争议。"),
      applicant="company", respondent="company", amount=(5000, 100000), place="company",
      hint="道路运输"),
    K("0902", 3, (("宅基地界址纠纷", "{a}与{b}两家宅基地相邻，{b}翻建房屋时占用界址约半米，{a}要求"
                   "拆除。"),),
      "宅基地界址的确认",
      ("双方按村委会现场测量的界址为准，{b}于{due}前拆除越界部分。",
       "双方就宅基地界址再无其他争议。"),
      season="farming", place="field"),
    K("0901", 2, (("土地承包经营权纠纷", "{a}外出务工期间承包地被{b}耕种，返乡后要求收回，"
                   "双方就青苗补偿发生争议。"),),
      "承包地的返还及青苗补偿",
      ("{b}于本季收割后将承包地交还{a}。", "{a}补偿{b}青苗费人民币{amount}元。"),
      amount=(1000, 10000), season="farming", place="field", hint="农村土地承包"),
    K("1102", 0.8, (("征地补偿款分配纠纷", "{a}等{n}名村民对{b}征地补偿款分配方案有异议，认为出嫁女"
                     "等未获应得份额，多次到村委会反映。"),),
      "征地补偿款分配方案",
      ("{b}按重新表决通过的分配方案于{due}前补发{a}等人补偿款共计人民币{amount}元。",
       "村民不再以聚集方式反映此事。"),
      respondent="village", amount=(50000, 600000), group=0.6, group_size=(8, 120),
      place="field", complex=True, intensify=0.3, hint="征地拆迁"),
    K("1101", 0.4, (("房屋征收补偿纠纷", "{a}对{b}作出的房屋征收补偿评估结果有异议，"
                     "拒绝签订补偿协议。"),),
      "房屋征收的补偿标准和安置方式",
      ("{b}按评估复核结果补偿{a}人民币{amount}元，于{due}前支付。",
       "{a}于收到补偿款后十五日内腾房。"),
      respondent="government", amount=(200000, 1500000), complex=True, intensify=0.25,
      hint="征地拆迁"),
    K("0504", 0.8, (("企业排污扰民纠纷", "{a}等{n}名村民反映{b}排放废气异味，影响周边居民生活，要求"
                     "整改并赔偿。"),),
      "排污对周边居民的影响及整改",
      ("{b}于{due}前完成废气处理设施改造，并接受环保部门检测。",
       "{b}补偿受影响农户共计人民币{amount}元。"),
      respondent="factory", amount=(10000, 150000), group=0.6, group_size=(5, 60),
      place="company", complex=True, intensify=0.2, hint="环境保护"),
    K("1104", 0.8, (("施工损坏房屋纠纷", "{b}在{place}施工打桩，{a}家房屋墙体出现裂缝，"
                     "要求赔偿。"),),
      "施工造成房屋损坏的责任及赔偿",
      ("{b}于{due}前对{a}家房屋裂缝进行修复。", "{b}补偿{a}人民币{amount}元。"),
      respondent="builder", amount=(5000, 60000), group=0.15, place="site", hint="建设工程"),
    K("0501", 0.6, (("学生在校受伤纠纷", "{a}之子在{b}课间活动时摔伤，家长要求学校承担"
                     "医疗费用。"),),
      "学生在校受伤的责任和费用承担",
      ("{b}承担医疗费用人民币{amount}元，于{due}前支付。", "双方就此纠纷再无其他争议。"),
      respondent="school", amount=(2000, 40000), place="school", hint="涉校纠纷"),
    K("0904", 0.4, (("鱼塘承包水面纠纷", "{a}与{b}就相邻鱼塘的水面界线和排水口位置发生争议。"),),
      "水面界线和排水口位置",
      ("双方按村委会确认的界线各自养殖，{b}于{due}前改建排水口。",), place="field",
      hint="沿江沿海水域"),
    K("1201", 0.5, (("村务公开纠纷", "{a}等村民对{b}的集体资产租赁收支有疑问，要求公开账目。"),),
      "村集体资产收支的公开",
      ("{b}于{due}前在村务公开栏公布集体资产租赁收支明细。", "村民代表参与监督。"),
      respondent="village", group=0.5, group_size=(5, 30), place="field"),
]

# channel: base share, and the kinds that make it likelier
CHANNELS = [(Channel.WALK_IN, 45), (Channel.PROACTIVE, 30), (Channel.EVENT, 7),
            (Channel.HOTLINE, 6), (Channel.POLICE, 5), (Channel.COURT, 4),
            (Channel.PETITION, 2), (Channel.OTHER, 1)]
CHANNEL_BIAS = {Channel.POLICE: {"0503": 5, "0303": 6, "0401": 2},
                Channel.COURT: {"0804": 5, "0603": 5, "0503": 2, "0602": 3, "1001": 4},
                Channel.PETITION: {"1102": 12, "1101": 12, "0504": 6, "0703": 3, "1201": 8},
                Channel.HOTLINE: {"0402": 3, "0601": 3, "0703": 2, "0203": 3}}
PARTY_CLASSES = {"person": ["0102", "0103", "0101", "0105", "0107", "0199"],
                 "worker": ["0207", "0207", "0101"]}
REJECT_REASONS = ["一方当事人明确拒绝调解，不予受理。",
                  "该纠纷已进入诉讼程序，告知当事人不予受理。",
                  "不属于人民调解受理范围，已告知当事人向有关部门反映。"]
DECLINE_REASONS = ["经核实，该纠纷宜由属地人民调解委员会就近调解，退回重新分流。",
                   "当事人要求由属地调委会调解，退回重新分流。"]
EXTEND_REASONS = ["案情复杂，需进一步调查取证和核算损失，延长调解期限。",
                  "当事人申请暂缓调解，待鉴定结论作出后继续调解。",
                  "双方同意延长调解期限，继续协商赔偿方案。"]
WITHDRAW_NOTES = ["双方自行协商和解，申请人撤回调解申请。", "申请人表示不再要求调解，撤回申请。"]
FAIL_NOTES = {Guidance.LITIGATION: "向人民法院提起诉讼",
              Guidance.ARBITRATION: "申请劳动人事争议仲裁",
              Guidance.ADMINISTRATIVE: "向有关行政机关申请处理",
              Guidance.OTHER: "通过其他合法途径解决"}
FAILED = "双方分歧较大，经多次调解未能达成协议，已告知当事人可依法{where}。"
RECORDS = ["调解员告知双方当事人在调解活动中享有的权利和承担的义务，分别听取了双方陈述，"
           "核实了相关证据。",
           "调解员到现场查看纠纷情况并拍照留存，听取了周边群众和村（居）干部的意见。",
           "调解员采取背对背方式分别做双方工作，释明相关法律规定，双方分歧有所缩小。",
           "邀请村（居）干部及双方亲属参加调解，讲情说理，双方同意各让一步。",
           "双方仍坚持各自主张，调解员建议双方冷静考虑，择日再行调解。"]
SUPERVISE_MESSAGE = ("该纠纷涉及人数较多、矛盾易激化，请高度重视，依法依规做好调处工作，"
                     "及时报告进展。")
ANSWERS = ["已组织专职调解员介入，正在分头做当事人工作，将按期报告进展。",
           "已约请双方当事人到场调解，双方情绪稳定，调解正在推进。",
           "已加快办理进度，安排调解员每日跟进。"]


@functools.cache
def _zone():
    return timezone.get_default_timezone()


def _local(at: dt.datetime) -> dt.datetime:
    return at.astimezone(_zone())


def _aware(moment: dt.datetime) -> dt.datetime:
    return timezone.make_aware(moment, _zone())


def _spring_festival(year: int) -> dt.date:
    month, day = SPRING_FESTIVAL.get(year, (2, 5))
    return dt.date(year, month, day)


def _season(kind: str, day: dt.date) -> float:
    """How much likelier a dispute of this season is on `day` (1 = an ordinary day)."""
    festival = min((_spring_festival(y) for y in (day.year - 1, day.year, day.year + 1)),
                   key=lambda f: abs((f - day).days))
    gap = (day - festival).days
    base = 1.0 + 0.25 * math.exp(-((gap + 10) / 20) ** 2)  # everyone quarrels before the holiday
    if kind == "spring":
        return base + 1.4 * math.exp(-(gap / 18) ** 2)
    if kind == "yearend":  # unpaid wages from late November until the festival
        if -75 <= gap <= 0:
            return base + 2.6
        return base + (0.6 if 0 < gap <= 30 else 0.0)
    if kind == "summer":
        return base + (0.6 if day.month in (6, 7, 8) else 0.0)
    if kind == "farming":
        return base + (0.8 if day.month in (3, 4) else 0.4 if day.month in (10, 11) else 0.0)
    return base


def _moment(rng: random.Random, day: dt.date, *, office: bool = True) -> dt.datetime:
    if office:
        hour = rng.choices(range(8, 18), weights=[6, 12, 12, 9, 3, 6, 10, 10, 8, 4])[0]
    else:
        hour = rng.choices(range(24), weights=[1, 1, 1, 1, 1, 1, 2, 5, 9, 11, 11, 9, 6, 8, 10,
                                               10, 9, 8, 7, 6, 5, 3, 2, 1])[0]
    return _aware(dt.datetime.combine(day, dt.time(hour, rng.randrange(60),
                                                                rng.randrange(60))))


def _office(rng: random.Random, at: dt.datetime) -> dt.datetime:
    """The first office moment (a working day of the calendar, 8:30–17:00) not before `at`."""
    local = _local(at)
    if local.hour >= 17 or not clock.is_workday(local.date()) or \
            (local.hour, local.minute) < (8, 30):
        day = local.date() + dt.timedelta(days=1 if local.hour >= 17 else 0)
        while not clock.is_workday(day):
            day += dt.timedelta(days=1)
        local = _aware(dt.datetime.combine(day, dt.time(8, 30))) + \
            dt.timedelta(minutes=rng.randrange(5, 90))
    return local


def _name(rng: random.Random, male: bool) -> str:
    chars = MALE_CHARS if male else FEMALE_CHARS
    return rng.choice(SURNAMES) + rng.choice(chars) + (rng.choice(chars) if rng.random() < 0.7
                                                         else "")


def _mobile(rng: random.Random) -> str:
    return "1" + rng.choice("3578") + str(rng.randrange(10)) + f"{rng.randrange(10**8):08d}"


def _landline(rng: random.Random) -> str:
    return f"0513-8{rng.randrange(10**6, 10**7)}"


def _uscc(rng: random.Random, region: str, prefix: str) -> str:
    """A valid 统一社会信用代码: registration office kind, division, organisation code with its
    own check character (GB 11714), and the MOD 31 check (GB 32100)."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    while True:
        body = "".join(rng.choice(alphabet) for _ in range(8))
        first17 = prefix + region[:6] + body + org_code_check_char(body)
        if all(c in alphabet for c in first17):  # the inner check may be an X: draw again
            return first17 + uscc_check_char(first17)


def _town_prefix(name: str) -> str:
    """"金沙街道" → "金沙调": the committee's agreement number prefix."""
    for head in ("南通市海门区", "南通市海门市", "南通市", "江苏省国营", "南通"):
        if name.startswith(head) and len(name) > len(head) + 1:
            name = name[len(head):]
            break
    name = name.split("（")[0]
    for tail in ("街道", "镇", "乡"):
        if name.endswith(tail) and len(name) > len(tail) + 1:
            name = name[: -len(tail)]
            break
    return name[:4] + "调"


def _county_short(name: str) -> str:
    if name in COUNTY_SHORT:
        return COUNTY_SHORT[name]
    if name.endswith(("区", "市", "县")) and len(name) <= 4:
        return name[:-1] if name != "南通市" else "南通"
    return name[:2]


# --- the registry --------------------------------------------------------------------------

def _category(org_name: str) -> str:
    return next((c for c in CATEGORY_TYPES if c in org_name), "")


def _new_body(org) -> MediationBody:
    rng = random.Random(f"{SEED}:body:{org.area_code}:{org.name}")
    area = org.area
    body = MediationBody(org=org, area_code=org.area_code, phone=_landline(rng))
    category = _category(org.name)
    if area.level >= AreaLevel.TOWN:
        body.kind, body.type_codes, body.capacity = BodyKind.COMMITTEE, [], 40
        body.number_prefix = _town_prefix(area.name)
    elif category:
        body.kind = BodyKind.PROFESSIONAL
        body.type_codes = sorted(set(CATEGORY_TYPES[category]))
        body.capacity = 80 if area.level <= AreaLevel.CITY else 60
        body.number_prefix = _county_short(area.name) + CATEGORY_ABBR[category]
    else:
        body.kind, body.type_codes, body.capacity = BodyKind.COMPREHENSIVE, [], 50
        abbr = next((a for centre, (a, _m) in CENTRES.items() if centre in org.name), "调")
        body.number_prefix = _county_short(area.name) + abbr
    return body


def build_registry() -> list[MediationBody]:
    """A body for every mediation organisation without one, mediators for every body without
    any, and each mediator account (role "mediator" in a body's organisation) bound to a
    mediator of its body. Idempotent."""
    from zhili.orgs.choices import OrgKind
    from zhili.orgs.models import Organisation

    have = set(MediationBody.objects.values_list("org_id", flat=True))
    new = [_new_body(org) for org in Organisation.objects.filter(
        kind=OrgKind.MEDIATION_BODY, is_active=True).select_related("area").order_by(
        "area_code", "name", "pk") if org.pk not in have]
    MediationBody.objects.bulk_create(new, batch_size=500)
    bodies = list(MediationBody.objects.select_related("org", "org__area").order_by("pk"))
    staffed = set(Mediator.objects.values_list("body_id", flat=True))
    mediators = []
    for body in bodies:
        if body.pk in staffed:
            continue
        rng = random.Random(f"{SEED}:mediators:{body.org.area_code}:{body.org.name}")
        category = _category(body.org.name)
        skills = SPECIALITIES["committee"] if body.kind == BodyKind.COMMITTEE else \
            SPECIALITIES.get(category, []) + SPECIALITIES["other"]
        count = rng.randint(3, 6) if body.kind == BodyKind.COMMITTEE else rng.randint(2, 5)
        for n in range(count):
            mediator = Mediator(body=body, area_code=body.area_code,
                                name=_name(rng, rng.random() < 0.6),
                                full_time=n == 0 or rng.random() < 0.3,
                                speciality=skills[n % len(skills)] if skills else "")
            pii.assign(mediator, "phone", _mobile(rng))
            mediators.append(mediator)
    Mediator.objects.bulk_create(mediators, batch_size=1000)
    _bind_accounts()
    return bodies


def _bind_accounts() -> None:
    from zhili.accounts.models import Position

    positions = Position.objects.filter(role__code="mediator", is_active=True,
                                        org__mediation_body__isnull=False).select_related(
        "user", "org__mediation_body").order_by("pk")
    for position in positions:
        body = position.org.mediation_body
        if Mediator.objects.filter(body=body, user=position.user).exists():
            continue
        free = Mediator.objects.filter(body=body, user=None).order_by("pk").first()
        if free is None:
            free = Mediator(body=body, area_code=body.area_code,
                            name=position.user.display_name[:50] or position.user.username)
        free.user, free.full_time = position.user, True
        free.save()


# --- the cases -------------------------------------------------------------------------------

@dataclass
class Plan:
    """One case and every row it leads to, before the insert."""

    dispute: Dispute
    kind: Kind
    parties: list[Party]
    body: MediationBody | None = None  # where the centre sends it
    escalate: bool = False
    supervise: bool = False
    fresh: bool = False
    body_actor: object = None
    transitions: list[DisputeTransition] = field(default_factory=list)
    mediators: list[Mediator] = field(default_factory=list)
    sessions: list[tuple[MediationSession, list[Mediator]]] = field(default_factory=list)
    agreements: list[Agreement] = field(default_factory=list)
    confirmations: list[JudicialConfirmation] = field(default_factory=list)
    follow_ups: list[FollowUp] = field(default_factory=list)
    orders: list[tuple[DisputeSupervision, list[DisputeTransition]]] = field(
        default_factory=list)
    alerts: list[DisputeAlert] = field(default_factory=list)


class Registry:
    """The bodies in memory: which one a case goes to (rules.candidates without queries)."""

    def __init__(self, bodies: list[MediationBody]):
        self.bodies = [b for b in bodies if b.is_active]
        self.by_area: dict[str, list[MediationBody]] = defaultdict(list)
        for body in self.bodies:
            self.by_area[body.area_code].append(body)
        self.staff: dict[int, list[Mediator]] = defaultdict(list)
        for mediator in Mediator.objects.filter(is_active=True).select_related("user").order_by(
                "pk"):
            self.staff[mediator.body_id].append(mediator)
        self.bodies = [b for b in self.bodies if self.staff[b.pk]]
        self.ok = {b.pk for b in self.bodies}

    def candidates(self, type_code: str, area_code: str, hint: str = "") -> list[MediationBody]:
        found, seen = [], set()
        for level in codes.LEVELS:
            prefix = codes.pad(area_code[:level.digits])
            for body in self.by_area.get(prefix, ()):
                if body.pk in seen or body.pk not in self.ok or \
                        not codetables.serves_type(body.type_codes, type_code):
                    continue
                seen.add(body.pk)
                specificity = max((len(p) for p in body.type_codes if type_code.startswith(p)),
                                  default=0)
                hinted = bool(hint) and hint in body.org.name
                found.append((-specificity, -level.rank, not hinted, body.pk, body))
        found.sort(key=lambda c: c[:4])
        return [c[-1] for c in found]

    def committee(self, area_code: str) -> MediationBody | None:
        town = codes.pad(area_code[:9])
        return next((b for b in self.by_area.get(town, ()) if b.pk in self.ok and
                     not b.type_codes), None)


class People:
    """Parties: persons with valid ID numbers, organisations with valid credit codes, drawn
    from pools so that some come back in later cases."""

    def __init__(self, rng: random.Random, areas: dict, today: dt.date, count: int):
        self.rng, self.areas, self.today = rng, areas, today
        self.used: set[str] = set()
        self.seen: dict[str, list[dict]] = defaultdict(list)  # county → persons met so far
        self.orgs: dict[tuple, dict] = {}
        self.pool = max(12, count // 120)
        self.registry: list[dict] = []

    def load_registry(self) -> None:
        """Residents of the demo town from the people registry, to be parties now and then."""
        from zhili.people.models import Person

        rows = Person.objects.filter(is_active=True, id_type="111",
                                     area_code__startswith=HOME_TOWN).only(
            "pk", "name", "sex", "birth_date", "id_number", "phone", "current_address",
            "area_code").order_by("pk")
        for person in rows[:1500]:
            if person.id_number and person.birth_date and \
                    (self.today - person.birth_date).days > 18 * 365:
                self.registry.append({"name": person.name, "sex": person.sex,
                                      "birth": person.birth_date, "id": person.id_number,
                                      "phone": person.phone or _mobile(self.rng),
                                      "address": person.current_address or "",
                                      "person_id": person.pk,
                                      "class": self.rng.choice(PARTY_CLASSES["person"])})

    def _place_names(self, area_code: str) -> tuple[str, str, str]:
        def name(digits):
            area = self.areas.get(codes.pad(area_code[:digits]))
            return area.name if area is not None else ""

        return name(6), name(9), name(12)

    def address(self, area_code: str) -> str:
        rng = self.rng
        county, town, village = self._place_names(area_code)
        if codes.village_class(codes.pad(area_code[:12])) == "community":
            return (f"江苏省南通市{county}{town}{village[:2]}{rng.choice(ESTATES)}"
                    f"{rng.randrange(1, 30)}幢{rng.randrange(1, 25)}0{rng.randrange(1, 4)}室")
        return (f"江苏省南通市{county}{town}{village}{rng.randrange(1, 15)}组"
                f"{rng.randrange(1, 90)}号")

    def person(self, area_code: str, *, worker: bool = False, repeat: float = 0.04,
               registry: float = 0.0) -> dict:
        rng = self.rng
        county = area_code[:6]
        if registry and self.registry and rng.random() < registry:
            found = rng.choice(self.registry)
            self.seen[county].append(found)
            return found
        if self.seen[county] and rng.random() < repeat:
            return rng.choice(self.seen[county])
        male = rng.random() < (0.75 if worker else 0.55)
        born = self.today - dt.timedelta(days=rng.randrange(20 * 365, (55 if worker else 80)
                                                            * 365))
        region = rng.choice(ORIGINS) if worker and rng.random() < 0.6 else \
            rng.choice(REGIONS.get(county, [county]))
        while True:
            seq = rng.randrange(0, 1000)
            if (seq % 2 == 1) != male:
                seq = (seq + 1) % 1000
            body = f"{region}{born:%Y%m%d}{seq:03d}"
            number = body + id_check_digit(body)
            if number not in self.used:
                self.used.add(number)
                break
        found = {"name": _name(rng, male), "sex": "1" if male else "2", "birth": born,
                 "id": number, "phone": _mobile(rng), "address": self.address(area_code),
                 "person_id": None,
                 "class": rng.choice(PARTY_CLASSES["worker" if worker else "person"])}
        self.seen[county].append(found)
        return found

    def org(self, kind: str, area_code: str) -> dict:
        rng = self.rng
        county, town, village = self._place_names(area_code)
        if kind == "insurer":
            key, size = (kind,), len(INSURERS)
        elif kind in ("property", "school", "government", "shop"):
            key, size = (kind, area_code[:9]), {"property": 3, "school": 2, "government": 1,
                                                 "shop": 6}[kind]
        elif kind == "village":
            key, size = (kind, area_code[:12]), 1
        elif kind in ("hospital", "factory", "travel", "online", "builder"):
            key, size = (kind, area_code[:6]), 4
        else:
            key, size = (kind, area_code[:6]), self.pool
        key = (*key, rng.randrange(size))
        if key in self.orgs:
            return self.orgs[key]
        n = key[-1]
        firm = rng.choice(FIRMS)
        region, prefix = area_code[:6], "91"
        if kind == "insurer":
            name, region = INSURERS[n], "320600"
        elif kind == "property":
            name = f"南通{firm}物业服务有限公司"
        elif kind == "school":
            name, prefix = (f"{town}中心小学", f"{town}初级中学")[n], "12"
        elif kind == "government":
            name, prefix = f"{town}办事处" if town.endswith("街道") else f"{town}人民政府", "11"
        elif kind == "shop":
            name, prefix = rng.choice([(f"{town}{rng.choice(SURNAMES)}记超市", "92"),
                                       (f"南通{firm}健身服务有限公司", "91"),
                                       (f"南通{firm}家电销售有限公司", "91"),
                                       (f"南通{firm}装饰工程有限公司", "91"),
                                       (f"{town}{firm}美容店", "92")])
        elif kind == "village":
            suffix = "居民委员会" if codes.village_class(codes.pad(area_code[:12])) == \
                "community" else "村民委员会"
            name = village if village.endswith("委员会") else f"{village}{suffix}"
            prefix = "54"
        elif kind == "hospital":
            name, prefix = (f"{county}人民医院", f"{county}中医院", "南通大学附属医院",
                            f"{town}卫生院")[n], "12"
            region = "320600" if n == 2 else region
        elif kind == "factory":
            name = f"南通{firm}{rng.choice(['化工', '印染', '金属制品', '塑业'])}有限公司"
        elif kind == "travel":
            name = f"南通{firm}国际旅行社有限公司"
        elif kind == "online":
            name = f"南通{firm}电子商务有限公司"
        elif kind == "builder":
            name = f"江苏{firm}建设工程有限公司"
        else:  # employer, company
            name = f"南通{firm}{rng.choice(TRADES)}有限公司"
        found = {"name": name[:80], "uscc": _uscc(rng, region, prefix),
                 "representative": f"{'负责人' if prefix in ('11', '54') else '法定代表人'} "
                                   f"{_name(rng, rng.random() < 0.7)}",
                 "phone": _landline(rng),
                 "address": f"江苏省南通市{county}{rng.choice(ROADS)}{rng.randrange(1, 500)}号"}
        self.orgs[key] = found
        return found


def _party(side: str, who: dict, *, main: bool = False) -> Party:
    if "uscc" in who:
        party = Party(side=side, kind=PartyKind.ORG, name=who["name"], is_main=main,
                      uscc=who["uscc"], representative=who["representative"])
        pii.assign(party, "phone", who["phone"])
        pii.assign(party, "address", who["address"])
        return party
    party = Party(side=side, kind=PartyKind.PERSON, name=who["name"], is_main=main,
                  id_type="111", sex=who["sex"], birth_date=who["birth"], ethnicity="01",
                  party_class=who["class"], person_id=who["person_id"])
    pii.assign(party, "id_number", who["id"])
    pii.assign(party, "phone", who["phone"])
    pii.assign(party, "address", who["address"] or None)
    return party


class Context:
    """What every case needs: the clock, the ladder, the accounts acting for centres and
    bodies, counters for numbers."""

    def __init__(self, areas: dict, registry: Registry, now: dt.datetime):
        from zhili.accounts.models import Position
        from zhili.core.models import EscalationStep

        self.areas, self.registry, self.now = areas, registry, now
        self.ladder = list(EscalationStep.objects.filter(workflow=Dispute.workflow_label)
                           .order_by("level").values_list("level", "after_minutes", "action"))
        self.dispatchers: dict[str, object] = {}
        for position in Position.objects.filter(role__code="dispatcher", is_active=True,
                                                org__isnull=False).select_related(
                "user").order_by("pk"):
            self.dispatchers.setdefault(position.area_code, position.user)
        self.rulings: Counter = Counter()

    def centre(self, dispute: Dispute) -> tuple[object, str]:
        """The account (or the name) of the centre routing the case."""
        level = max(1, min(dispute.owner_level, AreaLevel.TOWN))
        code = codes.pad(codes.prefix_of(dispute.area_code, level))
        user = self.dispatchers.get(code)
        area = self.areas.get(code)
        name = f"{area.name}综治中心" if area is not None and level == AreaLevel.TOWN else \
            f"{area.name if area else ''}社会治理现代化指挥中心"
        return user, name

    def upper(self, dispute: Dispute) -> tuple[object, str]:
        """The account (or the name) of the centre above the routing one (it supervises)."""
        level = max(1, min(dispute.owner_level, AreaLevel.TOWN) - 1)
        code = codes.pad(codes.prefix_of(dispute.area_code, level))
        area = self.areas.get(code)
        return self.dispatchers.get(code), f"{area.name if area else ''}社会治理现代化指挥中心"


class _Cut(Exception):
    """The rest of the case lies in the future."""


class Life:
    """Lives one case through the moves the services would have made, writing the rows they
    write, with the deadline sweep's rows in between; stops at the first move still in the
    future."""

    def __init__(self, ctx: Context, plan: Plan, rng: random.Random):
        self.ctx, self.plan, self.rng, self.d = ctx, plan, rng, plan.dispute
        self.now = ctx.now
        self.pending: list[tuple[dt.datetime, int, Callable]] = []
        self.seq = 0
        self.clock = None  # the deadline whose sweep rows are written up to `rung`
        self.rung = 0
        self.alert: DisputeAlert | None = None

    # -- the log -------------------------------------------------------------------------------
    def _actor(self, by: str) -> tuple[object, str]:
        if by == "system":
            return None, "system"
        if by == "centre":
            return self.ctx.centre(self.d)
        d = self.d
        user = self.plan.body_actor
        lead = d.lead_mediator or (self.ctx.registry.staff[d.body.pk][0] if d.body else None)
        return user, (lead.name if lead else "")

    def _log(self, action, src, dst, at, *, reason="", data=None, before=None, after=None,
             by="body", who=None) -> DisputeTransition:
        user, name = who or self._actor(by)
        row = DisputeTransition(dispute=self.d, action=action, from_state=src, to_state=dst,
                                actor=user, actor_name=user.username if user else name,
                                reason=reason, data=data or {}, deadline_before=before,
                                deadline_after=after, created_at=at)
        self.plan.transitions.append(row)
        return row

    def later(self, at: dt.datetime, callback: Callable) -> None:
        """Something that happens beside the moves (an answer, a court's ruling)."""
        self.seq += 1
        heapq.heappush(self.pending, (at, self.seq, callback))

    # -- the sweep -----------------------------------------------------------------------------
    def _next_sweep(self) -> dt.datetime | None:
        d = self.d
        if d.deadline_at is None:
            return None
        if self.clock != d.deadline_at:
            self.clock, self.rung = d.deadline_at, 0
        if self.rung == 0:
            return d.deadline_at + MINUTE
        if self.rung <= len(self.ctx.ladder):
            return d.deadline_at + dt.timedelta(minutes=self.ctx.ladder[self.rung - 1][1]) + \
                MINUTE
        return None

    def _sweep(self, at: dt.datetime) -> None:
        """What zhili.disputes.deadlines writes when the sweep passes the case."""
        d = self.d
        if self.rung == 0:
            d.overdue = d.ever_overdue = d.warned = True
            self._log("overdue", d.state, d.state, at, data={"step": d.deadline_step},
                      before=d.deadline_at, after=d.deadline_at, by="system")
            if self.alert is None:
                step = str(Step(d.deadline_step).label) if d.deadline_step in Step.values \
                    else d.deadline_step
                self.alert = DisputeAlert(dispute=d, area_code=d.area_code,
                                          kind=AlertKind.OVERDUE, created_at=at,
                                          message=_("%(number)s is overdue: %(step)s")
                                          % {"number": d.number, "step": step})
                self.plan.alerts.append(self.alert)
        else:
            level, _after, action = self.ctx.ladder[self.rung - 1]
            d.escalation_level = level
            self._log("escalation", d.state, d.state, at, data={"level": level, "rung": action},
                      by="system")
            if action == "supervise":
                self.order(at, _("%(number)s is overdue. Deal with it at once and answer this "
                                 "order.") % {"number": d.number})
        self.rung += 1

    def advance(self, upto: dt.datetime) -> None:
        """Write what the sweep and the side events wrote until `upto`, in time order."""
        while True:
            sweep = self._next_sweep()
            sweep = sweep if sweep is not None and sweep <= upto else None
            side = self.pending[0][0] if self.pending and self.pending[0][0] <= upto else None
            if sweep is None and side is None:
                return
            if side is None or (sweep is not None and sweep <= side):
                self._sweep(sweep)
            else:
                at, _seq, callback = heapq.heappop(self.pending)
                callback(at)

    # -- moves ---------------------------------------------------------------------------------
    def move(self, action: str, to: str, at: dt.datetime, *, reason: str = "", data=None,
             by: str = "body", apply: Callable | None = None, restart: bool = True) -> None:
        if at > self.now:
            raise _Cut
        self.advance(at)
        d = self.d
        before, src, earlier = d.deadline_at, d.state, self._actor(by)
        d.state = to
        if apply is not None:
            apply()
        # The centre that escalates is the one before; the lead named on acceptance acts
        # from then on, and a body that declines still signs its decline.
        who = earlier if by != "body" else self._actor(by)
        if not any(who):
            who = earlier
        if restart:
            services._start_step(d, at)
        d.version += 1
        self._log(action, src, to, at, reason=reason, data=data, before=before,
                  after=d.deadline_at, who=who)

    def note(self, action: str, at: dt.datetime, *, reason: str = "", data=None,
             by: str = "body", who=None) -> DisputeTransition:
        d = self.d
        return self._log(action, d.state, d.state, at, reason=reason, data=data,
                         after=d.deadline_at, by=by, who=who)

    def order(self, at: dt.datetime, message: str, *, who=None) -> None:
        """督办: an order to the body (or centre) with two working days to answer; `who`
        issued it (None: the ladder did, and the sweep logs no "supervise" row)."""
        d = self.d
        order = DisputeSupervision(dispute=d, area_code=d.area_code,
                                   issued_by=who[0] if who else None, message=message,
                                   created_at=at)
        workflow.set_deadline(order, step="answer", start=at,
                              amount=services.SUPERVISION_ANSWER_DAYS, unit="work_days")
        rows = []
        if who is not None:
            rows.append(self.note("supervise", at, reason=message, who=who))
        d.supervised = True
        self.plan.orders.append((order, rows))

        def answer(when):
            if order.state != SupervisionState.ISSUED:
                return
            order.state = SupervisionState.ANSWERED
            order.answer = self.rng.choice(ANSWERS)
            order.answered_at = when
            order.answered_by = self.plan.body_actor if d.body_id else \
                self.ctx.centre(d)[0]
            workflow.clear_deadline(order)
            rows.append(self.note("answer_supervision", when, reason=order.answer,
                                  by="body" if d.body_id else "centre"))

        self.later(_office(self.rng, at + HOUR * self.rng.uniform(2, 40)), answer)

    # -- the case ------------------------------------------------------------------------------
    def live(self) -> None:
        with contextlib.suppress(_Cut):
            self._live()
        self.advance(self.now)
        self._finish()

    def _hours(self, low: float, high: float, at: dt.datetime | None = None,
               office: bool = True) -> dt.datetime:
        moment = (at or self.last) + HOUR * self.rng.uniform(low, high)
        return _office(self.rng, moment) if office else moment

    @property
    def last(self) -> dt.datetime:
        rows = self.plan.transitions
        return rows[-1].created_at if rows else self.d.registered_at

    def _live(self) -> None:
        d, plan, rng = self.d, self.plan, self.rng
        at = d.registered_at
        d.state = S.REGISTERED
        services._start_step(d, at)
        self._log("register", "", S.REGISTERED, at, after=d.deadline_at, by="centre",
                  data={"channel": d.channel, "proposed_body": d.proposed_body_id})
        if plan.supervise:
            def supervise(when):
                if d.is_open:
                    self.order(when, SUPERVISE_MESSAGE, who=self.ctx.upper(d))
            self.later(self._hours(3, 60), supervise)
        slow = rng.random() < 0.03
        if rng.random() < 0.015 and not plan.fresh:
            rejected = self._hours(0.5, 20)

            def closed():
                d.closed_at = rejected

            self.move("reject", S.REJECTED, rejected, reason=rng.choice(REJECT_REASONS),
                      by="centre", apply=closed)
            return
        if plan.escalate:
            def up():
                d.owner_level -= 1
                d.body = None
            self.move("escalate", S.REGISTERED, self._hours(0.5, 6), by="centre", apply=up,
                      reason="涉及人数较多、情绪激烈，需由上级统筹调处。")
        body = self._route(slow and rng.random() < 0.3)
        if body is None:
            return
        if rng.random() < 0.03 and body.kind == BodyKind.PROFESSIONAL and not plan.fresh:
            def back():
                d.decline_count += 1
                d.body = None
                d.proposed_body = None
            self.move("decline", S.REGISTERED, self._hours(2, 40), by="body",
                      reason=rng.choice(DECLINE_REASONS), apply=back)
            plan.body_actor = None
            fallback = self.ctx.registry.committee(d.area_code)
            if fallback is None:
                return
            body = self._route(False, fallback)
        self._accept(body, slow and rng.random() < 0.3)
        self._mediate(slow)

    def _route(self, slow: bool, body: MediationBody | None = None) -> MediationBody | None:
        d = self.d
        body = body or self.plan.body
        if body is None:
            return None
        at = self._hours(48, 140) if slow else self._hours(0.2, 5)

        def routed():
            d.body = body
            d.routed_at = at
            d.lead_mediator = None

        self.plan.body_actor = next((m.user for m in self.ctx.registry.staff[body.pk] if m.user),
                                    None)
        self.move("route", S.ASSIGNED, at, by="centre", apply=routed, data={"body": body.pk})
        return body

    def _accept(self, body: MediationBody, slow: bool) -> None:
        d, rng = self.d, self.rng
        staff = self.ctx.registry.staff[body.pk]
        linked = [m for m in staff if m.user]
        lead = linked[0] if linked and rng.random() < 0.7 else rng.choice(staff)
        chosen = [lead] + rng.sample([m for m in staff if m != lead],
                                     min(len(staff) - 1, rng.choice([0, 1, 1, 2])))
        at = self._hours(120, 260) if slow else self._hours(0.5, 30)

        def accepted():
            d.accepted_at = at
            d.lead_mediator = lead

        self.move("accept", S.MEDIATING, at, apply=accepted,
                  data={"mediators": [m.pk for m in chosen]})
        self.plan.mediators = chosen

    def _mediate(self, slow: bool) -> None:
        """Sessions, extensions and the end of mediation; then the agreement's life."""
        d, rng, kind = self.d, self.rng, self.plan.kind
        start = self.last
        limit = d.body.mediate_days
        if slow:
            days = rng.uniform(limit + 3, limit * 2.5)
        elif kind.complex or d.is_group:
            days = rng.uniform(3, limit * 1.6)
        else:
            days = rng.uniform(0.2, limit * 0.7)
        end = start + dt.timedelta(days=days)
        sessions = 1 if days < 2 else rng.choice([1, 2, 2, 3] if days < 15 else [2, 3, 3, 4])
        marks = sorted(rng.uniform(0.1, 1.0) for _ in range(sessions - 1)) + [1.0]
        extensions = []
        if not slow and days > limit - 1:
            first = start + dt.timedelta(days=limit - rng.uniform(1, 4))
            extensions.append((first, min(30, max(10, math.ceil(days - limit) + 5))))
            if days > limit + 30 - 2:
                extensions.append((first + dt.timedelta(days=25), 30))
        moments = [(start + (end - start) * m, "session") for m in marks]
        moments += [(when, ("extend", n)) for when, n in extensions]
        moments.sort(key=lambda m: m[0])
        for n, (when, what) in enumerate(moments):
            when = _office(rng, max(when, self.last + HOUR))
            if what == "session":
                self._session(when, final=n == len(moments) - 1)
            else:
                self._extend(when, what[1])
        outcome = self._outcome()
        at = self.last + MINUTE * rng.uniform(10, 90)
        if outcome in (Outcome.WITHDRAWN, Outcome.FAILURE):
            guidance = ""
            if outcome == Outcome.WITHDRAWN:
                note = rng.choice(WITHDRAW_NOTES)
            else:
                guidance = Guidance.ARBITRATION if kind.code.startswith("07") and \
                    rng.random() < 0.8 else rng.choices(
                        [Guidance.LITIGATION, Guidance.ADMINISTRATIVE, Guidance.OTHER],
                        [70, 15, 15])[0]
                note = FAILED.format(where=FAIL_NOTES[guidance])

            def ended():
                d.outcome, d.outcome_note, d.guidance = outcome, note, guidance
                d.concluded_at = d.closed_at = at

            self.move("fail" if outcome == Outcome.FAILURE else "withdraw", S.CLOSED, at,
                      reason=note, apply=ended, data={"outcome": outcome})
            return
        self._agree(outcome, at)

    def _outcome(self) -> str:
        d, rng, kind = self.d, self.rng, self.plan.kind
        if self.plan.fresh:
            return Outcome.SUCCESS
        failure = 0.08 + (0.08 if kind.complex else 0) + (0.05 if d.is_group else 0) + \
            (0.1 if d.remediation_count else 0)
        return rng.choices([Outcome.SUCCESS, Outcome.PARTIAL, Outcome.FAILURE,
                            Outcome.WITHDRAWN], [0.94 - failure, 0.04, failure, 0.03])[0]

    def _session(self, at: dt.datetime, final: bool) -> None:
        d, rng = self.d, self.rng
        names = [p.name for p in self.plan.parties]
        place = f"{d.body.org.name}调解室" if rng.random() < 0.75 else f"{d.place}（现场）"
        count = len(self.plan.sessions)
        record = RECORDS[0] if count == 0 else rng.choice(RECORDS[1:])
        if final:
            record += f"经调解，双方就{self.plan.kind.issue}达成一致意见。"
        self.move("record_session", S.MEDIATING, at, reason=place[:100], restart=False)
        session = MediationSession(dispute=d, held_at=at - HOUR * rng.uniform(0.5, 2.5),
                                   place=place[:100], participants="、".join(names)[:300],
                                   record=f"第{count + 1}次调解。{record}",
                                   recorded_by=self.plan.body_actor, created_at=at)
        chosen = self.plan.mediators if rng.random() < 0.5 else self.plan.mediators[:1]
        self.plan.sessions.append((session, list(chosen)))

    def _extend(self, at: dt.datetime, days: int) -> None:
        d = self.d
        if d.extension_count >= services.MAX_EXTENSIONS or d.deadline_at is None:
            return

        def extended():
            base = max(d.deadline_at, at)
            d.extension_count += 1
            d.deadline_at = clock.deadline(base, days, "days")
            d.warn_at = d.deadline_at - (d.deadline_at - base) * 0.2
            d.warned = d.overdue = False
            d.escalation_level = 0
            d.resolve_by = _local(d.deadline_at).date()

        self.move("extend", S.MEDIATING, at, reason=self.rng.choice(EXTEND_REASONS),
                  apply=extended, restart=False, data={"days": days})

    def _agree(self, outcome: str, at: dt.datetime) -> None:
        d, plan, rng, kind = self.d, self.plan, self.rng, self.plan.kind
        small = (d.amount or 0) < 5000 and not d.is_group and \
            all(p.kind == PartyKind.PERSON for p in plan.parties)
        oral = small and rng.random() < 0.55
        sign_delay = HOUR * rng.uniform(0.1, 1.5) if rng.random() < 0.7 else \
            dt.timedelta(days=rng.uniform(1, 4))
        if rng.random() < 0.02:
            sign_delay = dt.timedelta(days=rng.uniform(8, 20))  # signed late: overdue first
        effective = _local(at + (dt.timedelta(0) if oral else sign_delay)).date()
        if oral:
            due = effective + dt.timedelta(days=rng.choice([0, 0, 1, 3, 7, 10]))
        elif rng.random() < 0.15:
            due = effective + dt.timedelta(days=rng.randrange(90, 180))  # in instalments
        else:
            due = effective + dt.timedelta(days=rng.randrange(3, 60))
        a = next(p.name for p in plan.parties if p.side == PartySide.APPLICANT)
        b = next(p.name for p in plan.parties if p.side == PartySide.RESPONDENT)
        amount = d.amount if outcome == Outcome.SUCCESS or d.amount is None else \
            (d.amount * Decimal("0.6")).quantize(Decimal("1"))
        values = {"a": a, "b": b, "due": f"{due.year}年{due.month}月{due.day}日",
                  "amount": f"{amount:,.0f}" if amount is not None else ""}
        terms = [t.format(**values) for t in kind.terms if "{amount}" not in t or amount]
        copies = min(20, max(3, len(plan.parties) + 1))
        agreement = Agreement(
            dispute=d, area_code=d.area_code, is_current=True,
            form=AgreementForm.ORAL if oral else AgreementForm.WRITTEN,
            facts=d.description, issues=f"双方争议的焦点是{kind.issue}。",
            responsibilities="双方对纠纷的发生均有一定责任，经调解员释法说理，双方互谅互让。",
            terms=terms, performance_method=rng.choice(
                ["银行转账", "现金当面支付", "分期支付"] if amount else ["按协议约定自行履行"]),
            performance_place=d.place if oral else (d.body.org.name[:100]), performance_due=due,
            place=f"{d.body.org.name}调解室"[:100], copies=copies, drafted_at=at,
            effective_on=effective if oral else None, fulfilment=Fulfilment.PENDING)
        for old in plan.agreements:
            old.is_current = False
        plan.agreements.append(agreement)

        def agreed():
            d.outcome, d.outcome_note = outcome, "" if outcome == Outcome.SUCCESS else \
                "双方就主要争议达成协议，部分请求未获支持。"
            d.concluded_at = at
            d.guidance = ""
            if oral:
                d.follow_up_due = due

        self.move("agree_orally" if oral else "agree", S.PERFORMING if oral else S.AGREED, at,
                  apply=agreed, reason=d.outcome_note, data={"outcome": outcome})
        if not oral:
            signed = _office(rng, at + sign_delay)
            names = sorted({p.name for p in plan.parties} | {m.name for m in plan.mediators})
            mediator_names = {m.name for m in plan.mediators}

            def sign():
                agreement.signatures = [{"name": n, "role": "mediator" if n in mediator_names
                                         else "party"} for n in names]
                agreement.effective_on = _local(signed).date()
                d.follow_up_due = due

            self.move("sign", S.PERFORMING, signed, apply=sign,
                      data={"signed_on": _local(signed).date().isoformat()})
            if rng.random() < kind.confirm + (0.1 if (d.amount or 0) > 50000 else 0):
                self._confirmation(agreement)
        self._perform(agreement)

    def _confirmation(self, agreement: Agreement) -> None:
        d, rng = self.d, self.rng
        court, court_code = COURTS.get(d.body.area_code[:6], COURTS["320613"])
        applied = _moment(rng, agreement.effective_on + dt.timedelta(days=rng.randrange(1, 25)))
        confirmation = JudicialConfirmation(dispute=d, court=court,
                                            applied_on=_local(applied).date(),
                                            recorded_by=self.plan.body_actor)

        def apply(when):
            self.plan.confirmations.append(confirmation)
            self.note("apply_confirmation", when, reason=court)
            self.later(_moment(rng, confirmation.applied_on + dt.timedelta(
                days=rng.randrange(3, 16))), ruling)

        def ruling(when):
            result = rng.choices([ConfirmationResult.VALID, ConfirmationResult.WITHDRAWN,
                                  ConfirmationResult.INVALID], [93, 4, 3])[0]
            confirmation.result = result
            confirmation.ruled_on = _local(when).date()
            if result == ConfirmationResult.VALID:
                year = confirmation.ruled_on.year
                self.ctx.rulings[(court, year)] += 1
                confirmation.ruling_number = \
                    f"({year})苏{court_code}民特{self.ctx.rulings[(court, year)]}号"
            elif result == ConfirmationResult.INVALID:
                confirmation.note = "协议部分内容违反法律规定，裁定驳回申请。"
            self.note("ruling", when, reason=str(confirmation.get_result_display()),
                      data={"result": result})
            if result == ConfirmationResult.INVALID and d.state == S.PERFORMING and \
                    not d.remediation_count:
                self.invalid = True

        self.later(applied, apply)

    invalid = False

    def _perform(self, agreement: Agreement) -> None:
        """Follow-ups while the agreement is performed; fulfilled closes, broken (or ruled
        invalid) is mediated again once."""
        d, rng = self.d, self.rng
        due = agreement.performance_due
        while True:
            if self.invalid:
                self.invalid = False
                self._remediate(self.last + HOUR, "法院裁定调解协议无效，依当事人申请重新调解。")
                return
            last_day = _local(self.last).date()
            if (due - last_day).days > 35:  # a long performance: a visit every month
                visit = _moment(rng, last_day + dt.timedelta(days=rng.randrange(25, 32)))
                self._visit(visit, agreement, Fulfilment.PERFORMING)
                continue
            # within the week after the due date the follow-up clock allows
            visit = _moment(rng, max(due, last_day) + dt.timedelta(days=rng.randrange(0, 7)))
            if visit <= self.last:
                visit = self.last + HOUR * rng.uniform(2, 6)
            broken = rng.random() < 0.04 and not d.remediation_count and not self.plan.fresh
            self._visit(visit, agreement, Fulfilment.BROKEN if broken else Fulfilment.FULFILLED)
            if broken:
                self._remediate(self._hours(24, 120), "被申请人未按协议履行，申请人申请重新调解。")
            return

    def _visit(self, at: dt.datetime, agreement: Agreement, fulfilment: str) -> None:
        d, rng = self.d, self.rng
        day = _local(at).date()
        satisfaction = "" if fulfilment == Fulfilment.BROKEN else rng.choices(
            [Satisfaction.SATISFIED, Satisfaction.BASICALLY, Satisfaction.UNSATISFIED],
            [84, 13, 3])[0]
        note = {Fulfilment.PERFORMING: "正在按协议约定分期履行。",
                Fulfilment.FULFILLED: "协议已履行完毕，双方表示满意。" if satisfaction ==
                Satisfaction.SATISFIED else "协议已履行完毕。",
                Fulfilment.BROKEN: "被申请人未按协议约定期限履行，申请人要求重新调解。"}[fulfilment]

        def visited():
            agreement.fulfilment = fulfilment
            if fulfilment == Fulfilment.FULFILLED:
                agreement.fulfilled_on = day
                d.closed_at = at
                d.follow_up_due = None
            elif fulfilment == Fulfilment.PERFORMING:
                d.follow_up_due = max(agreement.performance_due,
                                      day + dt.timedelta(days=rules.FOLLOW_UP_EVERY_DAYS))
            if satisfaction:
                d.satisfaction = satisfaction

        action = "close" if fulfilment == Fulfilment.FULFILLED else "follow_up"
        self.move(action, S.CLOSED if action == "close" else S.PERFORMING, at, reason=note,
                  apply=visited, data={"fulfilment": fulfilment})
        self.plan.follow_ups.append(FollowUp(
            dispute=d, visited_on=day, method=rng.choices(
                [FollowUpMethod.PHONE, FollowUpMethod.VISIT, FollowUpMethod.OFFICE],
                [60, 30, 10])[0], fulfilment=fulfilment, satisfaction=satisfaction, note=note,
            by=self.plan.body_actor, created_at=at))
        if fulfilment == Fulfilment.BROKEN:
            self.plan.alerts.append(DisputeAlert(
                dispute=d, area_code=d.area_code, kind=AlertKind.ESCALATING, created_at=at,
                message=(_("The agreement of %(number)s was broken: %(note)s")
                         % {"number": d.number, "note": note})[:300]))

    def _remediate(self, at: dt.datetime, reason: str) -> None:
        d = self.d

        def again():
            d.remediation_count += 1
            d.outcome = ""
            d.concluded_at = None
            d.follow_up_due = None

        self.move("remediate", S.MEDIATING, at, reason=reason, apply=again)
        self._mediate(False)

    # -- the end -------------------------------------------------------------------------------
    def _finish(self) -> None:
        d = self.d
        if d.deadline_at is not None and d.warn_at is not None and d.warn_at <= self.now:
            d.warned = True
        for order, _rows in self.plan.orders:
            if order.state == SupervisionState.ISSUED and order.deadline_at is not None and \
                    order.deadline_at <= self.now:
                order.overdue = order.ever_overdue = order.warned = True
        if self.alert is not None and not (d.overdue and d.is_open):
            self.alert.state = AlertState.HANDLED
            self.alert.handled_note = "已督促承办单位办理。"
        for alert in self.plan.alerts:
            if alert.kind == AlertKind.ESCALATING and d.state != S.PERFORMING:
                alert.state = AlertState.HANDLED
                alert.handled_note = "已组织重新调解。"


# --- drawing the cases -----------------------------------------------------------------------

def _when(rng: random.Random, today: dt.date, season: str) -> dt.date:
    top = 4.3
    while True:
        day = today - dt.timedelta(days=rng.randrange(0, 365))
        if rng.random() * top <= _season(season, day):
            return day


def _place(rng: random.Random, kind: Kind, area, people: People) -> str:
    county, town, village = people._place_names(area.code)
    if kind.place == "road":
        return rng.choice([f"{rng.choice(ROADS)}与{rng.choice(ROADS)}交叉口",
                           f"{town}{rng.choice(ROADS)}", f"{village}村道"])
    if kind.place == "estate":
        return f"{village[:2]}{rng.choice(ESTATES)}{rng.randrange(1, 30)}幢"
    if kind.place == "field":
        return f"{village}{rng.randrange(1, 15)}组"
    if kind.place == "site":
        return f"{village}{rng.choice(['建房工地', '道路施工现场', '厂房工地'])}"
    if kind.place in ("hospital", "shop", "company", "school"):
        return f"{town}{rng.choice(ROADS)}{rng.randrange(1, 400)}号"
    if codes.village_class(codes.pad(area.code[:12])) == "community":
        return f"{village[:2]}{rng.choice(ESTATES)}{rng.randrange(1, 30)}幢"
    return f"{village}{rng.randrange(1, 15)}组"


def _draw(rng: random.Random, *, count: int, areas: dict, registry: Registry, people: People,
          today: dt.date, now: dt.datetime) -> list[Plan]:
    villages = sorted((a for a in areas.values() if a.level == AreaLevel.VILLAGE),
                      key=lambda a: a.code)
    home = [a for a in villages if a.code.startswith(HOME_TOWN)] or villages
    by_pk = {a.pk: a for a in areas.values()}
    weights = [k.weight for k in KINDS]
    events = _dispute_events()
    hotspots = []
    for _n in range(max(3, count // 250)):
        area = rng.choice(home if rng.random() < 0.3 else villages)
        kind = rng.choice([k for k in KINDS if k.code in ("0402", "0201", "0703", "0504")])
        hotspots.append((area, kind, _place(rng, kind, area, people),
                         today - dt.timedelta(days=rng.randrange(20, 330))))
    plans = []
    for i in range(count):
        fresh = i >= count - FRESH
        kind = rng.choices(KINDS, weights)[0] if not fresh else \
            next(k for k in KINDS if k.code == FRESH_TYPES[i - count + FRESH])
        area = rng.choice(home) if fresh or rng.random() < HOME_SHARE else rng.choice(villages)
        place = None
        day = _when(rng, today, kind.season)
        if not fresh and rng.random() < 0.04:  # a hot spot: the same place again and again
            area, kind, place, centre = rng.choice(hotspots)
            day = min(today, centre + dt.timedelta(days=rng.randrange(-40, 40)))
        shares = [w * CHANNEL_BIAS.get(c, {}).get(kind.code, 1) for c, w in CHANNELS]
        channel = rng.choices([c for c, _w in CHANNELS], shares)[0]
        event = None
        if channel == Channel.EVENT:
            pool = events.get(kind.event)
            if pool and not fresh:
                event = pool.pop()
            else:
                channel = Channel.PROACTIVE
        office = channel in (Channel.WALK_IN, Channel.PROACTIVE, Channel.COURT,
                             Channel.PETITION, Channel.OTHER)
        if event is not None:
            area = by_pk.get(event["area_id"], area)
            registered = _office(rng, event["reported_at"] + HOUR * rng.uniform(1, 30))
            if registered > now:
                registered = now - MINUTE * rng.uniform(5, 60)
            occurred = _local(event["reported_at"]).date()
        elif fresh:  # from minutes to twelve days ago
            registered = now - HOUR * rng.uniform(0.2, 1.0) * 12 * 24 * (
                (i - count + FRESH + 1) / FRESH) ** 2
            occurred = _local(registered).date() - dt.timedelta(
                days=rng.randrange(0, 5))
        else:
            registered = _moment(rng, day, office=office)
            if registered > now:
                registered = now - HOUR * rng.uniform(0.5, 3)
            occurred = _local(registered).date() - dt.timedelta(
                days=rng.choice([0, 0, 1, 2, 3, 7, 15, 30]))
        plans.append(_plan(rng, kind, area, place, channel, event, registered, occurred,
                           fresh, registry, people))
    return plans


def _dispute_events() -> dict[str, list[dict]]:
    """Grid events of the dispute categories, to be taken in as cases (channel "event")."""
    from zhili.events.models import Event

    pools: dict[str, list[dict]] = defaultdict(list)
    for row in Event.objects.filter(category__parent__code="dispute").values(
            "pk", "title", "description", "address", "area_id", "lat", "lng", "reported_at",
            "category__code").order_by("-pk"):
        pools[row["category__code"]].append(row)
    return pools


def _plan(rng, kind: Kind, area, place, channel, event, registered, occurred, fresh,
          registry: Registry, people: People) -> Plan:
    group = rng.random() < kind.group
    workers = kind.respondent == "employer"
    count = rng.randint(*kind.group_size) if group else rng.choice([2, 2, 2, 3, 4])
    registry_share = 0.5 if area.code.startswith(HOME_TOWN) else 0.0
    applicants = []
    if kind.applicant == "company":
        applicants.append(people.org("company", area.code))
    else:
        for n in range(3 if group and rng.random() < 0.5 else 1 if not group else 2):
            applicants.append(people.person(area.code, worker=workers, registry=registry_share
                                            if n == 0 else 0.0))
    if kind.respondent == "person":
        respondent = people.person(area.code, registry=registry_share / 2)
        while respondent in applicants:
            respondent = people.person(area.code)
    else:
        respondent = people.org(kind.respondent, area.code)
    parties = [_party(PartySide.APPLICANT, who, main=n == 0) for n, who in enumerate(applicants)]
    parties.append(_party(PartySide.RESPONDENT, respondent))
    if kind.code == "0503" and rng.random() < 0.35:
        parties.append(_party(PartySide.THIRD, people.org("insurer", area.code)))
    people_count = max(count, len(parties))
    amount = None
    if kind.amount and (rng.random() < 0.85 or group):
        low, high = kind.amount
        value = math.exp(rng.uniform(math.log(low), math.log(high)))
        if group and kind.code.startswith("07"):
            value *= max(1, people_count / 4)
        amount = Decimal(int(value / 100) * 100 or 100)
    a, b = parties[0].name, parties[-2 if parties[-1].side == PartySide.THIRD else -1].name
    if event is not None:
        title, description = event["title"], event["description"] or event["title"]
        place = (event["address"] or area.name)[:100]
    else:
        place = place or _place(rng, kind, area, people)
        title, text = rng.choice(kind.texts)
        description = text.format(a=a, b=b, n=people_count, place=place,
                                  amount=f"{amount:,.0f}" if amount else "若干",
                                  months=rng.choice([2, 3, 4, 5]))
    lng = lat = None
    if area.bbox_west is not None:
        lng = Decimal(f"{rng.uniform(area.bbox_west, area.bbox_east):.6f}")
        lat = Decimal(f"{rng.uniform(area.bbox_south, area.bbox_north):.6f}")
    elif event is not None:
        lng, lat = event["lng"], event["lat"]
    may_intensify = rng.random() < kind.intensify + (0.1 if group else 0)
    orgs = [p for p in parties if p.kind == PartyKind.ORG]
    dispute = Dispute(
        title=title[:100], occurred_on=min(occurred, _local(registered).date()),
        place=place[:100], area=area, area_code=area.code, lat=lat, lng=lng,
        type_code=kind.code, stat_class=codetables.stat_class_of(kind.code),
        scale=rules.scale_of(people_count), people_count=people_count, description=description,
        involved_units="、".join(p.name for p in orgs)[:100], amount=amount,
        is_group=people_count >= rules.group_threshold(), may_intensify=may_intensify,
        stability_risk=may_intensify and group and rng.random() < 0.3, channel=channel,
        source_event_id=event["pk"] if event else None,
        owner_level=int(min(AreaLevel.TOWN, max(area.level, AreaLevel.CITY))),
        registered_at=registered)
    for party in parties:
        party.dispute = dispute
    hint = kind.hint
    candidates = registry.candidates(kind.code, area.code, hint)
    dispute.proposed_body = candidates[0] if candidates else None
    plan = Plan(dispute=dispute, kind=kind, parties=parties, fresh=fresh,
                escalate=dispute.is_group and people_count >= 30 and not fresh and
                rng.random() < 0.5,
                supervise=(dispute.is_group or may_intensify) and rng.random() < 0.35)
    # The centre mostly follows the proposal; simple cases of a specialised type often stay
    # with the town's committee, and a few business cases go to the city's centres.
    committee = registry.committee(area.code)
    chosen = dispute.proposed_body
    if chosen is not None and chosen.type_codes and committee is not None and not fresh and \
            not plan.escalate and rng.random() < (0.2 if kind.complex or group else 0.4):
        chosen = committee
    if plan.escalate:
        county = [b for b in candidates if b.area_code[6:] == "0" * 9 and
                  b.area_code[4:6] != "00"]
        chosen = county[0] if county else chosen
    if kind.applicant == "company" and rng.random() < 0.1:
        city_centres = [b for b in registry.bodies if b.kind == BodyKind.COMPREHENSIVE]
        chosen = rng.choice(city_centres) if city_centres else chosen
    plan.body = chosen
    if chosen is not None:
        method = next((m for centre, (_a, m) in CENTRES.items() if centre in chosen.org.name),
                      None)
        dispute.method = method or codetables.PEOPLES_MEDIATION
    return plan


@transaction.atomic
def build_disputes(*, scale: str, areas: dict, orgs: dict, today: dt.date,
                   count: int | None = None) -> int:
    """The registry (always completed) and a year of cases (once: nothing is added when cases
    exist). Returns the number of cases created."""
    bodies = build_registry()
    if Dispute.objects.exists():
        return 0
    now = timezone.now()
    count = count if count is not None else COUNTS.get(scale, COUNTS["small"])
    registry = Registry(bodies)
    collecting = gc.isenabled()
    gc.disable()  # many objects are made and none is garbage: the collector's scans only cost
    try:
        plans = _lives(count, areas, registry, today, now)
        _write(plans, registry)
    finally:
        if collecting:
            gc.enable()
    _risks(plans, now, ALERT_SAMPLE.get(scale, ALERT_SAMPLE["small"]))
    rebuild_all()  # every month's rollup, and the "as of" time of the statistics
    return len(plans)


def _lives(count: int, areas: dict, registry: Registry, today: dt.date,
           now: dt.datetime) -> list[Plan]:
    """Draw the cases, then live each through, oldest first (numbers follow time)."""
    rng = random.Random(SEED)
    people = People(rng, areas, today, count)
    people.load_registry()
    plans = _draw(rng, count=count, areas=areas, registry=registry, people=people, today=today,
                  now=now)
    plans.sort(key=lambda p: p.dispute.registered_at)
    ctx = Context(areas, registry, now)
    refs: Counter = Counter()
    for index, plan in enumerate(plans, start=1):
        d = plan.dispute
        local = _local(d.registered_at)
        d.number = f"JF{local:%Y%m%d}{index:07d}"
        if d.channel in (Channel.HOTLINE, Channel.POLICE, Channel.COURT, Channel.PETITION):
            refs[d.channel] += 1
            n = refs[d.channel]
            d.external_ref = {
                Channel.HOTLINE: f"12345-{local:%Y%m%d}{n:05d}",
                Channel.POLICE: f"110-{local:%Y%m%d}{n:05d}",
                Channel.COURT: f"({local.year})苏06诉前调{n}号",
                Channel.PETITION: f"通信访{local.year}{n:05d}"}[d.channel]
        d.registered_by = ctx.centre(d)[0] if d.channel != Channel.PROACTIVE else None
        Life(ctx, plan, random.Random(f"{SEED}:{index}")).live()
    return plans


def _write(plans: list[Plan], registry: Registry) -> None:
    """Insert the rows in dependency order (numbers first: as the services number a body's
    agreements, counting every agreement it drafted that year, oral ones unnumbered)."""
    seen: Counter = Counter()
    for agreement in sorted((a for p in plans for a in p.agreements),
                            key=lambda a: a.drafted_at):
        body = agreement.dispute.body
        year = _local(agreement.drafted_at).year
        seen[(body.pk, year)] += 1
        if agreement.form == AgreementForm.WRITTEN:
            prefix = body.number_prefix or body.org.short_name or "调"
            agreement.number = f"{prefix}〔{year}〕第{seen[(body.pk, year)]}号"
    Dispute.objects.bulk_create([p.dispute for p in plans], batch_size=1000)
    Party.objects.bulk_create([x for p in plans for x in p.parties], batch_size=2000)
    through = Dispute.mediators.through
    Dispute.mediators.through.objects.bulk_create(
        [through(dispute_id=p.dispute.pk, mediator_id=m.pk) for p in plans for m in p.mediators],
        batch_size=2000)
    sessions = [s for p in plans for s, _m in p.sessions]
    MediationSession.objects.bulk_create(sessions, batch_size=2000)
    session_through = MediationSession.mediators.through
    session_through.objects.bulk_create(
        [session_through(mediationsession_id=s.pk, mediator_id=m.pk)
         for p in plans for s, chosen in p.sessions for m in chosen], batch_size=2000)
    Agreement.objects.bulk_create([a for p in plans for a in p.agreements], batch_size=2000)
    JudicialConfirmation.objects.bulk_create([c for p in plans for c in p.confirmations],
                                             batch_size=2000)
    FollowUp.objects.bulk_create([f for p in plans for f in p.follow_ups], batch_size=2000)
    orders = [(o, rows) for p in plans for o, rows in p.orders]
    DisputeSupervision.objects.bulk_create([o for o, _rows in orders], batch_size=1000)
    for order, rows in orders:
        for row in rows:
            row.data = {**row.data, "order": order.pk}
    DisputeTransition.objects.bulk_create([t for p in plans for t in p.transitions],
                                          batch_size=5000)
    DisputeAlert.objects.bulk_create([a for p in plans for a in p.alerts], batch_size=1000)
    counts = dict(Dispute.objects.filter(state__in=(S.ASSIGNED, S.MEDIATING)).values(
        "body").annotate(n=Count("pk")).values_list("body", "n"))
    for body in registry.bodies:
        if counts.get(body.pk, 0) != body.open_cases:
            MediationBody.objects.filter(pk=body.pk).update(open_cases=counts.get(body.pk, 0))


def _risks(plans: list[Plan], now: dt.datetime, sample: int) -> None:
    """Alerts to the centres for recent open cases, raised as intake raises them."""
    recent = [p.dispute for p in plans if p.dispute.state in OPEN_STATES and
              p.dispute.registered_at >= now - dt.timedelta(days=90)]
    risky = [d for d in recent if d.is_group or d.may_intensify or d.stability_risk]
    rest = [d for d in recent if not (d.is_group or d.may_intensify or d.stability_risk)]
    rng = random.Random(f"{SEED}:risks")
    chosen = risky[:sample] + rng.sample(rest, min(len(rest), max(0, sample - len(risky))))
    for dispute in sorted(chosen, key=lambda d: d.registered_at):
        services.check_risks(dispute)
