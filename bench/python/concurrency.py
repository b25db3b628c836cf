"""What N concurrent streams cost the Python binding (asyncio): OS threads added, resident
memory per stream, and the delay from the server writing a chunk to an `async for` loop
receiving it. Prints one line:

    lang=python n=2000 completed=2000 threads_added=0 kb_per_stream=23.4 p50_ms=0.8 p99_ms=12.3 errors=0

    AICHAT_BENCH_N=2000 AICHAT_BENCH_BASE_URL=http://127.0.0.1:PORT python bench/python/concurrency.py

Without AICHAT_BENCH_BASE_URL it starts target/release/aichat-testserver (or AICHAT_TESTSERVER)
itself. Each stream is 10 chunks one second apart, each chunk the server's write time in
microseconds since the Unix epoch (the test server's `stamp` fault).
"""
import asyncio
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bindings" / "python" / "src"))
import aichat  # noqa: E402

CHUNKS = 10
SAMPLE_AT = (1, 2, 5)  # sample threads and RSS once every stream has this many chunks (or ended)


def threads() -> int:
    return len(os.listdir("/proc/self/task"))


def rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def now_us() -> int:
    return time.time_ns() // 1000


def percentile(sorted_values: list, p: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(p * (len(sorted_values) - 1) + 0.5))]


def start_server():
    binary = os.environ.get("AICHAT_TESTSERVER") or str(REPO / "target" / "release" / "aichat-testserver")
    # stdin stays a pipe: the server exits when it closes, however this process ends.
    proc = subprocess.Popen([binary, "0"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    return proc, proc.stdout.readline().decode().strip()


async def bench(client: "aichat.Client", req: dict, n: int) -> dict:
    # Warm-up: the library's I/O thread and one-time allocations belong to the baseline.
    warm = [c async for c in client.astream(req)]
    if len(warm) != CHUNKS:
        raise RuntimeError(f"warm-up stream: {len(warm)} chunks of {CHUNKS}")
    base_threads, base_rss = threads(), rss_kb()

    reached = [0] * (CHUNKS + 1)  # reached[k]: streams that received k chunks or ended before
    milestones = {k: asyncio.Event() for k in SAMPLE_AT}
    delays: list = []
    errors: list = []
    completed = 0

    def advance(k: int) -> None:
        reached[k] += 1
        if k in milestones and reached[k] == n:
            milestones[k].set()

    async def one() -> None:
        nonlocal completed
        got = 0
        try:
            async for chunk in client.astream(req):
                delays.append(now_us() - int(chunk))
                got += 1
                if got <= CHUNKS:
                    advance(got)
        except Exception as e:  # noqa: BLE001 - counted and reported
            errors.append(e)
        else:
            if got == CHUNKS:
                completed += 1
        for k in range(got + 1, CHUNKS + 1):
            advance(k)

    peak_threads, peak_rss = base_threads, base_rss

    async def sampler() -> None:
        nonlocal peak_threads, peak_rss
        for k in SAMPLE_AT:
            await milestones[k].wait()
            peak_threads, peak_rss = max(peak_threads, threads()), max(peak_rss, rss_kb())

    sampling = asyncio.create_task(sampler())
    await asyncio.gather(*(one() for _ in range(n)))
    await sampling
    if errors:
        print(f"{len(errors)} streams failed, the first: {errors[0]!r}", file=sys.stderr)
    delays.sort()
    return {
        "completed": completed,
        "threads_added": peak_threads - base_threads,
        "kb_per_stream": (peak_rss - base_rss) / n,
        "p50_ms": percentile(delays, 0.50) / 1000,
        "p99_ms": percentile(delays, 0.99) / 1000,
        "errors": len(errors),
    }


def main() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    n = int(os.environ.get("AICHAT_BENCH_N", "2000"))
    base = os.environ.get("AICHAT_BENCH_BASE_URL")
    server = None
    if not base:
        server, base = start_server()
    req = {
        "provider": "openai",
        "stream": True,
        "proxy": "",
        "base_url": f"{base}/fault/stamp,delay=2000,interval=1000,chunks={CHUNKS}/v1",
        "messages": [{"role": "user", "content": "Hi"}],
    }
    try:
        with aichat.Client() as client:
            r = asyncio.run(bench(client, req, n))
    finally:
        if server:
            server.stdin.close()
            server.wait()
    print(
        f"lang=python n={n} completed={r['completed']} threads_added={r['threads_added']} "
        f"kb_per_stream={r['kb_per_stream']:.1f} p50_ms={r['p50_ms']:.1f} p99_ms={r['p99_ms']:.1f} "
        f"errors={r['errors']}"
    )


if __name__ == "__main__":
    main()
