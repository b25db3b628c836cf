"""Baseline: the official `openai` Python SDK streaming the same completion.

    python openai_stream.py BASE_URL N
"""
import sys
import time

import openai


def main():
    base, n = sys.argv[1], int(sys.argv[2])
    client = openai.OpenAI(base_url=f"{base}/fault/chunks={n}/v1", api_key="unused", max_retries=0)
    start = time.perf_counter()
    chunks = 0
    stream = client.chat.completions.create(model="test", messages=[{"role": "user", "content": "Hi"}], stream=True)
    for event in stream:
        if event.choices and event.choices[0].delta.content:
            chunks += 1
    seconds = time.perf_counter() - start
    if chunks != n:
        sys.exit(f"got {chunks} chunks of {n}")
    print(f"chunks={chunks} seconds={seconds:.4f} per_second={chunks / seconds:.1f}")


if __name__ == "__main__":
    main()
