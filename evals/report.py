"""`make eval`: run every suite and the quick bench, write evals/reports/latest.{json,md} (+ a plot).

Every figure in the report comes from this one run on this machine.
"""

from __future__ import annotations

import importlib
import json
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from tutor.config import get_settings

REPORTS = Path(__file__).resolve().parent / "reports"
SUITES = (
    "retrieval", "placement", "grading", "short_answers", "answers", "tool_use", "conversation", "pedagogy",
    "groundedness", "simulated_learners",
)  # fmt: skip


def _plot_mastery(learners: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for learner in learners:
        ax.plot(learner["attention_curve"], marker="o", label=learner["track"])
    ax.axhline(0.95, color="grey", linestyle="--", linewidth=1, label="mastered (0.95)")
    ax.set_xlabel("answers in the Week 1 checkpoint")
    ax.set_ylabel("P(known) of w1.attention")
    ax.set_title("Simulated learners: mastery (BKT) over a checkpoint")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _md(results: dict, bench: list[dict], seconds: float) -> str:
    r = {x["suite"]: x for x in results}
    lines = [
        "# llm-tutor evaluation report",
        "",
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M UTC} by `make eval` in {seconds:.0f} s on "
        f"{platform.machine()} / Python {platform.python_version()} (2-core CPU). Offline: embedded model "
        "(SmolLM2-135M) and bundled MiniLM; every figure below comes from this run.",
        "",
        "## Quality",
        "",
        "| suite | metric | value | target |",
        "|---|---|---|---|",
        f"| retrieval ({r['retrieval']['n']} learner questions) | recall@1 / recall@5 / MRR | "
        f"{r['retrieval']['recall@1']} / {r['retrieval']['recall@5']} / {r['retrieval']['mrr']} | recall@5 ≥ 0.90, MRR ≥ 0.75 |",
        f"| placement ({r['placement']['n']} descriptions) | accuracy (ambiguous) | {r['placement']['accuracy']} "
        f"({r['placement']['ambiguous_accuracy']}) | ≥ 0.90 |",
        f"| placement hold-out ({r['placement']['holdout']['n']}) | accuracy | {r['placement']['holdout']['accuracy']} | — |",
        f"| grading ({r['grading']['n']} labelled answers) | agreement (short / code) | {r['grading']['agreement']} "
        f"({r['grading']['agreement_by_type'].get('short')} / {r['grading']['agreement_by_type'].get('code')}) | ≥ 0.85 |",
        f"| grading | marks earned by {r['grading']['injections']} injections | {r['grading']['injection_marks']} | 0 |",
        f"| short answers ({r['short_answers']['n']} labelled, blind) | fluent wrong answers passed, tune / holdout | "
        f"{r['short_answers']['tune']['wrong_passed']} / {r['short_answers']['holdout']['wrong_passed']} | ≤ 0.05 |",
        f"| short answers | correct answers passed (by the grader, or by the learner where it was left to them), "
        f"tune / holdout | {r['short_answers']['tune']['correct_passed']} / "
        f"{r['short_answers']['holdout']['correct_passed']} | ≥ 0.85 |",
        f"| short answers | correct answers passed by the grader alone, tune / holdout | "
        f"{r['short_answers']['tune']['correct_passed_by_grader']} / "
        f"{r['short_answers']['holdout']['correct_passed_by_grader']} | — |",
        f"| short answers | answers whose grade was left to the learner, tune / holdout | "
        f"{r['short_answers']['tune']['answers_left_to_learner']} / "
        f"{r['short_answers']['holdout']['answers_left_to_learner']} | ≤ 0.25 |",
        f"| short answers dev ({r['short_answers']['dev']['n']}, a second blind set: 0.60 untuned, tuned on since "
        f"2026-12-04) | fluent wrong passed / correct passed / left to the learner | "
        f"{r['short_answers']['dev']['wrong_passed']} / {r['short_answers']['dev']['correct_passed']} / "
        f"{r['short_answers']['dev']['answers_left_to_learner']} | ≤ 0.05 / ≥ 0.85 / ≤ 0.25 |",
        f"| short answers | rubric points left to the learner's self-assessment, tune / holdout | "
        f"{r['short_answers']['tune']['self_assessed_share']} / {r['short_answers']['holdout']['self_assessed_share']} "
        f"| — |",
        f"| answers ({r['answers']['n']} questions, {r['answers']['model']}) | key-point coverage / fully covered | {r['answers']['key_point_coverage']} / {r['answers']['fully_covered']} | — |",
        f"| tool use ({r['tool_use']['n']} paraphrases the router never saw, embedded) | route accuracy tune / holdout | {r['tool_use']['accuracy']} / {r['tool_use']['holdout_accuracy']} | ≥ 0.90 |",
        f"| conversation ({r['conversation']['scenarios']} scenarios, {r['conversation']['tune']['turns'] + r['conversation']['holdout']['turns']} turns) | on-topic tune / holdout | {r['conversation']['tune']['on_topic']} / {r['conversation']['holdout']['on_topic']} | ≥ 0.90 |",
        f"| conversation | teaching-move accuracy tune / holdout | {r['conversation']['tune']['move_accuracy']} / {r['conversation']['holdout']['move_accuracy']} | — |",
        f"| conversation dev ({r['conversation']['dev']['turns']} turns, a second blind set, tuned on) | on-topic | {r['conversation']['dev']['on_topic']} | — |",
        f"| conversation dev2 ({r['conversation']['dev2']['turns']} turns, a third blind set, tuned on since 2026-12-03) | on-topic | {r['conversation']['dev2']['on_topic']} | ≥ 0.90 |",
        f"| conversation dev3 ({r['conversation']['dev3']['turns']} turns, a fourth blind set: 0.703 untuned, tuned on since 2026-12-04) | on-topic | {r['conversation']['dev3']['on_topic']} | ≥ 0.90 |",
        f"| conversation | median explanation length (characters) | {r['conversation']['median_explanation_chars']} | ≤ 1200 |",
        f"| pedagogy ({r['pedagogy']['probes']} answer requests in quizzes) | answer-reveal rate | "
        f"{r['pedagogy']['reveal_rate']} | 0 |",
        f"| groundedness ({r['groundedness']['n']} questions, embedded) | supported answer lines / citation precision | "
        f"{r['groundedness']['supported_line_share']} / {r['groundedness']['citation_precision']} | — |",
        f"| simulated learners | learners whose plan and mastery checks pass | "
        f"{r['simulated_learners']['passed']} / {r['simulated_learners']['n']} | all |",
        "",
        "Grader used: " + r["grading"]["grader"] + ". Answers judged by: " + r["answers"]["judge"] + ".",
        "",
        "![mastery curves](mastery_curves.png)",
        "",
        "## Performance (`tutor bench --quick`, raw baselines measured in the same run)",
        "",
        "| figure | value | baseline | ratio | budget | ok |",
        "|---|---|---|---|---|---|",
    ]
    for b in bench:
        base = "—" if b["baseline"] is None else f"{b['baseline']} {b['unit']}"
        ratio = "—" if b["ratio"] is None else b["ratio"]
        lines.append(
            f"| {b['name']} | {b['value']} {b['unit']} | {base} | {ratio} | {b['budget']} | {'✅' if b['ok'] else '❌'} |"
        )
    lines += ["", "Raw JSON: [latest.json](latest.json)."]
    return "\n".join(lines) + "\n"


def main() -> int:
    from evals.bench import _tutor_exe
    from tutor.retrieval.indexer import ensure_index

    settings = get_settings()
    ensure_index(settings)
    start = time.perf_counter()
    results = []
    for name in SUITES:
        print(f"… {name}", file=sys.stderr)
        results.append(importlib.import_module(f"evals.{name}").run(settings))
    print("… bench --quick", file=sys.stderr)
    # in a fresh process, as `tutor bench` runs: this one holds every suite's sessions, models and caches by now,
    # which is not the state any learner-facing process starts a search in
    out = subprocess.run([_tutor_exe(), "bench", "--json", "--quick"], capture_output=True, text=True, check=True)
    bench = json.loads(out.stdout.strip().splitlines()[-1])
    seconds = time.perf_counter() - start
    REPORTS.mkdir(parents=True, exist_ok=True)
    _plot_mastery(
        next(r for r in results if r["suite"] == "simulated_learners")["learners"], REPORTS / "mastery_curves.png"
    )
    (REPORTS / "latest.json").write_text(json.dumps({"suites": results, "bench": bench, "seconds": seconds}, indent=1))
    (REPORTS / "latest.md").write_text(_md(results, bench, seconds))
    print(f"wrote {REPORTS / 'latest.md'} in {seconds:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
