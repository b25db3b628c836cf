"""Starts the project's local test server once for the session; helpers the tests share."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

import aichat

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def base_url() -> Iterator[str]:
    binary = os.environ.get("AICHAT_TESTSERVER", str(ROOT / "target" / "release" / "aichat-testserver"))
    # stdin stays a pipe: the server exits when this process does, however it ends.
    server = subprocess.Popen([binary, "0"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    url = server.stdout.readline().strip()
    yield url
    server.terminate()
    server.wait()


@pytest.fixture
def client() -> Iterator[aichat.Client]:
    with aichat.Client(proxy="", max_retries=0) as c:
        yield c


@pytest.fixture
def openai(base_url: str) -> Callable[..., dict[str, Any]]:
    """A streaming openai request on the test server, with a fault spec."""

    def make(fault: str = "", content: str = "one two", **extra: Any) -> dict[str, Any]:
        base = f"{base_url}/fault/{fault}" if fault else base_url
        return {"provider": "openai", "stream": True, "base_url": f"{base}/v1",
                "messages": [{"role": "user", "content": content}], **extra}

    return make


def open_sockets() -> int:
    """This process's open sockets (Linux /proc)."""
    n = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                n += 1
        except OSError:
            pass
    return n


def threads() -> int:
    return len(os.listdir("/proc/self/task"))


def settles(check: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()
