"""aichat.g4f.Aichat behaves as gpt4free's provider did and puts its exact request on the wire."""

from __future__ import annotations

import json

import pytest

import aichat
from aichat.g4f import Aichat

# The original provider's request (the README's "The aichat provider" section has it in full).
ORIGINAL_HEADERS = {
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
    "user-agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/113.0.0.0 Safari/537.36",
}
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
ORIGINAL_BODY = {"message": "system: Be brief.\nuser: Hi\nassistant:", "temperature": 1, "presence_penalty": 0,
                 "top_p": 1, "frequency_penalty": 0}


def test_the_original_attributes() -> None:
    assert Aichat.url == "https://chat-gpt.org/chat"
    assert Aichat.working is True and Aichat.supports_gpt_35_turbo is True
    assert Aichat._create_completion is Aichat.create_completion


def test_both_names_answer_in_one_piece(base_url: str) -> None:
    msgs = [{"role": "user", "content": "Hi"}]
    assert list(Aichat.create_completion("gpt-3.5-turbo", msgs, False, base_url=base_url)) == ["You said: Hi"]
    gen = Aichat._create_completion(model="gpt-3.5-turbo", messages=msgs, stream=False, base_url=base_url)
    assert list(gen) == ["You said: Hi"]


def test_the_request_on_the_wire_is_the_originals(base_url: str) -> None:
    (echo,) = Aichat.create_completion("gpt-3.5-turbo", MESSAGES, False, base_url=f"{base_url}/fault/echo")
    sent = json.loads(echo)
    assert sent["method"] == "POST" and sent["path"].endswith("/api/text")
    headers = {k.lower(): v for k, v in sent["headers"]}
    for name, value in ORIGINAL_HEADERS.items():
        assert headers.get(name) == value, name
    assert sent["body"] == ORIGINAL_BODY


def test_aichat_base_url_from_the_environment(base_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AICHAT_BASE_URL", base_url)
    assert list(Aichat.create_completion("gpt-3.5-turbo", [{"role": "user", "content": "env"}])) == ["You said: env"]


def test_by_default_it_posts_where_the_original_did(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AICHAT_BASE_URL", raising=False)
    with pytest.raises(aichat.AichatError) as e:  # the site is gone, and this machine is offline
        list(Aichat.create_completion("gpt-3.5-turbo", MESSAGES, proxy=""))
    assert "chat-gpt.org" in str(e.value)
