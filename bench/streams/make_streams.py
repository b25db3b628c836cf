"""Writes the pre-recorded streams `make bench` serves from nginx, in the shapes real servers send
(field for field, as captured from each API's documentation and SDK fixtures), N content chunks
each, into the folder given:

    openai/v1/chat/completions    OpenAI chat completions SSE, ~300-byte chunks with every field
                                  OpenAI sends (id, object, created, model, service_tier,
                                  system_fingerprint, choices[{index, delta, logprobs,
                                  finish_reason}], usage, obfuscation), then a usage chunk, [DONE]
    anthropic/v1/messages         Anthropic Messages SSE: message_start, content_block_start, ping,
                                  content_block_delta per chunk, content_block_stop, message_delta,
                                  message_stop
    ollama/api/chat               Ollama NDJSON: one line per chunk, then the done line
    responses/v1/responses        OpenAI Responses SSE: `event:` + `data:` per event, response.created,
                                  response.in_progress, output_item.added, content_part.added, one
                                  response.output_text.delta per chunk (sequence_number, item_id,
                                  indexes, delta, logprobs, obfuscation), output_text.done,
                                  content_part.done, output_item.done, response.completed (usage)
    gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent
                                  Gemini SSE `data:` lines, each a whole GenerateContentResponse
                                  (candidates[{content{parts[{text}], role}, index}],
                                  usageMetadata, modelVersion, responseId) of GEMINI_WORDS words, the
                                  last with finishReason STOP
    bedrock/model/MODEL/converse-stream
                                  Amazon Bedrock ConverseStream, binary
                                  application/vnd.amazon.eventstream messages (prelude, CRC32s,
                                  `:event-type`, `:content-type`, `:message-type` headers, JSON
                                  payload): messageStart, one contentBlockDelta of BEDROCK_WORDS
                                  words per chunk, contentBlockStop, messageStop, metadata (usage,
                                  metrics), each payload with Bedrock's random-length `p` padding
    tools/v1/chat/completions     OpenAI SSE with N/4 reasoning_content deltas, then two tool
                                  calls whose arguments arrive in N/4 fragments (no baseline:
                                  reported)

    python make_streams.py DIR N
"""

import json
import random
import struct
import sys
import zlib
from pathlib import Path

WORDS = ("the quick brown fox jumps over a lazy dog while streaming tokens arrive one by one "
         "from a model that thinks about every word it writes").split()


def word(i: int) -> str:
    return " " + WORDS[i % len(WORDS)]


def sse(obj: dict) -> str:
    return "data: " + json.dumps(obj, separators=(",", ":")) + "\n\n"


def openai_chunk(delta: dict, finish=None, i=0) -> dict:
    rnd = random.Random(i)
    return {
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", "object": "chat.completion.chunk", "created": 1741569952,
        "model": "gpt-4o-2024-08-06", "service_tier": "default", "system_fingerprint": "fp_f9f4fb6dbf",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}], "usage": None,
        "obfuscation": "".join(rnd.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
                               for _ in range(rnd.randint(4, 12))),
    }


def openai_usage() -> dict:
    return {
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", "object": "chat.completion.chunk", "created": 1741569952,
        "model": "gpt-4o-2024-08-06", "service_tier": "default", "system_fingerprint": "fp_f9f4fb6dbf",
        "choices": [], "usage": {"prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29,
                                 "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                                 "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                                               "accepted_prediction_tokens": 0,
                                                               "rejected_prediction_tokens": 0}},
        "obfuscation": "q2BYaK",
    }


def openai(n: int) -> str:
    out = [sse(openai_chunk({"role": "assistant", "content": "", "refusal": None}))]
    out += [sse(openai_chunk({"content": word(i)}, i=i)) for i in range(n)]
    out.append(sse(openai_chunk({}, "stop")))
    out.append(sse(openai_usage()))
    out.append("data: [DONE]\n\n")
    return "".join(out)


def tools(n: int) -> str:
    out = [sse(openai_chunk({"role": "assistant", "content": None, "refusal": None}))]
    half = n // 2
    out += [sse(openai_chunk({"reasoning_content": word(i)}, i=i)) for i in range(half)]
    args = json.dumps({"city": "Paris", "notes": " ".join(WORDS[i % len(WORDS)] for i in range(n))})
    per_call = (n - half) // 2
    for call in range(2):
        out.append(sse(openai_chunk({"tool_calls": [{"index": call, "id": f"call_{call}abc", "type": "function",
                                                     "function": {"name": "get_weather", "arguments": ""}}]})))
        step = max(1, len(args) // per_call)
        for k in range(per_call):
            piece = args[k * step:(k + 1) * step] if k < per_call - 1 else args[k * step:]
            out.append(sse(openai_chunk({"tool_calls": [{"index": call, "function": {"arguments": piece}}]}, i=k)))
    out.append(sse(openai_chunk({}, "tool_calls")))
    out.append(sse(openai_usage()))
    out.append("data: [DONE]\n\n")
    return "".join(out)


def named(event: str, obj: dict) -> str:
    return f"event: {event}\ndata: " + json.dumps(obj, separators=(",", ":")) + "\n\n"


def anthropic(n: int) -> str:
    out = [named("message_start", {"type": "message_start", "message": {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant",
        "model": "claude-sonnet-4-20250514", "content": [], "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": 25, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                  "output_tokens": 1, "service_tier": "standard"}}})]
    out.append(named("content_block_start", {"type": "content_block_start", "index": 0,
                                             "content_block": {"type": "text", "text": ""}}))
    out.append(named("ping", {"type": "ping"}))
    out += [named("content_block_delta", {"type": "content_block_delta", "index": 0,
                                          "delta": {"type": "text_delta", "text": word(i)}}) for i in range(n)]
    out.append(named("content_block_stop", {"type": "content_block_stop", "index": 0}))
    out.append(named("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn",
                                                                          "stop_sequence": None},
                                       "usage": {"output_tokens": n}}))
    out.append(named("message_stop", {"type": "message_stop"}))
    return "".join(out)


def ollama(n: int) -> str:
    def line(i: int, content: str, done: bool, extra=None) -> str:
        obj = {"model": "llama3.2", "created_at": f"2025-03-10T12:34:{56 + i % 3:02d}.{123456789 + i:09d}Z",
               "message": {"role": "assistant", "content": content}, "done": done}
        obj.update(extra or {})
        return json.dumps(obj, separators=(",", ":")) + "\n"

    out = [line(i, word(i), False) for i in range(n)]
    out.append(line(n, "", True, {"done_reason": "stop", "total_duration": 4883583458, "load_duration": 1334875,
                                  "prompt_eval_count": 26, "prompt_eval_duration": 342546000, "eval_count": n,
                                  "eval_duration": 4535599000}))
    return "".join(out)


RESP_ID = "resp_68af4030592c81938ec0a5fbab4a3e9f05438e46b5f69a3b"
MSG_ID = "msg_68af40337e8c8193af9c3b4ad2bd5b0805438e46b5f69a3b"


def responses_object(status: str, output: list, usage) -> dict:
    return {"id": RESP_ID, "object": "response", "created_at": 1756315696, "status": status, "background": False,
            "error": None, "incomplete_details": None, "instructions": None, "max_output_tokens": None,
            "max_tool_calls": None, "model": "gpt-4.1-2025-04-14", "output": output, "parallel_tool_calls": True,
            "previous_response_id": None, "prompt_cache_key": None, "reasoning": {"effort": None, "summary": None},
            "safety_identifier": None, "service_tier": "auto", "store": True, "temperature": 1.0,
            "text": {"format": {"type": "text"}, "verbosity": "medium"}, "tool_choice": "auto", "tools": [],
            "top_logprobs": 0, "top_p": 1.0, "truncation": "disabled", "usage": usage, "user": None, "metadata": {}}


def responses(n: int) -> str:
    seq = iter(range(1 << 40))

    def ev(obj: dict) -> str:
        return named(obj["type"], {"type": obj.pop("type"), "sequence_number": next(seq), **obj})

    out = [ev({"type": "response.created", "response": responses_object("in_progress", [], None)}),
           ev({"type": "response.in_progress", "response": responses_object("in_progress", [], None)}),
           ev({"type": "response.output_item.added", "output_index": 0,
               "item": {"id": MSG_ID, "type": "message", "status": "in_progress", "content": [], "role": "assistant"}}),
           ev({"type": "response.content_part.added", "item_id": MSG_ID, "output_index": 0, "content_index": 0,
               "part": {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}})]
    for i in range(n):
        rnd = random.Random(i)
        out.append(ev({"type": "response.output_text.delta", "item_id": MSG_ID, "output_index": 0,
                       "content_index": 0, "delta": word(i), "logprobs": [],
                       "obfuscation": "".join(rnd.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
                                              for _ in range(rnd.randint(2, 12)))}))
    full = "".join(word(i) for i in range(n))
    part = {"type": "output_text", "annotations": [], "logprobs": [], "text": full}
    item = {"id": MSG_ID, "type": "message", "status": "completed", "content": [part], "role": "assistant"}
    out.append(ev({"type": "response.output_text.done", "item_id": MSG_ID, "output_index": 0, "content_index": 0,
                   "text": full, "logprobs": []}))
    out.append(ev({"type": "response.content_part.done", "item_id": MSG_ID, "output_index": 0, "content_index": 0,
                   "part": part}))
    out.append(ev({"type": "response.output_item.done", "output_index": 0, "item": item}))
    out.append(ev({"type": "response.completed", "response": responses_object(
        "completed", [item], {"input_tokens": 19, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": n,
                              "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 19 + n})}))
    return "".join(out)


# Gemini streams several words per chunk (2.5 Flash: tens of characters to a few hundred each).
GEMINI_WORDS = 8
GEMINI_MODEL = "gemini-2.5-flash"


def gemini(n: int) -> str:
    out = []
    for i in range(n):
        text = "".join(word(i * GEMINI_WORDS + k) for k in range(GEMINI_WORDS))
        candidate = {"content": {"parts": [{"text": text}], "role": "model"}}
        if i == n - 1:
            candidate["finishReason"] = "STOP"
        candidate["index"] = 0
        done = (i + 1) * GEMINI_WORDS
        usage = {"promptTokenCount": 9, "candidatesTokenCount": done, "totalTokenCount": 9 + done,
                 "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 9}]}
        out.append(sse({"candidates": [candidate], "usageMetadata": usage, "modelVersion": GEMINI_MODEL,
                        "responseId": "mHuvaKLkJqGQz7IPlOmR-Qo"}))
    return "".join(out)


# Bedrock's Claude streams a few words per contentBlockDelta (captures show "Hi", "!", " ",
# "👋 How", " are you doing today?"): three words a chunk here.
BEDROCK_WORDS = 3
BEDROCK_MODEL = "anthropic.claude-sonnet-4-20250514-v1:0"
# Every payload carries `p`, padding against length side channels: a prefix, of random length,
# of this alphabet (as in captures: "abcdefghijklmnopqr", "abcdefghijklmnopqrstuvwxyzABCDEFG").
PADDING = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def eventstream_message(event_type: str, payload: dict) -> bytes:
    """One AWS event-stream message: total length and headers length (4 bytes big-endian each),
    the prelude's CRC32, headers (1-byte name length, name, type 7 = string, 2-byte big-endian
    value length, value), the payload, the CRC32 of all before it. Headers in the order Bedrock
    sends them."""
    headers = b""
    for name, value in ((":event-type", event_type), (":content-type", "application/json"),
                        (":message-type", "event")):
        n, v = name.encode(), value.encode()
        headers += bytes([len(n)]) + n + b"\x07" + struct.pack(">H", len(v)) + v
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    prelude = struct.pack(">II", 12 + len(headers) + len(body) + 4, len(headers))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + headers + body
    return message + struct.pack(">I", zlib.crc32(message))


def bedrock(n: int) -> bytes:
    def padded(obj: dict, i: int) -> dict:
        return {**obj, "p": PADDING[:random.Random(i).randint(1, len(PADDING))]}

    out = [eventstream_message("messageStart", padded({"role": "assistant"}, -1))]
    for i in range(n):
        text = "".join(word(i * BEDROCK_WORDS + k) for k in range(BEDROCK_WORDS))
        out.append(eventstream_message("contentBlockDelta",
                                       padded({"contentBlockIndex": 0, "delta": {"text": text}}, i)))
    out.append(eventstream_message("contentBlockStop", padded({"contentBlockIndex": 0}, n)))
    out.append(eventstream_message("messageStop", padded({"stopReason": "end_turn"}, n + 1)))
    tokens = n * BEDROCK_WORDS
    out.append(eventstream_message("metadata", padded({
        "usage": {"inputTokens": 19, "outputTokens": tokens, "totalTokens": 19 + tokens},
        "metrics": {"latencyMs": 4213}}, n + 2)))
    return b"".join(out)


def main() -> None:
    root, n = Path(sys.argv[1]), int(sys.argv[2])
    for path, text in [("openai/v1/chat/completions", openai(n)), ("anthropic/v1/messages", anthropic(n)),
                       ("ollama/api/chat", ollama(n)), ("responses/v1/responses", responses(n)),
                       (f"gemini/v1beta/models/{GEMINI_MODEL}:streamGenerateContent", gemini(n)),
                       ("tools/v1/chat/completions", tools(n // 2))]:
        f = root / path
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text)
    f = root / "bedrock" / "model" / BEDROCK_MODEL / "converse-stream"
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_bytes(bedrock(n))


if __name__ == "__main__":
    main()
