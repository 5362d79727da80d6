"""The house rules, checked on the source: each layer imports only the layers below it, no function is
longer than a screen, and sentences are split in one place.

Layers, top to bottom (README "Layout"): ui/cli -> session -> agent -> tools -> core. Inside core,
curriculum sits under retrieval and the learner model. Imports inside functions count too: a lazy import
is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# (layer, module prefixes), bottom first; a module belongs to the longest prefix that names it.
LAYERS = [
    ("base", ["tutor.config", "tutor.paths", "tutor.text", "tutor.embeddings", "tutor.limits", "tutor.llama_thread"]),
    ("curriculum", ["tutor.curriculum"]),
    ("core", ["tutor.retrieval", "tutor.learner", "tutor.models", "tutor.identity", "tutor.guard"]),
    ("tools", ["tools"]),
    ("agent", ["tutor.agent", "tutor.teaching", "tutor.prompts"]),
    ("session", ["tutor.session"]),
    ("ui", ["tutor.ui", "tutor.cli", "tutor.terminal"]),
]
MAX_FUNCTION_LINES = 80


def layer_of(module: str) -> int | None:
    best: tuple[int, int] | None = None  # (prefix length, layer index)
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), index)
    return None if best is None else best[1]


def sources() -> list[Path]:
    return sorted([*(ROOT / "tutor").rglob("*.py"), *(ROOT / "tools").rglob("*.py")])


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            # "from tutor import llama_thread" imports the module tutor.llama_thread
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def test_every_module_has_a_layer():
    unplaced = [module_name(p) for p in sources() if module_name(p) not in ("tutor", "tools")]
    assert [m for m in unplaced if layer_of(m) is None] == []


def test_no_module_imports_a_higher_layer():
    upward = []
    for path in sources():
        own = layer_of(module_name(path))
        if own is None:
            continue
        for line, target in imports(ast.parse(path.read_text())):
            theirs = layer_of(target)
            if theirs is not None and theirs > own:
                upward.append(
                    f"{path.relative_to(ROOT)}:{line} ({LAYERS[own][0]}) imports {target} ({LAYERS[theirs][0]})"
                )
    assert upward == []


def test_the_check_itself_catches_an_upward_import():
    tree = ast.parse("def f():\n    from tutor.agent.graph import build_graph\n")
    own, target = layer_of("tools.quiz.grading"), imports(tree)[0][1]
    assert layer_of(target) > own


@pytest.mark.parametrize("package", ["tutor", "tools"])
def test_no_function_is_longer_than_a_screen(package):
    long = []
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert long == []


def test_sentences_are_split_in_one_place():
    """One splitter (tutor/text.py) for grading, placement, teaching and the evals."""
    copies = []
    for path in [*sources(), *(ROOT / "evals").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name.lstrip("_") in ("sentences", "split_sentences"):
                copies.append(str(path.relative_to(ROOT)))
    assert copies == ["tutor/text.py"]
