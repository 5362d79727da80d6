"""What a free-text message asks the tutor to *do*: explain (the default), a guided lesson, run code, a
quiz, progress, the next step, a track change, a lesson text, one check question, or small talk.

A learned classifier (intent_model.py) reads the message; a few rules sit around it where a rule is
exact: a run request must contain code to run, a quiz needs a quiz word (asking *about* attention never
starts a quiz), a track change must name a track or strategy, and inside a conversation "what should I
read after this?" is about the current topic. A capable model never goes through this: it calls tools.
"""

from __future__ import annotations

import ast
import re

import numpy as np

from tutor.teaching.dialogue import LESSON_LINK, OFF_TOPIC, content_words, read_in_conversation

Intent = str  # explain | learn | run | quiz | progress | next | track | lesson | chat | check


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


EXPLAIN_FRAME = _rx(r"^\s*(so\s+)?(what|how|why|when|explain|describe|define|tell me (about|what|how|why))\b")
QUIZ_WORD = _rx(
    r"\b(quiz+(es|zes)?|test(s|ed)?|exam|checkpoint|assessment|multiple[- ]choice|mcqs?|practice (questions|problems)|"
    r"drill|flash ?cards?)\b"
)
QUIZ_ME = _rx(r"\b(quiz+|test|drill|examine) me\b")
RELATED = _rx(r"\b(related|similar topics?|builds? on (this|that)|connected to (this|that))\b|\b" + LESSON_LINK)
IN_LESSON_NEXT = _rx(
    r"^\s*(ok(ay)?[, ]+)?(so[, ]+)?(what'?s next|next|and next|then what)\s*\??\s*$|\b(read|look at|study) next\b|"
    r"\bnext (section|part|bit)\b|\bsection after\b"
)
AFTER_THIS = _rx(r"\b(read|study|learn|look at)\b.{0,20}\bafter (this|that)\b")
# "unrelated, but ...", "off topic: ...": the learner says it is not about the course; the teaching node
# answers in scope or redirects in one line, never the small model's free chat or a plan command
ASIDE = _rx(
    r"^\W*(\w+\W+){0,2}(unrelated|off[- ]?topic|random (q|question|one)|side (q|question|note)|totally different)\b"
)
# "quiz me", "pop quiz pls", "a quick quiz on this" inside a conversation: one check on the current topic
TOPIC_QUIZ = _rx(
    r"^\W*(ok(ay)?|so|alright|now|cool)?[\s,]*(pop quiz|(give me |do )?(a )?(quick |short |little |mini )?quiz( me)?"
    r"( on| about)?( (this|that|it)( stuff| part| bit| topic| one)?)?|test me( on| about)? (this|that|it)( stuff| part| bit| topic| one)?)"
    r"( (pls|please|now|then))?\W*$"
)
RUN_VERB = re.compile(
    r"\b(run|running|execute|executing|exec|evaluate|evaluating|eval|compute|calculate)\b(?:\s+(?:this|that|the following|it|my|some|code|snippet|"
    r"line|cell|for me|please|pls|plz|quickly|real quick|in python|python|in the kernel|in my kernel))*\s*[:\-–]?\s*(?P<code>.+)$",
    re.IGNORECASE | re.DOTALL,
)
TRACKS = (
    (r"research", "ml_researcher"),
    (r"data scien|\bds\b|data analy", "data_scientist"),
    (r"product|\bpm\b|manager|business", "product_manager"),
    (r"software|engineer|developer|\bswe\b|programmer|\bdev\b", "software_engineer"),
)
STRATEGIES = (
    (r"practi[cs]e|hands[- ]on", "practice_first"),
    (r"theor", "theory_first"),
    (r"project", "project_driven"),
)


def looks_like_code(text: str) -> bool:
    """Python that parses and looks like code ("print(1)", "3**4"), not prose with a bracket in it ("the
    advantages for rewards [1, 0, 0]") nor a fragment cut out of a sentence ("(r.calls[0])]` — whats missing?")."""
    text = text.strip().strip("`")
    if not text or re.fullmatch(r"[A-Za-z ,.'!?]+", text):
        return False
    shaped = re.search(
        r"\w\(.*\)|\bimport\b|\bprint\b|\bdef\b|\blambda\b|\d\s*(\*\*|[-+*/%])\s*\d|^\s*\w+\s*=[^=]|\[.*\]", text
    )
    return bool(shaped) and parses(text)


def parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def code_to_run(text: str) -> str | None:
    """The code in "run/execute/evaluate <code>" requests, or None."""
    m = RUN_VERB.search(text)
    if not m or (EXPLAIN_FRAME.match(text) and not re.match(r"^\s*(what do i get|what does)", text, re.I)):
        return None
    code = m.group("code").strip()
    if not looks_like_code(_clean(code)):
        parts = re.split(r"[:?]\s+|\n", code, maxsplit=1)
        code = parts[1] if len(parts) == 2 else code
    if looks_like_code(_clean(code)):
        return _clean(code)
    # "run print(2 + 2) and tell me what it shows": the longest start that is code, before the words
    cuts = [c.start() for c in re.finditer(r"\s+(and|then|to|so|but|—|-)\s+|[,;.!?]\s+", code)]
    return next((_clean(code[:c]) for c in reversed(cuts) if looks_like_code(_clean(code[:c]))), None)


def _clean(code: str) -> str:
    code = code.strip()
    code = re.sub(r"\s+(in|with|using) (python|the kernel|my kernel)\s*[?.!]*$", "", code, flags=re.I)
    code = re.sub(r"\s+(for me|please)\s*[?.!]*$", "", code, flags=re.I).strip().strip("`").strip()
    if code.lower().startswith("python\n"):
        code = code[7:]
    return code


def track_change(text: str) -> tuple[str | None, str | None]:
    lower = text.lower()
    track = next((t for pattern, t in TRACKS if re.search(pattern, lower)), None)
    strategy = next((s for pattern, s in STRATEGIES if re.search(pattern, lower)), None)
    return track, strategy


ACTION_FLOOR = 0.4  # chosen on the tune splits of the routing and conversation evals
TEACHING_MOVES = ("simpler", "example", "why", "misconception", "next_section", "related", "next_lesson")
WHO_ARE_YOU = _rx(r"\b(who|what) are you\b|\bwhat can you (do|help)|\bhow are you\b|\byour name\b")
GREETING = _rx(
    r"^\s*(hi+|hey+|hello+|hiya|howdy|yo|good (morning|afternoon|evening)|thanks?( you| a lot| so much)?|thx|ty|"
    r"cheers|ok(ay)?|cool|nice|great|bye|see (you|ya))( there| all| everyone| tutor)?[\s!.,:;)]*$"
)
LESSON_ID = _rx(r"\b\d\d_[a-z][a-z_]+\b")


def classify(text: str, has_topic: bool = False, vector: np.ndarray | None = None) -> Intent:
    """The intent of one free-text message (commands and fenced code are routed before this).
    `has_topic`: a conversation is under way, so "what should I read after this?" means related lessons."""
    from tutor.agent.intent_model import get_intent_model

    if code_to_run(text):
        return "run"
    if GREETING.match(text):
        return "chat"  # "hello!", "thanks": no classifier (and no sentence vector) for a greeting
    if ASIDE.search(text):
        return "explain"  # the teaching node answers it from the course or redirects in one line
    if has_topic and TOPIC_QUIZ.match(text):
        return "check"  # "pop quiz pls" mid-conversation: one question on the current topic
    if RELATED.search(text) or (has_topic and (AFTER_THIS.search(text) or IN_LESSON_NEXT.search(text))):
        return "explain"  # the teaching node answers with related lessons or the lesson's next section
    if has_topic:
        reading = read_in_conversation(text, has_topic=True)
        if reading.follow_up and reading.move == "check":
            return "check"  # "test me on this stuff": one question on the current topic, not the week's quiz
        if reading.follow_up and reading.move in TEACHING_MOVES:
            return "explain"  # "show me with numbers which tokens top-p keeps": a move on the current topic
    prediction = get_intent_model().predict(text, vector)
    intent = prediction.label
    if intent != "explain" and prediction.confidence < ACTION_FLOOR:
        return "explain"  # unsure: answering the question does no harm, a wrong action (a quiz, a switch) does
    if intent == "chat" and not WHO_ARE_YOU.search(text) and ("?" in text or OFF_TOPIC.search(text) or asks(text)):
        return "explain"  # "do you like pizza?", "btw hows the weather": the teaching node redirects in one line
    if intent == "run" and not code_in(text):
        return "explain"
    if intent == "quiz" and not QUIZ_WORD.search(text):
        return "check" if has_topic else "explain"
    if intent == "quiz" and EXPLAIN_FRAME.match(text) and not QUIZ_ME.search(text):
        return "explain"  # "explain what a quiz on attention would cover" asks about a quiz
    if intent == "track" and not any(track_change(text)):
        return "explain"
    if intent == "explain" and LESSON_ID.search(text):
        return "lesson"  # a lesson file named outright ("open 02_model_families")
    return intent


QUESTION_FRAME = _rx(
    r"\b(do|does|did|is|are|will|would|should|can|could) (u|you|they|it|we|i|openai|\w+) (think|know|gonna|going)\b"
)


def asks(text: str) -> bool:
    """A question typed without its question mark ("do u think openai is gonna go public this year"): the
    small model would answer it with invented facts, so the teaching node answers in scope or redirects."""
    return bool(QUESTION_FRAME.search(text)) or len(content_words(text)) >= 6


def code_in(text: str) -> str | None:
    """The code a run request carries: after a run verb, in backticks, or after a colon."""
    found = code_to_run(text)
    if found:
        return found
    ticks = re.findall(r"`([^`\n]+)`", text)
    for candidate in [*ticks, *re.split(r":\s+", text)[1:]]:
        if looks_like_code(_clean(candidate)):
            return _clean(candidate)
    return None
