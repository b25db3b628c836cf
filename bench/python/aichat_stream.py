"""The Python binding streaming the same completion as openai_stream.py, in a plain `for` loop
and in an `async for` loop (asyncio, driven by the stream's descriptor).

    python aichat_stream.py BASE_URL N [sync|async]
"""
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bindings" / "python" / "src"))
import aichat  # noqa: E402


def main():
    base, n = sys.argv[1], int(sys.argv[2])
    mode = sys.argv[3] if len(sys.argv) > 3 else "sync"
    req = {"provider": "openai", "stream": True, "proxy": "", "base_url": f"{base}/fault/chunks={n}/v1",
           "messages": [{"role": "user", "content": "Hi"}]}
    client = aichat.Client()
    start = time.perf_counter()
    chunks = 0
    if mode == "sync":
        for _ in client.stream(req):
            chunks += 1
    else:
        async def consume():
            count = 0
            async for _ in client.astream(req):
                count += 1
            return count

        chunks = asyncio.run(consume())
    seconds = time.perf_counter() - start
    if chunks != n:
        sys.exit(f"got {chunks} chunks of {n}")
    print(f"chunks={chunks} seconds={seconds:.4f} per_second={chunks / seconds:.1f}")


if __name__ == "__main__":
    main()
