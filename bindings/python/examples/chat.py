"""Streams a completion to stdout, like the C, Go and Node examples:

    python3 bindings/python/examples/chat.py [--base-url URL] [--provider NAME] [--model NAME] [--no-stream] [MESSAGE...]

The flags fall back to AICHAT_BASE_URL, AICHAT_PROVIDER and AICHAT_MODEL. In the repository, run
it after `make build` with PYTHONPATH=bindings/python/src; with the wheel installed, as it is.
Ctrl-C stops the request.
"""

from __future__ import annotations

import argparse
import os
import sys

import aichat


def main() -> int:
    parser = argparse.ArgumentParser(description="Streams a completion to stdout.")
    parser.add_argument("--base-url", default=os.environ.get("AICHAT_BASE_URL"))
    parser.add_argument("--provider", default=os.environ.get("AICHAT_PROVIDER"))
    parser.add_argument("--model", default=os.environ.get("AICHAT_MODEL"))
    parser.add_argument("--no-stream", action="store_true", help="ask for one answer instead of a stream")
    parser.add_argument("message", nargs="*")
    args = parser.parse_args()
    message = " ".join(args.message) or "Hello! Who are you?"
    try:
        # None (and "") mean "not set": the library's defaults apply.
        for chunk in aichat.stream([{"role": "user", "content": message}], base_url=args.base_url or None,
                                   provider=args.provider or None, model=args.model or None,
                                   stream=not args.no_stream):
            print(chunk, end="", flush=True)
        print()
    except aichat.AichatError as e:
        print(f"\nchat: {e.code}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
