"""All configuration in one place: environment variables with the `TUTOR_` prefix (or a `.env` file).

Precedence, highest first: explicit keyword arguments, environment, `.env`, defaults.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "llm-tutor"


class Settings(BaseSettings):
    """Every setting of the tutor. The README's configuration table is generated from these fields."""

    model_config = SettingsConfigDict(env_prefix="TUTOR_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir, description="Where all data lives.")
    model: str = Field(
        "embedded",
        description="Chat model as provider/model: embedded, auto, openai/<m>, anthropic/<m>, "
        "ollama/<m>, openai-compatible/<m>@<base_url>.",
    )
    temperature: float = Field(0.3, ge=0, le=2, description="Sampling temperature of the chat model.")
    max_tokens: int = Field(512, ge=16, le=8192, description="Longest reply the model may write.")
    embedded_n_ctx: int = Field(4096, ge=4096, description="Context window of the embedded model.")
    embedded_threads: int = Field(0, ge=0, description="llama.cpp threads; 0 = all cores.")
    embedded_repack: bool = Field(
        False,
        description="Let llama.cpp repack the weights for AMX/AVX-512 kernels. Off: on a CPU with AMX_INT8 the "
        "repacked Q4_1 weights of llama-cpp-python 0.3.36 crash the first decode (segfault, measured).",
    )
    ollama_url: str = Field("http://127.0.0.1:11434", description="Base URL of an Ollama server.")
    anthropic_url: str | None = Field(None, description="Anthropic API base URL; unset = Anthropic's own.")
    model_timeout_s: float = Field(60, gt=0, description="Seconds an API model call may take before it fails.")
    model_retries: int = Field(2, ge=0, le=10, description="Retries of an API model call (429, 5xx, network).")
    chroma_url: str | None = Field(None, description="Chroma server URL; unset = local PersistentClient.")
    database_url: str | None = Field(
        None, description="postgres:// URL for conversations and learners; unset = SQLite in data dir."
    )
    kernel_gateway_url: str | None = Field(None, description="Jupyter Kernel Gateway URL; unset = local.")
    kernel_timeout_s: float = Field(30, gt=0, description="Per-run code execution timeout.")
    kernel_memory_mb: int = Field(2048, ge=256, description="Address-space limit of a learner kernel.")
    kernel_cpu_s: int = Field(300, ge=10, description="CPU-seconds limit of a learner kernel.")
    kernel_idle_cull_s: int = Field(1800, ge=60, description="Idle kernels are shut down after this.")
    kernel_pool_size: int = Field(1, ge=0, le=8, description="Pre-warmed kernels kept ready.")
    kernel_sandbox: Literal["bwrap", "off"] = Field(
        "bwrap", description="Learner kernels run in a bubblewrap sandbox; `off` runs them unsandboxed."
    )
    kernel_network: bool = Field(False, description="Let sandboxed kernels reach the network (and loopback).")
    kernel_uid: int = Field(60999, ge=1, description="Host uid of sandboxed kernels when the server runs as root.")
    kernel_tmp_mb: int = Field(256, ge=16, description="Size of a kernel's private /tmp (RAM).")
    kernel_shm_mb: int = Field(64, ge=1, description="Size of a kernel's private /dev/shm (RAM).")
    kernel_disk_mb: int = Field(500, ge=10, description="A run may not grow the working directory beyond this.")
    kernel_workdir_keep_days: float = Field(30, gt=0, description="Learners' working dirs unused this long are swept.")
    host: str = Field("127.0.0.1", description="Web UI host.")
    port: int = Field(7860, ge=1, le=65535, description="Web UI port.")
    auth: str | None = Field(None, description="Optional logins as user:pass,user2:pass2.")
    max_message_chars: int = Field(8000, ge=100, description="Longest learner message accepted.")
    history_messages: int = Field(16, ge=2, description="Messages of history sent to the model (older are trimmed).")
    concurrency: int = Field(8, ge=1, description="Learners served at once by the web UI.")
    # a public deployment's limits (README, "Deploying for a group")
    secret_key: str | None = Field(
        None, description="Signs learner ids; unset = a random key kept in the data dir (0600), stable across restarts."
    )
    max_kernels: int = Field(20, ge=1, description="Python kernels in total (one per learner).")
    messages_per_minute: int = Field(30, ge=1, description="Messages one learner may send per minute.")
    logins_per_minute: int = Field(10, ge=1, description="Login attempts per minute per user name and per address.")
    max_upload_mb: int = Field(5, ge=1, description="Largest file upload accepted.")
    max_request_kb: int = Field(256, ge=16, description="Largest request body accepted (uploads aside).")
    queue_size: int = Field(64, ge=1, description="Turns waiting for the web UI at most; more are told it is busy.")

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, v: Path) -> Path:
        return Path(v).expanduser()

    @property
    def checkpoint_db(self) -> Path:
        return self.data_dir / "conversations.sqlite"

    @property
    def learner_db(self) -> Path:
        return self.data_dir / "learners.sqlite"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    def auth_pairs(self) -> list[tuple[str, str]]:
        """Parse `user:pass,user2:pass2`; an entry without ':' is a configuration error."""
        if not self.auth:
            return []
        pairs = []
        for entry in self.auth.split(","):
            user, sep, password = entry.strip().partition(":")
            if not sep or not user or not password:
                raise ValueError("TUTOR_AUTH must look like user:pass,user2:pass2")
            pairs.append((user, password))
        return pairs

    def ensure_dirs(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests construct `Settings(...)` directly instead)."""
    return Settings()
