"""Typed events, the whole-answer Result, and the decoding of a pulled batch into them."""

from __future__ import annotations

import ctypes
import json
from dataclasses import dataclass, field
from typing import Any, Optional, Union

from . import _abi, _native


@dataclass(frozen=True)
class Usage:
    """Token counts; None where the server did not say."""

    prompt_tokens: Optional[int] = None
    completion_tokens: Optional[int] = None
    total_tokens: Optional[int] = None
    cached_tokens: Optional[int] = None
    reasoning_tokens: Optional[int] = None


@dataclass(frozen=True)
class ResponseEvent:
    """First, once: the response's id, the model that answered, the request id header."""

    id: str
    model: str
    request_id: str
    type: str = "response"


@dataclass(frozen=True)
class TextEvent:
    choice: int
    text: str
    type: str = "text"


@dataclass(frozen=True)
class ReasoningEvent:
    choice: int
    text: str
    type: str = "reasoning"


@dataclass(frozen=True)
class ToolCallEvent:
    """A tool call starts; its arguments follow in ToolArgumentsEvents with the same index."""

    choice: int
    index: int
    id: str
    name: str
    type: str = "tool_call"


@dataclass(frozen=True)
class ToolArgumentsEvent:
    choice: int
    index: int
    text: str
    type: str = "tool_arguments"


@dataclass(frozen=True)
class RefusalEvent:
    choice: int
    text: str
    type: str = "refusal"


@dataclass(frozen=True)
class FinishEvent:
    """``reason``: "stop", "length", "tool_calls", "content_filter" or the server's word."""

    choice: int
    reason: str
    raw_reason: str
    type: str = "finish"


@dataclass(frozen=True)
class UsageEvent:
    usage: Usage
    type: str = "usage"


@dataclass(frozen=True)
class MessageEvent:
    """Last, once per choice: the assistant message to append to ``messages``."""

    choice: int
    message: dict[str, Any]
    json: str
    type: str = "message"


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str = ""


@dataclass
class Choice:
    """One choice of a Result."""

    index: int = 0
    text: str = ""
    reasoning: str = ""
    refusal: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    #: "stop", "length", "tool_calls", "content_filter" or the server's word; None if none came.
    finish_reason: Optional[str] = None
    #: The reason as the server wrote it; None if none came.
    finish_reason_raw: Optional[str] = None
    message: Optional[dict[str, Any]] = None


@dataclass
class Result:
    """The whole answer, as the library assembles it; the fields outside ``choices`` are
    choice 0's."""

    text: str = ""
    reasoning: str = ""
    refusal: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: Optional[str] = None
    usage: Optional[Usage] = None
    response_id: str = ""
    model: str = ""
    request_id: str = ""
    message: Optional[dict[str, Any]] = None
    #: Every choice, in order: more than one when the request set ``n``.
    choices: list[Choice] = field(default_factory=list)

    @staticmethod
    def from_json(text: str) -> "Result":
        """RESULT's JSON (the README's "Events: the whole answer")."""
        w = json.loads(text)
        u = w["usage"]
        usage = None if u is None else Usage(u["prompt_tokens"], u["completion_tokens"], u["total_tokens"],
                                              u["cached_tokens"], u["reasoning_tokens"])
        choices = [
            Choice(c["index"], c["text"], c["reasoning"], c["refusal"],
                   [ToolCall(t["id"], t["function"]["name"], t["function"]["arguments"]) for t in c["tool_calls"]],
                   c["finish_reason"], c["finish_reason_raw"], c["message"])
            for c in w["choices"]
        ]
        first = choices[0]
        return Result(first.text, first.reasoning, first.refusal, first.tool_calls, first.finish_reason, usage,
                      w["id"], w["model"], w["request_id"], first.message, choices)


@dataclass(frozen=True)
class ResultEvent:
    """Only when the request set ``result``, very last: the whole answer, and its JSON."""

    result: Result
    json: str
    type: str = "result"


Event = Union[
    ResponseEvent, TextEvent, ReasoningEvent, ToolCallEvent, ToolArgumentsEvent, RefusalEvent, FinishEvent,
    UsageEvent, MessageEvent, ResultEvent,
]


def _count(v: int) -> Optional[int]:
    return None if v < 0 else v


def _str(p: Optional[bytes]) -> str:
    return p.decode("utf-8") if p else ""


def decode_chunks(b: _native.Chunks) -> list[str]:
    """The chunks of one batch, copied out (the C memory is valid only until the next pull)."""
    count = b.count
    if count == 0:
        return []
    raw = ctypes.string_at(b.text, b.text_len)
    ends = b.ends[:count]
    text = raw.decode("utf-8")
    if len(text) == len(raw):  # all ASCII: byte offsets are character offsets
        out, start = [], 0
        for end in ends:
            out.append(text[start:end])
            start = end
        return out
    out, start = [], 0
    for end in ends:
        out.append(raw[start:end].decode("utf-8"))
        start = end
    return out


def decode_events(b: _native.Events) -> list[Event]:
    out: list[Event] = []
    for i in range(b.count):
        e = b.items[i]
        text = ctypes.string_at(e.text, e.text_len).decode("utf-8") if e.text_len else ""
        kind, choice = _abi.EVENT_KINDS.get(e.kind), e.choice
        if kind == "response":
            out.append(ResponseEvent(_str(e.id), _str(e.name), text))
        elif kind == "text":
            out.append(TextEvent(choice, text))
        elif kind == "reasoning":
            out.append(ReasoningEvent(choice, text))
        elif kind == "tool_call":
            out.append(ToolCallEvent(choice, e.index, _str(e.id), _str(e.name)))
        elif kind == "tool_arguments":
            out.append(ToolArgumentsEvent(choice, e.index, text))
        elif kind == "refusal":
            out.append(RefusalEvent(choice, text))
        elif kind == "finish":
            out.append(FinishEvent(choice, text, _str(e.name)))
        elif kind == "usage":
            u = e.usage.contents
            out.append(UsageEvent(Usage(_count(u.prompt_tokens), _count(u.completion_tokens), _count(u.total_tokens),
                                        _count(u.cached_tokens), _count(u.reasoning_tokens))))
        elif kind == "message":
            out.append(MessageEvent(choice, json.loads(text), text))
        elif kind == "result":
            out.append(ResultEvent(Result.from_json(text), text))
        # Another kind comes from a newer library: skipped.
    return out
