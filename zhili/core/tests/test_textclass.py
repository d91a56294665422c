import pickle
import random
import re

import pytest

from zhili.core import textclass
from zhili.core.textclass import KeywordMatcher, TextClassifier

# A synthetic history of grid events: per category, report templates whose [a|b] parts vary,
# filled with shared places, times, openings and endings, so held-out reports are phrased in
# combinations the classifier has not seen. Some words deliberately cross categories (楼道,
# 烧烤, 消防通道, 漏水, 噪音, 安全隐患, 占用) as they do in real reports.
TEMPLATES = {
    "占道经营": [
        "{place}[有|有很多|总有]流动摊贩[占道经营|占道摆摊]，{time}[摆摊|摆地摊]卖{goods}，"
        "[影响行人通行|行人只能走机动车道]",
        "{place}[门口|旁边]的{shop}把[商品|货架|桌椅][摆到|堆到]人行道上，占用通道",
        "{time}{place}附近有人[推三轮车|开着面包车]卖{goods}，[堵住了路口|交通很乱]",
        "{place}的{shop}[店外经营|出店经营]，[桌椅|烧烤架]摆到了马路边",
        "夜市[摊位|小摊]占用了{place}的人行道，{time}人车混行",
        "{place}有[商户|小贩]在[门前|路边]私自摆摊卖{goods}",
        "{place}路边{time}都有人[开着车|拉着板车]卖{goods}，城管来了就跑",
    ],
    "违章搭建": [
        "{place}[顶楼|六楼]住户[私自|擅自]在楼顶加盖了一间[彩钢板房|铁皮房]",
        "{place}一楼住户在[院子里|公共绿地上][违规|违章]搭建[阳光房|玻璃房]",
        "{place}有业主擅自[扩建|改建]，把阳台往外[扩了一米多|延伸出去]",
        "{time}发现{place}有人在[绿化带上|空地上][搭棚子|搭建简易房]",
        "{place}的[底商|门面房][违法|违章]搭建[雨棚|钢结构棚]，占用公共空间",
        "{place}有人用[砖头|板材]在公共区域[砌了|搭了]一间小屋当仓库",
        "{place}住户把[露台|天台]封起来建成了房间，没有[审批手续|规划许可]",
    ],
    "环境卫生": [
        "{place}的垃圾桶[满了|溢出来了]{time}没人清运，[臭味很大|臭气熏天]",
        "{place}旁边[堆了很多|乱堆]生活垃圾，[苍蝇蚊子特别多|招老鼠]",
        "{place}有人[半夜|偷偷]乱倒[建筑垃圾|装修垃圾]",
        "{place}的下水道[堵了|冒水]，污水[流得满地都是|横流]",
        "{place}绿化带里全是[塑料袋|外卖盒]和烟头，卫生[太差|很差]",
        "{place}有[死老鼠|死猫]{time}没人处理，气味难闻",
        "{place}的公共厕所[脏乱差|又脏又臭]，{time}没人打扫",
    ],
    "噪音扰民": [
        "{place}{time}有人跳广场舞，音响[声音太大|开得震天响][吵得没法休息|影响休息]",
        "{place}的工地{time}还在[施工|打桩]，噪音[很大|扰民]",
        "{place}楼上住户{time}装修，[电钻声|敲打声]响个不停",
        "{place}的[KTV|酒吧]{time}[唱歌|放音乐]声音扰民",
        "{place}的烧烤店{time}[喝酒划拳|大声喧哗]，[吵得睡不着|影响休息]",
        "{place}有商家用[大喇叭|音箱]循环播放促销广告，[吵死了|很扰民]",
        "{place}有住户养的狗{time}一直叫，[影响睡觉|吵得人睡不着]",
    ],
    "消防隐患": [
        "{place}楼道里[堆放了大量杂物|堆满了纸箱]，[堵塞消防通道|影响疏散]",
        "{place}有人把电动车[推进楼道|放在楼梯间]充电，[存在火灾隐患|很危险]",
        "{place}有住户从窗户[拉电线|拉插线板]飞线充电",
        "{place}的灭火器[已经过期|不见了]，消火栓里[没有水|没有水带]",
        "{place}的消防通道被[私家车|货车]长期占用",
        "{place}的安全出口被[锁死了|堵住了]，疏散通道不畅",
        "{place}[楼梯间|地下室]堆满了[纸箱和旧家具|易燃物]，一点就着",
    ],
    "矛盾纠纷": [
        "{place}两户邻居因为{issue}发生争吵，[差点动手|互不相让]",
        "{place}的业主和物业因为{issue}[闹矛盾|起了争执]",
        "{place}楼上漏水到楼下，双方[协商赔偿不成|谈不拢]",
        "{place}有居民因{issue}起了冲突，[需要调解|请求调解]",
        "{place}的[租户|租客]和房东因为押金退还产生纠纷",
        "{place}[兄弟几个|一家人]因为老人赡养问题吵得不可开交",
        "{place}的两家人为了{issue}[互相谩骂|闹得很僵]，请社区出面协调",
    ],
    "道路设施": [
        "{place}的路面出现[一个大坑|大面积塌陷]，车辆经过很危险",
        "{place}的井盖[缺失|破了]，[晚上走路容易掉下去|很不安全]",
        "{place}的路灯坏了，{time}都不亮",
        "{place}人行道地砖[松动破损|翘起来了]，[下雨踩上去溅一身水|容易绊倒老人]",
        "{place}的[护栏|隔离栏]被车撞坏了一直没人修",
        "{place}的红绿灯[出故障|坏了]，一直[闪黄灯|不亮]",
        "{place}的公交站牌倒了，[座椅也坏了|雨棚也破了]",
    ],
    "群租房": [
        "{place}有一套房子被隔成[十几个|很多]小间出租，住了很多人",
        "{place}有房子改成了群租房，陌生人员进出频繁",
        "{place}的房东把[客厅|阳台]隔断出租，存在安全隐患",
        "{place}住户反映[隔壁|楼上]是群租房，每天很多陌生人进出",
        "{place}一套[三居室|两居室]住了[二十多个人|十几个人]，全是上下铺",
        "{place}有二房东把整套房子打隔断分租给[外来务工人员|年轻人]",
        "{place}的出租屋里住了十多个人，[厨房阳台都睡了人|卫生间都不够用]",
    ],
}
PLACES = ["幸福里小区{n}栋", "阳光花园{n}号楼", "人民路与和平路交叉口", "东门菜市场",
          "建设路{n}号", "实验小学门口", "金沙街道办事处附近", "城南新村{n}单元",
          "滨江公园北门", "老街社区{n}号院", "新华书店旁边", "长江路地铁站{n}号口"]
TIMES = ["每天晚上", "今天上午", "最近一周", "凌晨两点", "周末", "好几天了", "天天"]
FILL = {"goods": ["水果", "烧烤", "蔬菜", "早点", "小龙虾", "衣服", "煎饼果子"],
        "shop": ["饭店", "水果店", "烧烤店", "五金店", "便利店"],
        "issue": ["停车位", "楼道卫生", "漏水", "养狗", "噪音", "物业费"]}
OPENINGS = ["", "", "居民反映：", "网格员巡查发现", "市民来电称，", "有群众举报，"]
ENDINGS = ["", "", "，请尽快处理", "，希望相关部门管一管", "，已经多次反映了", "，居民意见很大"]
ALTERNATIVES = re.compile(r"\[([^]]+)\]")

KEYWORDS = {
    "占道经营": ["占道", "摆摊", "摊贩", "店外经营"],
    "违章搭建": ["违章搭建", "违规搭建", "违法搭建", "私搭乱建", "加盖", "搭棚"],
    "环境卫生": ["垃圾", "卫生", "污水", "臭"],
    "噪音扰民": ["噪音", "扰民", "吵", "广场舞"],
    "消防隐患": ["消防", "楼道堆物", "飞线充电", "火灾"],
    "矛盾纠纷": ["纠纷", "矛盾", "争吵", "调解"],
    "道路设施": ["路面", "井盖", "路灯", "破损"],
    "群租房": ["群租", "隔断", "隔间"],
}


def make_dataset(per_label: int, seed: int) -> list[tuple[str, str, str]]:
    """(text, label, phrasing) triples; the phrasing is the template with its [a|b] choices."""
    rng = random.Random(seed)
    samples = []
    for label, templates in TEMPLATES.items():
        for _ in range(per_label):
            phrasing = ALTERNATIVES.sub(lambda m: rng.choice(m[1].split("|")),
                                        rng.choice(templates))
            text = phrasing.format(
                place=rng.choice(PLACES).format(n=rng.randint(1, 30)), time=rng.choice(TIMES),
                **{key: rng.choice(values) for key, values in FILL.items()})
            samples.append((rng.choice(OPENINGS) + text + rng.choice(ENDINGS), label, phrasing))
    return samples


@pytest.fixture(scope="module")
def split():
    """A quarter of the phrasings are held out, so no held-out report was seen phrased the same
    way in training (a plain random split would test mostly on near-copies of training texts)."""
    samples = make_dataset(per_label=60, seed=20260314)
    phrasings = sorted({phrasing for _, _, phrasing in samples})
    random.Random(1).shuffle(phrasings)
    held_out = set(phrasings[: len(phrasings) // 4])
    train = [(text, label) for text, label, phrasing in samples if phrasing not in held_out]
    test = [(text, label) for text, label, phrasing in samples if phrasing in held_out]
    return train, test


@pytest.fixture(scope="module")
def trained(split):
    train, _ = split
    return TextClassifier().fit([text for text, _ in train], [label for _, label in train])


def accuracy(classifier, samples) -> tuple[float, float]:
    ranked = [[label for label, _ in classifier.suggest(text, k=3)] for text, _ in samples]
    pairs = list(zip(ranked, (label for _, label in samples), strict=True))
    return (sum(r[0] == label for r, label in pairs) / len(pairs),
            sum(label in r for r, label in pairs) / len(pairs))


def test_held_out_accuracy(trained, split):
    train, test = split
    assert len(train) > 300 and len(test) > 80
    top1, top3 = accuracy(trained, test)
    assert top1 >= 0.8, top1
    assert top3 >= 0.95, top3
    assert trained.n_samples == len(train) and not trained.needs_refit


def test_suggestions_are_labels_with_probabilities_best_first(trained):
    ranked = trained.suggest("东门菜市场门口有人摆摊卖水果，占了人行道", k=3)
    assert [label for label, _ in ranked][0] == "占道经营" and len(ranked) == 3
    scores = [score for _, score in ranked]
    assert scores == sorted(scores, reverse=True) and all(0 < s <= 1 for s in scores)
    assert sum(score for _, score in trained.suggest("东门菜市场有人摆摊", k=8)) == \
        pytest.approx(1)
    assert trained.suggest("   ") == [] and TextClassifier().suggest("摆摊") == []
    # Full-width input (common from Chinese input methods) reads like half-width.
    assert trained.suggest("ＫＴＶ每天晚上唱歌") == trained.suggest("ktv每天晚上唱歌")


def test_corrections_move_a_suggestion(trained, split):
    classifier = TextClassifier.from_bytes(trained.to_bytes())  # a copy to change
    text = "小区门口的快递柜旁边堆满了包装盒"  # no template says this: 消防隐患 comes first
    before = dict(classifier.suggest(text, k=8))
    assert max(before, key=before.get) != "环境卫生"

    classifier.partial_fit([text], ["环境卫生"])  # a dispatcher corrects it once

    after = dict(classifier.suggest(text, k=8))
    assert max(after, key=after.get) == "环境卫生" and after["环境卫生"] > before["环境卫生"]
    assert classifier.n_samples == trained.n_samples + 1 and not classifier.needs_refit
    assert accuracy(classifier, split[1])[0] >= 0.8  # one correction does not unlearn the rest


def test_a_new_label_is_remembered_and_asks_for_a_refit(trained, split):
    classifier = TextClassifier.from_bytes(trained.to_bytes())
    text = "小区里的共享单车乱停乱放，把盲道都占了"
    classifier.partial_fit([text, "东门菜市场门口有人摆摊"], ["共享单车", "占道经营"])
    assert classifier.needs_refit and classifier.unknown_labels == {"共享单车"}
    assert classifier.n_samples == trained.n_samples + 1  # the known label was learned
    assert "共享单车" not in classifier.labels
    assert "共享单车" not in dict(classifier.suggest(text, k=8))

    train = split[0][:100] + [(text, "共享单车"), ("人民路上共享单车堆成山", "共享单车")]
    classifier.fit([t for t, _ in train], [label for _, label in train])
    assert not classifier.needs_refit and "共享单车" in classifier.labels

    never_fitted = TextClassifier().partial_fit(["东门菜市场门口有人摆摊"], ["占道经营"])
    assert never_fitted.needs_refit and never_fitted.n_samples == 0


def test_round_trip_through_bytes(trained, split):
    data = trained.to_bytes()
    assert len(data) < 1_000_000  # sparse: grows with the n-grams seen, not with 2**20
    loaded = TextClassifier.from_bytes(data)
    assert loaded.n_samples == trained.n_samples and loaded.labels == trained.labels
    for text, _ in split[1][:20]:
        assert loaded.suggest(text) == trained.suggest(text)
    loaded.partial_fit(["建设路8号的路灯坏了"], ["道路设施"])  # still learns after loading
    assert TextClassifier.from_bytes(TextClassifier().to_bytes()).suggest("摆摊") == []
    with pytest.raises(ValueError, match="not a TextClassifier"):
        TextClassifier.from_bytes(pickle.dumps({"format": 0}))


def test_keywords_for_the_cold_start():
    matcher = KeywordMatcher(KEYWORDS)
    ranked = matcher.suggest("人民路有流动摊贩占道摆摊")
    assert ranked[0] == ("占道经营", 1.0)
    assert matcher.suggest("今天天气不错") == []
    assert matcher.suggest("") == []

    # Two labels match; the longer (more specific) keyword weighs more, scores are shares.
    ranked = matcher.suggest("幸福里小区楼道堆物，垃圾没人收")
    assert [label for label, _ in ranked] == ["消防隐患", "环境卫生"]
    assert ranked[0][1] == pytest.approx(4 / 6) and ranked[1][1] == pytest.approx(2 / 6)
    assert len(matcher.suggest("楼道堆物，垃圾，噪音，路灯，群租", k=2)) == 2

    # A keyword inside a longer matched keyword does not count again; each keyword counts once.
    nested = KeywordMatcher({"违章搭建": ["违章搭建"], "道路设施": ["搭建"], "卫生": ["垃圾"]})
    assert nested.suggest("违章搭建") == [("违章搭建", 1.0)]
    assert nested.suggest("违章搭建，旁边又搭建了一间") == [
        ("违章搭建", pytest.approx(4 / 6)), ("道路设施", pytest.approx(2 / 6))]
    assert nested.suggest("垃圾垃圾垃圾违章搭建") == [
        ("违章搭建", pytest.approx(4 / 6)), ("卫生", pytest.approx(2 / 6))]
    # A keyword shared by two labels counts for both; full-width keywords and text fold.
    shared = KeywordMatcher({"甲": ["ＫＴＶ"], "乙": ["ktv"]})
    assert shared.suggest("KTV太吵") == [("甲", 0.5), ("乙", 0.5)]


class Stub:
    """Stands in for a trained classifier in the policy tests."""

    def __init__(self, n_samples, ranked):
        self.n_samples, self.ranked = n_samples, ranked

    def suggest(self, text, k=3):
        return self.ranked[:k]


def test_policy():
    keywords = KeywordMatcher(KEYWORDS)
    sure = Stub(500, [("群租房", 0.9), ("消防隐患", 0.05)])
    unsure = Stub(500, [("群租房", 0.15), ("消防隐患", 0.14)])
    text = "楼道堆物，很危险"  # keywords say 消防隐患

    assert textclass.suggest(text, classifier=sure, keywords=keywords) == sure.ranked
    # Too little history: keywords, or nothing.
    young = Stub(199, sure.ranked)
    assert textclass.suggest(text, classifier=young, keywords=keywords) == [("消防隐患", 1.0)]
    assert textclass.suggest(text, classifier=young, keywords=None) == []
    assert textclass.suggest(text, classifier=young, keywords=keywords, min_samples=100) == \
        sure.ranked
    assert textclass.suggest(text, classifier=None, keywords=keywords) == [("消防隐患", 1.0)]
    assert textclass.suggest(text, classifier=None, keywords=None) == []
    # An unsure classifier gives way to matching keywords, and only to them.
    assert textclass.suggest(text, classifier=unsure, keywords=keywords) == [("消防隐患", 1.0)]
    assert textclass.suggest("今天天气不错", classifier=unsure, keywords=keywords) == \
        unsure.ranked
    assert textclass.suggest(text, classifier=unsure, keywords=keywords, k=1) == \
        [("消防隐患", 1.0)]


def test_policy_with_real_models(trained):
    keywords = KeywordMatcher(KEYWORDS)
    ranked = textclass.suggest("实验小学门口有人推三轮车卖煎饼果子", classifier=trained,
                               keywords=keywords)
    assert ranked[0][0] == "占道经营" and ranked[0][1] >= textclass.MIN_CONFIDENCE
    # Gibberish gives the trained classifier nothing to go on (near 1/8 each)...
    gibberish = "qwerty zxcv"
    assert trained.suggest(gibberish)[0][1] < textclass.MIN_CONFIDENCE
    assert textclass.suggest(gibberish, classifier=trained, keywords=keywords) == \
        trained.suggest(gibberish)
    # ...so a keyword that matches it wins.
    assert textclass.suggest(gibberish, classifier=trained,
                             keywords=KeywordMatcher({"群租房": ["zxcv"]})) == [("群租房", 1.0)]
