"""`tutor` command line. Imports stay inside commands so `tutor --help` answers fast."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from tools.kernel import KernelService

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

app = typer.Typer(
    name="tutor",
    help="llm-tutor: a conversational tutor for the LLMs and Transformers roadmap.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def fail(message: str, code: int = 1) -> None:
    """One clear line on stderr, no traceback."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _session():
    from tutor.models import ProviderError
    from tutor.session import TutorSession

    try:
        return TutorSession()
    except ProviderError as exc:
        fail(str(exc))
    except ValueError as exc:  # invalid settings
        fail(str(exc))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (TUTOR_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (TUTOR_PORT).")] = None,
) -> None:
    """Serve the web UI (Gradio)."""
    session = _session()
    from tutor.retrieval.indexer import ensure_index
    from tutor.ui import launch

    report = ensure_index(session.settings)  # first start builds it; later starts only check hashes
    if report and (report.added or report.updated or report.removed):
        typer.echo(f"index: {report.added} added, {report.updated} updated, {report.removed} removed", err=True)

    launch(session, host=host or session.settings.host, port=port or session.settings.port)


@app.command()
def chat(
    learner: Annotated[str, typer.Option(help="Learner id.")] = "local",
) -> None:
    """Chat with the tutor in the terminal (tokens stream as they are generated)."""
    from tutor.terminal import chat_loop

    chat_loop(_session(), learner)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, or - to read it from stdin.")],
    learner: Annotated[str, typer.Option(help="Learner id.")] = "local",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Run one tutor turn non-interactively."""
    text = sys.stdin.read() if question == "-" else question
    session = _session()
    result = session.run_turn(learner, text)
    session.close()
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
    else:
        typer.echo(result["answer"])
        for c in result["citations"]:
            typer.echo(f"  [source] {c['source']} — {c['heading']}")
    if result["error"]:
        if not as_json:
            typer.echo(f"error: {result['error']}", err=True)
        raise typer.Exit(1)


@app.command()
def index(
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Drop the index and build it from scratch.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Build or update the curriculum search index (only changed chunks are re-embedded)."""
    from tutor.config import get_settings
    from tutor.retrieval.indexer import index_curriculum

    settings = get_settings()
    try:
        report = index_curriculum(settings, rebuild=rebuild, show_progress=not as_json, token_stats=True)
    except Exception as exc:  # unreadable store, unreachable Chroma server
        fail(f"indexing failed ({type(exc).__name__}: {exc}); try `tutor index --rebuild`")
    if as_json:
        typer.echo(json.dumps(report.as_dict()))
    else:
        r = report
        typer.echo(
            f"index: {r.total} chunks ({r.added} added, {r.updated} updated, {r.removed} removed, "
            f"{r.unchanged} unchanged) in {r.seconds:.1f} s"
        )
        if r.chunk_tokens:
            t = r.chunk_tokens
            stats = f"max {t['max']}, p95 {t['p95']}, median {t['median']}, window {t['window']}"
            typer.echo(f"chunk tokens (embedder): {stats}")


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int, typer.Option("-k", min=1, max=50, help="How many results.")] = 5,
    module: Annotated[str | None, typer.Option(help="Only this module, e.g. 04_rag_systems.")] = None,
    week: Annotated[int | None, typer.Option(min=1, max=3, help="Only this week.")] = None,
    kind: Annotated[str | None, typer.Option(help="lesson, notebook or plan.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """Hybrid (dense + BM25) search over the curriculum."""
    import threading

    from tutor.embeddings import MiniLMEmbedder

    # the ONNX session loads on a second core while this one imports Chroma (about 0.5 s each)
    threading.Thread(target=MiniLMEmbedder.load, daemon=True).start()
    from tutor.config import get_settings
    from tutor.retrieval.search import HybridSearcher
    from tutor.retrieval.store import IndexError_

    try:
        hits = HybridSearcher.open(get_settings()).search(query, k=k, module=module, week=week, kind=kind)
    except IndexError_ as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps([h.as_dict() for h in hits], ensure_ascii=False))
    else:
        for h in hits:
            typer.echo(f"{h.score:.4f}  {h.citation}\n        {h.heading}")
    exit_without_teardown()


def exit_without_teardown() -> None:
    """End a read-only one-shot command now: tearing down Chroma's and onnxruntime's modules takes about
    0.6 s after the answer is printed. Only as the `tutor` program itself (not inside a test runner)."""
    if Path(sys.argv[0]).name == "tutor":
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _one_shot_kernels() -> KernelService:
    """Kernels for one command, from the settings like a session's; the caller shuts them down."""
    from tools.kernel import KernelService
    from tutor.config import get_settings

    return KernelService.from_settings(get_settings(), pool_size=0)  # no pre-warmed kernel to throw away


@app.command(name="run")
def run_(
    code: Annotated[str, typer.Argument(help="Python code, or - to read it from stdin.")],
    timeout: Annotated[float | None, typer.Option(help="Seconds before the run is stopped.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Run Python code in a fresh sandboxed Jupyter kernel."""
    source = sys.stdin.read() if code == "-" else code
    service = _one_shot_kernels()
    try:
        result = service.run("cli", source, timeout)
    finally:
        service.shutdown()
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False))
    else:
        from tools.run_code import format_result

        typer.echo(format_result(result))
    if result.status != "ok":
        raise typer.Exit(1)


@app.command(name="run-notebook")
def run_notebook(
    path: Annotated[str, typer.Argument(help="A .ipynb file.")],
    timeout: Annotated[float | None, typer.Option(help="Seconds allowed per cell.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list, one object per code cell.")] = False,
) -> None:
    """Run every code cell of a notebook, in order, in one kernel."""
    import nbformat

    try:
        nb = nbformat.read(path, as_version=4)
    except (OSError, ValueError) as exc:
        fail(f"cannot read notebook {path}: {exc}")
    service = _one_shot_kernels()
    results = []
    try:
        for cell in nb.cells:
            if cell.cell_type == "code" and cell.source.strip():
                results.append(service.run("notebook", cell.source, timeout).as_dict())
    finally:
        service.shutdown()
    if as_json:
        typer.echo(json.dumps(results, ensure_ascii=False))
    else:
        for i, r in enumerate(results, 1):
            line = f"cell {i}: {r['status']} ({r['elapsed_s']:.2f} s)"
            typer.echo(line + (f" {r['error']['ename']}: {r['error']['evalue']}" if r["error"] else ""))
    if any(r["status"] != "ok" for r in results):
        raise typer.Exit(1)


@app.command()
def bench(
    quick: Annotated[bool, typer.Option("--quick", help="Fewer rounds; finishes within about 45 s.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """Measure every performance budget against its raw baseline in the same run."""
    from evals.bench import run as run_bench
    from tutor.config import get_settings

    rows = run_bench(
        get_settings(), quick=quick, progress=None if as_json else lambda m: typer.echo(f"… {m}", err=True)
    )
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for r in rows:
        base = f" baseline {r['baseline']} ratio {r['ratio']}" if r["baseline"] is not None else ""
        flag = "ok  " if r["ok"] else "OVER"
        typer.echo(f"{flag} {r['name']}: {r['value']} {r['unit']}{base} (budget {r['budget']})")


@app.command()
def place(
    text: Annotated[str, typer.Argument(help="A description of your background, or - for stdin.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Place a background description into a track and strategy (the intake's scorer)."""
    from tutor.learner.placement import TRACK_NAMES, place_text

    description = sys.stdin.read() if text == "-" else text
    if not description.strip():
        fail("describe your background, e.g. tutor place 'I build backend services in Go'")
    result = place_text(description[:5000]).as_dict()
    if as_json:
        typer.echo(json.dumps(result))
        return
    typer.echo(f"{TRACK_NAMES[result['track']]} · {result['strategy']} (confidence {result['confidence']:.0%})")
    for reason in result["reasons"]:
        typer.echo(f"  - {reason}")


@app.command()
def progress(
    learner: Annotated[str, typer.Option(help="Learner id.")] = "local",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """A learner's profile, plan position, mastery per skill, reviews due and checkpoints."""
    from tutor.agent.commands import format_progress
    from tutor.config import get_settings
    from tutor.learner.progress import LearnerModel
    from tutor.learner.store import LearnerStore

    settings = get_settings()
    store = LearnerStore(settings.learner_db, settings.database_url)
    try:
        report = LearnerModel(store).progress(learner)
    finally:
        store.close()
    typer.echo(json.dumps(report) if as_json else format_progress(report))


quiz_app = typer.Typer(help="The checkpoint quiz bank and grading.", no_args_is_help=True)
app.add_typer(quiz_app, name="quiz")


@quiz_app.command("list")
def quiz_list(
    week: Annotated[int | None, typer.Option(min=1, max=3, help="Only this week's items.")] = None,
    skill: Annotated[str | None, typer.Option(help="Only this skill, e.g. w2.rag.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """List quiz items (never their keys)."""
    from tools.quiz.bank import load_bank, public_view, skill_of, week_of

    items = [i for i in load_bank().values() if (week is None or week_of(i) == week) and (skill in (None, skill_of(i)))]
    views = [public_view(i) for i in items]
    if as_json:
        typer.echo(json.dumps(views, ensure_ascii=False))
        return
    for v in views:
        typer.echo(f"{v['id']:<55} {v['type']:<5} {v['prompt'].strip().splitlines()[0][:60]}")


@quiz_app.command("show")
def quiz_show(
    item_id: Annotated[str, typer.Argument(help="Item id from `tutor quiz list`.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Show one item as a learner sees it (no key, rubric or tests)."""
    from tools.quiz.bank import get_item, public_view

    try:
        view = public_view(get_item(item_id))
    except KeyError as exc:
        fail(str(exc.args[0]))
    if as_json:
        typer.echo(json.dumps(view, ensure_ascii=False))
        return
    typer.echo(view["prompt"].strip())
    for o in view["options"]:
        typer.echo(f"  {o['id']}) {o['text']}")
    if view.get("starter_code"):
        typer.echo("\n" + view["starter_code"])


@quiz_app.command("grade")
def quiz_grade(
    item_id: Annotated[str, typer.Argument(help="Item id.")],
    answer: Annotated[str, typer.Argument(help="Option id (mcq), text (short) or code (code); - reads stdin.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Grade one answer: {"correct", "score", "feedback"}."""
    from tools.quiz.bank import get_item
    from tools.quiz.grading import grade

    try:
        item = get_item(item_id)
    except KeyError as exc:
        fail(str(exc.args[0]))
    text = sys.stdin.read() if answer == "-" else answer
    service = _one_shot_kernels() if item.type == "code" else None
    try:
        result = grade(item, text, run=(lambda code, t: service.run("grade", code, t)) if service else None)
    finally:
        if service:
            service.shutdown()
    typer.echo(json.dumps(result.as_dict(), ensure_ascii=False) if as_json else result.feedback)


SUITES = (
    "retrieval", "placement", "grading", "short_answers", "tool_use", "conversation", "pedagogy", "simulated_learners",
    "groundedness", "answers",
)  # fmt: skip


@app.command(name="eval")
def eval_(
    suite: Annotated[str | None, typer.Argument(help=f"One of {', '.join(SUITES)}; all when omitted.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Run evaluation suites and print their metrics."""
    import importlib

    from tutor.config import get_settings
    from tutor.retrieval.store import IndexError_

    if suite is not None and suite not in SUITES:
        fail(f"unknown suite {suite!r}; choose from {', '.join(SUITES)}")
    results = []
    for name in [suite] if suite else SUITES:
        try:
            results.append(importlib.import_module(f"evals.{name}").run(get_settings()))
        except IndexError_ as exc:
            fail(str(exc))
    if as_json:
        typer.echo(json.dumps(results[0] if suite else results, ensure_ascii=False))
        return
    for r in results:
        metrics = ", ".join(f"{k}={v}" for k, v in r.items() if isinstance(v, int | float))
        typer.echo(f"{r['suite']}: {metrics}")


if __name__ == "__main__":
    app()
