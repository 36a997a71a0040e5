"""Multi-turn consultation: conversations stored in SQLite, and the facts users gave in earlier turns."""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path

from tianping import config
from tianping.anonymize.surnames import SINGLE_SURNAMES
from tianping.errors import NotFoundError

# Sums of money (五万元, 3000元) and dates (2023年5月) in a user's message.
AMOUNT = re.compile(r"(?:人民币)?[0-9０-９.,，一二两三四五六七八九十百千万亿]+(?:万)?(?:元|块钱?)")
DATE = re.compile(r"\d{4}\s*年(?:\s*\d{1,2}\s*月)?(?:\s*\d{1,2}\s*日)?")
# Parties: role words people use for themselves and others, and names already written as 张某 / 李某某.
_PARTY = re.compile(r"朋友|同事|邻居|房东|租客|老板|公司|单位|丈夫|妻子|前夫|前妻|父亲|母亲|儿子|女儿|借款人|出借人|"
                    r"卖家|买家|商家|[\u4e00-\u9fff]某{1,2}")
# The customary placeholder names 张三, 李四, 王五, 赵六, 钱七. A numeral right after one starts a
# sum (李四五万元 is 李四 and 五万元) unless it is a unit, as in 李四万元 (李, 四万元). Only a
# numeral, a non-Chinese character or a common verb or particle follows a placeholder, so 张三丰
# is not read as 张三.
_PLACEHOLDER_NAME = re.compile(f"[{''.join(sorted(SINGLE_SURNAMES))}][三四五六七](?![十百千万亿元])"
                               r"(?=$|[^\u4e00-\u9fff]|[一二两三四五六七八九零〇借欠说还的和与向给在是要把被等作了也都])")


def extract_facts(text: str) -> dict[str, list[str]]:
    """Return the parties, amounts and dates mentioned in a user's message."""
    names = _PLACEHOLDER_NAME.findall(text)
    without_names = _PLACEHOLDER_NAME.sub(" ", text)
    return {
        "parties": sorted(set(_PARTY.findall(text)) | set(names)),
        "amounts": sorted(set(AMOUNT.findall(without_names))),
        "dates": sorted(set(DATE.findall(text))),
    }


def merge_facts(old: dict[str, list[str]], new: dict[str, list[str]]) -> dict[str, list[str]]:
    return {key: sorted(set(old.get(key, [])) | set(new.get(key, []))) for key in ("parties", "amounts", "dates")}


def facts_context(facts: dict[str, list[str]]) -> str:
    """Render remembered facts as a short Chinese sentence for retrieval and the prompt."""
    parts = []
    if facts.get("parties"):
        parts.append("当事人：" + "、".join(facts["parties"]))
    if facts.get("amounts"):
        parts.append("金额：" + "、".join(facts["amounts"]))
    if facts.get("dates"):
        parts.append("时间：" + "、".join(facts["dates"]))
    return "；".join(parts)


@dataclass
class Turn:
    role: str
    content: str
    created_at: str
    payload: dict | None = None


class ConversationStore:
    """Conversations and their turns in ``TIANPING_HOME/conversations.sqlite3``."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else config.home() / "conversations.sqlite3"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA foreign_keys = ON")
        self._conn.executescript(
            """CREATE TABLE IF NOT EXISTS conversations (
                   id TEXT PRIMARY KEY, title TEXT NOT NULL, facts TEXT NOT NULL,
                   created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
               CREATE TABLE IF NOT EXISTS turns (
                   id INTEGER PRIMARY KEY, conversation_id TEXT NOT NULL
                       REFERENCES conversations(id) ON DELETE CASCADE,
                   role TEXT NOT NULL, content TEXT NOT NULL, payload TEXT, created_at TEXT NOT NULL);"""
        )

    def close(self) -> None:
        self._conn.close()

    def create(self, title: str) -> str:
        conversation_id = uuid.uuid4().hex[:12]
        now = _now()
        self._conn.execute("INSERT INTO conversations VALUES (?, ?, ?, ?, ?)",
                           (conversation_id, title[:40], json.dumps({}), now, now))
        return conversation_id

    def require(self, conversation_id: str) -> dict:
        row = self._conn.execute("SELECT id, title, facts, created_at, updated_at FROM conversations WHERE id = ?",
                                 (conversation_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"未找到对话：{conversation_id}", hint="用 tianping chat --list 查看已有对话")
        return {"id": row[0], "title": row[1], "facts": json.loads(row[2]), "created_at": row[3], "updated_at": row[4]}

    def list(self) -> list[dict]:
        rows = self._conn.execute(
            """SELECT c.id, c.title, c.updated_at, COUNT(t.id) FROM conversations c
               LEFT JOIN turns t ON t.conversation_id = c.id AND t.role = 'user'
               GROUP BY c.id ORDER BY c.updated_at DESC"""
        ).fetchall()
        return [{"id": row[0], "title": row[1], "updated_at": row[2], "turns": row[3]} for row in rows]

    def turns(self, conversation_id: str) -> list[Turn]:
        self.require(conversation_id)
        rows = self._conn.execute(
            "SELECT role, content, created_at, payload FROM turns WHERE conversation_id = ? ORDER BY id",
            (conversation_id,),
        ).fetchall()
        return [Turn(role, content, created, json.loads(payload) if payload else None)
                for role, content, created, payload in rows]

    def add_turn(self, conversation_id: str, role: str, content: str, payload: dict | None = None) -> None:
        conversation = self.require(conversation_id)
        now = _now()
        self._conn.execute("BEGIN")
        self._conn.execute(
            "INSERT INTO turns (conversation_id, role, content, payload, created_at) VALUES (?, ?, ?, ?, ?)",
            (conversation_id, role, content, json.dumps(payload, ensure_ascii=False) if payload else None, now),
        )
        facts = conversation["facts"]
        if role == "user":
            facts = merge_facts(facts, extract_facts(content))
        self._conn.execute("UPDATE conversations SET facts = ?, updated_at = ? WHERE id = ?",
                           (json.dumps(facts, ensure_ascii=False), now, conversation_id))
        self._conn.execute("COMMIT")

    def delete(self, conversation_id: str) -> None:
        self.require(conversation_id)
        self._conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))


class Consultation:
    """One conversation: each question is answered with the facts of earlier turns as context."""

    def __init__(self, answerer, conversations: ConversationStore, conversation_id: str | None = None):
        self.answerer = answerer
        self.conversations = conversations
        self.conversation_id = conversation_id

    def ask(self, question: str, date: str | None = None) -> dict:
        if self.conversation_id is None:
            self.conversation_id = self.conversations.create(question.strip() or "咨询")
        facts = self.conversations.require(self.conversation_id)["facts"]
        context = facts_context(facts)
        earlier = [turn.content for turn in self.conversations.turns(self.conversation_id) if turn.role == "user"]
        topic = earlier[-1] if earlier else ""
        result = self.answerer.answer(question, date=date, context=context, topic=topic).to_dict()
        result["conversation_id"] = self.conversation_id
        result["facts"] = merge_facts(facts, extract_facts(question))
        self.conversations.add_turn(self.conversation_id, "user", question)
        self.conversations.add_turn(self.conversation_id, "assistant", result["answer"], payload=result)
        return result


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
