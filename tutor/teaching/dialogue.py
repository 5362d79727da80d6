"""What a learner's message asks for, read against the conversation so far.

A message names a teaching move ("more simply", "an example", "why?", "common mistakes", "check me") and
maybe a topic. Follow-ups ("that", "it", "and top-p?", "I don't get it") keep the current topic; a message
with its own subject is a new question. Patterns first (every rule is tested); inside a conversation, a short
message no pattern reads goes to a small learned move reader (read_in_conversation). Both are deterministic:
the same message always means the same thing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Move = str  # explain | simpler | example | why | misconception | check | next_section | related

# "which other lessons build on the tokenizer stuff?": a lesson to read beside or after the current one
LESSON_LINK = r"(other|which|what) (other )?lessons?\b.{0,40}\b(build|connect|relate|follow|come after)"

MOVE_PATTERNS: tuple[tuple[Move, re.Pattern[str]], ...] = tuple(
    (move, re.compile(pattern, re.IGNORECASE))
    for move, pattern in (
        (
            "check",
            r"\b(check (my|me|if i|whether i)|test (my|me)\b(?! on week)|quiz me (on|about) (this|that|it)\b|"
            r"ask me (a|one|some|another) (question|quick question)|see (if|whether) i (got|get|understood)|"
            r"(am i|did i get it) right|make sure i (got|get|understood))",
        ),
        (
            "misconception",
            r"\b(misconceptions?|mistakes?|pitfalls?|gotchas?|common errors?|go(es)? wrong|avoid (it|that|this|them)|"
            r"traps?|misunderst|people get wrong|wrong about|confuse[sd]?\b|mix (up|them up)|failure modes?|"
            r"(usual|common|typical|main) ways? (\w+ ){0,3}fail)",
        ),
        (
            "example",
            r"\b((an?|some|another|one|concrete|worked|numeric(al)?|simple|quick|real|small|toy|tiny|code|before and after) examples?|"
            r"examples? (please|pls|with|of (it|that|this|how))|(give|show|walk|work|run) (me )?(through )?(an?|some|the)? ?examples?|"
            r"^\s*examples?\W*$|e\.g\.|for instance|with (some |actual |real )?numbers|numerically|concrete(ly)?|"
            r"show me (the |some )?code|code (for|of) (it|that|this)|in code|illustrat|demo\b|worked|"
            r"walk me through (it|that|an)|sample|small case|by hand|calculation|\bcalc(ulate)? (it|that|this)\b|compute (it|the)|work (an?|it|one) )",
        ),
        (
            "simpler",
            r"(\bsimpl(er|y|ify|e (terms|words|version))|\beli5\b|like i'?m (five|5|a child|new)|\bplain (english|words|terms|language)|"
            r"\blayman|dumb (it|that) down|\bi (still )?(don'?t|do not|didn'?t|dont) (get|understand|follow|see)|"
            r"\bconfus(ed|ing)|lost me|too (complicated|technical|hard|dense|abstract|mathy)|\beasier\b|"
            r"\bmakes? no sense|\bnot (getting|following)|^\s*(huh|what)\s*\?*\s*$|\bin other words|\brephrase|"
            r"\b(still |kinda |a bit |totally |completely |so )lost\b|^\W*lost\W*$|\b(talking|explaining) (it )?to (my|a) (mom|mum|dad|grandma|grandmother|kid|child|friend)|"
            r"\bjargon|like i'?m not (an? )?(ml|technical|tech|engineer|expert|developer|math)|\bnon-?technical)",
        ),
        (
            "why",
            r"(^\s*(but |and |so )?why\b|\bwhy (is|does|do|would|that|it|this|not)\b|\bgo deeper|\bmore (detail|depth)|"
            r"\bin depth|\bdeeper\b|\bthe math|\bmath(s|ematically)?\b|\bunder the hood|\bhow (does|do) (that|it|this|they) work|"
            r"\bmechanism|\bintuition behind|\bexplain why|\breason(ing)? (for|behind)|\bhow come|\bderiv|\bformula|\bproof\b)",
        ),
        (
            "related",
            r"\b(related|read (next|after)|(study|learn|read|look at) (next|after)|what else (should|could) i|"
            r"similar topics?|where (do|should) i go from here|builds? on (this|that)|connected to (this|that)|"
            + LESSON_LINK
            + ")",
        ),
        (
            "next_section",
            r"(^\s*(ok(ay)?[, ]+)?(go on|continue|next|keep going|carry on|move on|and then\??|more please|tell me more|"
            r"go ahead|what'?s next)\s*[.!?]*\s*$|\bnext (section|part|bit|step|topic in (this|the) lesson)\b|"
            r"\bsection after\b|\bwhat'?s (next )?after\b|\bkeep going\b|\bcarry on\b|\bwhat'?s next in (this|the) lesson)",
        ),
    )
)

CONTINUATION = re.compile(
    r"^\s*(and|but|so|also|then|what about|how about|is (that|it|this)|are (they|those|these)|does (that|it|this)|"
    r"do (they|those)|can (it|that|you)|could (it|that)|should i|how (is|do|does|would) (that|it|this|one)|"
    r"which one|wait|hmm|ok so|okay so)\b",
    re.IGNORECASE,
)
PRONOUN = re.compile(r"\b(it|that|this|they|them|those|these|its|their|one|ones)\b", re.IGNORECASE)
DEMONSTRATIVE = re.compile(  # "these systems", "that trick": the thing just discussed, named generically
    r"\b(this|that|these|those) (systems?|models?|methods?|approach(es)?|techniques?|things?|ideas?|tricks?|"
    r"setups?|steps?|parts?|kinds?|ones|pipelines?|tools?)\b",
    re.IGNORECASE,
)
STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "and",
        "or",
        "but",
        "so",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "it",
        "its",
        "that",
        "this",
        "these",
        "those",
        "they",
        "them",
        "their",
        "there",
        "here",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "how",
        "why",
        "when",
        "where",
        "can",
        "could",
        "would",
        "should",
        "will",
        "shall",
        "do",
        "does",
        "did",
        "done",
        "doing",
        "i",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
        "he",
        "she",
        "his",
        "her",
        "please",
        "thanks",
        "thank",
        "just",
        "really",
        "actually",
        "also",
        "then",
        "than",
        "more",
        "most",
        "less",
        "very",
        "much",
        "many",
        "some",
        "any",
        "about",
        "again",
        "still",
        "even",
        "like",
        "same",
        "different",
        "difference",
        "between",
        "explain",
        "tell",
        "show",
        "give",
        "me",
        "more",
        "simply",
        "simpler",
        "example",
        "examples",
        "why",
        "go",
        "deeper",
        "detail",
        "mistakes",
        "common",
        "pitfalls",
        "check",
        "understanding",
        "understand",
        "get",
        "got",
        "know",
        "think",
        "mean",
        "means",
        "meant",
        "work",
        "works",
        "working",
        "use",
        "used",
        "using",
        "ok",
        "okay",
        "yes",
        "no",
        "sure",
        "right",
        "well",
        "bit",
        "little",
        "part",
        "lot",
        "way",
        "thing",
        "things",
        "stuff",
        "kind",
        "sort",
        "one",
        "ones",
        "case",
        "cases",
        "what's",
        "that's",
        "it's",
        "i'm",
        "i've",
        "don't",
        "doesn't",
        "aren't",
        "isn't",
        "can't",
        "won't",
        "didn't",
        "let's",
        "sorry",
        "haha",
        "lol",
        "ugh",
        "btw",
        "brb",
        "hmm",
        "yeah",
        "yep",
        "nope",
        "random",
        "side",
        "question",
        "also",
        "different",
        "unrelated",
        "quick",
        "pls",
        "plz",
        "gonna",
        "wanna",
        "kinda",
        "actually",
        # contractions typed without the apostrophe, and fillers: context, never the subject
        "cant",
        "dont",
        "didnt",
        "doesnt",
        "isnt",
        "wont",
        "wasnt",
        "arent",
        "ive",
        "im",
        "youre",
        "whats",
        "thats",
        "we've",
        "we're",
        "you're",
        "basically",
        "literally",
        "maybe",
        "afaik",
        "imo",
        "tbh",
        "rn",
        "ur",
    ]
)
BELIEF = re.compile(
    r"(,?\s*\bright|\bcorrect|\bisn'?t it|\bno|\btrue|\bnot)\s*\?\s*$|^\s*so\b.*\b(always|never|can'?t|just)\b", re.I
)
OFF_TOPIC = re.compile(
    r"\b(weather|capital of|joke|football|soccer|basketball|movie|film|song|music|lottery|"
    r"horoscope|president|prime minister|girlfriend|boyfriend|dating|birthday|vacation|holiday|restaurant|"
    r"sports?|celebrity|stock price|bitcoin price|what time is it|how old are you|your name|are you (a )?human|"
    r"meaning of life|favou?rite (color|colour|food|movie))\b",
    re.IGNORECASE,
)


ASIDE_AT_END = re.compile(r"\s*\([^()]*\)\W*$")  # "so it's great, right? (like 90% are positive btw)"


def states_belief(text: str) -> bool:
    """ "so the weights are learned, right?", also before a closing aside in brackets."""
    return bool(BELIEF.search(ASIDE_AT_END.sub("", text)))


@dataclass(frozen=True)
class Reading:
    """How the tutor reads one message."""

    move: Move
    follow_up: bool  # resolved against the current topic
    subject: str  # the message's own subject words ("" for a bare follow-up)
    off_topic: bool = False


def content_words(text: str) -> list[str]:
    words = re.findall(r"[a-z][a-z0-9_+\-']*|\d+(?:\.\d+)?", text.lower())
    return [w.strip("'-") for w in words if w.strip("'-") not in STOP and len(w) > 1]


def detect_move(text: str) -> Move | None:
    for move, pattern in MOVE_PATTERNS:
        if pattern.search(text):
            return move
    return None


def read_message(text: str, has_topic: bool) -> Reading:
    """The move and whether the message is a follow-up on the current topic."""
    move = detect_move(text)
    words = content_words(text)
    subject = " ".join(words)
    off = bool(OFF_TOPIC.search(text))
    if not has_topic:
        return Reading(
            move if move in ("why", "example", "misconception") and words else "explain", False, subject, off
        )
    if off:
        return Reading("explain", False, subject, True)
    if move in ("next_section", "related", "check"):
        return Reading(move, True, subject, off)
    if move is None and states_belief(text):
        move = "misconception"  # "so the weights are learned, right?": the learner checks a belief
    short = len(text.split()) <= 9
    bare = len(words) <= 1 or (move is not None and len(words) <= 2)
    anaphoric = (bool(PRONOUN.search(text)) and len(words) <= 3) or (bool(DEMONSTRATIVE.search(text)) and short)
    continuing = bool(CONTINUATION.match(text)) and short
    if move and (bare or anaphoric):
        return Reading(move, True, subject if not bare else "", off)
    if move and not off:  # "derive it, why does Z(x) cancel?": a move on the topic, with words of its own
        return Reading(move, True, subject, off)
    if bare or anaphoric or continuing:
        return Reading(move or "explain", True, subject, off)
    return Reading(move if move in ("why", "example", "misconception", "simpler") else "explain", False, subject, off)


def subject_phrase(text: str) -> str:
    """The thing asked about, for "The course does not cover X": the message minus its question frame."""
    phrase = text.strip().rstrip("?!. ")
    phrase = re.sub(r"^(also|so|and|but|side question|random q|different q|unrelated)[,:]?\s+", "", phrase, flags=re.I)
    phrase = re.sub(r"^how (do|can|should|would|could) (i|we)\s+", "how to ", phrase, flags=re.IGNORECASE)
    phrase = re.sub(r"\b(my|our)\b", "your", phrase, flags=re.IGNORECASE)
    if phrase.lower().startswith("how to "):
        return phrase[:80]
    phrase = re.sub(
        r"^(hey|hi|so|ok(ay)?|please|quick question)[,!]?\s+|^(can|could|would) you\s+(please\s+)?|"
        r"^(tell me|explain|teach me|show me|describe)\s+(about\s+)?|^(what|how|why|when|where|who)('?s| is| are| do| does| did| can| should| would)?\s+|"
        r"^(i want to know|i'?d like to know|do you know)\s+(about\s+)?",
        "",
        phrase,
        flags=re.IGNORECASE,
    )
    phrase = re.sub(r"^(a|an|the|i|we|you)\s+", "", phrase, flags=re.IGNORECASE)
    return phrase[:80] or text.strip()[:80]


# The learned move reader decides where no pattern names a move ("can u explain it like im 10", "tldr?",
# "whats the lesson after this one"); below this confidence the message stays a new question.
MOVE_FLOOR = 0.75
FOLLOW_MOVES = ("next_section", "related", "check", "next_lesson")
# Only short messages are read by the model: a longer one names its own subject, and the patterns and the
# retrieval read it better than a move label would ("do mamba models even have this problem?" is a question).
# Content words at most, for a move on the topic's content / for a step in the course ("whats the next lesson").
LEARNED_MAX_WORDS = (2, 6)
NEW_TOPIC = re.compile(
    r"^\W*(\w+\W+){0,2}(unrelated|off[- ]?topic|random (q|question|one)|side (q|question|note)|different (thing|q|question|topic)|"
    r"diff (q|topic|question)|new (question|topic)|switching gears|another (q|question|thing))\b",
    re.IGNORECASE,
)


def learned_move(text: str) -> tuple[Move, float]:
    """The move model's reading of a message (see tutor/agent/intent_model.py): (move or "other", confidence)."""
    from tutor.agent.intent_model import get_move_model

    prediction = get_move_model().predict(text)
    return prediction.label, prediction.confidence


def read_in_conversation(text: str, has_topic: bool) -> Reading:
    """read_message, and where its patterns see no move inside a conversation, the learned move reader."""
    reading = read_message(text, has_topic)
    if not has_topic or reading.off_topic or detect_move(text) or states_belief(text):
        return reading
    words = content_words(text)
    if NEW_TOPIC.search(text) or len(words) > LEARNED_MAX_WORDS[1]:
        return reading  # "different thing: what's an error budget" has a subject of its own
    move, confidence = learned_move(text)
    if move == "other" or confidence < MOVE_FLOOR or len(words) > LEARNED_MAX_WORDS[move in FOLLOW_MOVES]:
        return reading
    return Reading(move, True, "" if len(words) <= 2 or move in FOLLOW_MOVES else reading.subject, False)
