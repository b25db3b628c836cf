#!/usr/bin/env python3
"""Checks the test server's Bedrock route with an independent, real client: boto3's
bedrock-runtime signs the requests (SigV4, the ARN in the path encoded as botocore does), parses
the AWS event stream, the stream's exceptions and the HTTP errors. Skips when boto3 is missing.

    scripts/with-testserver.sh target/debug/aichat-testserver scripts/check-bedrock-route-boto3.py
"""

import os
import sys

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError, EventStreamError
except ImportError:
    print("check-bedrock-route-boto3: boto3 is not installed; skipped")
    sys.exit(0)

BASE = sys.argv[1] if len(sys.argv) > 1 else os.environ["AICHAT_TEST_BASE_URL"]
ARN = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-test"
LONG = dict(aws_access_key_id="AKIDTESTBEDROCK", aws_secret_access_key="test/secret/KEY+1")
SESSION = dict(
    aws_access_key_id="ASIATESTBEDROCK",
    aws_secret_access_key="test/session/KEY+2",
    aws_session_token="IQoJb3JpZ2luX2VjEaichat/test+session=token",
)
HI = [{"role": "user", "content": [{"text": "Hi"}]}]
TOOLS = {
    "tools": [
        {
            "toolSpec": {
                "name": "get_time",
                "inputSchema": {"json": {"type": "object", "properties": {"tz": {"type": "string"}}}},
            }
        }
    ]
}


def client(prefix="", **credentials):
    config = Config(retries={"max_attempts": 1})
    return boto3.client(
        "bedrock-runtime", region_name="us-east-1", endpoint_url=BASE + prefix, config=config, **credentials
    )


def error_code(call):
    try:
        call()
    except (ClientError, EventStreamError) as e:
        return e.response["Error"]["Code"]
    raise AssertionError("no error")


for credentials in (LONG, SESSION):
    c = client(**credentials)
    whole = c.converse(modelId=ARN, messages=HI)
    assert whole["output"]["message"]["content"] == [{"text": "You said: Hi"}], whole
    assert whole["stopReason"] == "end_turn"
    events = list(c.converse_stream(modelId=ARN, messages=HI)["stream"])
    kinds = [next(iter(e)) for e in events]
    assert kinds == ["messageStart"] + ["contentBlockDelta"] * 3 + ["contentBlockStop", "messageStop", "metadata"], kinds
    assert "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e) == "You said: Hi"

events = list(client("/fault/reasoning", **LONG).converse_stream(modelId=ARN, messages=HI, toolConfig=TOOLS)["stream"])
deltas = [e["contentBlockDelta"]["delta"] for e in events if "contentBlockDelta" in e]
assert any(d.get("reasoningContent", {}).get("signature") == "sig-bedrock-aichat-test" for d in deltas), deltas
assert "".join(d["toolUse"]["input"] for d in deltas if "toolUse" in d) == '{"tz":"Hi"}', deltas
starts = [e["contentBlockStart"] for e in events if "contentBlockStart" in e]
assert starts[0]["start"]["toolUse"]["name"] == "get_time", starts

stream = client("/fault/exception=throttlingException@1", **LONG).converse_stream(modelId=ARN, messages=HI)["stream"]
assert error_code(lambda: list(stream)) == "throttlingException"
assert error_code(lambda: client("/fault/status=429", **LONG).converse(modelId=ARN, messages=HI)) == "ThrottlingException"
wrong = dict(LONG, aws_secret_access_key="not-the-secret")
assert error_code(lambda: client(**wrong).converse(modelId=ARN, messages=HI)) == "InvalidSignatureException"
starts_with_assistant = [{"role": "assistant", "content": [{"text": "x"}]}]
assert error_code(lambda: client(**LONG).converse(modelId=ARN, messages=starts_with_assistant)) == "ValidationException"
print("check-bedrock-route-boto3: ok")
