"""Intent of a free-text message, for the embedded model (which cannot call tools reliably).

Nearest labelled example by MiniLM cosine similarity, with a few unambiguous patterns first. A capable
model never goes through this: it chooses tools by native tool calling.
"""

from __future__ import annotations

import re
from functools import lru_cache

EXAMPLES: dict[str, tuple[str, ...]] = {
    "explain": (
        "what is multi-head attention?", "explain positional encoding", "how does the KV cache work",
        "why do we scale by sqrt d_k", "what's the difference between BERT and GPT", "can you explain RAG",
        "tell me about LoRA", "how does BPE tokenization work", "what is temperature in sampling",
        "I don't understand softmax", "define perplexity", "how do I deploy a model",
    ),
    "run": (
        "run print(2+2)", "execute this code", "can you run x = 5", "run the example", "evaluate 3*7 in python",
        "run import numpy as np", "please execute my snippet",
    ),
    "quiz": ("quiz me", "test me on week 1", "give me a quiz on attention", "I want to take the checkpoint",
             "ask me some questions about RAG"),
    "progress": ("show my progress", "how am I doing", "what have I mastered", "my mastery", "show my stats"),
    "next": ("what should I do next?", "what's next", "what do I study now", "where was I", "next step"),
    "track": ("switch my track to data scientist", "change my track", "I want the researcher track",
              "move me to the product manager path", "switch to practice first"),
    "lesson": ("open the attention lesson", "show me the lesson on chunking", "list the lessons",
               "open lesson 02_attention_mechanism"),
    "greeting": ("hi", "hello", "thanks!", "thank you", "good morning", "ok cool"),
}  # fmt: skip

RUN_PREFIX = re.compile(r"^\s*(please\s+)?(run|execute|eval(uate)?)\b[:\s]+(?P<code>.+)$", re.IGNORECASE | re.DOTALL)
TRACKS = {
    "software": "software_engineer", "engineer": "software_engineer", "developer": "software_engineer",
    "data": "data_scientist", "scientist": "data_scientist", "research": "ml_researcher",
    "product": "product_manager", "business": "product_manager", "manager": "product_manager",
}  # fmt: skip
STRATEGIES = {"theory": "theory_first", "practice": "practice_first", "project": "project_driven"}


@lru_cache(maxsize=1)
def _example_vectors():
    from tutor.embeddings import MiniLMEmbedder

    labels, texts = [], []
    for intent, examples in EXAMPLES.items():
        labels += [intent] * len(examples)
        texts += list(examples)
    return labels, MiniLMEmbedder.load().encode(texts)


ACTION_MIN = 0.62  # learner questions about the course sit below this; short action requests above it
GREETING_MIN = 0.4


def classify(text: str) -> tuple[str, float]:
    """(intent, similarity). Patterns first ("run <code>" is code); an action intent needs a close match,
    otherwise the message is a question about the course and gets an explanation."""
    from tutor.embeddings import MiniLMEmbedder

    if RUN_PREFIX.match(text) and looks_like_code(RUN_PREFIX.match(text).group("code")):
        return "run", 1.0
    labels, vecs = _example_vectors()
    sims = vecs @ MiniLMEmbedder.load().encode([text])[0]
    best = int(sims.argmax())
    intent, similarity = labels[best], float(sims[best])
    if intent == "greeting" and (similarity >= GREETING_MIN and len(text.split()) <= 5):
        return intent, similarity
    if intent not in ("explain", "greeting") and similarity >= ACTION_MIN:
        return intent, similarity
    return "explain", similarity


def looks_like_code(text: str) -> bool:
    return bool(re.search(r"[()=\[\]]|\bimport\b|\bprint\b|\bdef\b|\d\s*[-+*/]\s*\d", text))


def code_to_run(text: str) -> str | None:
    m = RUN_PREFIX.match(text)
    return m.group("code").strip() if m and looks_like_code(m.group("code")) else None


def track_change(text: str) -> tuple[str | None, str | None]:
    lower = text.lower()
    track = next((t for word, t in TRACKS.items() if word in lower), None)
    strategy = next((s for word, s in STRATEGIES.items() if word in lower), None)
    return track, strategy
