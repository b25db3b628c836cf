"""aichat: a native chat-completion client (OpenAI-compatible, OpenAI Responses, Anthropic, Gemini,
Bedrock, Ollama and the original Aichat protocol) over the aichat C library.

    import aichat

    for chunk in aichat.stream([{"role": "user", "content": "Hi"}], provider="openai",
                               base_url="http://127.0.0.1:8080/v1", stream=True):
        print(chunk, end="", flush=True)

    with aichat.Client(provider="openai", base_url=...) as client:
        result = client.run(messages, tools=[...])   # text, reasoning, tool_calls, usage, message
        async for e in client.aevents(messages): ...  # asyncio, no thread per stream

The package only translates; the protocols, validation, retries and timeouts are the library's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, AsyncIterator, Iterator

from ._abi import Options
from ._client import Client, RequestLike, default_client

if TYPE_CHECKING:
    from typing_extensions import Unpack
from ._errors import (
    AichatError,
    CancelledError,
    ConnectError,
    HTTPStatusError,
    InternalError,
    InvalidArgumentError,
    InvalidRequestError,
    ProtocolError,
    ServerError,
    TimeoutError,
    TooLargeError,
    TransferError,
)
from ._events import (
    Choice,
    Event,
    FinishEvent,
    MessageEvent,
    ReasoningEvent,
    RefusalEvent,
    ResponseEvent,
    Result,
    ResultEvent,
    TextEvent,
    ToolArgumentsEvent,
    ToolCall,
    ToolCallEvent,
    Usage,
    UsageEvent,
)

__version__ = "0.1.0"

__all__ = [
    "AichatError", "CancelledError", "Choice", "Client", "ConnectError", "Event", "FinishEvent",
    "HTTPStatusError", "InternalError", "InvalidArgumentError", "InvalidRequestError", "MessageEvent", "Options",
    "ProtocolError",
    "ReasoningEvent", "RefusalEvent", "ResponseEvent", "Result", "ResultEvent", "ServerError", "TextEvent",
    "TimeoutError",
    "TooLargeError", "ToolArgumentsEvent", "ToolCall", "ToolCallEvent", "TransferError", "Usage", "UsageEvent",
    "acomplete", "aevents", "arun", "astream", "complete", "events", "run", "stream", "version",
]


def version() -> str:
    """The native library's version."""
    from ._native import lib

    v: bytes = lib().aichat_version()
    return v.decode()


def stream(messages_or_request: RequestLike = None, /, **fields: Unpack[Options]) -> Iterator[str]:
    """Client.stream on a process-wide client with library defaults."""
    return default_client().stream(messages_or_request, **fields)


def events(messages_or_request: RequestLike = None, /, **fields: Unpack[Options]) -> Iterator[Event]:
    """Client.events on the process-wide client."""
    return default_client().events(messages_or_request, **fields)


def run(messages_or_request: RequestLike = None, /, **fields: Unpack[Options]) -> Result:
    """Client.run on the process-wide client."""
    return default_client().run(messages_or_request, **fields)


def complete(messages_or_request: RequestLike = None, /, **fields: Unpack[Options]) -> str:
    """Client.complete on the process-wide client."""
    return default_client().complete(messages_or_request, **fields)


def astream(messages_or_request: RequestLike = None, /, **fields: Unpack[Options]) -> AsyncIterator[str]:
    """Client.astream on the process-wide client."""
    return default_client().astream(messages_or_request, **fields)


def aevents(messages_or_request: RequestLike = None, /, **fields: Unpack[Options]) -> AsyncIterator[Event]:
    """Client.aevents on the process-wide client."""
    return default_client().aevents(messages_or_request, **fields)


async def arun(messages_or_request: RequestLike = None, /, **fields: Unpack[Options]) -> Result:
    """Client.arun on the process-wide client."""
    return await default_client().arun(messages_or_request, **fields)


async def acomplete(messages_or_request: RequestLike = None, /, **fields: Unpack[Options]) -> str:
    """Client.acomplete on the process-wide client."""
    return await default_client().acomplete(messages_or_request, **fields)
