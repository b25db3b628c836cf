"""The README's shape of RESULT's JSON (example `result-json`) against the library's: a RESULT of
the test server (reasoning, a tool call, usage) must have exactly the keys the README shows, at
every level, in the same order. The README's `[...]` (a list it does not spell out) counts as
any list."""

import json
import os

import aichat

README = r"""
@README@
"""


def shape(value, path, want, errors):
    if isinstance(want, dict):
        if not isinstance(value, dict) or list(value) != list(want):
            errors.append(f"{path}: keys {list(value) if isinstance(value, dict) else type(value).__name__}, the README shows {list(want)}")
            return
        for key in want:
            shape(value[key], f"{path}.{key}", want[key], errors)
    elif isinstance(want, list) and want and isinstance(want[0], dict):
        if not isinstance(value, list) or not value:
            errors.append(f"{path}: {value!r}, the README shows a list of objects")
            return
        shape(value[0], f"{path}[0]", want[0], errors)


want = json.loads(README.replace("[...]", "[]"))
base = os.environ["AICHAT_TEST_BASE_URL"]
events = list(aichat.events([{"role": "user", "content": "What time is it?"}], provider="openai",
                            base_url=f"{base}/fault/reasoning/v1", stream=True, result=True,
                            tools=[{"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}]))
results = [e for e in events if isinstance(e, aichat.ResultEvent)]
assert len(results) == 1 and events[-1] is results[0], "RESULT is not the one last event"
got = json.loads(results[0].json)
errors: list = []
shape(got, "RESULT", want, errors)
if errors:
    raise SystemExit("\n".join(errors))
print("RESULT has the README's shape:", json.dumps(got)[:120], "...")
