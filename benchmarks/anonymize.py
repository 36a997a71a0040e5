"""Benchmark of the anonymiser: precision and recall per type, and throughput.

Precision and recall are measured on LABELLED below: sentences written for this
benchmark in the style of Chinese criminal, civil and family judgments, with
every name, number and address invented. Each span that the strict policy
should mask is marked inline as ``[[type:text]]``. Names that are already
masked (张某, 李某某) are not marked and not counted. A detected span counts as
correct only if its type, start and end match a marked span exactly. The set
was written by the same person who wrote the detectors, after reading their
patterns, so it measures coverage of the intended forms, not performance on
unseen judgments.

Throughput is measured on the ``fact`` field of CAIL2018 ``valid.jsonl``,
masked with the strict policy, with and without the LAC model.

Usage:
    python benchmarks/anonymize.py [--data DIR] [--limit N]

``--data`` defaults to TIANPING_DATA or ../shared/data beside the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent

LABELLED = [
    # criminal judgments: header lines
    "被告人[[person:杜明辉]]，男，[[birth_date:1979年2月14日]]出生，汉族，初中文化，住江西省南昌市青山湖区[[address:上海路188号5栋302室]]。",
    "被告人[[person:欧阳晓峰]]，男，[[birth_date:1990年10月1日]]出生于湖北省武汉市，公民身份号码[[id_number:420106199010010038]]。",
    "被告人[[person:蔡文静]]，女，[[birth_date:一九八八年七月二十日]]出生，户籍地四川省成都市金牛区[[address:营门口街道花牌坊街8号]]。",
    "辩护人[[person:钱永红]]，北京市某某律师事务所律师。",
    "公诉机关某某市某某区人民检察院。",
    # criminal judgments: facts
    "2018年5月3日晚，被告人[[person:杜明辉]]驾驶车牌号为[[license_plate:赣A5K721]]的小型轿车，在[[address:八一大道356号]]附近将被害人[[person:罗秀兰]]撞倒。",
    "被害人[[person:罗秀兰]]经抢救无效死亡。证人[[person:邓志刚]]、[[person:邓丽]]证实案发时看到一辆白色轿车驶离。",
    "被告人[[person:蔡文静]]通过微信向被害人[[person:黄建平]]谎称可以办理低息贷款，骗得[[person:黄建平]]转账人民币3万元至其[[bank_card:6217003320012345678]]银行卡内。",
    "被害人[[person:黄建平]]陈述，其手机号码为[[phone:15807912345]]，2019年4月接到对方电话。",
    "经鉴定，被害人[[person:许海燕]]的损伤程度为轻伤二级。",
    "鉴定人[[person:孟凡军]]出庭作证，称鉴定程序合法。",
    "被告人[[person:欧阳晓峰]]供述，其与被害人[[person:林芳]]系同事关系，因琐事发生争吵。",
    "公安机关从被告人[[person:杜明辉]]住处查获甲基苯丙胺12.5克。",
    "被害人[[person:许海燕]]患有[[health:精神分裂症]]，案发时无法正常表达。",
    "未成年被害人[[person:朱小雨]]（[[birth_date:2008年6月9日]]出生）的法定代理人[[person:朱国庆]]到庭参加诉讼。",
    "被告人王某某于2017年8月12日在某某超市内盗窃手机一部，价值人民币2800元。",
    "被告人[[person:蒋涛]]、[[person:韦小宝]]结伙在[[address:人民中路12号]]门口殴打被害人[[person:梁宏]]。",
    "证人[[person:司马云]]的证言证实，其于案发当晚接到[[person:蒋涛]]打来的电话，号码为[[phone:0771-5512345]]。",
    "被告人[[person:韦小宝]]的妻子[[person:卢美玲]]代为退赔被害人损失5000元。",
    "报关单号为731220190000123456的货物未向海关申报。",
    "现场提取的银行流水显示，被告人向账户[[bank_card:6228480012345678905]]转入赃款。",
    "被害人[[person:阿依古丽·吐尔逊]]报警称其电动车被盗。",
    "被告人[[person:熊伟]]的联系电话[[phone:13707311234]]、电子邮箱[[email:xiongwei88@example.cn]]。",
    "被告人[[person:熊伟]]在[[address:车站路3号]]附近以每克300元的价格向吸毒人员[[person:谭志明]]贩卖海洛因0.5克。",
    "经查，[[person:谭志明]]住湖南省岳阳市岳阳楼区[[address:洞庭南路45号]]。",
    "被告人殷某于2016年3月至2017年1月间，多次盗窃他人财物。",
    "证人[[person:钟丽华]]、[[person:钟伟]]的证言，证实被告人[[person:熊伟]]常到[[address:车站路3号]]出售毒品。",
    "本院认为，被告人[[person:熊伟]]违反国家毒品管理法规，贩卖毒品，其行为已构成贩卖毒品罪。",
    "审判长[[person:汪建新]]，审判员[[person:方敏]]，人民陪审员[[person:曹秀英]]，书记员[[person:侯佳]]。",
    "被告人驾驶的[[license_plate:粤B·D23456]]号新能源汽车与对向车辆相撞。",
    "被害人[[person:廖春生]]的身份证号为[[id_number:430602196512120019]]，住[[address:长冲村三组]]。",
    "2020年1月，被告人[[person:石磊]]在网上购买他人身份信息，以[[person:石磊]]的名义开设多个账户。",
    "被告人[[person:温建华]]住广东省梅州市梅江区[[address:江南街道东山村5组12号]]。",
    "案发后，被告人[[person:温建华]]主动到公安机关投案，如实供述了犯罪事实。",
    # civil and family judgments
    "原告[[person:孔丽萍]]与被告[[person:高志远]]离婚纠纷一案，本院于2021年3月1日立案后，依法适用简易程序公开开庭进行了审理。",
    "原告[[person:孔丽萍]]诉称，原、被告于2012年登记结婚，婚后育有一女[[person:高欣然]]（[[birth_date:2013年9月30日]]出生）。",
    "被告[[person:高志远]]辩称，同意离婚，但要求女儿[[person:高欣然]]随其生活。",
    "原告[[person:孔丽萍]]的联系电话为[[phone:18674512345]]，现住[[address:幸福小区7栋2单元501室]]。",
    "原告上海某某贸易有限公司诉被告[[person:严家豪]]买卖合同纠纷一案。",
    "被告[[person:严家豪]]，男，[[birth_date:1983年4月5日]]出生，住浙江省杭州市西湖区[[address:文一西路99号]]。",
    "委托诉讼代理人[[person:贺军]]，浙江某某律师事务所律师。",
    "继承人[[person:龚桂芳]]、[[person:龚建军]]系被继承人[[person:龚德明]]的子女。",
    "被继承人[[person:龚德明]]名下的存款账户[[bank_card:6222600110012345677]]内有存款12万元。",
    "原告[[person:万小燕]]向本院提出诉讼请求：判令被告归还借款5万元。",
    "借条载明：今借到[[person:万小燕]]人民币伍万元整，借款人[[person:卜一凡]]。",
    "被告[[person:卜一凡]]的身份证号码[[id_number:110105198807070519]]，手机[[phone:139-1234-5678]]。",
    "双方于2019年6月签订房屋租赁合同，约定租金每月3000元。",
    "2022年3月15日，被告通过其尾号为5678的账户向原告转账1万元。",
    "第三人[[person:聂晓东]]述称，其不清楚借款情况。",
    "申请人[[person:景海波]]与被申请人[[person:柴红梅]]抚养费纠纷一案。",
    "申请人[[person:景海波]]之子[[person:景浩]]目前就读于某某小学。",
    "本判决为终审判决。",
    "如不服本判决，可在判决书送达之日起十五日内向本院递交上诉状。",
    "2021年7月，原告在某某商场购买手机一部，价款4999元，发票号码为04400200111。",
    "被告[[person:严家豪]]于2018年出生的儿子目前由其母亲抚养。",
]

# Written after the detectors were tuned on LABELLED and not used to change them.
HELD_OUT = [
    "被告人[[person:包振宇]]，男，[[birth_date:1976年3月5日]]出生，公民身份号码[[id_number:320102197603052411]]，住江苏省南京市玄武区[[address:北京东路41号2幢601室]]。",
    "（2019）苏0102刑初345号刑事判决书认定的事实清楚。",
    "经审理查明，[[person:包振宇]]与[[person:尹春花]]系邻居关系，双方因宅基地问题多次发生纠纷。",
    "2019年9月12日上午，[[person:包振宇]]持木棍对[[person:尹春花]]头部击打数下，致其轻伤一级。",
    "被害人[[person:尹春花]]的丈夫[[person:田德旺]]闻讯赶来，将[[person:包振宇]]拦下。",
    "上述事实，有证人[[person:田德旺]]、[[person:施玉梅]]的证言，被害人的陈述，鉴定意见等证据证实。",
    "被告人[[person:上官婉清]]，女，[[birth_date:2001年11月11日]]出生，身份证号[[id_number:610113200111110729]]。",
    "[[person:上官婉清]]利用其在某某公司担任出纳的职务便利，将公款23万元转入其个人账户[[bank_card:6225880123456783]]。",
    "其后，[[person:上官婉清]]又将其中10万元转给其男友[[person:覃少杰]]用于偿还赌债。",
    "[[person:覃少杰]]的手机号码为[[phone:+86 138 0771 2345]]。",
    "公司财务负责人[[person:詹丽君]]发现账目异常后报案。",
    "被告人[[person:郝建国]]于2020年6月至8月间，先后三次在[[address:解放西路128号]]某某网吧内盗窃他人手机。",
    "被告人[[person:郝建国]]曾因犯盗窃罪于2015年被判处有期徒刑一年。",
    "扣押的[[license_plate:苏A·7Z2R5]]号摩托车已发还被害人。",
    "被告人驾驶[[license_plate:闽D3K8M7]]重型半挂牵引车，在沈海高速公路上追尾前车。",
    "被害人[[person:佘秋菊]]的法定代理人[[person:佘长根]]提起附带民事诉讼。",
    "被告人[[person:慕容志强]]辩称其不知道该物品系毒品。",
    "办案民警联系电话为[[phone:（0591）87654321]]。",
    "原告[[person:蒲晓燕]]与被告[[person:汤国华]]于2010年5月登记结婚，[[birth_date:2011.08.16]]生育一子[[person:汤子轩]]。",
    "原告[[person:蒲晓燕]]现住四川省绵阳市涪城区[[address:临园路东段65号]]，联系电话[[phone:0816-2234567]]。",
    "被告[[person:汤国华]]的工资卡[[bank_card:6217001234567890122]]由原告保管。",
    "原告要求被告每月支付抚养费2000元至[[person:汤子轩]]年满十八周岁。",
    "被告人[[person:巫小军]]住广西壮族自治区百色市右江区[[address:龙景街道那毕村6组]]。",
    "被告人[[person:巫小军]]明知是他人犯罪所得的赃物而予以收购。",
    "证人[[person:廖德华]]（系被告人[[person:巫小军]]的表哥）证实，其曾见过被告人收购电缆。",
    "被告人[[person:侯玉兰]]，女，身份证号[[id_number:350203199302283562]]，户籍地福建省厦门市思明区。",
    "被告人[[person:侯玉兰]]通过电子邮箱[[email:hou.yulan@mail.example.com]]与上家联系。",
    "经鉴定，被告人[[person:侯玉兰]]被诊断为[[health:抑郁症]]，具有完全刑事责任能力。",
    "本案涉案金额共计人民币1,234,567元。",
    "审判员[[person:卢振东]]，书记员[[person:潘小雪]]。",
    "原告某某银行股份有限公司南京分行诉被告[[person:祁海洋]]信用卡纠纷一案，卡号[[bank_card:6033671001234562]]。",
    "被告[[person:祁海洋]]经本院传票传唤，无正当理由拒不到庭参加诉讼。",
    "2021年3月至2021年5月，被告人[[person:麦志诚]]在[[address:桂城街道南海大道北33号]]经营的店铺内销售假冒注册商标的商品。",
    "被告人[[person:麦志诚]]的妻子[[person:谢美华]]到庭旁听。",
    "依照《中华人民共和国刑法》第二百六十四条、第六十七条第三款之规定，判决如下。",
]

_MARK = re.compile(r"\[\[(?P<type>[a-z_]+):(?P<text>[^\]]+)\]\]")


def parse_labelled(line: str) -> tuple[str, set[tuple[str, int, int]]]:
    """Strip the ``[[type:text]]`` marks and return the plain text with the marked spans."""
    plain = []
    spans = set()
    position = 0
    length = 0
    for match in _MARK.finditer(line):
        before = line[position:match.start()]
        plain.append(before)
        length += len(before)
        text = match.group("text")
        spans.add((match.group("type"), length, length + len(text)))
        plain.append(text)
        length += len(text)
        position = match.end()
    plain.append(line[position:])
    return "".join(plain), spans


def evaluate(policy, lines: list[str]) -> dict[str, dict]:
    from tianping.anonymize import detect

    counts = defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0})
    errors = []
    for line in lines:
        text, gold = parse_labelled(line)
        predicted = {(f.type, f.start, f.end) for f in detect(text, policy) if not f.masked}
        for item in predicted & gold:
            counts[item[0]]["tp"] += 1
        for item in predicted - gold:
            counts[item[0]]["fp"] += 1
            errors.append(("FP", item[0], text[item[1]:item[2]], text))
        for item in gold - predicted:
            counts[item[0]]["fn"] += 1
            errors.append(("FN", item[0], text[item[1]:item[2]], text))
    table = {}
    for entity_type, c in sorted(counts.items()):
        precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else float("nan")
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else float("nan")
        table[entity_type] = dict(c, precision=precision, recall=recall)
    return {"table": table, "errors": errors}


def throughput(facts: list[str], policy) -> dict:
    from tianping.anonymize import Anonymizer

    anonymizer = Anonymizer(policy)
    anonymizer.mask(facts[0])  # loads the model outside the timed loop
    characters = sum(len(fact) for fact in facts)
    started = time.perf_counter()
    for fact in facts:
        anonymizer.mask(fact)
    seconds = time.perf_counter() - started
    return {"documents": len(facts), "characters": characters, "seconds": seconds,
            "chars_per_second": characters / seconds}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = os.environ.get("TIANPING_DATA", str(REPOSITORY.parent / "shared" / "data"))
    parser.add_argument("--data", type=Path, default=Path(default_data), help="Folder that contains cail2018/.")
    parser.add_argument("--limit", type=int, default=506, help="Number of CAIL facts for throughput (default 506).")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPOSITORY))
    from tianping.anonymize import builtin_policy

    with_model = builtin_policy("strict")
    with_model.model = "true"
    rules_only = builtin_policy("strict")
    rules_only.model = "false"

    print(f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"labelled set: {len(LABELLED)} sentences, held-out set: {len(HELD_OUT)} sentences")
    for set_name, lines in (("labelled set", LABELLED), ("held-out set", HELD_OUT), ("both sets", LABELLED + HELD_OUT)):
        for label, policy in (("with LAC", with_model), ("rules only", rules_only)):
            result = evaluate(policy, lines)
            print(f"\n## {set_name}, strict policy, {label}\n")
            print("| type | gold | detected | correct | precision | recall |")
            print("|---|---:|---:|---:|---:|---:|")
            for entity_type, row in result["table"].items():
                gold = row["tp"] + row["fn"]
                detected = row["tp"] + row["fp"]
                print(f"| {entity_type} | {gold} | {detected} | {row['tp']} | {row['precision']:.3f} | {row['recall']:.3f} |")
            if set_name != "both sets":
                for kind, entity_type, span, text in result["errors"]:
                    print(f"  {kind} {entity_type}: {span!r} in {text}")

    facts_path = args.data / "cail2018" / "valid.jsonl"
    if not facts_path.is_file():
        print(f"\n{facts_path} not found; throughput skipped (set --data or TIANPING_DATA)")
        return 0
    with facts_path.open(encoding="utf-8") as handle:
        facts = [json.loads(line)["fact"] for line in handle][: args.limit]
    print("\n## throughput, strict policy, CAIL2018 valid.jsonl facts\n")
    print("| detector | documents | characters | seconds | characters/s |")
    print("|---|---:|---:|---:|---:|")
    for label, policy in (("with LAC", with_model), ("rules only", rules_only)):
        row = throughput(facts, policy)
        print(f"| {label} | {row['documents']} | {row['characters']} | {row['seconds']:.2f} | {row['chars_per_second']:,.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
