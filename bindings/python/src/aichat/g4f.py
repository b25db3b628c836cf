"""``Aichat``, a drop-in for gpt4free's provider of that name, for code written against it.

It keeps the original's attributes and its generator under both names it had
(``_create_completion`` in the module-style providers, ``create_completion`` on the provider
class), and puts the original's request on the wire: ``POST /api/text`` with the same headers
and body, through the library's ``aichat`` provider. It posts where the original did
(https://chat-gpt.org, whose API is gone) unless ``base_url=`` is given or ``AICHAT_BASE_URL`` is
set. As the original, it answers in one piece and raises on failure (``aichat.AichatError``,
an ``Exception``)."""

from __future__ import annotations

import os
from typing import Any, Iterator, Mapping, Optional, Sequence

from ._client import Client

_client: Optional[Client] = None


def _shared() -> Client:
    global _client
    if _client is None:
        _client = Client(provider="aichat")
    return _client


class Aichat:
    url = "https://chat-gpt.org/chat"
    working = True
    supports_gpt_35_turbo = True
    supports_stream = False
    needs_auth = False
    model = ["gpt-3.5-turbo"]

    @staticmethod
    def create_completion(
        model: str, messages: Sequence[Mapping[str, Any]], stream: bool = False, **kwargs: Any
    ) -> Iterator[str]:
        """Yields the completion (one chunk, as the original). ``base_url`` and ``proxy`` keyword
        arguments are honoured; other keywords are accepted and ignored, as the original did."""
        base_url = kwargs.get("base_url") or os.environ.get("AICHAT_BASE_URL") or None
        request = {"provider": "aichat", "model": model, "messages": list(messages)}
        yield from _shared().stream(request, base_url=base_url, proxy=kwargs.get("proxy"))

    _create_completion = create_completion

    params = "aichat.g4f.Aichat supports: (model: str, messages: list, stream: bool)"
