"""Hybrid search: dense (Chroma + MiniLM) and lexical (BM25, bm25s) rankings fused by reciprocal rank.

Dense retrieval finds paraphrases ("how does the model know word order" -> positional encoding);
BM25 finds exact terms the embedder blurs (API names, acronyms like "QLoRA" or "RRF"). RRF needs no
score calibration between the two: each list contributes 1 / (k + rank).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tutor.config import Settings
from tutor.retrieval.store import open_collection

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

    from tutor.retrieval.questions import QuestionIndex

RRF_K = 60
# Lessons are the canonical explanations; notebooks and plan text rank below an equally good lesson.
KIND_WEIGHT = {"lesson": 1.0, "notebook": 0.8, "plan": 0.8}
CANDIDATES = 20
QUESTION_WEIGHT = 0.5  # the section-question ranking against dense and BM25 (tuned on the conversation tune split)
FILTER_KEYS = ("module", "week", "kind", "source")


@dataclass
class Hit:
    source: str
    anchor: str
    heading: str
    text: str
    score: float
    kind: str
    week: int
    module: str

    @property
    def citation(self) -> str:
        return f"{self.source}#{self.anchor}" if self.anchor else self.source

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "heading": self.heading,
            "text": self.text,
            "score": round(self.score, 6),
            "anchor": self.anchor,
            "citation": self.citation,
            "kind": self.kind,
            "week": self.week,
        }


def _matches(meta: dict, filters: dict) -> bool:
    """A chunk's metadata has every filter value (module, week, kind, source; exact match)."""
    return all(meta.get(k) == v for k, v in filters.items())


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@dataclass
class Corpus:
    """What the lexical side needs from the collection: ids, documents, metadata."""

    ids: list[str]
    docs: list[str]
    metas: list[dict]


def snapshot_dir(settings: Settings, collection: Collection) -> Path | None:
    """Where the BM25 snapshot of this corpus version lives (the indexer records the version in the
    collection's metadata: every re-index that changes a chunk changes it). No version, no snapshot."""
    version = str((collection.metadata or {}).get("corpus", ""))
    return settings.data_dir / "cache" / f"bm25-{version}" if version.isalnum() else None


class HybridSearcher:
    """The collection for dense search and a BM25 index of its documents (built from the collection, so an
    `HttpClient` works too; for a local index, kept as a snapshot so a one-shot `tutor search` loads it)."""

    def __init__(self, collection: Collection, questions: QuestionIndex | None = None,
                 snapshot: Path | None = None) -> None:  # fmt: skip
        from tutor.embeddings import MiniLMEmbedder

        self.collection = collection
        self.embedder = MiniLMEmbedder.load()
        self._stem = _stemmer()
        corpus, self.bm25 = self._lexical_index(collection, snapshot)
        self.ids, self.docs, self.metas = corpus.ids, corpus.docs, corpus.metas
        self._row = {id_: i for i, id_ in enumerate(self.ids)}
        self._bm25_lock = threading.Lock()
        self.questions = questions
        self._section_rows: dict[str, list[int]] = {}
        for i, meta in enumerate(self.metas):
            if meta.get("kind") == "lesson":
                citation = f"{meta['source']}#{meta.get('anchor', '')}"
                self._section_rows.setdefault(citation, []).append(i)

    def _lexical_index(self, collection: Collection, snapshot: Path | None):
        import bm25s

        if snapshot is not None and (snapshot / "corpus.json").exists():
            with contextlib.suppress(Exception):  # unreadable or half-written: build it again
                corpus = Corpus(**json.loads((snapshot / "corpus.json").read_text()))
                if sorted(corpus.ids) == sorted(collection.get(include=[])["ids"]):  # ids only: ~15 ms
                    return corpus, bm25s.BM25.load(str(snapshot), load_corpus=False)
        data = collection.get(include=["documents", "metadatas"])
        corpus = Corpus(data["ids"], data["documents"], data["metadatas"])
        texts = [f"{m.get('heading', '')}\n{d}" for d, m in zip(corpus.docs, corpus.metas, strict=True)]
        tokens = bm25s.tokenize(texts, stopwords="en", stemmer=self._stem, show_progress=False)
        bm25 = bm25s.BM25()
        bm25.index(tokens, show_progress=False)
        if snapshot is not None:
            with contextlib.suppress(OSError):  # a read-only data dir: search works, only slower to start
                save_snapshot(snapshot, corpus, bm25)
        return corpus, bm25

    @classmethod
    def open(cls, settings: Settings) -> HybridSearcher:
        from tutor.retrieval.questions import get_question_index

        questions = get_question_index(cache_dir=settings.data_dir / "cache")
        collection = open_collection(settings)
        return cls(collection, questions, snapshot=snapshot_dir(settings, collection))

    def _mask(self, filters: dict) -> np.ndarray | None:
        if not filters:
            return None
        return np.array([_matches(meta, filters) for meta in self.metas], dtype=np.float32)

    @staticmethod
    def _where(filters: dict) -> dict | None:
        clauses = [{k: v} for k, v in filters.items()]
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def lexical(self, query: str, n: int, filters: dict | None = None) -> list[str]:
        import bm25s

        q = bm25s.tokenize([query], stopwords="en", stemmer=self._stem, return_ids=False, show_progress=False)
        if not q or not q[0]:
            return []
        mask = self._mask(filters or {})
        with self._bm25_lock:
            docs, scores = self.bm25.retrieve(
                q, k=min(n, len(self.ids)), show_progress=False, n_threads=1, weight_mask=mask
            )
        return [self.ids[int(d)] for d, s in zip(docs[0], scores[0], strict=True) if s > 0]

    def dense(self, vector: np.ndarray, n: int, filters: dict | None = None) -> list[str]:
        res = self.collection.query(
            query_embeddings=[vector], n_results=min(n, len(self.ids)), where=self._where(filters or {}),
            include=[],
        )  # fmt: skip
        return res["ids"][0]

    def asked(self, vector: np.ndarray, dense: list[str], filters: dict) -> list[str]:
        """Sections whose learner questions are nearest the query, as a ranking of chunks: each section by
        its chunk that dense search ranked best (else its first chunk)."""
        if self.questions is None:
            return []
        dense_rank = {id_: r for r, id_ in enumerate(dense)}
        out = []
        ranked = sorted(self.questions.section_scores(vector).items(), key=lambda kv: kv[1], reverse=True)
        for citation, _score in ranked:
            rows = [r for r in self._section_rows.get(citation, []) if _matches(self.metas[r], filters)]
            if rows:
                out.append(min((self.ids[r] for r in rows), key=lambda id_: dense_rank.get(id_, len(dense))))
        return out

    def search(self, query: str, k: int = 5, vector: np.ndarray | None = None, **filters: object) -> list[Hit]:
        """Top-k chunks for `query` (`vector`: its embedding, when the caller has it); filters: module, week,
        kind, source (exact match)."""
        filters = {key: v for key, v in filters.items() if v is not None and key in FILTER_KEYS}
        query = query.strip()
        if not query:
            return []
        n = max(CANDIDATES, k * 4)
        vector = self.embedder.encode([query])[0] if vector is None else vector
        fused: dict[str, float] = {}
        dense = self.dense(vector, n, filters)
        rankings = ((1.0, dense), (1.0, self.lexical(query, n, filters)),
                    (QUESTION_WEIGHT, self.asked(vector, dense, filters)))  # fmt: skip
        for weight, ranking in rankings:
            for rank, id_ in enumerate(ranking):
                fused[id_] = fused.get(id_, 0.0) + weight / (RRF_K + rank + 1)
        for id_ in fused:
            fused[id_] *= KIND_WEIGHT.get(self.metas[self._row[id_]].get("kind", ""), 1.0)
        best = sorted(fused.items(), key=lambda kv: kv[1], reverse=True)[:k]
        hits = []
        for id_, score in best:
            row = self._row[id_]
            meta = self.metas[row]
            hits.append(
                Hit(
                    source=meta["source"],
                    anchor=meta.get("anchor", ""),
                    heading=meta.get("heading", ""),
                    text=self.docs[row],
                    score=score,
                    kind=meta.get("kind", ""),
                    week=int(meta.get("week", 0)),
                    module=meta.get("module", ""),
                )
            )
        return hits


def save_snapshot(target: Path, corpus: Corpus, bm25) -> None:
    """Write the snapshot beside the others, then move it into place (a reader never sees half of one);
    older snapshots of the same index go."""
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    bm25.save(str(tmp), show_progress=False)
    (tmp / "corpus.json").write_text(json.dumps({"ids": corpus.ids, "docs": corpus.docs, "metas": corpus.metas}))
    for old in target.parent.glob("bm25-*"):
        if ".tmp-" not in old.name:  # another process's copy in the making is its own to move or drop
            shutil.rmtree(old, ignore_errors=True)
    with contextlib.suppress(OSError):  # another process moved its own copy in first: the same content
        tmp.rename(target)
    shutil.rmtree(tmp, ignore_errors=True)


_searchers: dict[str, HybridSearcher] = {}
_lock = threading.Lock()


def get_searcher(settings: Settings) -> HybridSearcher:
    """One searcher per index location and process (the BM25 build and model load happen once)."""
    from tutor.retrieval.store import where_location

    key = where_location(settings)
    with _lock:
        if key not in _searchers:
            _searchers[key] = HybridSearcher.open(settings)
        return _searchers[key]
