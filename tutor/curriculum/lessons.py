"""Parse lesson markdown: front matter, heading sections with GitHub-style anchors, runnable blocks.

Sections are the unit of retrieval and citation (`path.md#anchor`), so heading parsing lives in one
place and both the index and the validators use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from tutor.curriculum.schema import LessonMeta

FENCE = re.compile(r"^(```+|~~~+)\s*([\w+-]*)\s*(.*)$")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def slugify(heading: str) -> str:
    """GitHub's anchor rule: lowercase, drop punctuation except '-' and '_', spaces become '-'."""
    text = re.sub(r"[`*_~\[\]()]", lambda m: "_" if m.group(0) == "_" else "", heading.strip())
    text = text.lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


@dataclass
class Section:
    heading: str
    anchor: str
    level: int
    path: list[str]  # heading path from the title down, e.g. ["Attention", "Scaled dot-product"]
    text: str = ""


@dataclass
class CodeBlock:
    language: str
    runnable: bool
    code: str
    section_anchor: str


@dataclass
class Lesson:
    source: str  # path relative to knowledge/, e.g. "01_transformer_architecture/02_attention.md"
    meta: LessonMeta
    body: str
    sections: list[Section] = field(default_factory=list)
    code_blocks: list[CodeBlock] = field(default_factory=list)

    @property
    def anchors(self) -> set[str]:
        return {s.anchor for s in self.sections}

    def word_count(self) -> int:
        return len(self.body.split())


def split_front_matter(text: str) -> tuple[dict, str]:
    if not text.startswith("---\n"):
        raise ValueError("lesson must start with a '---' YAML front matter block")
    end = text.find("\n---\n", 4)
    if end < 0:
        raise ValueError("unterminated front matter")
    return yaml.safe_load(text[4:end]) or {}, text[end + 5 :]


def parse_lesson(path: Path, root: Path) -> Lesson:
    """Parse one lesson file; `root` is the knowledge/ directory the source path is relative to."""
    raw = path.read_text(encoding="utf-8")
    meta_dict, body = split_front_matter(raw)
    lesson = Lesson(source=path.relative_to(root).as_posix(), meta=LessonMeta(**meta_dict), body=body)
    stack: list[tuple[int, str]] = []
    current: Section | None = None
    lines: list[str] = []
    fence: str | None = None
    block: list[str] = []
    block_lang, block_run = "", False
    seen: dict[str, int] = {}

    def close_section() -> None:
        if current is not None:
            current.text = "\n".join(lines).strip()

    for line in body.splitlines():
        if fence is None:
            m = FENCE.match(line)
            if m:
                fence, block_lang, block_run = m.group(1), m.group(2), "run" in m.group(3).split()
                block = []
                lines.append(line)
                continue
            h = HEADING.match(line)
            if h:
                close_section()
                level, title = len(h.group(1)), h.group(2).strip()
                anchor = slugify(title)
                if anchor in seen:  # GitHub disambiguates repeated headings with -1, -2, ...
                    seen[anchor] += 1
                    anchor = f"{anchor}-{seen[anchor]}"
                else:
                    seen[anchor] = 0
                stack = [(lvl, t) for lvl, t in stack if lvl < level] + [(level, title)]
                current = Section(title, anchor, level, [t for _, t in stack])
                lesson.sections.append(current)
                lines = []
                continue
            lines.append(line)
        else:
            lines.append(line)
            if line.strip().startswith(fence) and line.strip().strip(fence[0]) == "":
                anchor = current.anchor if current else ""
                lesson.code_blocks.append(CodeBlock(block_lang, block_run, "\n".join(block), anchor))
                fence = None
            else:
                block.append(line)
    close_section()
    return lesson


def load_lessons(root: Path) -> list[Lesson]:
    """All lessons under knowledge/ (numbered module folders), in course order."""
    paths = sorted(p for p in root.glob("[0-9][0-9]_*/*.md"))
    return [parse_lesson(p, root) for p in paths]


@lru_cache(maxsize=4)
def _lessons(root: Path) -> tuple[Lesson, ...]:
    return tuple(load_lessons(root))


def all_lessons(root: Path | None = None) -> tuple[Lesson, ...]:
    """Every lesson in course order (parsed once per process)."""
    from tutor.paths import knowledge_dir

    return _lessons(root or knowledge_dir())
