"""Embedding throughput: the bare ONNX model against Kariz's local provider, on real texts.

Texts are Debian package records (`apt-cache dumpavail`), turned into embedding text by
`build_embedding_text` exactly as records are. The baseline is the model run straight through
onnxruntime with default session options, in input order, 32 texts a batch; the provider adds
length-sorted batches and a thread setting for this machine. Same texts, same run.

    .venv/bin/python bench/embed_model.py [--texts 2000] [--no-readme]

Figures are appended to bench/README.md under "Embeddings".
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.embed_pipeline import debian_stanzas  # noqa: E402
from core.embeddings.local_minilm import (  # noqa: E402
    MAX_TOKENS,
    TOKENIZER_PATH,
    LocalMiniLMProvider,
    available_cores,
    default_model_path,
)
from core.embeddings.text import build_embedding_text  # noqa: E402

README = Path(__file__).resolve().parent / "README.md"


def debian_texts(limit: int) -> list[str]:
    """Embedding texts of `limit` Debian packages, spread over the whole archive."""
    records = []
    for fields in debian_stanzas():
        if "Package" in fields and "Description" in fields:
            records.append(fields)
    if not records:
        raise SystemExit("apt-cache dumpavail gave no packages: run `apt-get update` first")
    step = max(1, len(records) // limit)
    texts = []
    for r in records[::step][:limit]:
        summary, _, long = r["Description"].partition("\n")
        texts.append(
            build_embedding_text(
                r["Package"],
                r.get("Section", "package"),
                summary,
                {"long_description": long, "version": r.get("Version"), "priority": r.get("Priority")},
            )
        )
    return texts


class BareModel:
    """all-MiniLM-L6-v2 straight through onnxruntime: default options, batches in input order."""

    def __init__(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.session = ort.InferenceSession(str(default_model_path()), providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(TOKENIZER_PATH))
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        out = []
        for start in range(0, len(texts), batch_size):
            enc = self.tokenizer.encode_batch(texts[start : start + batch_size])
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            (hidden,) = self.session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            )
            pooled = (hidden * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
            out.append(pooled / np.linalg.norm(pooled, axis=1, keepdims=True))
        return np.vstack(out)


def rate(fn, texts: list[str]) -> tuple[float, np.ndarray]:
    fn(texts[:64])  # warm-up: first runs allocate arenas
    start = time.perf_counter()
    vectors = fn(texts)
    return len(texts) / (time.perf_counter() - start), vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument(
        "--no-readme", action="store_true", help="print only; do not append to bench/README.md"
    )
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    texts = debian_texts(args.texts)
    provider = LocalMiniLMProvider()
    pieces = [len(ids) for ids in provider.tokenize(texts)]
    print(
        f"{len(texts)} Debian package texts, word pieces: mean {np.mean(pieces):.0f}, "
        f"median {np.median(pieces):.0f}, truncated at {MAX_TOKENS}: {sum(p >= MAX_TOKENS for p in pieces)}"
    )

    bare_rate, bare_vectors = rate(BareModel().embed, texts)
    print(f"bare onnxruntime (default options, input order, batch 32): {bare_rate:7.1f} texts/s  (baseline)")
    rows = [("bare onnxruntime, default options, input order, batch 32", bare_rate, 1.0)]
    provider_vectors = None
    for batch, spin in [(16, False), (32, False), (64, False), (32, True)]:
        p = LocalMiniLMProvider(batch_size=batch, spin=spin)
        r, vectors = rate(p.embed, texts)
        if (batch, spin) == (32, False):
            provider_vectors = vectors
        name = (
            f"LocalMiniLMProvider, batch {batch}, {available_cores()} threads{', spinning' if spin else ''}"
        )
        print(f"{name}: {r:7.1f} texts/s  x{r / bare_rate:.2f}")
        rows.append((name, r, r / bare_rate))
    agreement = float((bare_vectors * provider_vectors).sum(1).min())
    load = (load_before + os.getloadavg()[0]) / 2
    print(f"min cosine between bare and provider vectors: {agreement:.6f}; load average ~{load:.1f}")

    if args.no_readme:
        return
    lines = [
        f"\n### Embedding model throughput — {dt.date.today().isoformat()}, {available_cores()} cores, "
        f"{platform.python_implementation()} {platform.python_version()}\n",
        f"`bench/embed_model.py --texts {len(texts)}`: Debian package texts (mean {np.mean(pieces):.0f} word pieces),"
        " all-MiniLM-L6-v2 int8 ONNX.\n",
        "| run | texts/s | vs baseline |",
        "| --- | ---: | ---: |",
        *[f"| {name} | {r:.1f} | x{ratio:.2f} |" for name, r, ratio in rows],
        f"\nMin cosine between baseline and provider vectors: {agreement:.6f}. Load average during the run"
        f" ~{load:.1f} on {available_cores()} cores (other work shares the machine: compare ratios, not absolutes).\n",
    ]
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    if "\n## Embeddings\n" not in text:
        text = text.rstrip("\n") + "\n\n## Embeddings\n"
    README.write_text(text.rstrip("\n") + "\n" + "\n".join(lines))
    print(f"appended to {README}")


if __name__ == "__main__":
    main()
