"""Open a lesson or one of its sections, so the tutor can show course text verbatim with its citation."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from langchain_core.tools import tool

from tutor.curriculum.lessons import Lesson, all_lessons

MAX_SECTION_CHARS = 6000


LESSON_REQUEST_WORDS = frozenset(
    [
        "open",
        "pls",
        "thru",
        "show",
        "display",
        "pull",
        "bring",
        "up",
        "list",
        "see",
        "view",
        "read",
        "get",
        "fetch",
        "give",
        "me",
        "the",
        "a",
        "an",
        "on",
        "about",
        "for",
        "of",
        "lesson",
        "lessons",
        "reading",
        "chapter",
        "notes",
        "please",
        "can",
        "could",
        "you",
        "i",
        "want",
        "to",
        "full",
        "text",
        "teach",
        "walk",
        "through",
        "guide",
        "take",
        "run",
        "go",
        "over",
        "together",
        "step",
        "by",
        "start",
        "begin",
        "kick",
        "off",
        "let's",
        "lets",
        "learn",
        "study",
        "with",
        "section",
        "bit",
        "what",
        "which",
        "is",
        "are",
        "there",
    ]
)


def _norm_words(text: str) -> list[str]:
    return [w[:6] for w in re.findall(r"[a-z0-9]+", text.lower().replace("_", " ")) if len(w) > 1]


def find_lesson(query: str, root: Path | None = None) -> Lesson | None:
    """Match by path ("02_attention_mechanism", "01_transformer_architecture/02_...md"), then by the words
    of the title and file name (most query words found wins), then by a close spelling of the title."""
    lessons = all_lessons(root)
    q = query.strip().lower().removesuffix(".md")
    if not q:
        return None
    for lesson in lessons:
        stem = lesson.source.lower().removesuffix(".md")
        name = stem.split("/")[-1]
        if q in (stem, name, name[3:], lesson.meta.title.lower()) or stem.endswith("/" + q):
            return lesson
    wanted = [w for w in _norm_words(q) if w not in {x[:6] for x in LESSON_REQUEST_WORDS}]
    if wanted:

        def overlap(lesson: Lesson) -> int:
            have = set(_norm_words(f"{lesson.meta.title} {lesson.source.split('/')[-1]}"))
            return sum(w in have for w in wanted)

        best = max(lessons, key=overlap)  # ties: the first in course order (a module's core lesson)
        if overlap(best) >= max(1, (len(wanted) + 1) // 2):
            return best
    titles = {lesson.meta.title.lower(): lesson for lesson in lessons}
    close = difflib.get_close_matches(q, list(titles), n=1, cutoff=0.75)
    return titles[close[0]] if close else None


def request_subject(text: str) -> str:
    """What a lesson request is about: "teach me positional encoding pls" -> "positional encoding"."""
    return " ".join(w for w in re.findall(r"[\w'-]+", text.lower()) if w not in LESSON_REQUEST_WORDS)


def find_lesson_by_words(text: str, root: Path | None = None) -> Lesson | None:
    """The lesson a free-text request names ("open the lesson on tokenization"), if any."""
    subject = request_subject(text)
    return find_lesson(subject, root) if subject else None


def open_lesson_text(lesson_query: str, section: str | None = None, root: Path | None = None) -> dict:
    """The lesson outline, or one section's text, with the citation `source#anchor`."""
    lesson = find_lesson(lesson_query, root)
    if lesson is None:
        available = ", ".join(sorted({x.meta.title for x in all_lessons(root)})[:8])
        return {"error": f"No lesson matches {lesson_query!r}. Some lessons: {available}"}
    if not section:
        outline = [f"{'  ' * (s.level - 2)}- {s.heading}" for s in lesson.sections if s.level >= 2]
        return {
            "source": lesson.source,
            "heading": lesson.meta.title,
            "text": f"# {lesson.meta.title}\n\n" + "\n".join(outline),
            "citation": lesson.source,
        }
    wanted = section.strip().lstrip("#").lower()
    match = next((s for s in lesson.sections if s.anchor == wanted or s.heading.lower() == wanted), None)
    if match is None:
        names = {s.heading.lower(): s for s in lesson.sections}
        close = difflib.get_close_matches(wanted, list(names), n=1, cutoff=0.4)
        match = names[close[0]] if close else None
    if match is None:
        return {"error": f"{lesson.source} has no section like {section!r}"}
    text = match.text
    if len(text) > MAX_SECTION_CHARS:
        text = text[:MAX_SECTION_CHARS] + "\n\n[section truncated]"
    return {
        "source": lesson.source,
        "heading": " > ".join(match.path),
        "text": text,
        "citation": f"{lesson.source}#{match.anchor}",
    }


@tool(response_format="content_and_artifact")
def open_lesson(lesson: str, section: str | None = None) -> tuple[str, dict]:
    """Open a course lesson by file name or title. Without `section` returns its outline; with a
    section heading returns that section's text and citation. Use it to quote the course verbatim."""
    if not lesson or not lesson.strip():
        return "open_lesson needs a lesson name or title.", {}
    found = open_lesson_text(lesson, section)
    if "error" in found:
        return found["error"], {}
    return f'<course source="{found["citation"]}">\n{found["text"]}\n</course>', found
