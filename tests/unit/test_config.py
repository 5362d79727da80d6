from pathlib import Path

import pytest

from tutor.config import Settings


def test_defaults(monkeypatch, tmp_path):
    for key in ("TUTOR_MODEL", "TUTOR_DATA_DIR", "TUTOR_PORT"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    s = Settings(_env_file=None)
    assert s.model == "embedded"
    assert s.port == 7860 and s.host == "127.0.0.1"
    assert s.data_dir == tmp_path / "llm-tutor"
    assert s.checkpoint_db.parent == s.data_dir


def test_env_overrides_default_and_kwargs_override_env(monkeypatch, tmp_path):
    monkeypatch.setenv("TUTOR_MODEL", "openai/gpt-4o-mini")
    monkeypatch.setenv("TUTOR_PORT", "9000")
    monkeypatch.setenv("TUTOR_DATA_DIR", str(tmp_path / "env"))
    s = Settings(_env_file=None)
    assert (s.model, s.port, s.data_dir) == ("openai/gpt-4o-mini", 9000, tmp_path / "env")
    s = Settings(_env_file=None, model="embedded", port=7000)
    assert (s.model, s.port) == ("embedded", 7000)


def test_dotenv_is_below_environment(monkeypatch, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("TUTOR_MODEL=ollama/qwen2.5:7b\nTUTOR_MAX_TOKENS=99\n")
    monkeypatch.delenv("TUTOR_MODEL", raising=False)
    monkeypatch.setenv("TUTOR_MAX_TOKENS", "123")
    s = Settings(_env_file=env_file)
    assert s.model == "ollama/qwen2.5:7b"  # from .env
    assert s.max_tokens == 123  # environment beats .env


def test_invalid_values_are_rejected(monkeypatch):
    monkeypatch.setenv("TUTOR_PORT", "not-a-port")
    with pytest.raises(ValueError):
        Settings(_env_file=None)


def test_auth_pairs():
    assert Settings(_env_file=None, auth="ann:pw1, bob:pw2").auth_pairs() == [("ann", "pw1"), ("bob", "pw2")]
    assert Settings(_env_file=None).auth_pairs() == []
    with pytest.raises(ValueError, match="TUTOR_AUTH"):
        Settings(_env_file=None, auth="ann").auth_pairs()


def test_data_dir_expands_user():
    assert Settings(_env_file=None, data_dir="~/x").data_dir == Path.home() / "x"
