"""Tool use: scripted requests -> the route the graph takes with the embedded model (intent classifier).

A capable model chooses tools itself by native tool calling; that path needs a real API model and is
only exercised with recorded/fake models in the tests, so this suite reports the embedded provider.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import yaml

from tutor.config import Settings

DATASET = Path(__file__).resolve().parent / "datasets" / "tool_use.yaml"


def observed_route(text: str) -> str:
    from langchain_core.messages import HumanMessage

    from tutor.agent.graph import route

    state = {"messages": [HumanMessage(text)], "learner": {"profile": {"track": "software_engineer"}}}
    runtime = SimpleNamespace(context=SimpleNamespace(embedded=True))
    decision = route(state, runtime)
    if decision["route"] == "command" and decision.get("command"):
        return f"command:{decision['command'].split()[0]}"
    return decision["route"]


def run(settings: Settings | None = None) -> dict:
    cases = yaml.safe_load(DATASET.read_text())["cases"]
    misses = []
    for case in cases:
        got = observed_route(case["text"])
        if got != case["route"]:
            misses.append({"text": case["text"], "expected": case["route"], "got": got})
    n = len(cases)
    return {"suite": "tool_use", "provider": "embedded", "n": n, "accuracy": round((n - len(misses)) / n, 4),
            "misses": misses}  # fmt: skip
