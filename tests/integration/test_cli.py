"""The CLI contract from a shell: fast help, clear configuration errors, one JSON turn."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TUTOR = str(Path(sys.executable).parent / "tutor")


def run(args: list[str], env_extra: dict | None = None, drop: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(env_extra or {})
    return subprocess.run([TUTOR, *args], capture_output=True, text=True, env=env, timeout=300)


def test_help_lists_commands_and_imports_nothing_heavy():
    proc = run(["--help"])
    assert proc.returncode == 0
    for command in ("serve", "chat", "ask"):
        assert command in proc.stdout
    heavy = ("gradio", "torch", "llama_cpp", "transformers", "langgraph")
    code = f"import sys, tutor.cli; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    probe = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert probe.stdout.strip() == "[]"


def test_missing_api_key_is_one_line_and_nonzero(tmp_path):
    proc = run(
        ["ask", "hi"],
        {"TUTOR_MODEL": "openai/gpt-4o-mini", "TUTOR_DATA_DIR": str(tmp_path)},
        drop=("OPENAI_API_KEY",),
    )
    assert proc.returncode != 0
    assert proc.stderr.strip().count("\n") == 0
    assert "OPENAI_API_KEY" in proc.stderr and "Traceback" not in proc.stderr


def test_unreachable_server_is_one_line_and_nonzero(tmp_path):
    proc = run(
        ["ask", "hi"],
        {"TUTOR_MODEL": "openai-compatible/x@http://127.0.0.1:9/v1", "TUTOR_DATA_DIR": str(tmp_path)},
    )
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "cannot reach" in proc.stderr and proc.stderr.strip().count("\n") == 0


@pytest.mark.slow
def test_ask_json_with_the_embedded_model(tmp_path):
    proc = run(
        ["ask", "What is attention in a transformer?", "--json"],
        {"TUTOR_DATA_DIR": str(tmp_path), "TUTOR_MODEL": "embedded"},
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) == {"answer", "citations", "tools", "error", "move"}
    assert out["answer"].strip() and out["error"] is None


def test_ask_a_command_from_stdin(tmp_path):
    proc = subprocess.run(
        [TUTOR, "ask", "-", "--json"], input="/lesson 02_attention_mechanism", capture_output=True, text=True,
        env={**os.environ, "TUTOR_DATA_DIR": str(tmp_path)}, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["citations"][0]["source"] == "01_transformer_architecture/02_attention_mechanism.md"


@pytest.mark.slow
def test_run_json_contract(tmp_path):
    proc = run(["run", "print(1); 6*7", "--json"], {"TUTOR_DATA_DIR": str(tmp_path)})
    out = json.loads(proc.stdout)
    assert proc.returncode == 0
    assert {k: out[k] for k in ("status", "stdout", "result", "images", "error")} == {
        "status": "ok", "stdout": "1\n", "result": "42", "images": [], "error": None,
    }  # fmt: skip
    assert out["elapsed_s"] >= 0


@pytest.mark.slow
def test_run_from_stdin_with_timeout(tmp_path):
    proc = subprocess.run(
        [TUTOR, "run", "-", "--timeout", "1", "--json"], input="while True: pass",
        capture_output=True, text=True, env={**os.environ, "TUTOR_DATA_DIR": str(tmp_path)}, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1 and json.loads(proc.stdout)["status"] == "timeout"


@pytest.mark.slow
def test_run_notebook_gives_one_object_per_code_cell(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# t"),
            nbformat.v4.new_code_cell("a = 2"),
            nbformat.v4.new_code_cell("print(a * 21)"),
        ]
    )
    path = tmp_path / "t.ipynb"
    nbformat.write(nb, path)
    proc = run(["run-notebook", str(path), "--json"], {"TUTOR_DATA_DIR": str(tmp_path)})
    out = json.loads(proc.stdout)
    assert proc.returncode == 0 and [c["status"] for c in out] == ["ok", "ok"] and out[1]["stdout"] == "42\n"


def test_search_json_prints_every_hit_before_it_exits(index_dir, tmp_path):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(index_dir, data)
    for _ in range(2):  # the second run reads the BM25 snapshot the first one wrote
        proc = run(["search", "what is attention", "--json", "-k", "3"], {"TUTOR_DATA_DIR": str(data)})
        assert proc.returncode == 0, proc.stderr
        hits = json.loads(proc.stdout)  # the whole output arrived, though the process skips its teardown
        assert len(hits) == 3 and hits[0]["source"].startswith("01_transformer_architecture/")
    assert list((data / "cache").glob("bm25-*/corpus.json"))
    missing = run(["search", "attention"], {"TUTOR_DATA_DIR": str(tmp_path / "empty")})
    assert missing.returncode != 0 and "tutor index" in missing.stderr
