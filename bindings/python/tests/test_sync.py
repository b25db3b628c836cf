"""Sync use: stream, events, run, complete, the module-level functions, options."""

from __future__ import annotations

import json
import urllib.request
from typing import Any, Callable

import pytest

import aichat

Req = Callable[..., dict[str, Any]]


def test_stream_yields_each_chunk_in_order(client: aichat.Client, openai: Req) -> None:
    assert list(client.stream(openai())) == ["You ", "said: ", "one ", "two"]


def test_many_chunks_none_lost_or_merged(client: aichat.Client, openai: Req) -> None:
    chunks = list(client.stream(openai("chunks=20000")))
    assert chunks == [f"tok{i} " for i in range(20000)]


def test_non_ascii_chunks_are_split_where_the_server_split_them(client: aichat.Client, openai: Req) -> None:
    assert "".join(client.stream(openai(content="héllo wörld ☃"))) == "You said: héllo wörld ☃"


def test_messages_list_and_keyword_fields(client: aichat.Client, base_url: str) -> None:
    msgs = [{"role": "user", "content": "Hi"}]
    assert client.complete(msgs, provider="openai", base_url=f"{base_url}/v1", stream=True) == "You said: Hi"
    assert client.complete(msgs, base_url=base_url) == "You said: Hi"  # the aichat protocol


def test_client_options_are_defaults(base_url: str) -> None:
    with aichat.Client(provider="openai", base_url=f"{base_url}/v1", stream=True) as c:
        assert c.complete([{"role": "user", "content": "x"}]) == "You said: x"


def test_events_come_in_order_with_tool_calls_and_usage(client: aichat.Client, openai: Req) -> None:
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    evs = list(client.events(openai("reasoning", content="weather in Paris?", tools=tools)))
    kinds = [e.type for e in evs]
    assert kinds[0] == "response" and kinds[-1] == "message"
    assert "reasoning" in kinds and "tool_call" in kinds and "usage" in kinds
    call = next(e for e in evs if isinstance(e, aichat.ToolCallEvent))
    assert call.name == "get_weather" and call.id
    finish = next(e for e in evs if isinstance(e, aichat.FinishEvent))
    assert finish.reason == "tool_calls"


def test_run_gathers_the_answer_and_the_tool_round_trip(client: aichat.Client, openai: Req) -> None:
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    req = openai("reasoning", content="weather in Paris?", tools=tools)
    r = client.run(req)
    assert r.finish_reason == "tool_calls" and len(r.tool_calls) == 1
    assert json.loads(r.tool_calls[0].arguments) is not None
    assert r.usage is not None and r.usage.total_tokens == 21
    assert r.request_id and r.reasoning and r.message is not None
    req["messages"] += [r.message, {"role": "tool", "tool_call_id": r.tool_calls[0].id, "content": "sunny"}]
    final = client.run(req)
    assert final.finish_reason == "stop" and final.text == "The tool returned: sunny"


def test_run_is_the_librarys_whole_answer_for_every_choice(client: aichat.Client, openai: Req) -> None:
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    r = client.run(openai("reasoning,parallel-tools", tools=tools, n=2))
    assert [c.index for c in r.choices] == [0, 1]
    for c in r.choices:
        assert c.reasoning == "The user wrote something; I will quote it back."
        assert c.finish_reason == c.finish_reason_raw == "tool_calls"
        assert c.message is not None
        assert [(t.id, t.name, t.arguments) for t in c.tool_calls] == [
            (m["id"], m["function"]["name"], m["function"]["arguments"]) for m in c.message["tool_calls"]
        ]
        assert len(c.tool_calls) == 2
    assert r.tool_calls == r.choices[0].tool_calls and r.message == r.choices[0].message
    assert r.usage == aichat.Usage(9, 12, 21, 3, 4)
    assert (r.response_id, r.request_id) == ("chatcmpl-aichat-test", "req-aichat-test")

    # Asked for in events(), the ResultEvent comes last, after the messages.
    evs = list(client.events(openai(n=2, result=True)))
    assert [e.type for e in evs[-3:]] == ["message", "message", "result"]
    last = evs[-1]
    assert isinstance(last, aichat.ResultEvent) and last.result.choices[1].text == "You said: one two"
    assert json.loads(last.json)["choices"][1]["message"]["content"] == "You said: one two"
    assert list(client.events(openai()))[-1].type == "message"  # not unless asked

    plain = client.run(openai(include_usage=False))
    assert plain.usage is None and plain.text == "You said: one two" and plain.tool_calls == []
    refused = client.run(openai("refusal"))
    assert refused.refusal == "I can't help with that." and refused.message == {"role": "assistant", "content": None,
                                                                               "refusal": refused.refusal}


def test_every_protocol_gives_the_same_result(client: aichat.Client, base_url: str) -> None:
    msgs = [{"role": "user", "content": "same"}]
    # The server's usage is 9 + 12 = 21 in every protocol but Bedrock's, whose prompt count adds
    # the cache reads and writes to the input (6 + 3 + 2 = 11): 11 + 12 = 23. Bedrock wants
    # credentials: a bearer token here (the server takes any), so the environment's AWS
    # settings play no part.
    for provider, path, total in [("openai", "/v1", 21), ("anthropic", "/v1", 21), ("ollama", "", 21),
                                  ("responses", "/v1", 21), ("groq", "/v1", 21), ("gemini", "/v1beta", 21),
                                  ("bedrock", "", 23)]:
        r = client.run(msgs, provider=provider, model="m", base_url=f"{base_url}{path}", api_key="test-key", stream=True)
        assert (r.text, r.finish_reason) == ("You said: same", "stop"), provider
        assert r.usage is not None and r.usage.total_tokens == total, provider


def test_module_level_functions_use_a_default_client(base_url: str) -> None:
    msgs = [{"role": "user", "content": "Hi"}]
    assert aichat.complete(msgs, base_url=base_url, proxy="") == "You said: Hi"
    assert list(aichat.stream(msgs, base_url=base_url, proxy="")) == ["You said: Hi"]
    assert aichat.run(msgs, base_url=base_url, proxy="").text == "You said: Hi"
    assert [e.type for e in aichat.events(msgs, base_url=base_url, proxy="")][0] == "response"
    assert aichat.version() == aichat.__version__


def test_gemini_tool_round_trip_sends_the_thought_signature_back(client: aichat.Client, base_url: str) -> None:
    gemini = {"provider": "gemini", "model": "m", "base_url": f"{base_url}/fault/reasoning/v1beta", "stream": True}
    parameters = {"type": "object", "properties": {"tz": {"type": "string"}}}
    tools = [{"type": "function", "function": {"name": "get_time", "parameters": parameters}}]
    msgs = [{"role": "user", "content": "Hi"}]
    first = client.run(msgs, tools=tools, **gemini)
    assert first.reasoning.startswith("The user wrote something") and first.finish_reason == "tool_calls"
    call = first.message["tool_calls"][0]
    assert call["extra_content"] == {"google": {"thought_signature": "sig-call-aichat-test"}}
    result = {"role": "tool", "tool_call_id": first.tool_calls[0].id, "content": "12:00"}
    second = client.run([*msgs, first.message, result], **gemini)
    assert second.text == "The tool returned: 12:00" and second.message["reasoning_signature"] == "sig-text-aichat-test"


# The test server's SigV4 credentials (testserver/src/sigv4.rs).
BEDROCK_KEY_ID = "AKIDTESTBEDROCK"
BEDROCK_SECRET = "test/secret/KEY+1"


def set_aws_keys(monkeypatch: pytest.MonkeyPatch, key_id: str, secret: str) -> None:
    """SigV4 keys and a region in the process environment, which a client reads when it is
    made; monkeypatch puts everything back after the test. The variables that would change
    what a client does with the keys are removed: a Bedrock API key (AWS_BEARER_TOKEN_BEDROCK)
    would be sent instead of a signature, and a session token of the machine's would be signed
    with the test key. With the keys in the environment, no profile or shared file is read."""
    for name in ("AWS_BEARER_TOKEN_BEDROCK", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("AWS_REGION", "eu-west-3")


def seen_header(base_url: str, key: str, name: str) -> list[str]:
    """The header ``name`` of each request the test server counted under ``key`` ("" where it
    had none). No proxy: the machine's must not stand between the test and its server."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{base_url}/seen/{key}") as answer:
        requests = json.load(answer)["requests"]
    return [next((v for n, v in r["headers"] if n == name), "") for r in requests]


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
def test_bedrock_tool_round_trip_signed_with_keys_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, base_url: str, stream: bool
) -> None:
    set_aws_keys(monkeypatch, BEDROCK_KEY_ID, BEDROCK_SECRET)
    signed = aichat.Client(proxy="", max_retries=0)
    wrong_secret = "not/the/right/SECRET+9"
    set_aws_keys(monkeypatch, BEDROCK_KEY_ID, wrong_secret)
    wrongly_signed = aichat.Client(proxy="", max_retries=0)
    key = f"py-sigv4-{'streamed' if stream else 'whole'}"
    tools = [{"type": "function", "function": {"name": "get_time", "description": "The time",
                                               "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}}}}]
    req: dict[str, Any] = {"provider": "bedrock", "model": "amazon.nova-lite-v1:0", "stream": stream,
                           "base_url": f"{base_url}/fault/key={key}", "tools": tools,
                           "messages": [{"role": "user", "content": "What time is it in Paris?"}]}
    with signed, wrongly_signed:
        first = signed.run(req)
        assert first.finish_reason == "tool_calls"
        assert [(t.id, t.name, t.arguments) for t in first.tool_calls] == [
            ("tooluse_aichatTest0", "get_time", '{"tz":"What time is it in Paris?"}')]
        assert first.message is not None and first.message["role"] == "assistant"
        assert first.message["tool_calls"][0]["id"] == "tooluse_aichatTest0"
        assert first.usage == aichat.Usage(11, 12, 23, 3, None)

        req["messages"] += [first.message, {"role": "tool", "tool_call_id": "tooluse_aichatTest0", "content": "10:00"}]
        second = signed.run(req)
        assert (second.text, second.finish_reason) == ("The tool returned: 10:00", "stop")

        # Both requests were signed with the environment's key, for its region.
        auths = seen_header(base_url, key, "authorization")
        assert len(auths) == 2
        for auth in auths:
            assert auth.startswith(f"AWS4-HMAC-SHA256 Credential={BEDROCK_KEY_ID}/"), auth
            assert "/eu-west-3/bedrock/aws4_request" in auth, auth

        # The client made with a wrong secret signs with it: the server refuses the signature,
        # and the error names AWS's error type but not the secret.
        with pytest.raises(aichat.HTTPStatusError) as refused:
            wrongly_signed.run(req)
        assert refused.value.http_status == 403 and refused.value.code == "AICHAT_ERROR_HTTP_STATUS"
        assert "InvalidSignatureException" in str(refused.value)
        assert wrong_secret not in str(refused.value)
