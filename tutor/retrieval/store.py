"""The Chroma side of the index: client selection, our embedding function, incremental updates.

Local `PersistentClient` under the data dir by default; `HttpClient` when `TUTOR_CHROMA_URL` is set.
Vectors come from our ONNX MiniLM; Chroma's default embedding function (which downloads) is never used.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from tutor.config import Settings
from tutor.retrieval.chunking import Chunk

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

COLLECTION = "curriculum"
EMBEDDER_ID = "all-MiniLM-L6-v2-onnx-meanpool-l2"
BATCH = 128


class IndexError_(RuntimeError):
    """The index is missing or unreadable; the message says how to repair it."""


def minilm_embedding_function():
    """A Chroma embedding function over the shared ONNX MiniLM (registered so Chroma can persist it)."""
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
    from chromadb.utils.embedding_functions import register_embedding_function

    from tutor.embeddings import MiniLMEmbedder

    @register_embedding_function
    class MiniLMOnnx(EmbeddingFunction[Documents]):
        def __init__(self) -> None:
            self._embedder = MiniLMEmbedder.load()

        def __call__(self, input: Documents) -> Embeddings:
            return list(self._embedder.encode(list(input)))

        @staticmethod
        def name() -> str:
            return "llm-tutor-minilm-onnx"

        def get_config(self) -> dict[str, Any]:
            return {"model": EMBEDDER_ID}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> MiniLMOnnx:
            return MiniLMOnnx()

        def default_space(self) -> str:
            return "cosine"

    return MiniLMOnnx()


def make_client(settings: Settings) -> ClientAPI:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1",
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


def where_location(settings: Settings) -> str:
    return settings.chroma_url or str(settings.chroma_dir)


def open_collection(settings: Settings) -> Collection:
    """The existing index, or a clear error telling the user to (re)build it."""
    location = where_location(settings)
    try:
        client = make_client(settings)
        names = {c.name if hasattr(c, "name") else c for c in client.list_collections()}
        if COLLECTION not in names:
            raise IndexError_(f"the curriculum index is missing at {location}: run `tutor index`")
        collection = client.get_collection(COLLECTION, embedding_function=minilm_embedding_function())
        if collection.count() == 0:
            raise IndexError_(f"the curriculum index at {location} is empty: run `tutor index`")
        return collection
    except IndexError_:
        raise
    except Exception as exc:
        raise IndexError_(
            f"the curriculum index at {location} is unreadable ({type(exc).__name__}): run `tutor index --rebuild`"
        ) from None


@dataclass
class IndexReport:
    total: int
    added: int
    updated: int
    removed: int
    unchanged: int
    seconds: float = 0.0
    chunk_tokens: dict | None = None  # embedder tokens per chunk: max, p95, median, window, over_window

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def _fresh_collection(client: ClientAPI) -> Collection:
    return client.get_or_create_collection(
        COLLECTION,
        embedding_function=minilm_embedding_function(),
        metadata={"hnsw:space": "cosine", "embedder": EMBEDDER_ID},
    )


def corpus_version(chunks: list[Chunk]) -> str:
    """A name for what the index holds: every chunk id with its content hash."""
    digest = hashlib.sha256()
    for chunk in sorted(chunks, key=lambda c: c.id):
        digest.update(f"{chunk.id}\0{chunk.content_hash}\n".encode())
    return digest.hexdigest()[:24]


def mark_version(collection: Collection, chunks: list[Chunk] | None) -> None:
    """Record the corpus version in the collection's metadata (searchers key their BM25 snapshot by it;
    None: no version, while an update is under way). The distance function stays in the collection's
    configuration; Chroma refuses it in a modify."""
    version = corpus_version(chunks) if chunks is not None else ""
    if (collection.metadata or {}).get("corpus") != version:
        collection.modify(metadata={"embedder": EMBEDDER_ID, "corpus": version})


def stored_hash(chunk_id: str, document: str | None, metadata: dict | None) -> str | None:
    """The hash of what the index really holds, recomputed: the stored `hash` field is not trusted, so a
    document altered behind the indexer's back (say, poisoned through a shared Chroma) is re-indexed."""
    meta = dict(metadata or {})
    claimed = meta.pop("hash", None)
    try:
        actual = Chunk(id=chunk_id, text=document or "", **meta).content_hash
    except TypeError:  # fields missing or unknown: an old or foreign record
        return None
    return claimed if claimed == actual else None


def update_index(
    settings: Settings,
    chunks: list[Chunk],
    rebuild: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> IndexReport:
    """Bring the collection in line with `chunks`: embed only new or changed chunks, drop removed ones."""
    import time

    from tutor.embeddings import MiniLMEmbedder

    start = time.perf_counter()
    if rebuild and not settings.chroma_url:
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()  # drop handles onto the old files before deleting them
        shutil.rmtree(settings.chroma_dir, ignore_errors=True)  # also repairs a corrupted directory
    client = make_client(settings)
    if rebuild and settings.chroma_url:
        with contextlib.suppress(Exception):  # absent collection: nothing to drop
            client.delete_collection(COLLECTION)
    collection = _fresh_collection(client)
    existing = collection.get(include=["metadatas", "documents"])
    have = {
        i: stored_hash(i, doc, meta)
        for i, doc, meta in zip(existing["ids"], existing["documents"], existing["metadatas"], strict=True)
    }
    wanted = {c.id: c for c in chunks}
    removed = [i for i in have if i not in wanted]
    todo = [c for c in chunks if have.get(c.id) != c.content_hash]
    added = sum(1 for c in todo if c.id not in have)
    if removed or todo:
        mark_version(collection, None)  # until every write is done, no searcher trusts a snapshot of this index
    if removed:
        collection.delete(ids=removed)
    embedder = MiniLMEmbedder.load() if todo else None
    # shortest first, so every batch pads to about its own length (the build is compute-bound in MiniLM)
    todo = sorted(todo, key=lambda c: len(c.embed_text))
    done = 0
    for i in range(0, len(todo), BATCH):
        batch = todo[i : i + BATCH]
        vectors = embedder.encode([c.embed_text for c in batch])
        collection.upsert(
            ids=[c.id for c in batch],
            embeddings=vectors,
            documents=[c.text for c in batch],
            metadatas=[c.metadata() for c in batch],
        )
        done += len(batch)
        if progress:
            progress(done, len(todo))
    mark_version(collection, chunks)
    return IndexReport(
        total=len(chunks),
        added=added,
        updated=len(todo) - added,
        removed=len(removed),
        unchanged=len(chunks) - len(todo),
        seconds=time.perf_counter() - start,
    )
