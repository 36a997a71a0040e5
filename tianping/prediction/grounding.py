"""Criminal Law article texts for predictions, in the version in force on the date of the events."""

from __future__ import annotations

import datetime as dt
import logging
import re
import sqlite3
from dataclasses import dataclass

from tianping.errors import NotFoundError, TianpingError

logger = logging.getLogger(__name__)

CRIMINAL_LAW = "刑法"

# The specific provisions (分则) of the Criminal Law, which define the offences.
SPECIFIC_PART = range(102, 452)

# Articles inserted by amendments are numbered 之一, 之二 and so on after an article. Article 120 has
# the most in the current Criminal Law, up to 之六.
_MAX_SUFFIX = 6

_DATE = re.compile(r"((?:19|20)\d{2})年(\d{1,2})月(?:(\d{1,2})日)?")


def event_date(fact: str) -> str | None:
    """Return the first valid date written as YYYY年M月[D日] in the facts, as YYYY-MM-DD.

    A date without a day counts as the first of the month.
    """
    for match in _DATE.finditer(fact):
        year, month = int(match.group(1)), int(match.group(2))
        day = int(match.group(3)) if match.group(3) else 1
        try:
            return dt.date(year, month, day).isoformat()
        except ValueError:
            continue
    return None


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)}


def name_bigrams(name: str) -> set[str]:
    """Return the character bigrams within each alternative of a charge name (窝藏、包庇 gives 窝藏 and 包庇)."""
    bigrams: set[str] = set()
    for piece in name.split("、"):
        bigrams |= _bigrams(piece)
    return bigrams


def name_share(name: str, text: str) -> float:
    """Return the share of the charge name's bigrams that occur in ``text``."""
    bigrams = name_bigrams(name)
    return sum(bigram in text for bigram in bigrams) / len(bigrams) if bigrams else 0.0


@dataclass(frozen=True)
class ArticleText:
    """The text of one Criminal Law article and the version it comes from."""

    number: int
    text: str
    version_date: str | None
    effective_date: str | None
    # True when no stored version was in force on the event date and the current one is given.
    current_version_used: bool
    # 1 for an article numbered 之一 after ``number``, 2 for 之二, 0 for the article itself.
    suffix: int = 0


class ArticleTexts:
    """Look up Criminal Law article texts in the statute store, importing the default source if empty."""

    def __init__(self, store=None):
        self._store = store
        self._cache: dict[tuple[int, int, str | None], ArticleText | None] = {}
        self._available: bool | None = None

    def _open(self):
        if self._store is None:
            from tianping.statutes.importers import ensure_default
            from tianping.statutes.store import StatuteStore

            self._store = StatuteStore()
            ensure_default(self._store)
        return self._store

    def available(self) -> bool:
        """Return whether the store has the Criminal Law; logs why when it does not."""
        if self._available is None:
            try:
                self._available = self._open().find_law(CRIMINAL_LAW) is not None
            except (TianpingError, sqlite3.Error, OSError) as exc:
                logger.warning("statute store unavailable, predictions carry no article text: %s", exc)
                self._available = False
        return self._available

    def get(self, number: int, date: str | None = None, suffix: int = 0) -> ArticleText | None:
        """Return article ``number`` (之``suffix``) in force on ``date`` (or the current one); None if absent."""
        key = (number, suffix, date)
        if key in self._cache:
            return self._cache[key]
        result = None
        if self.available():
            store = self._open()
            article = None
            current_used = False
            if date:
                try:
                    article = store.get_article(CRIMINAL_LAW, number, suffix=suffix, date=date)
                except NotFoundError:
                    article = None
            if article is None:
                current_used = date is not None
                try:
                    article = store.get_article(CRIMINAL_LAW, number, suffix=suffix)
                except NotFoundError:
                    article = None
            if article is not None:
                result = ArticleText(number=number, text=article.text,
                                     version_date=article.version_date,
                                     effective_date=article.effective_date,
                                     current_version_used=current_used, suffix=suffix)
        self._cache[key] = result
        return result

    def defining_provision(self, number: int, charges: list[str], date: str | None = None) -> ArticleText | None:
        """Return the article 之一, 之二 … of ``number`` that defines one of ``charges``, or None.

        CAIL2018 labels an offence defined in an inserted article by the article
        before it: 危险驾驶, defined in 第一百三十三条之一, carries article 133.
        An inserted article is returned when some charge's name matches its
        wording better than the article's own wording, and no charge matches
        the article itself better.
        """
        inserted = []
        for suffix in range(1, _MAX_SUFFIX + 1):
            found = self.get(number, date, suffix)
            if found is None:
                break
            inserted.append(found)
        if not inserted or not charges:
            return None
        base = self.get(number, date)
        chosen = None
        for name in charges:
            best_share, best = max(((name_share(name, article.text), article) for article in inserted),
                                   key=lambda pair: pair[0])
            base_share = name_share(name, base.text) if base else 0.0
            if base_share > best_share:
                return None
            if best_share > base_share and chosen is None:
                chosen = best
        return chosen

    def specific_part(self) -> dict[int, str]:
        """Return the current text of every article of the specific provisions, joined per number."""
        if not self.available():
            return {}
        store = self._open()
        law = store.find_law(CRIMINAL_LAW)
        texts: dict[int, str] = {}
        for article in store.articles(store.current_version(law.id).id):
            if article.number in SPECIFIC_PART:
                texts[article.number] = (texts.get(article.number, "") + "\n" + article.text).strip()
        return texts
