"""Deterministic placement: intake answers -> track, strategy, confidence and reasons.

Each intake option carries evidence weights for tracks and strategies; the scorer adds them up, so the
result is the same with the embedded model or a strong one. Free text (a typed answer, or a whole
background description for `tutor place`) is mapped to the nearest options with MiniLM embeddings
plus a few unambiguous keyword cues. A model may phrase the explanation; it never decides.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from tutor.curriculum.schema import STRATEGIES, TRACKS
from tutor.text import best_cosine, sentences

TRACK_NAMES = {
    "software_engineer": "Software Engineers",
    "data_scientist": "Data Scientists",
    "ml_researcher": "ML Researchers",
    "product_manager": "Product Managers / Business",
}
DEFAULT_STRATEGY = {
    "software_engineer": "practice_first",
    "data_scientist": "theory_first",
    "ml_researcher": "theory_first",
    "product_manager": "project_driven",
}


@dataclass(frozen=True)
class Option:
    id: str
    label: str
    examples: tuple[str, ...]  # how learners describe this, for embedding similarity
    tracks: dict[str, float] = field(default_factory=dict)
    strategies: dict[str, float] = field(default_factory=dict)
    keywords: tuple[str, ...] = ()  # regexes that settle the option on their own
    hours: float | None = None


@dataclass(frozen=True)
class Question:
    id: str
    prompt: str
    options: tuple[Option, ...]
    weight: float = 1.0

    def option(self, option_id: str) -> Option:
        return next(o for o in self.options if o.id == option_id)


SE, DS, MLR, PM = TRACKS
TF, PF, PD = STRATEGIES

QUESTIONS: tuple[Question, ...] = (
    Question(
        "role",
        "What best describes your work or background?",
        (
            Option(
                "engineer",
                "Software engineer / developer",
                (
                    "I build backend services and APIs",
                    "I'm a full-stack web developer",
                    "I write production code in Python, Go or Java",
                    "I do DevOps and run infrastructure",
                    "I build mobile apps",
                    "I ship features to production every week",
                ),
                {SE: 3.0},
                keywords=(
                    r"\b(software|backend|back-end|frontend|front-end|full[- ]?stack|devops|sre|web dev|"
                    r"microservices?|platform engineer|mobile dev|ios|android|developer|programmer|coder|"
                    r"c\+\+|java\b|golang|rust\b|typescript|javascript|react|node\b|kotlin|swift\b|\.net|"
                    r"kubernetes|infra(structure)?|ship(ping)? (features|code)|codebase|apis?\b)",
                ),
            ),
            Option(
                "data",
                "Data scientist / analyst",
                (
                    "I analyse data with pandas and SQL",
                    "I build predictive models with scikit-learn",
                    "I run A/B tests and build dashboards",
                    "I do statistics and experiments for the business",
                    "I train churn and forecasting models",
                ),
                {DS: 3.0},
                keywords=(
                    r"\b(data scien|analyst|analytics|pandas|sklearn|scikit|statistic|kaggle|dashboards?|"
                    r"a/b test|forecast|tableau|power bi|rstudio|xgboost|tabular|regression|experiments?|"
                    r"mlflow|models? in (r|python)|in r\b|notebooks?|recommendation|churn|attribution|sql)",
                ),
            ),
            Option(
                "research",
                "ML researcher / academic",
                (
                    "I'm doing a PhD in machine learning",
                    "I publish papers on neural networks",
                    "I read arXiv papers and implement new architectures",
                    "I work in a research lab",
                    "I study deep learning theory",
                ),
                {MLR: 3.0},
                keywords=(
                    r"\b(phd|ph\.d|doctoral|postdoc|research scien|ml research|ai research|papers?\b|arxiv|"
                    r"thesis|neurips|icml|iclr|professor|(research|vision|nlp|ml) lab\b|academi|publish|"
                    r"novel|from scratch|my own variant|state of the art|sota)",
                ),
            ),
            Option(
                "product",
                "Product manager / business / founder",
                (
                    "I manage a product and its roadmap",
                    "I work with customers and stakeholders",
                    "I'm a founder building a startup",
                    "I make business decisions and need to understand AI",
                    "I lead a team and decide what we build",
                ),
                {PM: 3.0},
                keywords=(
                    r"\b(product manag|pm\b|product owner|roadmap|stakeholders?|founder|ceo|business|"
                    r"consultant|strategy|go-to-market|roi\b|budgets?|funding|use cases?|ux\b|"
                    r"user research|scope|non-technical|executives?|manage (a|the|my) team)",
                ),
            ),
            Option(
                "other",
                "Student / something else",
                ("I'm a student", "I'm changing careers", "I'm just curious about AI"),
                {},
            ),
        ),
        weight=1.0,
    ),
    Question(
        "coding",
        "How comfortable are you writing code?",
        (
            Option(
                "daily",
                "I write production code daily",
                ("I code every day at work", "I'm a strong programmer", "I maintain large codebases"),
                {SE: 1.5, MLR: 0.5},
                {PF: 1.0},
            ),
            Option(
                "notebooks",
                "Comfortable in notebooks and scripts",
                ("I use Jupyter notebooks", "I write Python scripts for analysis", "I code in notebooks"),
                {DS: 1.5, MLR: 0.5},
            ),
            Option("some", "A little", ("I can read code", "I know some Python basics", "I code a bit"), {PM: 1.0}),
            Option(
                "none",
                "Not at all",
                ("I don't code", "I have never programmed", "I'm not technical"),
                {PM: 2.0},
                {PD: 0.5},
            ),
        ),
    ),
    Question(
        "ml",
        "How much machine learning have you done?",
        (
            Option(
                "none",
                "None yet",
                ("I have no machine learning experience", "ML is new to me"),
                {SE: 0.5, PM: 0.5},
                {TF: 0.3},
            ),
            Option(
                "applied",
                "Trained classic models (scikit-learn, XGBoost)",
                (
                    "I trained models with scikit-learn",
                    "I did regression and classification projects",
                    "I use XGBoost for tabular data",
                ),
                {DS: 1.5},
            ),
            Option(
                "deep",
                "Deep learning in PyTorch/TensorFlow, read papers",
                (
                    "I train neural networks in PyTorch",
                    "I implemented papers",
                    "I know backpropagation well",
                    "I fine-tuned transformers",
                ),
                {MLR: 1.5, DS: 0.5},
            ),
            Option(
                "api",
                "Used LLM APIs, not the internals",
                ("I've called the OpenAI API", "I used ChatGPT and APIs in an app", "I built a chatbot with an API"),
                {SE: 1.0, PM: 0.5},
            ),
        ),
    ),
    Question(
        "goal",
        "What do you want to be able to do after these three weeks?",
        (
            Option(
                "ship",
                "Ship LLM features to production",
                (
                    "deploy a reliable LLM app",
                    "build a production chatbot",
                    "scale a RAG service",
                    "integrate LLMs into our software",
                ),
                {SE: 2.0},
                {PF: 0.5},
            ),
            Option(
                "evaluate",
                "Fine-tune, evaluate and compare models",
                (
                    "fine-tune models on our data",
                    "evaluate and compare models",
                    "run experiments",
                    "measure model quality",
                ),
                {DS: 2.0},
            ),
            Option(
                "research",
                "Understand architectures deeply and do research",
                (
                    "implement a transformer from scratch",
                    "understand the math",
                    "do novel research",
                    "write a paper",
                    "invent new architectures",
                ),
                {MLR: 2.0},
                {TF: 0.5},
            ),
            Option(
                "business",
                "Decide where LLMs create business value",
                (
                    "build a business case",
                    "understand capabilities and limits for my product",
                    "estimate ROI",
                    "prototype for users",
                    "lead an AI initiative",
                ),
                {PM: 2.0},
                {PD: 0.5},
            ),
        ),
    ),
    Question(
        "time",
        "How much time can you spend per week?",
        (
            Option("light", "Under 4 hours", ("a couple of hours a week", "very little time"), hours=3),
            Option("part", "4-8 hours", ("about five hours a week", "an evening or two"), hours=6),
            Option("half", "8-15 hours", ("about ten hours a week", "a few hours every day"), hours=12),
            Option("full", "15+ hours", ("full time", "most of my week", "20 hours a week"), hours=20),
        ),
        weight=0.0,  # pace, not track
    ),
    Question(
        "learning",
        "How do you prefer to learn?",
        (
            Option(
                "theory",
                "Read the theory first",
                (
                    "I like to understand the theory before coding",
                    "I read thoroughly and take notes",
                    "systematic, foundations first",
                ),
                strategies={TF: 2.0},
            ),
            Option(
                "practice",
                "Jump into code and learn as I go",
                ("I learn by doing", "hands-on, code first", "I tinker until it works"),
                strategies={PF: 2.0},
            ),
            Option(
                "project",
                "Work towards a concrete project",
                (
                    "I have a specific project in mind",
                    "I learn what I need for my goal",
                    "I want to build something real quickly",
                ),
                strategies={PD: 2.0},
            ),
        ),
        weight=0.0,
    ),
)
QUESTION_BY_ID = {q.id: q for q in QUESTIONS}


@dataclass
class Placement:
    track: str
    strategy: str
    confidence: float
    reasons: list[str]
    scores: dict[str, float]
    answers: dict[str, str]
    hours_per_week: float | None = None

    def as_dict(self) -> dict:
        return {"track": self.track, "strategy": self.strategy, "confidence": self.confidence, "reasons": self.reasons}


def score(answers: dict[str, str]) -> Placement:
    """Add up the evidence of the chosen options; ties break in roadmap order."""
    return score_beliefs({qid: {oid: 1.0} for qid, oid in answers.items() if oid})


def score_beliefs(beliefs: dict[str, dict[str, float]]) -> Placement:
    """Evidence weighted by belief in each option (1.0 for an answered intake question)."""
    tracks = {t: 0.0 for t in TRACKS}
    strategies = {s: 0.0 for s in STRATEGIES}
    reasons: list[str] = []
    answers: dict[str, str] = {}
    hours = None
    for q in QUESTIONS:
        belief = beliefs.get(q.id) or {}
        if not belief:
            continue
        for option_id, p in belief.items():
            opt = q.option(option_id)
            for t, w in opt.tracks.items():
                tracks[t] += p * w
            for s, w in opt.strategies.items():
                strategies[s] += p * w
        chosen = q.option(max(belief, key=belief.get))
        answers[q.id] = chosen.id
        if chosen.hours is not None:
            hours = chosen.hours
        if chosen.tracks or chosen.strategies:
            reasons.append(f"{q.prompt.rstrip('?')}: {chosen.label}")
    best = max(TRACKS, key=lambda t: (tracks[t], -TRACKS.index(t)))
    exp = {t: math.exp(v) for t, v in tracks.items()}
    confidence = round(exp[best] / sum(exp.values()), 3)
    strategies[DEFAULT_STRATEGY[best]] += 0.75  # the roadmap's usual strategy for the track
    strategy = max(STRATEGIES, key=lambda s: (strategies[s], -STRATEGIES.index(s)))
    reasons.insert(0, f"Best match: {TRACK_NAMES[best]} (evidence {tracks[best]:.1f} of {sum(tracks.values()):.1f})")
    return Placement(best, strategy, confidence, reasons, tracks, answers, hours)


# ---------------------------------------------------------------- free text -> options


def _option_vectors():
    from tutor.embeddings import MiniLMEmbedder

    global _VECS
    if _VECS is None:
        emb = MiniLMEmbedder.load()
        _VECS = {(q.id, o.id): emb.encode([o.label, *o.examples]) for q in QUESTIONS for o in q.options}
    return _VECS


_VECS = None
MIN_SIMILARITY = 0.35


def match_option(question_id: str, text: str) -> tuple[str | None, float]:
    """The option a typed answer means: an exact label or id, a keyword cue, else the nearest examples."""
    q = QUESTION_BY_ID[question_id]
    clean = text.strip().lower()
    for o in q.options:
        if clean in (o.id, o.label.lower()) or clean == str(q.options.index(o) + 1):
            return o.id, 1.0
    return _best_option(q, sentences(text))


def _best_option(q: Question, sentences: list[str]) -> tuple[str | None, float]:
    from tutor.embeddings import MiniLMEmbedder

    text = " ".join(sentences).lower()
    keyed = [o for o in q.options if any(re.search(k, text) for k in o.keywords)]
    vecs = _option_vectors()
    sent_vecs = MiniLMEmbedder.load().encode(sentences)
    best, best_sim = None, -1.0
    for o in q.options:
        sim = float(best_cosine(vecs[(q.id, o.id)], sent_vecs).max())
        if o in keyed:
            sim += 0.25 * sum(len(re.findall(k, text)) for k in o.keywords)
        if sim > best_sim:
            best, best_sim = o.id, sim
    return (best, best_sim) if best_sim >= MIN_SIMILARITY else (None, best_sim)


PAST = re.compile(r"\b(used to|was an? |former(ly)?|previously|years ago|before that|back then|moved (in)?to)\b")


def option_beliefs(q: Question, sentences: list[str], temperature: float = 0.05) -> dict[str, float]:
    """How strongly the text supports each option: softmax over (similarity + keyword cues).

    Cues in a sentence about the past ("I was a Java dev", "used to do SQL") count half: the
    learner's current work says more about the right track than their history."""
    from tutor.embeddings import MiniLMEmbedder

    vecs = _option_vectors()
    sent_vecs = MiniLMEmbedder.load().encode(sentences)
    raw = {}
    for o in q.options:
        sim = float(best_cosine(vecs[(q.id, o.id)], sent_vecs).max())
        cues = 0.0
        for sentence in sentences:
            hits = sum(len(re.findall(k, sentence.lower())) for k in o.keywords)
            cues += hits * (0.5 if PAST.search(sentence.lower()) else 1.0)
        raw[o.id] = sim + 0.15 * min(cues, 4)
    top = max(raw.values())
    if top < MIN_SIMILARITY:
        return {}
    exp = {k: math.exp((v - top) / temperature) for k, v in raw.items()}
    total = sum(exp.values())
    return {k: v / total for k, v in exp.items()}


def place_text(description: str) -> Placement:
    """`tutor place`: the same evidence weights as the intake scorer, each option weighted by how strongly
    the description supports it (a typed intake answer is the special case of full support)."""
    said = sentences(description)
    beliefs = {q.id: option_beliefs(q, said) for q in QUESTIONS}
    return score_beliefs(beliefs)
