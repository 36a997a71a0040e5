"""``tianping predict``: train, evaluate and apply judgment-prediction models."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tianping.cli.output import emit_json, progress_factory, read_input, reject_missing_path, require_text
from tianping.errors import InvalidInputError

MODEL_CHOICES = ("tfidf", "grounded", "embed", "finetune")
# The same modes as tianping.prediction.model.TERM_MODES, kept here so the CLI starts without NumPy.
TERM_MODES = ("boosted", "buckets", "regression")


def _read_settings(path: str) -> dict:
    """Read a JSON or YAML mapping of settings; name the file and the problem when it is not one."""
    from tianping.text.structured import load_json, load_yaml

    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError(f"{path} 不是 UTF-8 文本", hint="请以 UTF-8 编码保存") from None
    settings = load_yaml(text, path, extra="predict") if path.endswith((".yaml", ".yml")) else load_json(text, path)
    if not isinstance(settings, dict):
        raise InvalidInputError(f"{path} 的顶层应是键值映射", hint='例如 {"model": {"path": "models/bert"}}')
    return settings


def _field_overrides(values: tuple[str, ...]) -> dict[str, str]:
    overrides = {}
    for value in values:
        name, separator, path = value.partition("=")
        if not separator or not name.strip() or not path.strip():
            raise InvalidInputError(f"--field 取值无效：{value!r}", hint="请写成 字段=路径，例如 fact=text")
        overrides[name.strip()] = path.strip()
    return overrides


def _load(path: str, fields: tuple[str, ...], on_error: str, require_labels: bool = True):
    from tianping.datasets.loaders import FieldMap, load_cases

    field_map = None
    if fields:
        base = FieldMap.flat() if Path(path).suffix.lower() == ".csv" else FieldMap()
        field_map = base.with_overrides(_field_overrides(fields))
    return load_cases(path, field_map=field_map, on_error=on_error, require_labels=require_labels)


def _report_skipped(dataset, outcome: str = "跳过") -> None:
    """Warn on stderr about the bad records of ``dataset``, with ``outcome`` naming what became of them."""
    if dataset.bad_records:
        shown = "；".join(f"第 {bad.line} 行：{bad.reason}" for bad in dataset.bad_records[:5])
        more = f"，另有 {len(dataset.bad_records) - 5} 条" if len(dataset.bad_records) > 5 else ""
        click.echo(f"警告：{dataset.source} 有 {len(dataset.bad_records)} 条有问题的记录，{outcome}"
                   f"（{shown}{more}）", err=True)


MAX_DETENTION_MONTHS = 6


def _term_text(term: dict) -> str:
    if term["death_penalty"]:
        return "死刑"
    if term["life_imprisonment"]:
        return "无期徒刑"
    # CAIL2018 counts criminal detention (拘役) and fixed-term imprisonment in the same months.
    # Detention for one offence lasts at most six months (Article 42), so a longer term is imprisonment.
    if term["months"] == 0:
        return "不判处拘役或有期徒刑（0 个月）"
    kind = "拘役或有期徒刑" if term["months"] <= MAX_DETENTION_MONTHS else "有期徒刑"
    years, months = divmod(term["months"], 12)
    if not years:
        return f"{months} 个月（{kind}）"
    parts = [f"{years} 年"] + ([f"{months} 个月"] if months else [])
    return f"{' '.join(parts)}（{term['months']} 个月，{kind}）"


def _charge_text(name: str) -> str:
    """Return a charge name for readers: CAIL2018 brackets its alternatives ([引诱、容留、介绍]卖淫), the law does not."""
    return name.replace("[", "").replace("]", "")


def _print_case(result: dict, show_text: bool) -> None:
    from tianping.statutes.models import format_article_number

    if result["abstained"]:
        candidates = "、".join(f"{_charge_text(c['name'])}（{c['probability']:.2f}）" for c in result["candidates"])
        click.echo(f"置信度 {result['confidence']:.2f} 低于拒答阈值，不作判断。候选罪名：{candidates}")
        click.echo("以下是模型的首选预测，仅供参考：")
    click.echo("罪名：")
    for charge in result["charges"]:
        evidence = "、".join(charge.get("evidence") or [])
        click.echo(f"  {_charge_text(charge['name'])}（概率 {charge['probability']:.2f}）"
                   + (f"  依据：{evidence}" if evidence else ""))
    click.echo("法条：")
    for article in result["articles"]:
        header = f"  刑法{format_article_number(article['article_number'])}（概率 {article['probability']:.2f}）"
        if article.get("version_effective_date"):
            header += f"，{article['version_effective_date']} 施行的版本"
        click.echo(header)
        if article.get("note"):
            click.echo(f"    注意：{article['note']}")
        if show_text and article.get("text"):
            for line in article["text"].splitlines():
                click.echo(f"    {line}")
    click.echo(f"刑期：{_term_text(result['term'])}")
    basis = result.get("term_basis")
    if basis:
        low, high = basis["recommended_months"]
        span = f"{low}" if low == high else f"{low}–{high}"
        click.echo(f"  依据：事实中的量刑建议 {span} 个月，刑期取其中点的 {basis['share']:.2f}")
    click.echo(f"置信度：{result['confidence']:.2f}")


def register(cli: click.Group) -> None:
    @cli.group("predict")
    def predict_group() -> None:
        """判决预测：根据案情事实预测罪名、刑法法条和刑期。"""

    @predict_group.command("train")
    @click.option("--train", "train_path", required=True, type=click.Path(dir_okay=False),
                  help="训练案例：CAIL2018 JSON lines、其他 JSON lines 或 CSV 文件。")
    @click.option("--valid", "valid_path", type=click.Path(dir_okay=False),
                  help="用于概率校准和阈值的验证案例；不给时使用折外（out-of-fold）得分。")
    @click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
                  help="模型的写入目录。")
    @click.option("--model", "kind", type=click.Choice(MODEL_CHOICES), default="tfidf", show_default=True,
                  help="模型类型：tfidf（TF-IDF 与线性分类器，最快）、grounded（tfidf 加上法条匹配和罪名要件模式，"
                       "训练案例少的罪名更准）、embed（冻结的句向量加线性层，较慢）、finetune（微调预训练 transformer，需要 torch）。")
    @click.option("--charges", "charges_path", type=click.Path(dir_okay=False),
                  help="额外的罪名，每行一个（如 accu.txt），grounded 模型可以预测这些罪名。")
    @click.option("--term-mode", type=click.Choice(TERM_MODES), default="boosted", show_default=True,
                  help="刑期模型：boosted 为基于数额、情节和罪名的梯度提升树；buckets 为基于文本特征的"
                       "按月数分桶；regression 为对数月数上的岭回归。")
    @click.option("--finetune-config", "finetune_config", type=click.Path(exists=True, dir_okay=False),
                  help="JSON 或 YAML 文件，内含 --model finetune 的微调设置"
                       "（model、method、training）。")
    @click.option("--field", "fields", multiple=True, metavar="NAME=PATH",
                  help="把字段映射到 JSON 路径或 CSV 列，例如 fact=text；可重复使用。")
    @click.option("--on-error", type=click.Choice(["skip", "raise"]), default="skip", show_default=True,
                  help="跳过有问题的记录（在标准错误中列出），或在遇到第一条时停止。")
    @click.option("--json", "json_mode", is_flag=True, help="以 JSON 输出结果。")
    def train_command(train_path, valid_path, out_dir, kind, charges_path, term_mode, finetune_config, fields,
                      on_error, json_mode):
        """训练模型并保存到 --out。"""
        from tianping.datasets.loaders import load_label_file
        from tianping.prediction.model import create_model

        train = _load(train_path, fields, on_error)
        _report_skipped(train)
        valid = None
        if valid_path:
            valid = _load(valid_path, fields, on_error)
            _report_skipped(valid)
        extra = load_label_file(charges_path) if charges_path else []
        if extra and kind != "grounded":
            click.echo("提示：--charges 只对 grounded 模型有用，其他模型无法预测没有训练样本的罪名", err=True)
        settings = {"term_mode": term_mode}
        if finetune_config:
            if kind != "finetune":
                raise InvalidInputError(f"--finetune-config 只用于 --model finetune，当前为 --model {kind}",
                                        hint="去掉 --finetune-config，或改用 --model finetune")
            settings["featurizer"] = _read_settings(finetune_config)
        model = create_model(kind, **settings)
        # Progress bars go to stderr, so they never mix with JSON on stdout.
        model.fit(train.cases, valid.cases if valid else None, progress_factory=progress_factory,
                  extra_charges=extra)
        model.save(out_dir)
        summary = {"model_dir": str(Path(out_dir)), "kind": kind, "charges": len(model.charge_vocab),
                   "articles": len(model.article_vocab), "training": model.training_info,
                   "train_data": train.summary(), "valid_data": valid.summary() if valid else None}
        if json_mode:
            emit_json(summary)
            return
        click.echo(f"模型已保存到 {out_dir}（{kind}，{summary['charges']} 个罪名，{summary['articles']} 个法条，"
                   f"训练 {train.summary()['cases']} 例，用时 {model.training_info['seconds']} 秒）")

    @predict_group.command("evaluate")
    @click.option("--model", "model_dir", required=True, type=click.Path(file_okay=False),
                  help="predict train 写出的模型目录。")
    @click.option("--data", "data_path", required=True, type=click.Path(dir_okay=False),
                  help="用于评估的带标注案例。")
    @click.option("--report", "report_dir", type=click.Path(file_okay=False),
                  help="report.json、per_class.csv 和 confusion.png 的写入目录 [默认：--model 目录下的 evaluation]。")
    @click.option("--field", "fields", multiple=True, metavar="NAME=PATH",
                  help="把字段映射到 JSON 路径或 CSV 列；可重复使用。")
    @click.option("--on-error", type=click.Choice(["skip", "raise"]), default="skip", show_default=True,
                  help="跳过有问题的记录（在标准错误中列出），或在遇到第一条时停止。")
    @click.option("--bootstrap", type=click.IntRange(0, 100_000), default=0, show_default=True,
                  help="用这么多次重抽样计算 CAIL 得分的 95% 自助法区间（0：不计算）。")
    @click.option("--json", "json_mode", is_flag=True, help="以 JSON 输出报告。")
    def evaluate_command(model_dir, data_path, report_dir, fields, on_error, bootstrap, json_mode):
        """在带标注的案例上评估模型并写出报告。"""
        from tianping.prediction.evaluate import cjk_font, evaluate, write_report
        from tianping.prediction.model import load_model

        model = load_model(model_dir)
        data = _load(data_path, fields, on_error)
        _report_skipped(data)
        report = evaluate(model, data.cases, progress=progress_factory(len(data.cases), "评估"),
                          bootstrap=bootstrap)
        report["data"] = data.summary()
        paths = write_report(report, report_dir or Path(model_dir) / "evaluation")
        if cjk_font() is None:
            click.echo("提示：没有找到能显示中文的字体，confusion.png 中的罪名以编号表示：编号 k 是 report.json 中 "
                       "confusion.labels 的第 k 个。安装中文字体（如 Debian 的 fonts-noto-cjk）后重新评估即可显示罪名",
                       err=True)
        if json_mode:
            emit_json({"files": paths, **report})
            return
        charges, articles, term = report["charges"], report["articles"], report["term"]
        click.echo(f"评估 {report['cases']} 例（{report['model_kind']}）")
        click.echo(f"罪名：CAIL 得分 {charges['cail_score']:.2f}（micro-F1 {charges['micro_f1']:.4f}，"
                   f"macro-F1 {charges['macro_f1']:.4f}，{charges['labels']} 个标签）")
        click.echo(f"法条：CAIL 得分 {articles['cail_score']:.2f}（micro-F1 {articles['micro_f1']:.4f}，"
                   f"macro-F1 {articles['macro_f1']:.4f}，{articles['labels']} 个标签）")
        click.echo(f"刑期：CAIL 得分 {term['term_score']:.2f}，平均绝对误差 {term['mae_months']:.1f} 个月")
        if report["intervals"]:
            low_high = {name: f"{low:.2f}–{high:.2f}" for name, (low, high) in report["intervals"].items()}
            click.echo(f"95% 自助法区间（{bootstrap} 次重抽样）：罪名 {low_high['charges']}，"
                       f"法条 {low_high['articles']}，刑期 {low_high['term']}")
        confidence = report["confidence"]
        click.echo(f"置信度：首位罪名正确 {confidence['correct']:.1%}，平均置信度 {confidence['mean_confidence']:.2f}，"
                   f"期望校准误差 {confidence['ece']:.3f}")
        unknown = report["unknown_labels"]
        labels = len(unknown["charges"]) + len(unknown["articles"])
        if labels:
            occurrences = sum(unknown["charges"].values()) + sum(unknown["articles"].values())
            click.echo(f"警告：评估数据中有 {labels} 个标签（{len(unknown['charges'])} 个罪名、"
                       f"{len(unknown['articles'])} 个法条，共出现 {occurrences} 次）不在模型的标签表中，计为未命中",
                       err=True)
        click.echo(f"报告：{paths['report']}，各类指标：{paths['per_class']}，混淆矩阵：{paths['confusion_plot']}")

    @predict_group.command("case")
    @click.argument("source", required=False)
    @click.option("--model", "model_dir", required=True, type=click.Path(file_okay=False),
                  help="predict train 写出的模型目录。")
    @click.option("--jsonl", "jsonl_mode", is_flag=True,
                  help="把 SOURCE 当作 JSON lines 案例文件读取，字段为 fact（.jsonl 文件自动如此）。")
    @click.option("--abstain-below", type=click.FloatRange(0.0, 1.0),
                  help="置信度（最可能罪名为正确罪名的校准概率，0-1）低于此值时拒答 [默认：模型的拒答阈值，0.3]。")
    @click.option("--no-text", is_flag=True, help="不输出条文原文（不需要法规库）。")
    @click.option("--json", "json_mode", is_flag=True, help="以 JSON 输出预测结果。")
    def case_command(source, model_dir, jsonl_mode, abstain_below, no_text, json_mode):
        """对一段案情事实（SOURCE 为文本、文件，或 - 表示标准输入）或一个 JSON lines 案例文件做预测。"""
        from tianping.prediction.model import load_model

        model = load_model(model_dir)
        texts = False if no_text else None
        source_is_file = _is_file(source)
        if source_is_file and (jsonl_mode or source.endswith(".jsonl")):
            _predict_lines(model, source, abstain_below, texts)
            return
        if jsonl_mode:
            raise InvalidInputError(f"JSON lines 文件不存在：{source}", hint="请检查路径")
        if source is not None and not source.strip():
            fact = source
        elif source and source != "-" and not source_is_file:
            reject_missing_path(source, "案情事实")
            fact = source
        else:
            fact = read_input(source)
        fact = require_text(fact, "案情事实")
        result = model.predict([fact], abstain_below=abstain_below, article_texts=texts)[0].to_dict()
        if json_mode:
            emit_json(result)
            return
        _print_case(result, show_text=not no_text)


def _is_file(source: str | None) -> bool:
    """Return whether SOURCE names an existing file; a fact text is usually too long to be a path."""
    if not source or source == "-":
        return False
    try:
        return Path(source).is_file()
    except (OSError, ValueError):
        return False


def _predict_lines(model, path: str, abstain_below, texts) -> None:
    """Write one JSON object per input line: the prediction, or the error for a bad record."""
    from tianping.datasets.loaders import load_cases

    dataset = load_cases(path, format="jsonl", require_labels=False, on_error="skip")
    _report_skipped(dataset, "输出中对应的行是错误对象")
    results = {}
    batch = 256
    for start in range(0, len(dataset.cases), batch):
        cases = dataset.cases[start:start + batch]
        predictions = model.predict([case.fact for case in cases], abstain_below=abstain_below,
                                    article_texts=texts)
        for case, prediction in zip(cases, predictions):
            identifier = {"id": case.id} if case.id is not None else {}
            results[case.line] = {"line": case.line, **identifier, **prediction.to_dict()}
    for bad in dataset.bad_records:
        results[bad.line] = {"line": bad.line, "error": {"code": "invalid_input", "message": bad.reason}}
    for line in sorted(results):
        click.echo(json.dumps(results[line], ensure_ascii=False))
