"""Split the curriculum into retrievable chunks that keep their heading path and citation anchor.

Lessons are split by heading; a long section is cut at paragraph boundaries into pieces that fit the
embedder's window: at most WINDOW tokens of the embedder's own tokenizer for heading path plus text, so no
word is silently truncated away from the dense index. A short paragraph carries over as overlap; a
paragraph longer than the window is cut at sentences, a long code block at lines (each part re-fenced).
Notebooks are grouped by their markdown headings. Track and checkpoint descriptions become "plan"
chunks. Quiz files (answer keys, rubrics, hidden tests) are never read here.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from tutor.curriculum.lessons import FENCE, load_lessons, slugify

WINDOW = 254  # all-MiniLM-L6-v2 reads 256 tokens, two of them [CLS] and [SEP]
CHUNKER_VERSION = "2"  # bump to force re-embedding when chunking changes


@lru_cache(maxsize=1)
def _tokenizer():
    from tokenizers import Tokenizer

    from tutor.embeddings import weights_dir

    tokenizer = Tokenizer.from_file(str(weights_dir() / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


@lru_cache(maxsize=1 << 16)
def count_tokens(text: str) -> int:
    """Tokens the embedder sees for this text (without [CLS] and [SEP]); cached: cutting a long block
    counts the same words and lines again."""
    return len(_tokenizer().encode(text, add_special_tokens=False).ids)


@dataclass(frozen=True)
class Chunk:
    id: str
    text: str  # what a learner reads (and the answer quotes)
    source: str  # path relative to knowledge/
    anchor: str
    heading: str  # heading path, "Lesson > Section > Subsection"
    title: str
    module: str
    week: int
    kind: str  # lesson | notebook | plan

    @property
    def citation(self) -> str:
        return f"{self.source}#{self.anchor}" if self.anchor else self.source

    @property
    def embed_text(self) -> str:
        """The heading path gives short sections the context a bare paragraph lacks."""
        return f"{self.heading}\n\n{self.text}"

    @property
    def content_hash(self) -> str:
        raw = f"{CHUNKER_VERSION}\n{self.embed_text}\n{self.kind}|{self.week}|{self.module}"
        return hashlib.sha256(raw.encode()).hexdigest()[:24]

    def metadata(self) -> dict:
        meta = asdict(self)
        meta.pop("text")
        meta.pop("id")
        meta["hash"] = self.content_hash
        return meta


def paragraphs(text: str) -> list[str]:
    """Blank-line separated blocks, with each fenced code block kept whole."""
    blocks, current, fence = [], [], None
    for line in text.splitlines():
        if fence is None:
            m = FENCE.match(line)
            if m:
                fence = m.group(1)
            elif not line.strip():
                if current:
                    blocks.append("\n".join(current))
                    current = []
                continue
        elif line.strip().startswith(fence) and not line.strip().strip(fence[0]):
            fence = None
        current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks


def _cut(block: str, budget: int) -> list[str]:
    """A block longer than the budget: a code block at line boundaries (each part fenced again), prose
    at sentence boundaries, a single overlong sentence at words."""
    fenced = FENCE.match(block.split("\n", 1)[0])
    if fenced:
        lines = block.splitlines()
        opener, closer = lines[0], fenced.group(1)
        body = lines[1:-1] if lines[-1].strip().startswith(closer) else lines[1:]
        units, wrap = body, lambda part: f"{opener}\n{part}\n{closer}"
        budget -= count_tokens(f"{opener}\n\n{closer}")
        joiner = "\n"
    else:
        units = re.split(r"(?<=[.!?])\s+", block)
        wrap, joiner = (lambda part: part), " "
    pieces, current, size = [], [], 0
    for unit in units:
        n = count_tokens(unit)
        parts = [(unit, n)]
        if n > budget:  # one sentence or line alone is too long: cut it at words
            parts, buf, buf_n = [], [], 0
            for word in unit.split(" "):
                w = count_tokens(word)
                if buf and buf_n + w > budget:
                    parts.append((" ".join(buf), buf_n))
                    buf, buf_n = [], 0
                buf.append(word)
                buf_n += w
            if buf:
                parts.append((" ".join(buf), buf_n))
        for part, k in parts:  # tokens add up over whitespace joins (WordPiece splits at whitespace first)
            if current and size + k > budget:
                pieces.append(wrap(joiner.join(current)))
                current, size = [], 0
            current.append(part)
            size += k
    if current:
        pieces.append(wrap(joiner.join(current)))
    return pieces


def split_text(text: str, heading: str = "") -> list[str]:
    """Pack paragraphs into pieces that fit the embedder with their heading path; a short last paragraph
    of one piece opens the next (overlap). WordPiece splits at whitespace first, so the tokens of blocks
    joined by blank lines are the sum of the blocks' tokens: each block is counted once."""
    budget = WINDOW - count_tokens(f"{heading}\n\n") if heading else WINDOW
    if not text.strip():
        return []
    if count_tokens(text) <= budget:
        return [text]
    blocks: list[tuple[str, int]] = []
    for para in paragraphs(text):
        n = count_tokens(para)
        blocks += [(para, n)] if n <= budget else [(part, count_tokens(part)) for part in _cut(para, budget)]
    pieces, current, size = [], [], 0
    for block, n in blocks:
        if current and size + n > budget:
            pieces.append("\n\n".join(b for b, _ in current))
            last, last_n = current[-1]
            current, size = ([(last, last_n)], last_n) if last_n < budget // 4 and last_n + n <= budget else ([], 0)
        current.append((block, n))
        size += n
    if current and (not pieces or "\n\n".join(b for b, _ in current) != pieces[-1]):
        pieces.append("\n\n".join(b for b, _ in current))
    return pieces


# Self-check questions ask without answering; indexed, they outrank the sections that explain.
SKIP_SECTIONS = {"self-check-questions"}


def lesson_chunks(root: Path) -> list[Chunk]:
    chunks = []
    for lesson in load_lessons(root):
        module = lesson.meta.module
        for section in lesson.sections:
            if section.anchor in SKIP_SECTIONS:
                continue
            heading = " > ".join(section.path)
            for i, piece in enumerate(split_text(section.text, heading)):
                chunks.append(
                    Chunk(
                        id=f"{lesson.source}#{section.anchor}:{i}",
                        text=piece,
                        source=lesson.source,
                        anchor=section.anchor,
                        heading=heading,
                        title=lesson.meta.title,
                        module=module,
                        week=lesson.meta.week,
                        kind="lesson",
                    )
                )
    return chunks


NOTEBOOK_WEEK = {"01": 1, "02": 1, "03": 2, "04": 2, "05": 2, "06": 2, "07": 2, "08": 3, "09": 3, "10": 3}


def notebook_chunks(root: Path) -> list[Chunk]:
    chunks = []
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        source = path.relative_to(root).as_posix()
        cells = json.loads(path.read_text())["cells"]
        title = path.stem
        groups: list[tuple[str, list[str]]] = []
        for cell in cells:
            text = "".join(cell.get("source", ""))
            if not text.strip():
                continue
            heading = next((ln.lstrip("#").strip() for ln in text.splitlines() if re.match(r"^#{1,6}\s", ln)), None)
            if cell["cell_type"] == "markdown" and heading:
                if text.startswith("# ") and not groups:
                    title = heading
                groups.append((heading, []))
            elif not groups:
                groups.append((title, []))
            groups[-1][1].append(text if cell["cell_type"] == "markdown" else f"```python\n{text}\n```")
        seen: dict[str, int] = {}
        for heading, texts in groups:
            anchor = slugify(heading)
            seen[anchor] = seen.get(anchor, -1) + 1
            if seen[anchor]:
                anchor = f"{anchor}-{seen[anchor]}"
            full = f"{title} > {heading}" if heading != title else title
            for i, piece in enumerate(split_text("\n\n".join(texts), full)):
                chunks.append(
                    Chunk(
                        id=f"{source}#{anchor}:{i}",
                        text=piece,
                        source=source,
                        anchor=anchor,
                        heading=f"{title} > {heading}" if heading != title else title,
                        title=title,
                        module="notebooks",
                        week=NOTEBOOK_WEEK.get(path.stem[:2], 0),
                        kind="notebook",
                    )
                )
    return chunks


def plan_chunks(root: Path) -> list[Chunk]:
    """Tracks, strategies, the weekly timeline and checkpoint objectives (never quiz content)."""
    chunks = []
    tracks = yaml.safe_load((root / "tracks.yaml").read_text())

    def add(key: str, heading: str, text: str, week: int = 0, source: str = "tracks.yaml") -> None:
        for i, piece in enumerate(split_text(text, heading)):
            chunks.append(Chunk(f"{source}#{key}:{i}", piece, source, key, heading, heading, "plan", week, "plan"))

    for t in tracks["tracks"]:
        phases = "; ".join(f"{p['title']} ({p['days']} days): {p['focus']}" for p in t["recommended_path"])
        add(
            t["id"],
            f"Track: {t['name']}",
            f"{t['description']}\n\nStrengths: {', '.join(t['strengths'])}.\n"
            f"Focus areas: {', '.join(t['focus_areas'])}.\nRecommended path: {phases}.\n"
            f"Key projects: {', '.join(t['key_projects'])}.",
        )
    for s in tracks["strategies"]:
        steps = "\n".join(f"{i}. {step}" for i, step in enumerate(s["steps"], 1))
        add(s["id"], f"Strategy: {s['name']}", f"Best for: {s['best_for']}\n\n{steps}")
    for w in tracks["timeline"]:
        lines = []
        for b in w["blocks"]:
            days = "-".join(str(d) for d in (b["days"][0], b["days"][-1])) if len(b["days"]) > 1 else b["days"][0]
            items = ", ".join(b.get("read", []) + b.get("notebooks", []))
            project = f" Project: {b['project']}." if b.get("project") else ""
            lines.append(f"Days {days}: {b['title']} — {items}.{project}")
        add(f"week-{w['week']}", f"Week {w['week']}: {w['title']}", "\n".join(lines), week=w["week"])
    checkpoints = yaml.safe_load((root / "checkpoints.yaml").read_text())
    for cp in checkpoints["checkpoints"]:
        for skill in cp["skills"]:
            objectives = "\n".join(f"- {o}" for o in skill["objectives"])
            add(
                skill["id"],
                f"{cp['title']}: {skill['checklist']}",
                f"Checkpoint skill {skill['id']}: {skill['checklist']}\n\nObjectives:\n{objectives}",
                week=cp["week"],
                source="checkpoints.yaml",
            )
    return chunks


def curriculum_chunks(root: Path, cache_dir: Path | None = None) -> list[Chunk]:
    """Every chunk of the curriculum. With `cache_dir`, kept in a file named by the chunker version and
    the content of every curriculum file: an unchanged curriculum is read back instead of tokenized again
    (about 2 s on a slow machine, most of an unchanged re-index)."""
    if cache_dir is None:
        return lesson_chunks(root) + notebook_chunks(root) + plan_chunks(root)
    digest = hashlib.sha256(CHUNKER_VERSION.encode())
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(f"{path.relative_to(root)}\0".encode() + path.read_bytes() + b"\0")
    cache = cache_dir / f"chunks-{digest.hexdigest()[:16]}.json"
    if cache.exists():
        try:
            return [Chunk(**row) for row in json.loads(cache.read_text())]
        except (ValueError, TypeError):
            pass  # unreadable: chunk again
    chunks = lesson_chunks(root) + notebook_chunks(root) + plan_chunks(root)
    with contextlib.suppress(OSError):  # a read-only data dir: chunked each time, still correct
        cache_dir.mkdir(parents=True, exist_ok=True)
        for old in cache_dir.glob("chunks-*.json"):
            old.unlink(missing_ok=True)
        tmp = cache.with_suffix(f".tmp-{os.getpid()}")
        tmp.write_text(json.dumps([asdict(c) for c in chunks]))
        tmp.replace(cache)
    return chunks
