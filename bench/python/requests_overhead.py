"""Baseline: the original Python Aichat provider's request, as gpt4free sent it: one
`requests.post` per completion (no session), the same headers and JSON body, `.json()['message']`.

    python requests_overhead.py BASE_URL N
"""
import sys
import time

import requests

HEADERS = {
    "authority": "chat-gpt.org",
    "accept": "*/*",
    "cache-control": "no-cache",
    "content-type": "application/json",
    "origin": "https://chat-gpt.org",
    "pragma": "no-cache",
    "referer": "https://chat-gpt.org/chat",
    "sec-ch-ua-mobile": "?0",
    "sec-ch-ua-platform": '"macOS"',
    "sec-fetch-dest": "empty",
    "sec-fetch-mode": "cors",
    "sec-fetch-site": "same-origin",
    "user-agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/113.0.0.0 Safari/537.36",
}


def main():
    base, n = sys.argv[1], int(sys.argv[2])
    url = f"{base}/fault/size=200/api/text"
    data = {"message": "user: Hello, how are you?\nassistant:", "temperature": 1, "presence_penalty": 0, "top_p": 1,
            "frequency_penalty": 0}
    requests.post(url, headers=HEADERS, json=data).json()["message"]  # warm-up, as the other clients
    start = time.perf_counter()
    for _ in range(n):
        response = requests.post(url, headers=HEADERS, json=data)
        response.raise_for_status()
        response.json()["message"]
    seconds = time.perf_counter() - start
    print(f"requests={n} seconds={seconds:.4f} per_second={n / seconds:.1f}")


if __name__ == "__main__":
    main()
