"""`tutor index`: chunk the curriculum and bring the Chroma collection up to date, with a progress bar."""

from __future__ import annotations

from tutor.config import Settings
from tutor.paths import knowledge_dir
from tutor.retrieval.chunking import WINDOW, Chunk, count_tokens, curriculum_chunks
from tutor.retrieval.store import IndexError_, IndexReport, open_collection, update_index


def index_curriculum(
    settings: Settings, rebuild: bool = False, show_progress: bool = False, token_stats: bool = False
) -> IndexReport:
    """Chunk and update the index; `token_stats` (for `tutor index`) also counts every chunk's embedder
    tokens, which server start and one-shot search need not pay for."""
    chunks = curriculum_chunks(knowledge_dir(), cache_dir=settings.data_dir / "cache")
    bar = None
    if show_progress:
        from tqdm import tqdm

        bar = tqdm(total=0, unit="chunk", desc="embedding", leave=False)

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.total = total
            bar.n = done
            bar.refresh()

    try:
        report = update_index(settings, chunks, rebuild=rebuild, progress=progress)
        if token_stats:
            report.chunk_tokens = chunk_token_stats(chunks)
        return report
    finally:
        if bar is not None:
            bar.close()


def ensure_index(settings: Settings) -> IndexReport | None:
    """Build the index when missing or unreadable (server start); otherwise a cheap incremental update."""
    try:
        open_collection(settings)
    except IndexError_:
        return index_curriculum(settings, rebuild=True)
    return index_curriculum(settings)


def chunk_token_stats(chunks: list[Chunk]) -> dict[str, int]:
    """Embedder tokens per chunk (heading path + text): what `tutor index --json` prints."""
    import numpy as np

    counts = np.array([count_tokens(c.embed_text) for c in chunks]) if chunks else np.zeros(1)
    return {"max": int(counts.max()), "p95": int(np.percentile(counts, 95)), "median": int(np.median(counts)),
            "window": WINDOW, "over_window": int((counts > WINDOW).sum())}  # fmt: skip
