"""Relevance of hybrid search against full text alone, on a labelled query set built from real data.

Corpus: Debian package records from `apt-cache dumpavail` (name, section, summary, long description),
`--corpus` of them spread over the archive plus every package a query is labelled with, embedded for
real by the pipeline (local MiniLM). Queries: paraphrases written for this benchmark, each saying what
a well-known package does without its name and mostly without its summary's words, labelled with the
package(s) that answer it. Identifier checks: package names that read as codes (`python3-numpy`,
`lib32z1`) searched verbatim must come first with score 1.0 in every mode.

    .venv/bin/python bench/relevance.py [--corpus 2000] [--no-readme]

Figures (recall@10, MRR@10, identifier exact-first rate) are appended to bench/README.md under
"Hybrid search".
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402

from bench.embed_pipeline import append_to_readme, debian_packages, fresh_database, ingest  # noqa: E402
from bench.hybrid_search import NoCache  # noqa: E402
from core.db.engine import make_async_engine, make_sync_engine  # noqa: E402
from core.embeddings.local_minilm import LocalMiniLMProvider  # noqa: E402
from core.embeddings.pipeline import run_embedding_pipeline  # noqa: E402
from core.records.identifiers import looks_like_identifier  # noqa: E402
from core.search import SearchRequest, search  # noqa: E402
from core.settings import Settings, override_settings  # noqa: E402
from core.vectors.factory import get_vector_index  # noqa: E402

#: paraphrased need -> packages that meet it
LABELLED: list[tuple[str, set[str]]] = [
    ("fetch files from a web server on the command line", {"wget", "curl", "aria2"}),
    ("retouch photographs like photoshop", {"gimp"}),
    ("draw scalable vector illustrations", {"inkscape"}),
    ("watch movies and play music files", {"vlc", "mpv"}),
    ("keep two folders identical across machines", {"rsync"}),
    ("let people log in to this machine remotely with encryption", {"openssh-server"}),
    ("serve websites and act as a reverse proxy", {"nginx"}),
    ("object relational database server", {"postgresql"}),
    ("small embedded sql database with a command line shell", {"sqlite3"}),
    ("convert audio and video between formats", {"ffmpeg"}),
    ("resize and convert pictures from the command line", {"imagemagick"}),
    ("encrypt and sign files with public keys", {"gnupg"}),
    ("split one terminal into several sessions that survive logout", {"tmux", "screen"}),
    ("interactive process viewer showing cpu usage", {"htop"}),
    ("ban addresses that keep failing to log in", {"fail2ban"}),
    ("easy frontend to the kernel firewall", {"ufw"}),
    ("run commands periodically at scheduled times", {"cron"}),
    ("convert documents between markdown, latex and word", {"pandoc"}),
    ("draw diagrams of networks from a text description", {"graphviz"}),
    ("plot mathematical functions and data", {"gnuplot"}),
    ("matlab compatible numerical computing", {"octave"}),
    ("language for statistics and data analysis", {"r-base"}),
    ("find open ports on hosts in a network", {"nmap"}),
    ("capture and inspect network traffic", {"wireshark", "tcpdump"}),
    ("measure throughput between two hosts", {"iperf3"}),
    ("browse the web in a text terminal", {"lynx", "w3m"}),
    ("see which directories take up the most disk space", {"ncdu"}),
    ("query and reshape json on the command line", {"jq"}),
    ("read the text out of scanned pages", {"tesseract-ocr"}),
    ("check the spelling of words", {"hunspell", "aspell"}),
    ("make the computer read text aloud", {"espeak", "festival"}),
    ("calculator with arbitrary precision", {"bc"}),
    ("organise a library of e-books", {"calibre"}),
    ("view pdf documents", {"evince", "okular"}),
    ("scan files for viruses", {"clamav"}),
    ("search file contents recursively, very fast", {"ripgrep"}),
    ("download torrents without a graphical interface", {"transmission-cli"}),
    ("model and animate in three dimensions", {"blender"}),
    ("record and edit sound", {"audacity"}),
    ("distributed version control for source code", {"git"}),
]


def exact_first(response, name: str) -> bool:
    return bool(response.results) and response.results[0].name == name and response.results[0].score == 1.0


async def evaluate(url: str, tenant_id: uuid.UUID, collection: str, identifiers: list[str]) -> dict:
    engine = make_async_engine(url, pool_size=2)
    modes = ("fulltext", "hybrid", "semantic")
    recall = {m: [] for m in modes}
    rr = {m: [] for m in modes}
    misses: dict[str, list[str]] = {m: [] for m in modes}
    exact = {m: 0 for m in ("auto", *modes)}
    try:
        async with AsyncSession(engine) as session:
            for query, relevant in LABELLED:
                for mode in modes:
                    response = await search(
                        session,
                        tenant_id,
                        collection,
                        SearchRequest(query=query, search_mode=mode, limit=10),
                        cache=NoCache(),
                    )
                    assert response.search_mode == mode, (mode, response.vector_fallback_reason)
                    names = [h.name for h in response.results]
                    recall[mode].append(len(relevant & set(names)) / len(relevant))
                    rank = next((i + 1 for i, n in enumerate(names) if n in relevant), None)
                    rr[mode].append(1 / rank if rank else 0.0)
                    if not rank:
                        misses[mode].append(query)
            for name in identifiers:
                for mode in ("auto", *modes):
                    response = await search(
                        session,
                        tenant_id,
                        collection,
                        SearchRequest(query=name, search_mode=None if mode == "auto" else mode),
                        cache=NoCache(),
                    )
                    exact[mode] += exact_first(response, name)
    finally:
        await engine.dispose()
    return {
        "recall": {m: sum(v) / len(v) for m, v in recall.items()},
        "mrr": {m: sum(v) / len(v) for m, v in rr.items()},
        "misses": misses,
        "exact": exact,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=int, default=2000)
    parser.add_argument("--identifiers", type=int, default=40)
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()

    targets = set().union(*(relevant for _, relevant in LABELLED))
    packages = debian_packages(args.corpus, include=targets)
    missing = targets - {p["name"] for p in packages}
    if missing:
        raise SystemExit(f"labelled packages missing from this archive: {sorted(missing)}")
    identifiers = [p["name"] for p in packages if looks_like_identifier(p["name"])][: args.identifiers]

    url = fresh_database("relevance")
    settings = Settings(
        database_url=url, data_dir=Path(tempfile.mkdtemp(prefix="kariz-bench-")), vector_backend="pgvector"
    )
    override_settings(settings)
    engine = make_sync_engine(url)
    tenant_id, collection_id = ingest(engine, packages, "debian")
    report = run_embedding_pipeline(
        engine, tenant_id, collection_id, provider=LocalMiniLMProvider(), index=get_vector_index(settings)
    )
    print(f"{report.indexed} packages embedded in {report.seconds:.0f} s")
    found = asyncio.run(evaluate(url, tenant_id, "debian", identifiers))

    for mode in ("fulltext", "hybrid", "semantic"):
        print(
            f"{mode:9s} recall@10 {found['recall'][mode]:.2f}  MRR@10 {found['mrr'][mode]:.2f}  "
            f"no relevant result in top 10: {len(found['misses'][mode])}/{len(LABELLED)}"
        )
    print(f"identifier exact-first out of {len(identifiers)}: {found['exact']}")
    print("full text misses:", "; ".join(found["misses"]["fulltext"]))
    print("hybrid misses:", "; ".join(found["misses"]["hybrid"]))
    if args.no_readme:
        return
    n = len(identifiers)
    block = "\n".join(
        [
            f"### Relevance (`bench/relevance.py`) — {dt.date.today().isoformat()}",
            "",
            f"{len(packages):,} Debian packages (real embeddings through the pipeline), {len(LABELLED)} paraphrased"
            " queries written for the benchmark and labelled with the package(s) that answer them (the list is in"
            f" `bench/relevance.py`), and {n} package names that read as identifiers searched verbatim.",
            "",
            "| search_mode | recall@10 | MRR@10 | queries with no relevant result in top 10 | identifier exact match first (score 1.0) |",
            "| --- | ---: | ---: | ---: | ---: |",
            *[
                f"| {mode} | {found['recall'][mode]:.2f} | {found['mrr'][mode]:.2f} |"
                f" {len(found['misses'][mode])}/{len(LABELLED)} | {found['exact'][mode]}/{n} |"
                for mode in ("fulltext", "hybrid", "semantic")
            ],
            f"| (default: auto) | | | | {found['exact']['auto']}/{n} |",
            "",
            "Hybrid = RRF of full text and vectors, `semantic_weight` 0.5, k 60.",
        ]
    )
    append_to_readme("Hybrid search", block)


if __name__ == "__main__":
    main()
