"""Chunking keeps heading paths and citations, respects size bounds and never cuts code blocks."""

import itertools

from tutor.paths import knowledge_dir
from tutor.retrieval.chunking import (
    MAX_TOKENS,
    Chunk,
    curriculum_chunks,
    estimate_tokens,
    paragraphs,
    split_text,
)


def test_paragraphs_keep_fenced_code_whole():
    text = "Intro para.\n\n```python\nx = 1\n\ny = 2\n```\n\nAfter."
    assert paragraphs(text) == ["Intro para.", "```python\nx = 1\n\ny = 2\n```", "After."]


def test_long_text_is_split_with_overlap_and_bounded():
    paras = [f"Paragraph {i} " + "word " * 60 for i in range(12)]
    pieces = split_text("\n\n".join(paras))
    assert len(pieces) > 2
    for piece in pieces:
        assert estimate_tokens(piece) <= MAX_TOKENS + 80  # one overlapping paragraph may exceed target
    for a, b in itertools.pairwise(pieces):
        assert a.split("\n\n")[-1] == b.split("\n\n")[0]  # one paragraph of overlap


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
