"""asyncio: driven by the stream's descriptor (no thread per stream, the loop never blocks);
task cancellation stops the request."""

from __future__ import annotations

import asyncio
import gc
import time
from typing import Any, Callable

from conftest import open_sockets, settles, threads

import aichat

Req = Callable[..., dict[str, Any]]


def test_astream_aevents_arun_acomplete(client: aichat.Client, openai: Req) -> None:
    async def main() -> None:
        assert [c async for c in client.astream(openai())] == ["You ", "said: ", "one ", "two"]
        kinds = [e.type async for e in client.aevents(openai("reasoning"))]
        assert kinds[0] == "response" and kinds[-1] == "message" and "reasoning" in kinds
        assert (await client.arun(openai())).text == "You said: one two"
        two = await client.arun(openai("reasoning", n=2))
        expected = [(i, "You said: one two", "stop") for i in (0, 1)]
        assert [(c.index, c.text, c.finish_reason) for c in two.choices] == expected
        assert two.reasoning and two.usage is not None and two.usage.total_tokens == 21
        assert await client.acomplete(openai("chunks=5000")) == "".join(f"tok{i} " for i in range(5000))
        assert await aichat.acomplete(openai(), proxy="") == "You said: one two"

    asyncio.run(main())


def test_many_streams_share_the_loop_without_a_thread_each(client: aichat.Client, openai: Req) -> None:
    """50 paced streams at once: the loop stays responsive (a 10 ms timer keeps its pace) and the
    process gains only the library's own thread per stream."""

    async def main() -> None:
        before = threads()
        lags: list[float] = []

        async def ticker() -> None:
            for _ in range(30):
                t = time.monotonic()
                await asyncio.sleep(0.01)
                lags.append(time.monotonic() - t - 0.01)

        texts = await asyncio.gather(
            *(client.acomplete(openai("interval=20", content=f"stream {i} of many")) for i in range(50)), ticker()
        )
        assert texts[:50] == [f"You said: stream {i} of many" for i in range(50)]
        assert max(lags) < 0.1, f"the loop stalled {max(lags):.3f} s"
        assert threads() <= before + 50

    asyncio.run(main())


def test_task_cancellation_stops_the_request_promptly(openai: Req) -> None:
    async def main() -> None:
        c = aichat.Client(proxy="")
        gc.collect()
        sockets = open_sockets()

        async def consume() -> None:
            async for _ in c.astream(openai("silence")):
                pass

        task = asyncio.create_task(consume())
        await asyncio.sleep(0.3)
        assert open_sockets() > sockets, "the request is running"
        cancelled = time.monotonic()
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        assert time.monotonic() - cancelled < 0.1
        # The library thread closes the connection within milliseconds (margin: a loaded machine).
        assert settles(lambda: open_sockets() <= sockets, 1.0)
        c.close()

    asyncio.run(main())


def test_async_errors_and_break(client: aichat.Client, openai: Req) -> None:
    async def main() -> None:
        try:
            await client.acomplete(openai("status=500"))
            raise AssertionError("no error")
        except aichat.HTTPStatusError as e:
            assert e.http_status == 500
        async for _ in client.astream(openai("chunks=100000")):
            break
        assert await client.acomplete(openai()) == "You said: one two"

    asyncio.run(main())
