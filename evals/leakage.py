"""Keep training text apart from eval text: no learner question the tutor learns from may be a copy or a
near-paraphrase of an eval message.

Checked for `knowledge/section_questions.yaml` (retrieval and teaching use it) against every message of
every eval set (evals/datasets/*.yaml). "Near" is MiniLM cosine >= NEAR (0.9 puts "should I bake model
weights into the docker image?" and "should I bake the model weights into my docker image?" together and
keeps questions that only share a topic apart). `python -m evals.leakage --drop` removes the near ones.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import yaml

DATASETS = Path(__file__).resolve().parent / "datasets"
NEAR = 0.9
TEXT_KEYS = ("question", "say", "message", "text", "prompt")


def eval_messages() -> list[str]:
    out: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in TEXT_KEYS and isinstance(value, str):
                    out.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in sorted(DATASETS.glob("*.yaml")):
        walk(yaml.safe_load(path.read_text()))
    return out


def near_pairs(questions: list[str], messages: list[str]) -> list[tuple[float, str, str]]:
    from tutor.embeddings import MiniLMEmbedder

    embedder = MiniLMEmbedder.load()
    sims = embedder.encode(questions) @ embedder.encode(messages).T
    rows, cols = np.nonzero(sims >= NEAR)
    return [(float(sims[r, c]), questions[r], messages[c]) for r, c in zip(rows, cols, strict=True)]


def drop_near(path: Path) -> int:
    """Remove section questions that are near an eval message; returns how many were removed."""
    raw = path.read_text()
    header = raw[: raw.index("lessons:")]
    data = yaml.safe_load(raw)
    messages = eval_messages()
    near = {q for _s, q, _m in near_pairs([q for lesson in data["lessons"] for s in lesson["sections"]
                                          for q in s["questions"]], messages)}  # fmt: skip
    for lesson in data["lessons"]:
        for section in lesson["sections"]:
            section["questions"] = [q for q in section["questions"] if q not in near]
    path.write_text(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120))
    return len(near)


if __name__ == "__main__":
    from tutor.curriculum.section_questions import FILE
    from tutor.paths import knowledge_dir

    target = knowledge_dir() / FILE
    if "--drop" in sys.argv:
        print(f"removed {drop_near(target)} questions near an eval message")
    else:
        from tutor.curriculum.section_questions import load_questions

        for sim, q, m in near_pairs([q.text for q in load_questions(knowledge_dir())], eval_messages()):
            print(f"{sim:.3f}  {q!r}  ~  {m!r}")
