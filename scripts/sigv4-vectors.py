#!/usr/bin/env python3
"""Signs Bedrock runtime requests with botocore's own SigV4 signer and prints the headers it adds,
and how it percent-encodes a model id
for the path: the figures src/sigv4.rs's `botocore_*` tests hard-code. Run it to remake them:

    python3 -m venv /tmp/sigv4-venv && /tmp/sigv4-venv/bin/pip install botocore
    /tmp/sigv4-venv/bin/python scripts/sigv4-vectors.py

The request carries only `Content-Type`: botocore signs every header present but a short list, and
src/sigv4.rs signs `content-type`, `host` and `x-amz-date` (and `x-amz-security-token` with a
session token), so the two sign the same set. Time and credentials are fixed.
"""

from __future__ import annotations

import datetime

import botocore
import botocore.auth
import botocore.utils
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

NOW = datetime.datetime(2024, 7, 1, 12, 34, 56)
ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQDexample+token/with=chars"
BODY = b'{"messages":[{"role":"user","content":[{"text":"Hello"}]}],"inferenceConfig":{"maxTokens":64}}'

URLS = [
    "https://bedrock-runtime.us-east-1.amazonaws.com/model/"
    "arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2F"
    "us.anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream",
    "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse",
    "https://bedrock-runtime.us-east-1.amazonaws.com:443/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse",
    "http://127.0.0.1:8080/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse",
]

# Model ids as botocore's serializer puts them in the path (a `{modelId}` URI parameter).
MODEL_IDS = [
    "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0",
    "a b+c%d/é~_.-",
]


def sign(url: str, token: str | None) -> AWSRequest:
    request = AWSRequest(method="POST", url=url, data=BODY, headers={"Content-Type": "application/json"})
    signer = botocore.auth.SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY, token), "bedrock", "us-east-1")
    print("canonical request:\n" + signer.canonical_request(prepare(request, signer)), end="\n\n")
    signer.add_auth(request)
    return request


def prepare(request: AWSRequest, signer: botocore.auth.SigV4Auth) -> AWSRequest:
    """A copy with the date and token headers add_auth puts in, to show the canonical request."""
    copy = AWSRequest(method=request.method, url=request.url, data=request.data, headers=dict(request.headers))
    copy.context["timestamp"] = NOW.strftime(botocore.auth.SIGV4_TIMESTAMP)
    signer._modify_request_before_signing(copy)
    return copy


def main() -> None:
    botocore.auth.get_current_datetime = lambda: NOW
    print(f"botocore {botocore.__version__}, now {NOW.isoformat()}Z\n")
    for url in URLS:
        for token in (None, TOKEN):
            request = sign(url, token)
            print(f"url: {url}\nsession token: {'yes' if token else 'no'}")
            for name in ("X-Amz-Date", "X-Amz-Security-Token", "Authorization"):
                if name in request.headers:
                    print(f"{name}: {request.headers[name]}")
            print("-" * 80)
    for model_id in MODEL_IDS:
        print(f"path segment for {model_id!r}: {botocore.utils.percent_encode(model_id)}")


if __name__ == "__main__":
    main()
