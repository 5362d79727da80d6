"""Provider factory: the right LangChain class and parameters per provider, no network."""

import pytest

from tests.conftest import free_port
from tutor.config import Settings
from tutor.models import ProviderError, build_chat_model, parse_model_spec, resolve_auto


def _settings(model: str, **kw) -> Settings:
    return Settings(_env_file=None, model=model, **kw)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("embedded", ("embedded", "SmolLM2-135M-Instruct", None)),
        ("openai/gpt-4o-mini", ("openai", "gpt-4o-mini", None)),
        ("anthropic/claude-3-5-haiku-latest", ("anthropic", "claude-3-5-haiku-latest", None)),
        ("ollama/qwen2.5:7b", ("ollama", "qwen2.5:7b", None)),
        (
            "openai-compatible/smol@http://127.0.0.1:8000/v1/",
            ("openai-compatible", "smol", "http://127.0.0.1:8000/v1"),
        ),
    ],
)
def test_parse_model_spec(spec, expected):
    s = parse_model_spec(spec, env={})
    assert (s.provider, s.model, s.base_url) == expected


@pytest.mark.parametrize(
    "bad", ["", "gpt-4", "openai/", "foo/bar", "openai-compatible/x", "openai-compatible/x@ftp://h"]
)
def test_invalid_specs_name_the_setting(bad):
    with pytest.raises(ProviderError, match="TUTOR_MODEL"):
        parse_model_spec(bad, env={})


def test_auto_prefers_an_available_key():
    assert resolve_auto({}) == "embedded"
    assert resolve_auto({"OPENAI_API_KEY": "sk-x"}).startswith("openai/")
    assert resolve_auto({"ANTHROPIC_API_KEY": "a"}).startswith("anthropic/")
    assert parse_model_spec("auto", env={"ANTHROPIC_API_KEY": "a"}).provider == "anthropic"


def test_openai_builder():
    from langchain_openai import ChatOpenAI

    m = build_chat_model(
        _settings("openai/gpt-4o-mini", temperature=0.2, max_tokens=321), env={"OPENAI_API_KEY": "sk-t"}
    )
    assert isinstance(m, ChatOpenAI)
    assert (m.model_name, m.temperature, m.max_tokens, m.streaming) == ("gpt-4o-mini", 0.2, 321, True)
    assert m.openai_api_key.get_secret_value() == "sk-t"


def test_anthropic_builder():
    from langchain_anthropic import ChatAnthropic

    m = build_chat_model(_settings("anthropic/claude-3-5-haiku-latest"), env={"ANTHROPIC_API_KEY": "ak"})
    assert isinstance(m, ChatAnthropic)
    assert m.model == "claude-3-5-haiku-latest"
    assert m.anthropic_api_key.get_secret_value() == "ak"


def test_ollama_builder():
    from langchain_ollama import ChatOllama

    m = build_chat_model(_settings("ollama/qwen2.5:7b", ollama_url="http://127.0.0.1:1"), env={}, check=False)
    assert isinstance(m, ChatOllama)
    assert (m.model, m.base_url, m.num_predict) == ("qwen2.5:7b", "http://127.0.0.1:1", 512)


def test_openai_compatible_builder_needs_no_key():
    from langchain_openai import ChatOpenAI

    m = build_chat_model(_settings("openai-compatible/smol@http://127.0.0.1:8000/v1"), env={}, check=False)
    assert isinstance(m, ChatOpenAI)
    assert m.openai_api_base == "http://127.0.0.1:8000/v1"
    assert m.model_name == "smol"


@pytest.mark.parametrize(
    ("model", "var"), [("openai/gpt-4o-mini", "OPENAI_API_KEY"), ("anthropic/x", "ANTHROPIC_API_KEY")]
)
def test_missing_key_is_one_clear_line(model, var):
    with pytest.raises(ProviderError) as info:
        build_chat_model(_settings(model), env={})
    message = str(info.value)
    assert var in message and "\n" not in message


def test_unreachable_servers_name_the_setting():
    port = free_port()
    with pytest.raises(ProviderError, match="TUTOR_OLLAMA_URL"):
        build_chat_model(_settings("ollama/x", ollama_url=f"http://127.0.0.1:{port}"), env={})
    with pytest.raises(ProviderError, match="TUTOR_MODEL"):
        build_chat_model(_settings(f"openai-compatible/x@http://127.0.0.1:{port}/v1"), env={})


def test_embedded_builder_parameters():
    from langchain_community.chat_models import ChatLlamaCpp

    m = build_chat_model(_settings("embedded"), env={})
    assert isinstance(m, ChatLlamaCpp)
    assert m.n_ctx >= 4096 and m.repeat_penalty > 1 and m.streaming
    assert m.model_path.endswith("SmolLM2-135M-Instruct.Q4_1.gguf")
    assert build_chat_model(_settings("embedded"), env={}) is m  # loaded once per process


def test_weight_repacking_is_set_for_the_load_and_restored_after():
    import llama_cpp.llama as llama_module

    from tutor.models import weight_repacking

    library = llama_module.llama_cpp
    before = library.llama_model_default_params
    with weight_repacking(False):
        assert library.llama_model_default_params().use_extra_bufts is False
    with weight_repacking(True):
        assert library.llama_model_default_params().use_extra_bufts is True
    assert library.llama_model_default_params is before
    assert Settings().embedded_repack is False  # the default that does not crash on AMX CPUs
