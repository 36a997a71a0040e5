"""Small statute texts for building test stores. Statutes are not subject to copyright in China."""

CRIMINAL_LAW_2020 = """中华人民共和国刑法

1997年3月14日 第八届全国人民代表大会第五次会议修订
2020年12月26日 第十三届全国人民代表大会常务委员会第二十四次会议通过的《中华人民共和国刑法修正案（十一）》
2021年3月1日 施行

第二编 分则
第二章 危害公共安全罪

第一百三十三条之一 在道路上驾驶机动车，有下列情形之一的，处拘役，并处罚金：
（一）追逐竞驶，情节恶劣的；
（二）醉酒驾驶机动车的；
（三）从事校车业务或者旅客运输，严重超过额定乘员载客，或者严重超过规定时速行驶的；
（四）违反危险化学品安全管理规定运输危险化学品，危及公共安全的。
机动车所有人、管理人对前款第三项、第四项行为负有直接责任的，依照前款的规定处罚。
有前两款行为，同时构成其他犯罪的，依照处罚较重的规定定罪处罚。

第五章 侵犯财产罪

第二百六十四条 盗窃公私财物，数额较大的，或者多次盗窃、入户盗窃、携带凶器盗窃、扒窃的，处三年以下有期徒刑、拘役或者管制，并处或者单处罚金；数额巨大或者有其他严重情节的，处三年以上十年以下有期徒刑，并处罚金；数额特别巨大或者有其他特别严重情节的，处十年以上有期徒刑或者无期徒刑，并处罚金或者没收财产。

第二百六十六条 诈骗公私财物，数额较大的，处三年以下有期徒刑、拘役或者管制，并处或者单处罚金；数额巨大或者有其他严重情节的，处三年以上十年以下有期徒刑，并处罚金；数额特别巨大或者有其他特别严重情节的，处十年以上有期徒刑或者无期徒刑，并处罚金或者没收财产。本法另有规定的，依照规定。
"""

# The same law with Article 264 rewritten, as a later amendment would do.
CRIMINAL_LAW_2024 = CRIMINAL_LAW_2020.replace(
    "2021年3月1日 施行",
    "2021年3月1日 施行\n2023年12月29日 第十四届全国人民代表大会常务委员会第七次会议通过的《中华人民共和国刑法修正案（十二）》\n2024年3月1日 施行",
).replace("处三年以下有期徒刑、拘役或者管制，并处或者单处罚金；数额巨大", "处三年以下有期徒刑、拘役或者管制，并处罚金；数额巨大", 1)

CIVIL_CODE = """中华人民共和国民法典

2020年5月28日 第十三届全国人民代表大会第三次会议通过
2021年1月1日 施行

第三编 合同
第八章 违约责任

第五百七十七条 当事人一方不履行合同义务或者履行合同义务不符合约定的，应当承担继续履行、采取补救措施或者赔偿损失等违约责任。

第七编 侵权责任
第一章 一般规定

第一千一百六十五条 行为人因过错侵害他人民事权益造成损害的，应当承担侵权责任。
依照法律规定推定行为人有过错，其不能证明自己没有过错的，应当承担侵权责任。

附则

第一千二百六十条 本法自2021年1月1日起施行。《中华人民共和国婚姻法》、《中华人民共和国继承法》、《中华人民共和国民法通则》、《中华人民共和国收养法》、《中华人民共和国担保法》、《中华人民共和国合同法》、《中华人民共和国物权法》、《中华人民共和国侵权责任法》、《中华人民共和国民法总则》同时废止。
"""

ROAD_TRAFFIC_LAW = """中华人民共和国道路交通安全法

2021年4月29日 第十三届全国人民代表大会常务委员会第二十八次会议修正
2021年4月29日 施行

第七章 法律责任

第九十一条 饮酒后驾驶机动车的，处暂扣六个月机动车驾驶证，并处一千元以上二千元以下罚款。
醉酒驾驶机动车的，由公安机关交通管理部门约束至酒醒，吊销机动车驾驶证，依法追究刑事责任；五年内不得重新取得机动车驾驶证。
"""


def write_law(directory, name: str, text: str, encoding: str = "utf-8"):
    path = directory / name
    path.write_bytes(text.encode(encoding))
    return path


def build_store(directory):
    """Build a store with two versions of the Criminal Law, the Civil Code and the Road Traffic Safety Law."""
    from tianping.statutes.importers import import_source
    from tianping.statutes.store import StatuteStore

    store = StatuteStore(directory / "statutes.sqlite3")
    for file_name, text in [("criminal-2020.txt", CRIMINAL_LAW_2020), ("criminal-2024.txt", CRIMINAL_LAW_2024),
                            ("civil.txt", CIVIL_CODE), ("traffic.txt", ROAD_TRAFFIC_LAW)]:
        import_source(store, str(write_law(directory, file_name, text)))
    return store
