"""Chinese segmentation for legal search: jieba (through rjieba) with a legal user dictionary."""

from __future__ import annotations

import re

import rjieba

# Function words and question words that carry no legal meaning in a query.
STOPWORDS = frozenset(
    "的 了 是 在 和 与 对 于 由 从 被 把 及 或 并 等 请问 我 你 他 她 它 我们 他们 这 那 个 之 其 "
    "什么 怎么 怎样 如何 怎么办 咨询 一下 有关 关于 应该 可以 是否 有没有 如果 因为 所以 但是 然后 "
    "因此 进行 予以 哪些 哪个 哪条 根据 法律 规定 法条 条款 情况 时候 属于 需要 能否 能不能 会不会 "
    "吗 呢 吧 啊 也 都 就 还 又 要 会 能 没有 不 有 为 以 将 上 下 中 该 本 第 条 款 项 场景 问题 "
    "年 月 日 号 元 万元 多少 被 给 让 想 去 来 了吗 办 现在 已经 一直 谁 谁来 什么样 怎么样 这样 那样 "
    "为什么 还是 或者 而且 自己 别人 时候 然后 结果 发现 告诉 觉得 知道 可能 应当".split()
)
_NUMBER_TOKEN = re.compile(r"^[0-9.]+$")

# Everyday words in questions and the statutory terms they correspond to. Only
# queries are expanded; statute text already uses the statutory terms.
COLLOQUIAL_TERMS = {
    "借钱": ["借款"], "借我": ["借款"], "借给": ["借款"], "借了": ["借款"], "欠钱": ["债务", "借款"],
    "欠我": ["债务", "借款"], "不还": ["返还", "逾期"], "没还": ["返还", "逾期"], "赖账": ["返还", "债务"],
    "到期": ["期限", "届满"], "打人": ["殴打", "故意伤害"], "打伤": ["故意伤害", "轻伤"], "打架": ["殴打", "斗殴"],
    "偷": ["盗窃"], "偷东西": ["盗窃"], "骗": ["诈骗"], "骗钱": ["诈骗"], "抢": ["抢劫", "抢夺"],
    "酒驾": ["饮酒", "驾驶", "机动车"], "醉驾": ["醉酒", "驾驶", "机动车"], "开车": ["驾驶", "机动车"],
    "喝酒": ["饮酒"], "喝醉": ["醉酒"], "撞人": ["交通事故", "损害"], "车祸": ["交通事故"],
    "辞退": ["解除", "劳动合同"], "开除": ["解除", "劳动合同"], "炒鱿鱼": ["解除", "劳动合同"],
    "工资": ["劳动报酬", "工资"], "加班费": ["加班", "工资"], "社保": ["社会保险"],
    "房东": ["出租人", "租赁"], "租房": ["租赁", "承租人"], "押金": ["押金", "租赁"],
    "网购": ["网络", "消费者", "经营者"], "退货": ["退货", "消费者"], "假货": ["欺诈", "消费者"],
    "彩礼": ["彩礼", "婚约"], "遗产": ["继承", "遗产"], "遗嘱": ["遗嘱", "继承"], "离婚": ["离婚", "夫妻"],
    "孩子": ["子女"], "抚养费": ["抚养费", "子女"], "老人": ["老年人", "赡养"], "狗咬": ["饲养", "动物", "损害"],
    "狗": ["饲养", "动物"], "猫": ["饲养", "动物"], "宠物": ["饲养", "动物"], "咬伤": ["损害", "侵权"],
    "咬": ["损害"], "没钱": ["履行", "债务"], "赔钱": ["赔偿"], "交货": ["交付", "标的物"],
    "不交货": ["交付", "违约"], "签合同": ["订立", "合同"], "装修": ["承揽", "装饰装修"],
}
_COLLOQUIAL_WORDS = sorted(COLLOQUIAL_TERMS, key=len, reverse=True)
_TOKEN_CHARS = re.compile(r"[\u4e00-\u9fff0-9A-Za-z]")


class LegalTokenizer:
    """jieba segmentation in search mode, with law names and charge names as whole words."""

    def __init__(self, user_words: set[str] | None = None):
        self._jieba = rjieba.Jieba()
        self.user_words = set(user_words or ())
        for word in sorted(self.user_words):
            self._jieba.add_word(word, None, None)

    def tokenize(self, text: str) -> list[str]:
        """Return the indexable tokens of a text: search-mode words without stopwords or punctuation."""
        tokens = []
        for token in self._jieba.cut_for_search(text, True):
            token = token.strip()
            if not token or token in STOPWORDS or not _TOKEN_CHARS.search(token) or _NUMBER_TOKEN.match(token):
                continue
            tokens.append(token)
        return tokens

    def tokenize_query(self, text: str) -> list[str]:
        """Tokenize a question and add the statutory terms for everyday words in it (借钱 → 借款)."""
        tokens = self.tokenize(text)
        for word in _COLLOQUIAL_WORDS:
            if word in text:
                tokens.extend(term for term in COLLOQUIAL_TERMS[word] if term not in tokens)
        return tokens


def legal_user_words(law_names: list[str], extra_terms: list[str] | None = None) -> set[str]:
    """Build the user dictionary: law names, their short forms, and given terms such as charge names."""
    words = set()
    for name in law_names:
        if 2 <= len(name) <= 30:
            words.add(name)
    for term in extra_terms or []:
        if 2 <= len(term) <= 20:
            words.add(term)
    return words
