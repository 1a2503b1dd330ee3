"""The SSE machinery: wire format, rising ids, pings in silence, failures as `error` then `done`,
and a consumer that leaves cancelling the producer at once."""

from __future__ import annotations

import asyncio

from core.streams.sse import StreamEvent, drain_cancelled_producers, encode_event, parse_sse, sse_bytes


async def _collect(stream) -> str:
    return b"".join([chunk async for chunk in stream]).decode()


def test_an_event_is_id_name_and_one_json_data_line() -> None:
    wire = encode_event(StreamEvent("delta", {"text": "two\nlines ü"}), 7).decode()
    assert wire == 'id: 7\nevent: delta\ndata: {"text":"two\\nlines ü"}\n\n'
    assert parse_sse(wire) == [(7, "delta", {"text": "two\nlines ü"})]


async def test_ids_rise_from_one_in_order() -> None:
    async def events():
        for name in ("start", "delta", "delta", "done"):
            yield StreamEvent(name, {"n": name})

    parsed = parse_sse(await _collect(sse_bytes(events())))
    assert [(i, n) for i, n, _ in parsed] == [(1, "start"), (2, "delta"), (3, "delta"), (4, "done")]


async def test_a_quiet_producer_gets_comment_pings_and_is_not_cancelled_by_them() -> None:
    async def slow():
        yield StreamEvent("start", {})
        await asyncio.sleep(0.35)  # a model thinking before its first token
        yield StreamEvent("done", {})

    text = await _collect(sse_bytes(slow(), ping_interval=0.1))
    assert text.count(": ping\n\n") >= 2
    assert [n for _, n, _ in parse_sse(text)] == ["start", "done"]


async def test_a_failing_producer_ends_with_error_then_done() -> None:
    async def failing():
        yield StreamEvent("start", {})
        raise RuntimeError("secret internals")

    parsed = parse_sse(await _collect(sse_bytes(failing())))
    assert [n for _, n, _ in parsed] == ["start", "error", "done"]
    assert parsed[1][2]["code"] == "INTERNAL_ERROR"
    assert "secret" not in parsed[1][2]["message"]


async def test_a_consumer_that_leaves_cancels_the_producer_and_lets_it_clean_up() -> None:
    produced: list[int] = []
    cleaned = asyncio.Event()

    async def endless():
        try:
            for i in range(10_000):
                produced.append(i)
                yield StreamEvent("delta", {"i": i})
                await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            await asyncio.sleep(0)  # clean-up that awaits (saving a partial answer)
            cleaned.set()
            raise

    stream = sse_bytes(endless(), queue_size=1)
    got = [await anext(stream) for _ in range(3)]
    await stream.aclose()  # what the server does when the client disconnects
    await drain_cancelled_producers()
    assert len(got) == 3 and cleaned.is_set()
    count = len(produced)
    await asyncio.sleep(0.05)
    assert len(produced) == count < 10


async def test_a_stream_ends_when_its_producer_finishes_with_the_queue_full() -> None:
    """A producer that is faster than its reader fills the queue and finishes: its end still goes
    through once the reader makes room, so the stream closes instead of pinging forever."""

    async def fast():
        for n in range(3):
            yield StreamEvent("delta", {"n": n})
        yield StreamEvent("done", {})

    chunks = []
    async for chunk in sse_bytes(fast(), ping_interval=0.01, queue_size=1):
        chunks.append(chunk)
        if len(chunks) > 50:  # a stream that lost its end only pings from here on
            break
    assert [n for _, n, _ in parse_sse(b"".join(chunks).decode())] == ["delta", "delta", "delta", "done"]
    assert len(chunks) <= 50 and not chunks[-1].startswith(b":")


async def test_events_that_keep_flowing_are_never_interrupted_by_pings() -> None:
    """The ping timer counts from the last event sent, not from the start of the stream: a steady
    stream with gaps shorter than the interval gets no ping however long it runs."""

    async def steady():
        for n in range(12):
            yield StreamEvent("delta", {"n": n})
            await asyncio.sleep(0.04)
        yield StreamEvent("done", {})

    text = await _collect(sse_bytes(steady(), ping_interval=0.1))
    assert ": ping" not in text
    assert [i for i, _, _ in parse_sse(text)] == list(range(1, 14))


async def test_pings_resume_after_events_and_no_event_is_lost_around_them() -> None:
    async def bursts():
        for burst in range(3):
            for n in range(20):
                yield StreamEvent("delta", {"burst": burst, "n": n})
            await asyncio.sleep(0.25)  # silence: two or more pings
        yield StreamEvent("done", {})

    chunks = [chunk async for chunk in sse_bytes(bursts(), ping_interval=0.1, queue_size=4)]
    text = b"".join(chunks).decode()
    parsed = parse_sse(text)
    assert [i for i, _, _ in parsed] == list(range(1, 62))
    assert [(d["burst"], d["n"]) for _, n, d in parsed if n == "delta"] == [
        (b, n) for b in range(3) for n in range(20)
    ]
    # pings in each silence (after each burst), none inside a burst
    pings = [i for i, chunk in enumerate(chunks) if chunk == b": ping\n\n"]
    assert len(pings) >= 6
    assert chunks[-1].endswith(b"event: done\ndata: {}\n\n")


async def test_events_waiting_together_go_out_as_one_chunk() -> None:
    """A delta and the citation it carries, produced in the same step, reach the server in one
    write (each chunk is one write and one wake-up of the client)."""

    async def paired():
        for n in range(10):
            yield StreamEvent("delta", {"text": f"claim [{n}]"})
            yield StreamEvent("citation", {"n": n})
            await asyncio.sleep(0)  # the model's next token
        yield StreamEvent("done", {})

    chunks = [chunk async for chunk in sse_bytes(paired())]
    parsed = parse_sse(b"".join(chunks).decode())
    assert [n for _, n, _ in parsed] == ["delta", "citation"] * 10 + ["done"]
    assert [i for i, _, _ in parsed] == list(range(1, 22))
    assert len(chunks) <= 11
