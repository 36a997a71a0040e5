"""A statute-grounded predictor: supervised TF-IDF scores plus matching against Criminal Law articles.

Charges with few or no training cases get a second score from the statutes:

* each charge name is linked to the article of the specific provisions (分则)
  that defines it, found by the name's wording in the article text
  (``是受贿罪``, ``敲诈勒索公私财物``);
* a fact supports a charge when it names the charge as an offence
  (敲诈勒索罪), or, when the supervised model is unsure, when the charge's
  article is the article most similar to the fact (TF-IDF cosine).

The statute score replaces the supervised one only where it is higher, and only
for charges with fewer than ``low_data`` training cases. Charges without any
training case take their article from the statute link.

A third score comes from the conduct patterns of ``tianping.prediction.elements``:
``element_weight`` when the fact describes the conduct that defines a charge
with fewer than ``element_max_cases`` training cases. Any charge gets the same
score when the fact names its conduct in plain words (持刀抢劫被害人), and the
articles that define the charge follow. CAIL2018 masks the charged offence in
every fact, so the supervised heads never see a charge's own name as evidence
for it.

A charge that requires some conduct (抢劫: violence, coercion or a threat;
盗窃: stealth, where the fact describes seizing or deceiving; 诈骗: deception,
where the fact describes seizing or stealing) keeps only a share of its
probability when the fact mentions none of it, and so do the articles that
define it.

Bribery, embezzlement and misappropriation by employees of companies
(非国家工作人员受贿, 职务侵占, 挪用资金) become the offences of state
functionaries (受贿, 贪污, 挪用公款) when the fact names the defendant as a state
functionary or gives a post in a state organ, and their articles follow. Both
charges of a pair must be labels of the model, so this needs the full charge
list (``--charges``): the CAIL2018 sample has no 受贿 case.

The supervised heads also train on one statute example per charge: the text of
the charge's article, labelled with the charge and the article. It is never
held out for calibration, and it gives charges without training cases a
classifier of their own.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from tianping.datasets.records import Case, normalize_charge
from tianping.prediction.elements import (EARLIER_MISSING_CONDUCT_FACTOR, EMPLOYEE_CHARGE_SHARE,
                                          MISSING_CONDUCT_FACTOR, REQUIRED_CONDUCT, REQUIRED_CONDUCT_ARTICLES,
                                          STATE_COUNTERPARTS, STATE_FUNCTIONARY, ChargeElements,
                                          charge_heading_forms, charge_name_forms, named_conduct,
                                          named_in_headings)
from tianping.prediction.grounding import ArticleTexts, name_bigrams
from tianping.prediction.model import TfidfModel, register_kind

logger = logging.getLogger(__name__)

# Cosine similarity a fact needs with its best-matching article before that match counts.
MIN_ARTICLE_SIMILARITY = 0.05


def link_charge_to_article(name: str, article_texts: dict[int, str]) -> int | None:
    """Return the article of the specific provisions that defines charge ``name``, or None.

    Preference: an article saying 是{name}罪, then one containing {name}罪, then
    one containing the name, then the largest share of the name's character
    bigrams, each weighted by how rare it is among the articles (so 采矿 counts
    more than 非法). Ties go to the article where the wording appears earliest.
    """
    # NOTE: the link relies on wording alone. Names that no article repeats can
    # link to a neighbouring offence, such as 窝藏、包庇 to Article 349
    # (包庇毒品犯罪分子) instead of 310; charges with training cases take their
    # articles from the training data instead.
    name = normalize_charge(name)
    if len(name) < 2 or not article_texts:
        return None
    for pattern in (f"是{name}罪", f"为{name}罪", f"{name}罪", name):
        hits = [(text.find(pattern), number) for number, text in article_texts.items() if pattern in text]
        if hits:
            return min(hits)[1]
    bigrams = name_bigrams(name)
    document_frequency = Counter(bigram for text in article_texts.values() for bigram in bigrams if bigram in text)
    weights = {bigram: math.log((1 + len(article_texts)) / (1 + document_frequency[bigram])) for bigram in bigrams}
    total = sum(weights.values()) or 1.0
    best: tuple[float, int, int] | None = None
    for number, text in article_texts.items():
        present = [bigram for bigram in bigrams if bigram in text]
        if not present:
            continue
        share = sum(weights[bigram] for bigram in present) / total
        first = min(text.find(bigram) for bigram in present)
        key = (-share, first, number)
        if best is None or key < best:
            best = key
    if best is None or -best[0] < 0.5:
        return None
    return best[2]


class GroundedModel(TfidfModel):
    """TF-IDF supervised model combined with Criminal Law article matching."""

    kind = "grounded"

    def __init__(self, *, statute_weight: float = 0.3, low_data: int = 5, statute_examples: bool = True,
                 element_weight: float = 0.5, element_max_cases: int = 20, heading_weight: float = 0.95,
                 **settings):
        super().__init__(**settings)
        self.settings.update({"statute_weight": statute_weight, "low_data": low_data,
                              "statute_examples": statute_examples, "element_weight": element_weight,
                              "element_max_cases": element_max_cases, "heading_weight": heading_weight})
        self.elements = ChargeElements({})
        # Per charge name: a regular expression for conduct that the charge requires (see REQUIRED_CONDUCT).
        self.required_conduct: dict[str, str] = {}
        # Per charge name of required_conduct: the articles that define it.
        self.required_conduct_articles: dict[str, list[int]] = {}
        # The share of its probability that a charge keeps when its required conduct is missing.
        self.missing_conduct_factor = MISSING_CONDUCT_FACTOR
        # Per employee's charge: (its articles, the state functionary's charge, that charge's articles),
        # and the wording that names a defendant as a state functionary (see STATE_COUNTERPARTS).
        self.state_counterparts: dict[str, tuple[list[int], str, list[int]]] = {}
        self.state_functionary = ""
        # Per charge label: the words that name its conduct in a fact (see named_conduct), empty when off.
        self.conduct_names: list[list[str]] = []
        # Per charge label: the words that name it at the start of a heading (see named_in_headings).
        self.heading_names: list[list[str]] = []
        # Per charge label: the article numbers that define it (see _defining_articles).
        self.defining_articles: list[list[int]] = []
        # Per charge: the linked article number, 0 when none.
        self.charge_statute_article = np.zeros(0, dtype=np.int32)
        self.statute_numbers = np.zeros(0, dtype=np.int32)
        self.statute_matrix: sp.csr_matrix | None = None

    def fit(self, train: Sequence[Case], valid: Sequence[Case] | None = None, progress_factory=None,
            extra_charges: Sequence[str] = (), extra_articles: Sequence[int] = (),
            article_texts: ArticleTexts | None = None):
        texts = (article_texts or ArticleTexts()).specific_part()
        if not texts:
            logger.warning("no Criminal Law text in the statute store; the grounded model adds nothing")
        self._statute_texts = texts
        if self.settings["element_weight"] > 0:
            self.elements = ChargeElements.shipped()
            self.required_conduct = dict(REQUIRED_CONDUCT)
            self.required_conduct_articles = {name: list(numbers) for name, numbers in REQUIRED_CONDUCT_ARTICLES.items()}
            self.state_counterparts = dict(STATE_COUNTERPARTS)
            self.state_functionary = STATE_FUNCTIONARY
        linked = [link_charge_to_article(name, texts) for name in extra_charges]
        extra_articles = list(extra_articles) + [number for number in linked if number]
        return super().fit(train, valid, progress_factory, extra_charges=extra_charges,
                           extra_articles=extra_articles)

    def _extra_examples(self, train: Sequence[Case]) -> list[Case]:
        """Return one example per charge: the text of its article, labelled with the charge and the article.

        A charge's article is the one most often cited with it in the training
        cases, or for a charge without training cases, its statute link. The
        supervised heads then have at least one example of every charge whose
        article is in the statute store, and the rare ones more than before.
        """
        if not self.settings["statute_examples"] or not self._statute_texts:
            return []
        cited: dict[str, Counter] = {}
        for case in train:
            for name in case.charges:
                cited.setdefault(name, Counter()).update(case.articles)
        examples = []
        for label in self.charge_vocab.labels:
            if label in cited:
                number = cited[label].most_common(1)[0][0]
            else:
                number = link_charge_to_article(label, self._statute_texts)
            text = self._statute_texts.get(number) if number else None
            if text and number in self.article_vocab:
                examples.append(Case(fact=text, charges=[label], articles=[number]))
        logger.info("%d statute examples for %d charges", len(examples), len(self.charge_vocab))
        return examples

    def _after_fit(self, train: Sequence[Case], X) -> None:
        texts = self._statute_texts
        if self.settings["element_weight"] > 0:
            self.conduct_names = [charge_name_forms(label) for label in self.charge_vocab.labels]
            self.heading_names = [charge_heading_forms(label) for label in self.charge_vocab.labels]
        self.statute_numbers = np.array(sorted(texts), dtype=np.int32)
        if texts:
            self.statute_matrix = self.featurizer.transform([texts[n] for n in self.statute_numbers])
        else:
            self.statute_matrix = sp.csr_matrix((0, self.featurizer.dimension), dtype=np.float32)

    def _refine_charge_articles(self, train: Sequence[Case]) -> None:
        """Link every charge to its article and keep only the defining ones among its common articles.

        As in the base model, but a charge with fewer than three training cases,
        such as one without any, implies the article of its statute link alone.
        """
        self.charge_statute_article = np.array(
            [link_charge_to_article(name, self._statute_texts) or 0 for name in self.charge_vocab.labels],
            dtype=np.int32)
        self.defining_articles, linked = self._defining_articles(train, self.charge_statute_article)
        self._keep_defining_articles(self.defining_articles, linked)

    def defining_article_columns(self, label: int) -> np.ndarray:
        """Return the article columns that define charge ``label``.

        These come from the charge's training cases or its statute link (see
        ``_defining_articles``). Models saved before they were stored use the
        articles with P(article | charge) of at least 0.5.
        """
        if not self.defining_articles:
            return np.flatnonzero(self.charge_articles[label] >= 0.5)
        return np.array([self.article_vocab.index[number] for number in self.defining_articles[label]
                         if number in self.article_vocab.index], dtype=int)

    def statute_scores(self, X, facts: Sequence[str], supervised: np.ndarray | None = None) -> np.ndarray:
        """Return the statute score (0–1) of every charge for every fact.

        1.0 when the facts name the charge as an offence (敲诈勒索罪, 单位行贿犯罪).
        0.5 when the charge's article is the article most similar to the facts and
        the supervised model is unsure (top probability below the abstain
        threshold). Article similarity alone picks the wrong charge too often.
        """
        scores = np.zeros((len(facts), len(self.charge_vocab)))
        names = [normalize_charge(label) for label in self.charge_vocab.labels]
        for row, fact in enumerate(facts):
            for column, name in enumerate(names):
                if len(name) >= 2 and (f"{name}罪" in fact or f"{name}犯罪" in fact):
                    scores[row, column] = 1.0
        if self.statute_matrix is None or self.statute_matrix.shape[0] == 0 or supervised is None:
            return scores
        similarity = np.asarray((X @ self.statute_matrix.T).todense())
        best_rows = similarity.argmax(axis=1)
        best_numbers = self.statute_numbers[best_rows]
        best_values = similarity[np.arange(len(facts)), best_rows]
        unsure = supervised.max(axis=1) < self.settings["abstain_below"]
        for row in np.flatnonzero(unsure & (best_values >= MIN_ARTICLE_SIMILARITY)):
            linked = (self.charge_statute_article == best_numbers[row]) & (scores[row] < 0.5)
            scores[row, linked] = 0.5
        return scores

    def _uses_elements(self, label: str) -> bool:
        """Return whether charge ``label`` is scored by its conduct patterns (it has few training cases)."""
        return (self.settings["element_weight"] > 0
                and self.charge_vocab.counts.get(label, 0) < self.settings["element_max_cases"])

    def element_scores(self, facts: Sequence[str]) -> np.ndarray:
        """Return 1 where a fact describes the conduct of a charge with few training cases, else 0."""
        scores = np.zeros((len(facts), len(self.charge_vocab)))
        columns = [column for column, label in enumerate(self.charge_vocab.labels)
                   if self._uses_elements(label) and normalize_charge(label) in self.elements.patterns]
        for row, fact in enumerate(facts):
            for column in columns:
                if self.elements.match(fact, self.charge_vocab.labels[column]) is not None:
                    scores[row, column] = 1.0
        return scores

    def named_scores(self, facts: Sequence[str]) -> list[dict[int, str]]:
        """Return, per fact, the charge labels whose conduct it names in plain words, with the name used.

        Only labels whose decision threshold the score ``element_weight`` reaches
        count: a name that cannot decide its charge would only add its articles.
        """
        if not self.conduct_names:
            return [{} for _ in facts]
        decisive = self.charge_head.thresholds <= self.settings["element_weight"]
        return [{label: name for label, name in named_conduct(fact, self.conduct_names).items() if decisive[label]}
                for fact in facts]

    def heading_scores(self, facts: Sequence[str]) -> list[dict[int, str]]:
        """Return, per fact, the charge labels named at the start of a numbered heading, with the name used."""
        if not self.heading_names:
            return [{} for _ in facts]
        return [named_in_headings(fact, self.heading_names) for fact in facts]

    def charge_evidence(self, fact: str, X, row: int, label: int, count: int) -> list[str]:
        """Return the n-gram evidence, led by the charge name or the conduct pattern that the fact matched."""
        evidence = super().charge_evidence(fact, X, row, label, count)
        if not count:
            return evidence
        name = self.charge_vocab.labels[label]
        matched = self.heading_scores([fact])[0].get(label) or self.named_scores([fact])[0].get(label)
        if matched is None and self._uses_elements(name):
            matched = self.elements.match(fact, name)
        return ([matched] + [item for item in evidence if item != matched])[:count] if matched else evidence

    def _charge_probabilities(self, X, facts: Sequence[str]) -> np.ndarray:
        supervised = self.charge_head.probabilities(X)
        combined = supervised.copy()
        weight = self.settings["statute_weight"]
        if weight > 0:
            counts = np.array([self.charge_vocab.counts.get(label, 0) for label in self.charge_vocab.labels])
            low_data = counts < self.settings["low_data"]
            grounded = weight * self.statute_scores(X, facts, supervised)
            combined[:, low_data] = np.maximum(supervised[:, low_data], grounded[:, low_data])
        if self.settings["element_weight"] > 0:
            combined = np.maximum(combined, self.settings["element_weight"] * self.element_scores(facts))
            self._raise_matched(combined, self.named_scores(facts), self.settings["element_weight"])
        for name, missing in self._missing_conduct(facts).items():
            column = self.charge_vocab.index.get(name)
            if column is not None:
                combined[missing, column] *= self.missing_conduct_factor
        rows = self._state_functionary_rows(facts)
        for employee, official in self._charge_pairs():
            combined[rows, official] = np.maximum(combined[rows, official], combined[rows, employee])
            combined[rows, employee] *= EMPLOYEE_CHARGE_SHARE
        # A heading that names a charge decides it, after all other rules.
        self._raise_matched(combined, self.heading_scores(facts), self.settings["heading_weight"])
        return combined

    def _raise_matched(self, scores: np.ndarray, matches: list[dict[int, str]], weight: float,
                       articles: bool = False) -> None:
        """Raise, in each row, the matched charge labels (or their defining articles) to at least ``weight``."""
        for row, named in enumerate(matches):
            for label in named:
                columns = self.defining_article_columns(label) if articles else [label]
                scores[row, columns] = np.maximum(scores[row, columns], weight)

    def _charge_pairs(self) -> list[tuple[int, int]]:
        """Return the columns of (employee's charge, state functionary's charge) pairs that are both labels."""
        pairs = []
        for employee, (_, official, _) in self.state_counterparts.items():
            columns = (self.charge_vocab.index.get(employee), self.charge_vocab.index.get(official))
            if None not in columns:
                pairs.append(columns)
        return pairs

    def _article_pairs(self) -> list[tuple[list[int], list[int]]]:
        """Return the article columns of the employee's offence and of the state functionary's offence."""
        pairs = []
        for employee, (own, official, theirs) in self.state_counterparts.items():
            if employee not in self.charge_vocab.index or official not in self.charge_vocab.index:
                continue
            own_columns = [self.article_vocab.index[number] for number in own if number in self.article_vocab.index]
            their_columns = [self.article_vocab.index[number] for number in theirs
                             if number in self.article_vocab.index]
            if own_columns and their_columns:
                pairs.append((own_columns, their_columns))
        return pairs

    def _missing_conduct(self, facts: Sequence[str]) -> dict[str, np.ndarray]:
        """Return, per charge with required conduct, a mask of the facts that mention none of that conduct."""
        return {name: np.array([re.search(regex, fact) is None for fact in facts], dtype=bool)
                for name, regex in self.required_conduct.items()}

    def _state_functionary_rows(self, facts: Sequence[str]) -> np.ndarray:
        """Return a mask of the facts that name the defendant as a state functionary."""
        if not self.state_functionary or not self.state_counterparts:
            return np.zeros(len(facts), dtype=bool)
        return np.array([re.search(self.state_functionary, fact) is not None for fact in facts], dtype=bool)

    def _adjust_articles(self, article_probabilities: np.ndarray, facts: Sequence[str],
                         charges_supplied: bool) -> np.ndarray:
        """Apply the charge rules to the article head's probabilities.

        When a fact names a charge's conduct in plain words, the articles that
        define the charge (``defining_article_columns``) get the same score as
        the charge. The articles of a charge whose required conduct a
        fact does not mention keep the same share as the charge. An employee's
        article passes its probability to the state functionary's articles. A
        charge named at the start of a heading gives its defining articles the
        heading score. The articles implied by the charges follow the charge
        probabilities anyway. Supplied charges are taken as they are, so their
        articles are left alone.
        """
        if charges_supplied:
            return article_probabilities
        adjusted = article_probabilities.copy()
        self._raise_matched(adjusted, self.named_scores(facts), self.settings["element_weight"], articles=True)
        for name, missing in self._missing_conduct(facts).items():
            columns = [self.article_vocab.index[number] for number in self.required_conduct_articles.get(name, ())
                       if number in self.article_vocab.index]
            if columns:
                adjusted[np.ix_(missing, columns)] *= self.missing_conduct_factor
        pairs = self._article_pairs()
        rows = self._state_functionary_rows(facts) if pairs else None
        if rows is not None and rows.any():
            for own, theirs in pairs:
                moved = adjusted[np.ix_(rows, own)].max(axis=1)
                for column in theirs:
                    adjusted[rows, column] = np.maximum(adjusted[rows, column], moved)
                adjusted[np.ix_(rows, own)] *= EMPLOYEE_CHARGE_SHARE
        self._raise_matched(adjusted, self.heading_scores(facts), self.settings["heading_weight"], articles=True)
        return adjusted

    def _state(self):
        meta, arrays = super()._state()
        matrix = self.statute_matrix.tocsr()
        arrays.update({"charge_statute_article": self.charge_statute_article,
                       "statute_numbers": self.statute_numbers,
                       "statute_data": matrix.data, "statute_indices": matrix.indices,
                       "statute_indptr": matrix.indptr})
        meta["statute_shape"] = list(matrix.shape)
        meta["charge_elements"] = self.elements.patterns
        meta["required_conduct"] = self.required_conduct
        meta["required_conduct_articles"] = self.required_conduct_articles
        meta["missing_conduct_factor"] = self.missing_conduct_factor
        meta["state_counterparts"] = self.state_counterparts
        meta["state_functionary"] = self.state_functionary
        meta["conduct_names"] = self.conduct_names
        meta["heading_names"] = self.heading_names
        meta["defining_articles"] = self.defining_articles
        return meta, arrays

    def _restore(self, meta, arrays):
        super()._restore(meta, arrays)
        self.charge_statute_article = arrays["charge_statute_article"]
        self.statute_numbers = arrays["statute_numbers"]
        self.statute_matrix = sp.csr_matrix(
            (arrays["statute_data"], arrays["statute_indices"], arrays["statute_indptr"]),
            shape=tuple(meta["statute_shape"]))
        # Models saved before conduct patterns existed have none.
        self.elements = ChargeElements(meta.get("charge_elements", {}))
        self.required_conduct = meta.get("required_conduct", {})
        self.required_conduct_articles = meta.get("required_conduct_articles", {})
        self.missing_conduct_factor = meta.get("missing_conduct_factor", EARLIER_MISSING_CONDUCT_FACTOR)
        self.state_counterparts = meta.get("state_counterparts", {})
        self.state_functionary = meta.get("state_functionary", "")
        # Models saved before charge names counted as conduct, or before headings counted, have none.
        self.conduct_names = self._lists_per_label(meta, "conduct_names", str, "字符串")
        self.heading_names = self._lists_per_label(meta, "heading_names", str, "字符串")
        self.defining_articles = self._lists_per_label(meta, "defining_articles", int, "法条编号")

    def _lists_per_label(self, meta: dict, key: str, item_type: type, description: str) -> list[list]:
        """Return ``meta[key]``, one list of ``item_type`` per charge label, or [] when it is absent."""
        lists = meta.get(key, [])
        if lists and (len(lists) != len(self.charge_vocab) or not all(
                isinstance(items, list) and all(isinstance(item, item_type) for item in items) for items in lists)):
            raise ValueError(f"{key} 应为每个罪名一组{description}，共 {len(self.charge_vocab)} 组")
        return lists


register_kind(GroundedModel)
