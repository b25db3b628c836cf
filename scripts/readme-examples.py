#!/usr/bin/env python3
"""The code examples of a Markdown file, by name, so that tests run them as they are written.

Every fenced code block must be named by an HTML comment on the line just above its opening
fence (invisible once rendered):

    <!-- example: NAME -->
    ```c
    ...
    ```

    readme-examples.py list FILE
        the names, one a line; fails on a fence without a name or a name used twice
    readme-examples.py get FILE NAME [--template PATH] [--replace OLD=NEW]...
        the block's text; with --template, the template's text with the block in place of the
        line that holds @README@ (indented as that line is), and the block's `#include` lines
        in place of the line that holds @README_INCLUDES@ if there is one (so that a C or C++
        fragment's statements can go inside a function while its includes stay at the top).
        --replace substitutes in the block only (not in the template): e.g. the examples'
        server address by the test server's.

Standard library only (Python 3.9+).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass

MARKER = re.compile(r"^\s*<!--\s*example:\s*([A-Za-z0-9_.-]+)\s*-->\s*$")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")


@dataclass
class Block:
    name: str
    info: str
    text: str
    line: int  # of the opening fence, 1-based


def parse(path: str) -> list[Block]:
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    blocks: list[Block] = []
    errors: list[str] = []
    seen: set[str] = set()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = m.group(1), m.group(2), m.group(3).strip()
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines):
            close = FENCE.match(lines[i])
            if close and close.group(2)[0] == fence[0] and len(close.group(2)) >= len(fence) and not close.group(3).strip():
                break
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i].lstrip())
            i += 1
        else:
            errors.append(f"{path}:{start + 1}: a code block that is never closed")
        i += 1
        marker = MARKER.match(lines[start - 1]) if start > 0 else None
        if not marker:
            errors.append(f"{path}:{start + 1}: a code block without <!-- example: NAME --> on the line above it")
            continue
        name = marker.group(1)
        if name in seen:
            errors.append(f"{path}:{start + 1}: the example name {name!r} is used twice")
        seen.add(name)
        blocks.append(Block(name, info, "\n".join(body) + "\n", start + 1))
    if errors:
        sys.exit("\n".join(errors))
    return blocks


def fill(template: str, block: str) -> str:
    """The template with the block in it (see the module's docstring)."""
    lines = block.rstrip("\n").split("\n")
    out: list[str] = []
    has_includes = "@README_INCLUDES@" in template
    includes = [l for l in lines if l.startswith("#include")] if has_includes else []
    body = [l for l in lines if l not in includes]
    placed = False
    for line in template.split("\n"):
        if "@README_INCLUDES@" in line:
            out.extend(includes)
        elif "@README@" in line:
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + l if l else l for l in body)
            placed = True
        else:
            out.append(line)
    if not placed:
        sys.exit("the template has no line with @README@")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("list").add_argument("file")
    get = sub.add_parser("get")
    get.add_argument("file")
    get.add_argument("name")
    get.add_argument("--template")
    get.add_argument("--replace", action="append", default=[], metavar="OLD=NEW")
    args = ap.parse_args()

    blocks = parse(args.file)
    if args.command == "list":
        for b in blocks:
            print(b.name)
        return
    found = [b for b in blocks if b.name == args.name]
    if not found:
        sys.exit(f"{args.file}: no example named {args.name!r}")
    text = found[0].text
    for pair in args.replace:
        old, sep, new = pair.partition("=")
        if not sep or not old:
            sys.exit(f"--replace wants OLD=NEW, not {pair!r}")
        text = text.replace(old, new)
    if args.template:
        with open(args.template, encoding="utf-8") as f:
            text = fill(f.read(), text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
