"""Chunking keeps heading paths and citations, respects size bounds and never cuts code blocks."""

import itertools

from tutor.paths import knowledge_dir
from tutor.retrieval.chunking import (
    WINDOW,
    Chunk,
    count_tokens,
    curriculum_chunks,
    paragraphs,
    split_text,
)


def test_paragraphs_keep_fenced_code_whole():
    text = "Intro para.\n\n```python\nx = 1\n\ny = 2\n```\n\nAfter."
    assert paragraphs(text) == ["Intro para.", "```python\nx = 1\n\ny = 2\n```", "After."]


def test_long_text_is_split_with_overlap_and_fits_the_window():
    paras = [f"Paragraph {i} " + "word " * 70 for i in range(6)] + ["Short one."] + ["more " * 70]
    pieces = split_text("\n\n".join(paras), heading="Lesson > Section")
    assert len(pieces) > 2
    for piece in pieces:
        assert count_tokens(f"Lesson > Section\n\n{piece}") <= WINDOW
    assert any(a.split("\n\n")[-1] == b.split("\n\n")[0] for a, b in itertools.pairwise(pieces))  # overlap


def test_an_overlong_paragraph_or_code_block_is_cut_to_fit():
    prose = " ".join(f"Sentence number {i} says something about attention." for i in range(80))
    code = "```python\n" + "\n".join(f"x{i} = {i} * 2  # a line" for i in range(200)) + "\n```"
    for text in (prose, code):
        pieces = split_text(text, heading="H")
        assert len(pieces) > 1 and all(count_tokens(f"H\n\n{p}") <= WINDOW for p in pieces)
    assert all(p.startswith("```python\n") and p.endswith("```") for p in split_text(code, heading="H"))


def test_no_indexed_chunk_exceeds_the_embedders_window():
    """What the dense index embeds is what the embedder reads: nothing is truncated away."""
    from tutor.embeddings import MAX_TOKENS

    longest = max(count_tokens(c.embed_text) for c in curriculum_chunks(knowledge_dir()))
    assert longest + 2 <= MAX_TOKENS  # [CLS] and [SEP]


def test_short_text_is_one_chunk():
    assert split_text("short text") == ["short text"]
    assert split_text("   ") == []


def test_curriculum_chunks_cover_lessons_notebooks_and_plans_without_quiz_keys():
    chunks = curriculum_chunks(knowledge_dir())
    kinds = {c.kind for c in chunks}
    assert kinds == {"lesson", "notebook", "plan"}
    assert len({c.id for c in chunks}) == len(chunks)
    assert not any(c.source.startswith("quizzes/") for c in chunks)
    lesson = next(c for c in chunks if c.source.endswith("02_attention_mechanism.md") and " > " in c.heading)
    assert lesson.heading.startswith("The attention mechanism > ")
    assert lesson.citation == f"{lesson.source}#{lesson.anchor}"
    assert {"source", "anchor", "heading", "module", "week", "kind", "hash"} <= set(lesson.metadata())
    # No fenced block is ever cut: every chunk has balanced fences.
    for c in chunks:
        fences = [line for line in c.text.splitlines() if line.startswith("```")]
        assert len(fences) % 2 == 0, c.id


def test_content_hash_changes_with_text_only():
    a = Chunk("id", "text", "s.md", "a", "H", "T", "m", 1, "lesson")
    b = Chunk("id", "text!", "s.md", "a", "H", "T", "m", 1, "lesson")
    assert a.content_hash != b.content_hash
    assert a.content_hash == Chunk("id", "text", "s.md", "a", "H", "T", "m", 1, "lesson").content_hash


def test_an_unchanged_curriculum_is_read_back_and_a_changed_one_chunked_again(tmp_path):
    import shutil

    root = tmp_path / "knowledge"
    shutil.copytree(knowledge_dir(), root)
    cache = tmp_path / "cache"
    chunks = curriculum_chunks(root, cache_dir=cache)
    assert chunks == curriculum_chunks(root) and len(list(cache.glob("chunks-*.json"))) == 1
    assert curriculum_chunks(root, cache_dir=cache) == chunks  # read back
    lesson = next(root.glob("01_*/02_*.md"))
    lesson.write_text(lesson.read_text().replace("\n## ", "\nA paragraph about attention sinks.\n\n## ", 1))
    changed = curriculum_chunks(root, cache_dir=cache)
    assert any("attention sinks" in c.text for c in changed) and len(list(cache.glob("chunks-*.json"))) == 1
