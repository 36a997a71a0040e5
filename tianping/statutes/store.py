"""The statute store: one SQLite file with laws, their versions, articles, paragraphs and items."""

from __future__ import annotations

import datetime as dt
import logging
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from tianping import config
from tianping.errors import ImportFailedError, InvalidInputError, NotFoundError
from tianping.statutes import aliases
from tianping.statutes.models import (
    STATUS_AMENDED,
    STATUS_HISTORICAL,
    STATUS_IN_FORCE,
    STATUS_NOT_YET_IN_FORCE,
    STATUS_REPEALED,
    Article,
    LawDraft,
    Law,
    Version,
    format_article_number,
    split_paragraphs,
    text_hash,
)
from tianping.text.numerals import parse_number

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS laws (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    short_name TEXT,
    level TEXT,
    doc_type TEXT,
    category TEXT,
    issuing_body TEXT,
    first_effective_date TEXT
);
CREATE TABLE IF NOT EXISTS law_aliases (
    alias TEXT PRIMARY KEY,
    law_id INTEGER NOT NULL REFERENCES laws(id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS versions (
    id INTEGER PRIMARY KEY,
    law_id INTEGER NOT NULL REFERENCES laws(id) ON DELETE CASCADE,
    version_date TEXT,
    promulgation_date TEXT,
    effective_date TEXT,
    status TEXT NOT NULL,
    source_status TEXT NOT NULL,
    repealed_date TEXT,
    successor TEXT,
    amended_by TEXT,
    source TEXT NOT NULL,
    source_ref TEXT,
    content_hash TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    UNIQUE (law_id, content_hash)
);
CREATE TABLE IF NOT EXISTS articles (
    id INTEGER PRIMARY KEY,
    version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    number_text TEXT NOT NULL,
    number INTEGER NOT NULL,
    suffix INTEGER NOT NULL DEFAULT 0,
    part TEXT,
    chapter TEXT,
    section TEXT,
    text TEXT NOT NULL,
    text_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_by_number ON articles (version_id, number, suffix);
CREATE TABLE IF NOT EXISTS paragraphs (
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    paragraph_no INTEGER NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (article_id, paragraph_no)
);
CREATE TABLE IF NOT EXISTS items (
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    paragraph_no INTEGER NOT NULL,
    item_no INTEGER NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (article_id, paragraph_no, item_no)
);
"""

_ARTICLE_COLUMNS = """
    a.id, l.name, l.short_name, l.level, a.number_text, a.number, a.suffix, a.text,
    a.part, a.chapter, a.section, v.id, v.version_date, v.effective_date, v.status, v.amended_by
"""


# An amending act's instructions name the articles they change (将刑法第三百九十条修改为,
# 在刑法第一百三十三条后增加一条，作为第一百三十三条之一). The new text follows in quotes. Each
# of its paragraphs opens with a quotation mark, and only the last one closes.
_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"|「[^」]*」")
_PARAGRAPH_QUOTE = re.compile(r"\n\s*[\"“「]")
_NUMERAL = "零〇一二三四五六七八九十百千两0-9"
_ARTICLE_REFERENCE = re.compile(rf"第([{_NUMERAL}]+)条(?:之([一二三四五六七八九十]+))?")
_INSTRUCTION = re.compile(r"修改|增加|删去|删除|调整")
# An article inserted under a number of its own (增加一条，作为第二十条) moves the articles after it.
_NUMBERED_INSERT = re.compile(rf"增加[一二三四五六七八九十]+条[^。；“\"]*作为第[{_NUMERAL}]+条(?!之)")
# The sentence that introduces a decision's instructions (决定对《…》作如下修改：).
_PREAMBLE = re.compile(r"作如下修改|修改如下")
# Instructions that restate a whole article or one paragraph (款) of it. The new text follows them.
_REWRITE = re.compile(rf"第([{_NUMERAL}]+)条(?:之([{_NUMERAL}]+))?(?:第([{_NUMERAL}]+)款)?"
                      rf"(?:中增加[一二三四五六七八九十]+款[^，。“\"]*，将该条)?修改为[：:]")
_INSERT = re.compile(rf"增加一条，作为第([{_NUMERAL}]+)条之([{_NUMERAL}]+)[：:]")
# An instruction that deletes whole articles (删去刑法第一百九十九条。), not a paragraph of one
# (删去第三百六十条第二款) or words in one (删去第五十条中的).
_DELETE = re.compile(rf"删去[^第，。；“\"]{{0,16}}?((?:第[{_NUMERAL}]+条(?:之[{_NUMERAL}]+)?[、和及]?)+)(?=[。；;]|\s*$)")


def _changed_articles(instructions: Iterable[str]) -> frozenset[tuple[int, int]] | None:
    """Return the articles named by an amending act's instructions.

    None when an instruction names no article, or when the act renumbers
    articles (条文顺序作相应调整, or a new article under a number of its own).
    """
    changed = set()
    for text in instructions:
        instruction = _QUOTED.sub("", _PARAGRAPH_QUOTE.sub("\n", text))
        references = _ARTICLE_REFERENCE.findall(instruction)
        renumbers = "条文顺序" in instruction or _NUMBERED_INSERT.search(instruction)
        if renumbers or (not references and _INSTRUCTION.search(instruction) and not _PREAMBLE.search(instruction)):
            return None
        changed.update((parse_number(number), parse_number(suffix) if suffix else 0) for number, suffix in references)
    return frozenset(changed)


def _rewritten_text(instruction: str, article: tuple[int, int], current: str) -> str | None:
    """Return the text of ``article`` after one instruction of an amending act, or None when it does not restate it.

    A whole article is replaced, or one paragraph of ``current`` with the items
    that belong to it. The quotation marks of the new text are removed.
    """
    for pattern in (_REWRITE, _INSERT):
        found = pattern.search(instruction)
        if not found:
            continue
        number, suffix = parse_number(found.group(1)), parse_number(found.group(2)) if found.group(2) else 0
        if (number, suffix) != article:
            return None
        new_text = _PARAGRAPH_QUOTE.sub("\n", instruction[found.end():]).strip().strip("“”\"「」").strip()
        paragraph = found.group(3) if pattern is _REWRITE else None
        if not paragraph:
            return new_text
        # Paragraphs as the store counts them, each with its items.
        groups = [[part.text, *(item.text for item in part.items)] for part in split_paragraphs(current)]
        index = parse_number(paragraph) - 1
        if not 0 <= index < len(groups):
            return None
        groups[index] = [new_text]
        return "\n".join(line for group in groups for line in group)
    return None


def _deletes(instruction: str, article: tuple[int, int]) -> bool:
    """Return whether one instruction of an amending act deletes the whole of ``article``."""
    for found in _DELETE.finditer(instruction):
        for number, suffix in _ARTICLE_REFERENCE.findall(found.group(1)):
            if (parse_number(number), parse_number(suffix) if suffix else 0) == article:
                return True
    return False


def apply_amendment(article: Article, outdated: dict | None) -> Article:
    """Return ``article`` with the text that a later amending act gave it, when ``outdated`` carries that text.

    That text is in force, so its status is 现行有效. An article that the act deleted
    keeps its last text with the status 已废止.
    """
    if outdated and outdated.get("deleted"):
        return replace(article, status=STATUS_REPEALED)
    if not outdated or outdated.get("amended_text") is None:
        return article
    return replace(article, text=outdated["amended_text"], effective_date=outdated["effective_date"],
                   version_date=outdated.get("version_date") or article.version_date, amended_by=outdated["act"],
                   status=STATUS_IN_FORCE)


_USER_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def today() -> str:
    return dt.date.today().isoformat()


def check_date(value: str | None) -> str | None:
    """Validate a YYYY-MM-DD date given by a user."""
    if value is None:
        return None
    # fromisoformat alone would also take 20220301 and week dates (2022W091), so the shape is checked first.
    match = _USER_DATE.match(value.strip())
    try:
        if match is None:
            raise ValueError(value)
        return dt.date(*(int(part) for part in match.groups())).isoformat()
    except ValueError:
        raise InvalidInputError(f"日期格式无效：{value!r}", hint="请使用 YYYY-MM-DD，例如 2022-03-01") from None


def version_start(version: Version) -> str:
    """Return the date from which a version's text applies."""
    return version.effective_date or version.version_date or version.promulgation_date or "0000-00-00"


class StatuteStore:
    """Laws with all their imported versions in one SQLite file."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else config.statute_db_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA foreign_keys = ON")
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.executescript(_SCHEMA)
        columns = {row[1] for row in self._conn.execute("PRAGMA table_info(versions)")}
        if "successor" not in columns:
            self._conn.execute("ALTER TABLE versions ADD COLUMN successor TEXT")
        self._amendment_cache: dict[tuple, object] = {}
        self._conn.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
        )
        self._conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('generation', '0')")
        self._alias_cache: dict[str, int] | None = None

    def close(self) -> None:
        # Fold the write-ahead log into the main file, so copying statutes.sqlite3 alone copies everything.
        try:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as error:
            logger.debug("WAL checkpoint on close failed for %s: %s", self.path, error)
        self._conn.close()

    def __enter__(self) -> StatuteStore:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # ----------------------------------------------------------------- writes

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run a block in one write transaction that is rolled back on any error."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            self._alias_cache = None
            raise
        else:
            self._conn.execute("COMMIT")
            self._alias_cache = None
            self._amendment_cache = {}

    def import_drafts(
        self,
        drafts: Iterable[LawDraft],
        progress: Callable[[int], None] | None = None,
    ) -> dict:
        """Store parsed law versions in one transaction.

        A version whose articles are already stored for that law is skipped, so
        importing the same source twice changes nothing. When any draft fails,
        the whole import is rolled back and ImportFailedError is raised.
        """
        added = skipped = 0
        touched_laws: set[int] = set()
        try:
            with self.transaction() as conn:
                for draft in drafts:
                    law_id, was_added = self._add_draft(conn, draft)
                    if was_added:
                        added += 1
                        touched_laws.add(law_id)
                    else:
                        skipped += 1
                    if progress:
                        progress(1)
                for law_id in touched_laws:
                    self._restate_versions(conn, law_id)
                if touched_laws:
                    self._infer_repeals(conn)
                    conn.execute(
                        "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'"
                    )
        except ImportFailedError:
            raise
        except InvalidInputError as exc:
            raise ImportFailedError(f"导入失败，库未做任何修改：{exc}") from exc
        except (sqlite3.Error, ValueError, KeyError) as exc:
            raise ImportFailedError(f"导入失败，库未做任何修改：{exc}") from exc
        logger.info("import finished: %d versions added, %d already present", added, skipped)
        return {"added": added, "skipped": skipped, "laws": len(touched_laws)}

    def _add_draft(self, conn: sqlite3.Connection, draft: LawDraft) -> tuple[int, bool]:
        if not draft.articles:
            raise InvalidInputError(f"《{draft.name}》没有解析出任何条文", hint="请检查文件格式：每条以“第X条”开头")
        name = aliases.normalize_name(draft.name)
        law_id = self._law_id_for_import(conn, name, draft)
        digest = draft.content_hash()
        exists = conn.execute(
            "SELECT id FROM versions WHERE law_id = ? AND content_hash = ?", (law_id, digest)
        ).fetchone()
        if exists:
            return law_id, False
        if draft.version_date:
            # The same version from a second source differs only in layout; keep the first.
            same_version = conn.execute(
                "SELECT id FROM versions WHERE law_id = ? AND version_date = ? AND source != ?",
                (law_id, draft.version_date, draft.source),
            ).fetchone()
            if same_version:
                return law_id, False
        if draft.amended_by and draft.effective_date == draft.version_date:
            draft.effective_date = self._amendment_effective_date(conn, draft.amended_by) or draft.effective_date

        cursor = conn.execute(
            """INSERT INTO versions (law_id, version_date, promulgation_date, effective_date, status,
               source_status, repealed_date, amended_by, source, source_ref, content_hash, imported_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (law_id, draft.version_date, draft.promulgation_date, draft.effective_date, draft.status,
             draft.status, draft.repealed_date, draft.amended_by, draft.source, draft.source_ref,
             digest, dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")),
        )
        version_id = cursor.lastrowid
        for seq, article in enumerate(draft.articles):
            article_cursor = conn.execute(
                """INSERT INTO articles (version_id, seq, number_text, number, suffix, part, chapter,
                   section, text, text_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (version_id, seq, article.number_text, article.number, article.suffix, article.part,
                 article.chapter, article.section, article.text, text_hash(article.text)),
            )
            article_id = article_cursor.lastrowid
            for paragraph in split_paragraphs(article.text):
                conn.execute(
                    "INSERT INTO paragraphs (article_id, paragraph_no, text) VALUES (?, ?, ?)",
                    (article_id, paragraph.number, paragraph.text),
                )
                conn.executemany(
                    "INSERT OR IGNORE INTO items (article_id, paragraph_no, item_no, text) VALUES (?, ?, ?, ?)",
                    [(article_id, paragraph.number, item.number, item.text) for item in paragraph.items],
                )
        return law_id, True

    def _amendment_effective_date(self, conn: sqlite3.Connection, amendment_name: str) -> str | None:
        """Return the effective date of a stored amending act, which is also that of the text it produced."""
        row = conn.execute(
            """SELECT MAX(v.effective_date) FROM versions v JOIN law_aliases a ON a.law_id = v.law_id
               WHERE a.alias = ?""",
            (aliases.normalize_name(amendment_name),),
        ).fetchone()
        return row[0] if row else None

    def _law_id_for_import(self, conn: sqlite3.Connection, name: str, draft: LawDraft) -> int:
        row = conn.execute("SELECT id FROM laws WHERE name = ?", (name,)).fetchone()
        if row is None:
            # A source may use the short name (刑法) for a law stored under its full name.
            row = conn.execute("SELECT law_id FROM law_aliases WHERE alias = ?", (name,)).fetchone()
        if row is not None:
            law_id = row[0]
            conn.execute(
                """UPDATE laws SET level = COALESCE(level, ?), doc_type = COALESCE(doc_type, ?),
                   category = COALESCE(category, ?), issuing_body = COALESCE(issuing_body, ?),
                   first_effective_date = MIN(COALESCE(first_effective_date, ?), COALESCE(?, first_effective_date))
                   WHERE id = ?""",
                (draft.level, draft.doc_type, draft.category, draft.issuing_body, draft.first_effective_date,
                 draft.first_effective_date, law_id),
            )
        else:
            cursor = conn.execute(
                """INSERT INTO laws (name, short_name, level, doc_type, category, issuing_body,
                   first_effective_date) VALUES (?, ?, ?, ?, ?, ?, ?)""",
                (name, aliases.short_name(name), draft.level, draft.doc_type, draft.category,
                 draft.issuing_body, draft.first_effective_date or draft.effective_date),
            )
            law_id = cursor.lastrowid
        for alias in aliases.aliases_for(name):
            # An alias already taken by another law keeps its first owner.
            conn.execute("INSERT OR IGNORE INTO law_aliases (alias, law_id) VALUES (?, ?)", (alias, law_id))
        return law_id

    def _restate_versions(self, conn: sqlite3.Connection, law_id: int) -> None:
        """Mark all but the newest version of a law as 历史版本; the newest keeps its source status."""
        rows = conn.execute(
            """SELECT id, source_status FROM versions WHERE law_id = ?
               ORDER BY COALESCE(effective_date, version_date, promulgation_date) DESC,
                        COALESCE(version_date, '') DESC, id DESC""",
            (law_id,),
        ).fetchall()
        for position, (version_id, source_status) in enumerate(rows):
            status = source_status if position == 0 else STATUS_HISTORICAL
            if position == 0 and source_status == STATUS_HISTORICAL:
                # The newest version a source calls historical was amended by a text we lack.
                status = STATUS_AMENDED
            conn.execute("UPDATE versions SET status = ? WHERE id = ?", (status, version_id))

    def _infer_repeals(self, conn: sqlite3.Connection) -> None:
        """Date the repeal of laws marked 已废止 from a later law that names them (《某法》同时废止).

        The repealing article gives the successor; the repeal takes effect when
        the successor does, or on the date the article states (本法自…起施行).
        """
        undated = conn.execute(
            """SELECT v.id, l.name FROM versions v JOIN laws l ON l.id = v.law_id
               WHERE v.status = ? AND v.repealed_date IS NULL""",
            (STATUS_REPEALED,),
        ).fetchall()
        if not undated:
            return
        # One scan for the articles that repeal anything; each undated law is then matched in memory.
        repealing = conn.execute(
            """SELECT l.name, v.effective_date, a.text FROM articles a JOIN versions v ON v.id = a.version_id
               JOIN laws l ON l.id = v.law_id WHERE a.text LIKE '%废止%' ORDER BY v.effective_date"""
        ).fetchall()
        for version_id, name in undated:
            match = next((row for row in repealing if row[0] != name and f"《{name}》" in row[2]), None)
            if match is None:
                continue
            successor, successor_effective, text = match
            stated = re.search(r"自\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日起施行", text)
            repealed_on = successor_effective
            if stated:
                repealed_on = f"{int(stated.group(1)):04d}-{int(stated.group(2)):02d}-{int(stated.group(3)):02d}"
            conn.execute("UPDATE versions SET repealed_date = ?, successor = ? WHERE id = ?",
                         (repealed_on, successor, version_id))

    # ----------------------------------------------------------------- reads

    def outdated_by(self, version_id: int, date: str | None = None,
                    article: tuple[int, int] | None = None) -> dict | None:
        """Return the amendment that superseded this version's text by ``date`` (today when None), if known.

        The result is ``{"act", "effective_date", "version_date", "act_article", "amended_text",
        "deleted"}``, where ``version_date`` is the act's promulgation date.
        With ``article`` (number, suffix), an amendment counts only when it
        changes that article or when the store cannot tell which articles it
        changes. ``amended_text`` is then the article's text after every such
        act in force by ``date`` when each of them restates it (see
        ``amended_text``), and ``act_article`` the act's article that gives
        the last change. Both are None otherwise. ``deleted`` is true when an act
        deletes the article (删去第X条), and ``act_article`` then names that act's article.
        """
        law_id = self._newest_version_law(version_id)
        if law_id is None:
            return None
        found = None
        stored = self.article(version_id, *article) if article is not None else None
        text = stored.text if stored is not None else ""
        for act, effective, promulgated in self.later_amendments(law_id):
            if (effective or "9999") > (date or today()):
                break
            if article is None:
                return {"act": act, "effective_date": effective, "version_date": promulgated,
                        "act_article": None, "amended_text": None, "deleted": False}
            changed = self.amended_articles(act)
            if changed is not None and article not in changed:
                continue
            found = found or {"act": act, "effective_date": effective, "version_date": promulgated}
            deleting = self.deleting_article(act, article)
            if deleting is not None:
                found.update({"act": act, "effective_date": effective, "version_date": promulgated,
                              "act_article": f"《{act}》{deleting}", "deleted": True})
                text = None
                continue
            amended = self.amended_text(act, article, text) if text is not None else None
            text = amended["text"] if amended else None
            found["act_article"] = f"《{act}》{amended['act_article']}" if amended else None
        if found is not None:
            found["amended_text"] = text
            found.setdefault("deleted", False)
        return found

    def amended_texts(self) -> dict[int, str]:
        """Return, by article id, the text that the stored amending acts give articles of the newest stored texts.

        Every act counts, whatever its effective date.
        """
        texts = {}
        for (law_id,) in self._conn.execute("SELECT id FROM laws").fetchall():
            acts = self.later_amendments(law_id)
            if not acts:
                continue
            current = self.current_version(law_id)
            changed = set()
            for act, _, _ in acts:
                changed |= self.amended_articles(act) or set()
            for number, suffix in sorted(changed):
                article = self.article(current.id, number, suffix)
                outdated = self.outdated_by(current.id, "9999-12-31", (number, suffix)) if article else None
                if outdated and outdated["amended_text"]:
                    texts[article.id] = outdated["amended_text"]
        return texts

    def unchanged_by(self, version_id: int, date: str | None, article: tuple[int, int]) -> list[str]:
        """Return the stored amending acts in force by ``date`` that leave ``article`` of this newest text unchanged."""
        law_id = self._newest_version_law(version_id)
        if law_id is None:
            return []
        acts = []
        for act, effective, _ in self.later_amendments(law_id):
            changed = self.amended_articles(act)
            if (effective or "9999") <= (date or today()) and changed is not None and article not in changed:
                acts.append(act)
        return acts

    def as_amended(self, article: Article, outdated: dict | None) -> Article:
        """Return ``article`` as the stored amending acts leave it.

        ``outdated`` is ``outdated_by`` for the article. An act that restates the article
        gives its new text (see ``apply_amendment``). When every later stored act in force
        today leaves an article of a text marked 已被修改 unchanged, the article is still in
        force, so its status becomes 现行有效, whatever date the text was asked for.
        """
        if outdated:
            return apply_amendment(article, outdated)
        law_id = self._newest_version_law(article.version_id) if article.status == STATUS_AMENDED else None
        if law_id is None:
            return article
        in_force = [act for act, effective, _ in self.later_amendments(law_id) if (effective or "9999") <= today()]
        unchanged = self.unchanged_by(article.version_id, today(), (article.number, article.suffix))
        if in_force and len(unchanged) == len(in_force):
            return replace(article, status=STATUS_IN_FORCE)
        return article

    def _newest_version_law(self, version_id: int) -> int | None:
        """Return the law id of a version that is the newest stored text of its law, else None."""
        law_id = self._conn.execute("SELECT law_id FROM versions WHERE id = ?", (version_id,)).fetchone()[0]
        return law_id if self.current_version(law_id).id == version_id else None

    def amended_text(self, act: str, article: tuple[int, int], current: str) -> dict | None:
        """Return the text of ``article`` that a stored amending act gives, with the act's article holding it.

        Only an act that restates the whole article, or a paragraph of it, gives
        one: 将刑法第三百九十条修改为“……”, 将刑法第三百九十一条第一款修改为“……”,
        在刑法第一百三十四条后增加一条，作为第一百三十四条之一“……”. ``current`` is the
        stored text that a paragraph is replaced in.
        """
        rows = self._act_instructions(act)
        text = current
        source = None
        for number_text, instruction in rows:
            rewritten = _rewritten_text(instruction, article, text)
            if rewritten is not None:
                text, source = rewritten, number_text
        return {"text": text, "act_article": source} if source else None

    def deleting_article(self, act: str, article: tuple[int, int]) -> str | None:
        """Return the number of the act's article that deletes ``article`` (删去第X条), or None."""
        for number_text, instruction in self._act_instructions(act):
            if _deletes(instruction, article):
                return number_text
        return None

    def later_amendments(self, law_id: int) -> list[tuple[str, str, str | None]]:
        """Return (amending act, effective date, promulgation date) of the amendments to the newest stored text.

        They come oldest first.

        Only a newest version whose source marks it 已被修改 is checked: its
        text was amended by an act whose resulting full text the store lacks.
        The acts are stored 修正案 or 修改决定 that name the law and were
        promulgated after the version date.
        """
        key = ("law", law_id)
        if key in self._amendment_cache:
            return self._amendment_cache[key]
        found = []
        current = self.current_version(law_id)
        law = self.law(law_id)
        if current.status == STATUS_AMENDED and current.version_date:
            names = {law.name, law.short_name or law.name}
            rows = self._conn.execute(
                """SELECT l.name, v.effective_date, v.promulgation_date FROM laws l JOIN versions v ON v.law_id = l.id
                   WHERE (l.doc_type IN ('修正案', '修改决定') OR l.name LIKE '%修改%决定%')
                     AND COALESCE(v.promulgation_date, v.version_date) > ?
                   ORDER BY v.effective_date""",
                (current.version_date,),
            ).fetchall()
            found = [(act, effective, promulgated) for act, effective, promulgated in rows
                     if any(f"{name}修正案" in act or f"〈{name}〉" in act or f"《{name}》" in act for name in names)]
        self._amendment_cache[key] = found
        return found

    def _act_instructions(self, act: str) -> list[tuple[str, str]]:
        """Return (article number, text) of every article in the newest stored text of act ``act``."""
        return self._conn.execute(
            """SELECT a.number_text, a.text FROM articles a JOIN versions v ON v.id = a.version_id
               JOIN laws l ON l.id = v.law_id
               WHERE l.name = ? AND v.id = (SELECT MAX(id) FROM versions WHERE law_id = l.id) ORDER BY a.seq""",
            (act,),
        ).fetchall()

    def amended_articles(self, act: str) -> frozenset[tuple[int, int]] | None:
        """Return the articles (number, suffix) that a stored amending act rewrites, adds or deletes.

        They are the article numbers in the act's instructions, outside the
        quoted new text. None when any article may have changed: the store
        lacks the act's text, the act amends several laws (等…部法律) or
        renumbers articles (条文顺序作相应调整), or an instruction names no
        article.
        """
        key = ("act", act)
        if key in self._amendment_cache:
            return self._amendment_cache[key]
        rows = self._act_instructions(act)
        several_laws = "等" in act and "法律" in act
        result = None if not rows or several_laws else _changed_articles(text for _, text in rows)
        self._amendment_cache[key] = result
        return result

    def generation(self) -> int:
        """Return a counter that grows with every import that changed the store."""
        return int(self._conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])

    def is_empty(self) -> bool:
        return self._conn.execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 0

    def counts(self) -> dict:
        laws, versions, articles = self._conn.execute(
            "SELECT (SELECT COUNT(*) FROM laws), (SELECT COUNT(*) FROM versions), (SELECT COUNT(*) FROM articles)"
        ).fetchone()
        return {"laws": laws, "versions": versions, "articles": articles}

    def alias_map(self) -> dict[str, int]:
        """Return every citable name (canonical, short, customary) with its law id."""
        generation = self.generation()
        if getattr(self, "_alias_generation", None) != generation:
            # Another connection (another process) may have imported since the cache was filled.
            self._alias_cache = None
            self._amendment_cache = {}
            self._alias_generation = generation
        if self._alias_cache is None:
            mapping = dict(self._conn.execute("SELECT alias, law_id FROM law_aliases"))
            for law_id, name in self._conn.execute("SELECT id, name FROM laws"):
                mapping.setdefault(name, law_id)
            self._alias_cache = mapping
        return self._alias_cache

    def find_law(self, name: str) -> Law | None:
        """Find a law by its canonical name, short name or a customary abbreviation."""
        normalized = aliases.normalize_name(name)
        law_id = self.alias_map().get(normalized)
        if law_id is None:
            return None
        return self.law(law_id)

    def law(self, law_id: int) -> Law:
        row = self._conn.execute(
            """SELECT id, name, short_name, level, doc_type, category, issuing_body, first_effective_date
               FROM laws WHERE id = ?""",
            (law_id,),
        ).fetchone()
        return Law(*row)

    def require_law(self, name: str) -> Law:
        law = self.find_law(name)
        if law is None:
            repealed = aliases.find_repealed(name)
            if repealed is not None:
                raise NotFoundError(
                    f"《{repealed.name}》已于 {repealed.repealed_date} 废止，本库未收录其条文",
                    hint=f"{repealed.repealed_date} 起适用的是《{repealed.successor}》，可改查该法",
                )
            raise NotFoundError(f"未找到法律：{name}", hint="用 tianping laws list 查看已收录的法律名称")
        return law

    def versions(self, law_id: int) -> list[Version]:
        """Return the versions of a law, oldest first."""
        rows = self._conn.execute(
            """SELECT id, law_id, version_date, promulgation_date, effective_date, status, repealed_date,
                      amended_by, source, source_ref, successor FROM versions WHERE law_id = ?""",
            (law_id,),
        ).fetchall()
        versions = [Version(*row) for row in rows]
        versions.sort(key=version_order)
        return versions

    def current_version(self, law_id: int) -> Version:
        return self.versions(law_id)[-1]

    def version_on(self, law_id: int, date: str) -> Version | None:
        """Return the version of a law whose text applied on a date, or None before the first one."""
        chosen = None
        for version in self.versions(law_id):
            if version_start(version) <= date:
                chosen = version
        return chosen

    def articles(self, version_id: int) -> list[Article]:
        rows = self._conn.execute(
            f"""SELECT {_ARTICLE_COLUMNS} FROM articles a JOIN versions v ON v.id = a.version_id
                JOIN laws l ON l.id = v.law_id WHERE a.version_id = ? ORDER BY a.seq""",
            (version_id,),
        ).fetchall()
        return [Article(*row) for row in rows]

    def article(self, version_id: int, number: int, suffix: int = 0) -> Article | None:
        row = self._conn.execute(
            f"""SELECT {_ARTICLE_COLUMNS} FROM articles a JOIN versions v ON v.id = a.version_id
                JOIN laws l ON l.id = v.law_id
                WHERE a.version_id = ? AND a.number = ? AND a.suffix = ? ORDER BY a.seq LIMIT 1""",
            (version_id, number, suffix),
        ).fetchone()
        return Article(*row) if row else None

    def article_by_id(self, article_id: int) -> Article:
        row = self._conn.execute(
            f"""SELECT {_ARTICLE_COLUMNS} FROM articles a JOIN versions v ON v.id = a.version_id
                JOIN laws l ON l.id = v.law_id WHERE a.id = ?""",
            (article_id,),
        ).fetchone()
        return Article(*row)

    def article_bounds(self, version_id: int) -> tuple[int, int]:
        """Return the smallest and largest article number of a version."""
        low, high = self._conn.execute(
            "SELECT MIN(number), MAX(number) FROM articles WHERE version_id = ?", (version_id,)
        ).fetchone()
        return low or 0, high or 0

    def get_article(self, law_name: str, number: int, suffix: int = 0, date: str | None = None) -> Article:
        """Return an article of the version in force on ``date`` (today when None).

        When a later stored amending act in force by then restates the article,
        the article comes with that text (see ``outdated_by``). Raises
        NotFoundError naming the law or the article, with the valid range.
        """
        law = self.require_law(law_name)
        on_date = check_date(date) or today()
        version = self.version_on(law.id, on_date)
        if version is None:
            first = self.versions(law.id)[0]
            if law.first_effective_date and law.first_effective_date <= on_date:
                raise NotFoundError(
                    f"《{law.name}》在 {on_date} 已施行，但本库没有当时的文本"
                    f"（最早收录的版本自 {version_start(first)} 起施行）",
                    hint="请用 tianping laws import 导入当时的版本，或不加 --date 查询现行版本",
                )
            raise NotFoundError(
                f"《{law.name}》在 {on_date} 尚未施行（{version_start(first)} 起施行）",
                hint="请换一个日期，或不加 --date 查询现行版本",
            )
        article = self.article(version.id, number, suffix)
        if article is None:
            low, high = self.article_bounds(version.id)
            raise NotFoundError(
                f"《{law.name}》（{version_start(version)} 施行的版本）没有{format_article_number(number, suffix)}",
                hint=f"该版本条文编号范围为第{low}条至第{high}条",
            )
        return self.as_amended(article, self.outdated_by(version.id, on_date, (number, suffix)))

    def list_laws(self, level: str | None = None, status: str | None = None) -> list[dict]:
        """Return one summary per law: name, level, current status and dates, article count."""
        summaries = []
        for law_id, name in self._conn.execute("SELECT id, name FROM laws ORDER BY id"):
            law = self.law(law_id)
            if level and law.level != level:
                continue
            versions = self.versions(law_id)
            current = versions[-1]
            # A version whose effective date is still ahead is reported as such, not as in force.
            current_status = STATUS_NOT_YET_IN_FORCE if version_start(current) > today() else current.status
            if status and current_status != status:
                continue
            article_count = self._conn.execute(
                "SELECT COUNT(*) FROM articles WHERE version_id = ?", (current.id,)
            ).fetchone()[0]
            summaries.append({
                "law": law.name,
                "short_name": law.short_name,
                "level": law.level,
                "category": law.category,
                "status": current_status,
                "effective_date": current.effective_date,
                "version_date": current.version_date,
                "versions": len(versions),
                "articles": article_count,
            })
        return summaries

    def versions_on(self, date: str) -> dict[int, Version]:
        """Return, for every law with a version that applied on ``date``, that version (one query)."""
        rows = self._conn.execute(
            """SELECT id, law_id, version_date, promulgation_date, effective_date, status, repealed_date,
                      amended_by, source, source_ref, successor FROM versions"""
        ).fetchall()
        chosen: dict[int, Version] = {}
        for row in rows:
            version = Version(*row)
            start = version_start(version)
            if start > date:
                continue
            current = chosen.get(version.law_id)
            if current is None or version_order(version) > version_order(current):
                chosen[version.law_id] = version
        return chosen

    def all_articles(self) -> Iterator[tuple[int, int, str, str, str]]:
        """Yield (article id, version id, law name, article number text, text) for indexing."""
        yield from self._conn.execute(
            """SELECT a.id, a.version_id, l.name, a.number_text, a.text FROM articles a
               JOIN versions v ON v.id = a.version_id JOIN laws l ON l.id = v.law_id ORDER BY a.id"""
        )


def version_order(version: Version) -> tuple:
    """Return the sort key of a law's versions: start date, then version date, then import order."""
    return version_start(version), version.version_date or "", version.id


def is_repealed_on(version: Version, date: str) -> bool:
    if version.status != STATUS_REPEALED:
        return False
    return version.repealed_date is None or version.repealed_date <= date


__all__ = [
    "StatuteStore",
    "STATUS_IN_FORCE",
    "STATUS_AMENDED",
    "STATUS_REPEALED",
    "STATUS_HISTORICAL",
    "check_date",
    "today",
    "is_repealed_on",
    "version_start",
]
