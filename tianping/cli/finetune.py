"""``tianping finetune``: train, resume, export and try fine-tuned transformer models."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from tianping.cli.output import emit_json, read_input
from tianping.errors import InvalidInputError


def _quiet_transformers() -> None:
    """Hide transformers' per-load reports and weight-loading bars; the training bar stays."""
    try:
        import transformers
    except ImportError:
        return
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    logging.getLogger("peft").setLevel(logging.ERROR)


def _format_metrics(metrics: dict) -> str:
    shown = {name: value for name, value in metrics.items()
             if name not in ("runtime", "samples_per_second", "steps_per_second", "epoch")}
    return "，".join(f"{name} {value:.4f}" if isinstance(value, float) else f"{name} {value}"
                    for name, value in shown.items())


def _print_summary(summary: dict) -> None:
    if "members" in summary:
        click.echo(f"运行目录：{summary['run_dir']}（{len(summary['members'])} 个种子 {summary['seeds']}）")
        for member in summary["members"]:
            click.echo(f"成员 {member['run_dir']}：{_format_metrics(member['final_metrics'])}")
        click.echo("平均预测的验证指标：" + _format_metrics(summary["final_metrics"]))
        return
    click.echo(f"运行目录：{summary['run_dir']}")
    click.echo(f"任务：{summary['task']}  方法：{summary['method']}  基座模型：{summary['base_model']}")
    parameters = summary["parameters"]
    click.echo(f"可训练参数：{parameters['trainable_parameters']:,} / {parameters['total_parameters']:,}"
               f"（{parameters['trainable_percent']}%）")
    data = summary["data"]
    click.echo(f"数据：训练 {data['train']} 条（增强 {data['train_augmented']} 条），验证 {data['valid']} 条")
    if "back_translation" in data:
        translation = data["back_translation"]
        click.echo(f"回译：保留 {translation['accepted']} 条，拒绝 {translation['rejected']} 条"
                   f"（{translation['rejected_by_reason'] or '无'}）")
    click.echo(f"训练：{summary['steps']} 步，{summary['train_seconds']} 秒，"
               f"{summary['train_samples_per_second']} 样本/秒，训练损失 {summary['train_loss']:.4f}")
    if summary.get("resumed_from"):
        click.echo(f"从检查点续训：{summary['resumed_from']}")
    click.echo(f"最佳 {summary['metric']}：{summary['best_metric']}（{summary['best_checkpoint']}）")
    click.echo("最终验证指标：" + _format_metrics(summary["final_metrics"]))


@click.group("finetune", short_help="用法律数据微调预训练的 transformer 模型（全量、LoRA、AdaLoRA 等）。")
def finetune() -> None:
    """用法律数据微调预训练的 transformer 模型：全量、冻结部分层、LoRA、AdaLoRA、IA3、prefix、prompt。"""


@finetune.command("check")
@click.argument("config_path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出校验后的配置。")
def check(config_path: Path, as_json: bool) -> None:
    """校验配置文件 CONFIG_PATH（JSON 或 YAML），不加载任何模型。"""
    from tianping.finetune.config import load_config

    config = load_config(config_path)
    if as_json:
        emit_json({"valid": True, "config": config.to_dict()})
        return
    click.echo(f"配置有效：任务 {config.task}，方法 {config.method.name}，输出目录 {config.output_dir}")


@finetune.command("run")
@click.argument("config_path", type=click.Path(path_type=Path))
@click.option("--output-dir", help="运行目录，覆盖配置文件中的 output_dir。")
@click.option("--max-steps", type=int, help="优化器步数，覆盖配置文件中的 training.max_steps。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出运行摘要。")
@click.option("--no-progress", is_flag=True, help="不在标准错误中显示进度条。")
def run(config_path: Path, output_dir: str | None, max_steps: int | None, as_json: bool, no_progress: bool) -> None:
    """按配置文件 CONFIG_PATH 训练；运行目录中会写入检查点、指标和模型卡片。"""
    from tianping.finetune.config import load_config

    overrides: dict = {}
    if output_dir:
        overrides["output_dir"] = output_dir
    if max_steps is not None:
        overrides["training"] = {"max_steps": max_steps}
    # Validation happens here, before torch and the model are loaded.
    config = load_config(config_path, overrides)
    _quiet_transformers()
    from tianping.finetune.engine import run as run_training

    summary = run_training(config, progress=not no_progress)
    emit_json(summary) if as_json else _print_summary(summary)


@finetune.command("resume")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出运行摘要。")
@click.option("--no-progress", is_flag=True, help="不在标准错误中显示进度条。")
def resume(run_dir: Path, as_json: bool, no_progress: bool) -> None:
    """从最新的检查点继续 RUN_DIR 中的训练，使用相同的配置和随机种子。"""
    _quiet_transformers()
    from tianping.finetune.engine import resume as resume_training

    summary = resume_training(run_dir, progress=not no_progress)
    emit_json(summary) if as_json else _print_summary(summary)


@finetune.command("export")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--merge", is_flag=True, help="把 LoRA 适配器合并进基座模型的权重（合并后与适配器的输出核对）。")
@click.option("--int8", "int8", is_flag=True, help="对 Linear 层做动态 int8 量化。")
@click.option("--onnx", "onnx", is_flag=True, help="导出 ONNX 模型；已安装 onnxruntime 时用它核对。")
@click.option("--overwrite", is_flag=True, help="替换之前同一种类的导出。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出导出报告。")
def export(run_dir: Path, merge: bool, int8: bool, onnx: bool, overwrite: bool, as_json: bool) -> None:
    """把 RUN_DIR 的模型导出到 RUN_DIR/export/{merged,int8,onnx}。"""
    if not (merge or int8 or onnx):
        raise InvalidInputError("没有选择导出方式", hint="请至少给出 --merge、--int8 或 --onnx 之一")
    _quiet_transformers()
    from tianping.finetune import export as exporter

    reports = {}
    if merge:
        reports["merge"] = exporter.export_merged(run_dir, overwrite=overwrite)
    if int8:
        reports["int8"] = exporter.export_int8(run_dir, overwrite=overwrite)
    if onnx:
        reports["onnx"] = exporter.export_onnx(run_dir, overwrite=overwrite)
    if as_json:
        emit_json(reports)
        return
    if "merge" in reports:
        report = reports["merge"]
        click.echo(f"合并模型已写出：{report['path']}（{report['samples']} 个样本，最大输出差 "
                   f"{report['max_abs_difference']:.3g} ≤ 容差 {report['tolerance']:.3g}）")
    if "int8" in reports:
        report = reports["int8"]
        quality = {key: value for key, value in report["float32"].items() if key != "latency_ms"}
        change = "，".join(f"{key} {value:.4f} → {report['int8'][key]:.4f}" for key, value in quality.items())
        click.echo(f"int8 模型已写出：{report['path']}；单条延迟 {report['float32']['latency_ms']:.1f} → "
                   f"{report['int8']['latency_ms']:.1f} 毫秒（加速 {report['speedup']:.2f} 倍）"
                   + (f"；{change}" if change else "；没有带标注的验证数据，未比较准确率"))
    if "onnx" in reports:
        report = reports["onnx"]
        line = f"ONNX 模型已写出：{report['path']}"
        if "max_abs_difference" in report:
            line += (f"；与 PyTorch 最大输出差 {report['max_abs_difference']:.3g}，单条延迟 "
                     f"{report['pytorch_latency_ms']:.1f} → {report['onnxruntime_latency_ms']:.1f} 毫秒")
        click.echo(line)


@finetune.command("predict")
@click.argument("paths", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出预测结果。")
def predict(paths: tuple[str, ...], as_json: bool) -> None:
    """对 SOURCE 中的每一行文本做预测：tianping finetune predict RUN_DIR... [SOURCE]。

    SOURCE 是文件，或 -（默认）表示标准输入。给出多个运行目录或一个集成目录（training.seeds）时，对各模型的概率取平均（回归任务对预测值取平均）。
    """
    _quiet_transformers()
    from tianping.finetune.inference import load_predictor

    run_dirs = list(paths)
    source = "-"
    if len(run_dirs) > 1 and (run_dirs[-1] == "-" or not Path(run_dirs[-1]).is_dir()):
        source = run_dirs.pop()
    texts = [line.strip() for line in read_input(source).splitlines() if line.strip()]
    if not texts:
        raise InvalidInputError("没有待预测的文本", hint="每行一条文本")
    model = load_predictor(*run_dirs)
    if model.space.task == "sft":
        results = [{"question": text, "answer": model.generate(text)} for text in texts]
    else:
        results = [{"text": text, **prediction} for text, prediction in zip(texts, model.predict(texts))]
    if as_json:
        emit_json(results)
        return
    for result in results:
        if "answer" in result:
            click.echo(f"{result['question']}\n→ {result['answer']}")
        elif "label" in result:
            click.echo(f"{result['label']}（{result['probabilities'][result['label']]:.3f}）\t{result['text'][:40]}")
        elif "labels" in result:
            click.echo(f"{'、'.join(result['labels']) or '（无）'}\t{result['text'][:40]}")
        else:
            click.echo(f"{result['value']:.2f}\t{result['text'][:40]}")


def register(cli: click.Group) -> None:
    cli.add_command(finetune)
