"""`tutor ask` with the embedded model answers from the course: the cited sections contain the quoted text."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tutor.curriculum.lessons import load_lessons
from tutor.paths import knowledge_dir

pytestmark = pytest.mark.slow


def test_ask_positional_encoding_is_cited_and_supported(index_dir):
    tutor = str(Path(sys.executable).parent / "tutor")
    env = {**os.environ, "TUTOR_DATA_DIR": str(index_dir), "TUTOR_MODEL": "embedded"}
    proc = subprocess.run([tutor, "ask", "what is positional encoding?", "--json"], capture_output=True, text=True,
                          env=env, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["citations"], out
    sections = {(lesson.source, " > ".join(s.path)): s.text for lesson in load_lessons(knowledge_dir())
                for s in lesson.sections}  # fmt: skip
    for lesson in load_lessons(knowledge_dir()):  # a lesson's opening paragraphs are cited as the lesson itself
        sections[(lesson.source, f"{lesson.meta.title} > {lesson.meta.title}")] = lesson.body.split("\n## ", 1)[0]
    quoted = [line[2:] for line in out["answer"].splitlines() if line.startswith("> ") and len(line) > 30]
    assert quoted, "the answer quotes course text"
    cited_text = " ".join(sections.get((c["source"], c["heading"]), "") for c in out["citations"])
    assert any("positional" in (c["source"] + c["heading"]).lower() for c in out["citations"])
    for line in quoted:
        assert line.strip(" …") in cited_text  # every quoted line comes from a cited section
