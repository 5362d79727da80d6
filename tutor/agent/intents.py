"""What a free-text message asks the tutor to *do*: explain (the default), a guided lesson, run code, a
quiz, progress, the next step, a track change, a lesson text, or small talk.

Rules, not nearest examples: an action needs its own words ("quiz me", "my progress", "switch track"),
so asking *about* something ("what is attention?", "explain what a quiz would cover") is always an
explanation and never starts a quiz. A capable model never goes through this: it calls tools itself.
"""

from __future__ import annotations

import re

Intent = str  # explain | learn | run | quiz | progress | next | track | lesson | chat | check


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


EXPLAIN_FRAME = _rx(r"^\s*(so\s+)?(what|how|why|when|explain|describe|define|tell me (about|what|how|why))\b")
LEARN = _rx(
    r"\b(teach me|walk me (through|thru)|guide me (through|thru)|take me (through|thru)|run me (through|thru)|"
    r"step[- ]by[- ]step|guided (lesson|tour)|(start|begin|do) (the|a) lesson|let'?s (learn|study|go (through|thru)|do)\b|"
    r"go (through|thru) .{0,40}\b(together|with me)|lesson .{0,30}\btogether|learn .{0,30}\bwith you|"
    r"tutor me (on|through|in)|section by section|one section at a time|bit by bit|"
    r"\b(kick off|start|begin|launch|go over|work (through|thru))\b.{0,40}\blesson\b|go over .{0,40}\btogether)"
)
QUIZ_WORD = _rx(
    r"\b(quiz+(es|zes)?|test(s|ed)?|exam|checkpoint|assessment|multiple[- ]choice|mcqs?|practice (questions|problems)|"
    r"drill|flash ?cards?)\b"
)
QUIZ_ACTION = _rx(
    r"\b(quiz+ me|test me|test my|examine me|drill me|i'?m ready|ready for|take|start|begin|give|gimme|let'?s|"
    r"can i|could i|i want|i wanna|i'?d like|run|do|try|attempt|set of|some|another|a few|throw|tested|"
    r"test what i know|test how much)\b"
)
CHECK = _rx(
    r"\b(check (my|me|if i|whether i)|test my understanding|quiz me (on|about) (this|that|it|what we (just )?(did|covered))\b|"
    r"ask me (a|one|some|another|something) ?(quick )?(question|thing)?.{0,20}\b(this|that|it)\b|"
    r"see (if|whether) i (got|get|understood)|(am i|did i get it) right|make sure (i|it) (got|get|understood|stuck)|"
    r"test (whether|if) i|check (that )?i'?(ve)? ?(got|get|understand|understood)|"
    r"\b(one|a|single|quick|pop|another) (quick |short )?question\b.{0,30}\b(this|that|it|topic|what we))"
)
PROGRESS = _rx(
    r"\b(progress|how am i doing|how('?m| am| i'?m) i (doing|getting on)|how far (along )?(am i|have i (come|got))|"
    r"my (stats|mastery|scores?|results|grades?|standing|record)|what (have i|did i) (mastered|learn(ed|t)?|cover(ed)?|"
    r"done|complete(d)?)|skills? (have i|i'?ve|do i)|(nailed|mastered)|on track|falling behind|behind schedule|"
    r"where do i stand|did i do (ok|okay|well|good)|my (weak|strong) (spots?|areas?|points?)|getting anywhere|"
    r"passed any|(weakest|strongest|shaky|struggling) (on|at|in|with|right now)|am i (weak|strong|shaky)|"
    r"what i'?ve (completed|done|covered|learned|learnt)|(lessons|topics|skills) have i|got down)"
)
SELF = _rx(r"\b(i|i'?ve|i'?m|im|my|me)\b")
OWNER = _rx(r"\b(i|i'?ve|i'?m|im|my)\b")
PROGRESS_WORDS = _rx(r"\b(mastery|weak(est)?|strong(est)?|shaky|passed|completed|progress|scores?|solid|standing)\b")
RELATED = _rx(r"\b(related|similar topics?|builds? on (this|that)|connected to (this|that))\b")
IN_LESSON_NEXT = _rx(
    r"^\s*(ok(ay)?[, ]+)?(so[, ]+)?(what'?s next|next|and next|then what)\s*\??\s*$|\b(read|look at|study) next\b|"
    r"\bnext (section|part|bit)\b|\bsection after\b"
)
AFTER_THIS = _rx(r"\b(read|study|learn|look at)\b.{0,20}\bafter (this|that)\b")
NEXT = _rx(
    r"(\bwhat('?s| is| should i| do i| shall i| to)?\s*(do|study|learn|read|work on|tackle|cover|take)?\s*next\b|"
    r"\bnext (for me|step|lesson|up|thing|item|task|on (my|the) (list|plan))|\bcomes next|\bwhere (was i|were we|did i (stop|leave off|get to))|"
    r"\bleft off|\bpick up where|\bon my plate|\bwhat now\b|\btoday'?s (lesson|task|plan|work)|"
    r"\bwhat should i (do|study|work on|focus on|learn)( today| now| this week)?\s*\??$|\bwhat do i do now|\bresume my plan|"
    r"\bnext\b(?![- ](token|word|sentence|section|part|bit|paragraph|layer|position|item in the sequence))|"
    r"\bup after\b|\bwhere'?d i (stop|leave off|get to)|\bin the middle of\b|\bonce i'?m done|\bonce im done|\bafter i finish)"
)
TRACK_WORDS = _rx(
    r"\b(track|path|strategy|researcher|research|data scien\w*|product manag\w*|\bpm\b|software engineer\w*|developer|"
    r"swe|practice[- ]first|theory[- ]first|project[- ]driven|hands[- ]on first|theory first|projects? first)\b"
)
TRACK_ACTION = _rx(
    r"\b(switch|change|move|put|rather|prefer|instead|set|make me|can i (be|go|do|get)|could i|i want|i wanna|"
    r"i'?d like|go with|swap|transfer|sign me up|prefer|let me do|from now on|update|flip|let'?s do|go for|"
    r"approach|more of a)\b"
)
LESSON = _rx(
    r"(\b(open|show|display|pull up|bring up|list|see|view|read|get|fetch|give me)\b.{0,60}\blessons?\b|"
    r"\b(what|which) lessons\b|\blessons? (for|in|of|on|about|covering|that cover)\b|\blist of lessons|\bthe lessons\b|"
    r"\ball (the )?lessons|\bsyllabus|\btable of contents|\bcourse (outline|contents)|"
    r"\b(open|show|see|read|view|display|pull up)\b.{0,40}\b(reading|chapter|notes|\d\d_[a-z_]+)\b)"
)
CHAT = _rx(
    r"^\s*(hi+|hey+|hello+|yo|hiya|howdy|good (morning|afternoon|evening|night)|thanks?( you| a lot| so much)?|"
    r"thx|ty|tysm|cheers|cool|nice|great|awesome|ok(ay)?|k|lol+|lmao|haha+|bye|see (you|ya)|got it|perfect|"
    r"appreciate it|that (helped|was (useful|helpful|great))|sounds good|sweet|neat|wow|brb|afk|be right back|"
    r"(you'?re|you are|ur) (pretty |really |so |very )?(good|great|awesome|helpful|smart|the best))\b[\s\w,!.'’:)-]*$"
)
WHO_ARE_YOU = _rx(r"^\s*((hi|hey|hello)[,!]?\s+)?(who are you|what are you|what can you do( for me)?)\s*[?!.]*\s*$")
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
    text = text.strip().strip("`")
    if not text or re.fullmatch(r"[A-Za-z ,.'!?]+", text):
        return False
    return bool(
        re.search(
            r"\w\(.*\)|\bimport\b|\bprint\b|\bdef\b|\blambda\b|\d\s*(\*\*|[-+*/%])\s*\d|^\s*\w+\s*=[^=]|\[.*\]", text
        )
    )


def code_to_run(text: str) -> str | None:
    """The code in "run/execute/evaluate <code>" requests, or None."""
    m = RUN_VERB.search(text)
    if not m or (EXPLAIN_FRAME.match(text) and not re.match(r"^\s*(what do i get|what does)", text, re.I)):
        return None
    code = m.group("code").strip()
    if not looks_like_code(_clean(code)):
        parts = re.split(r"[:?]\s+|\n", code, maxsplit=1)
        code = parts[1] if len(parts) == 2 else code
    return _clean(code) if looks_like_code(_clean(code)) else None


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


def classify(text: str, has_topic: bool = False) -> Intent:
    """The intent of one free-text message (commands and fenced code are routed before this).
    `has_topic`: a conversation is under way, so "what should I read after this?" means related lessons."""
    if code_to_run(text):
        return "run"
    if CHECK.search(text):
        return "check"
    if QUIZ_WORD.search(text) and QUIZ_ACTION.search(text) and not _asks_about(text):
        return "quiz"
    if TRACK_WORDS.search(text) and TRACK_ACTION.search(text) and any(track_change(text)):
        return "track"
    if LEARN.search(text) and not re.search(r"\b(teach me (how|why|what)|how do (you|i) teach)\b", text, re.I):
        return "learn"
    first_person_progress = OWNER.search(text) and PROGRESS_WORDS.search(text)
    if (PROGRESS.search(text) or first_person_progress) and not _about_concept(text):
        return "progress"
    if RELATED.search(text) or (has_topic and (AFTER_THIS.search(text) or IN_LESSON_NEXT.search(text))):
        return "explain"  # the teaching node answers with related lessons or the lesson's next section
    if NEXT.search(text):
        return "next"
    if TRACK_WORDS.search(text) and TRACK_ACTION.search(text) and any(track_change(text)):
        return "track"
    if LESSON.search(text):
        return "lesson"
    if (CHAT.match(text) and len(text.split()) <= 7) or WHO_ARE_YOU.match(text):
        return "chat"
    return "explain"


def _about_concept(text: str) -> bool:
    """ "what is a progress bar in tqdm?" is a question, "what's my progress?" is not."""
    return bool(EXPLAIN_FRAME.match(text)) and not SELF.search(text)


def _asks_about(text: str) -> bool:
    """ "what would a quiz on attention cover?" asks about a quiz; "can you quiz me" asks for one."""
    return bool(EXPLAIN_FRAME.match(text)) and not re.search(r"\b(quiz+|test|drill|examine) me\b", text, re.I)
