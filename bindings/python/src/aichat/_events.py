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


Event = Union[
    ResponseEvent, TextEvent, ReasoningEvent, ToolCallEvent, ToolArgumentsEvent, RefusalEvent, FinishEvent,
    UsageEvent, MessageEvent,
]


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str = ""


@dataclass
class Result:
    """The whole answer of choice 0."""

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

    def add(self, e: Event) -> None:
        """Folds one event in (choice 0 only)."""
        if getattr(e, "choice", 0) != 0:
            return
        if isinstance(e, ResponseEvent):
            self.response_id, self.model, self.request_id = e.id, e.model, e.request_id
        elif isinstance(e, TextEvent):
            self.text += e.text
        elif isinstance(e, ReasoningEvent):
            self.reasoning += e.text
        elif isinstance(e, RefusalEvent):
            self.refusal += e.text
        elif isinstance(e, ToolCallEvent):
            self.tool_calls.append(ToolCall(e.id, e.name))
        elif isinstance(e, ToolArgumentsEvent) and e.index < len(self.tool_calls):
            self.tool_calls[e.index].arguments += e.text
        elif isinstance(e, FinishEvent):
            self.finish_reason = e.reason
        elif isinstance(e, UsageEvent):
            self.usage = e.usage
        elif isinstance(e, MessageEvent):
            self.message = e.message


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
        # Another kind comes from a newer library: skipped.
    return out
