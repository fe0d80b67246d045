"""Folding ranges: every block (function, loop, block, with/if/else bodies) by indentation, and
every expression that spans several lines by its brackets."""

from __future__ import annotations

from collections.abc import Sequence


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _code(line: str) -> bool:
    s = line.strip()
    return bool(s) and not s.startswith("#")


def folding_ranges(lines: Sequence[str]) -> list[tuple[int, int, str | None]]:
    """(first line, last line, kind) with 0-based lines; kind "comment" for comment runs."""
    out: list[tuple[int, int, str | None]] = []
    stack: list[tuple[int, int]] = []  # (indent, header line)
    last_code = -1
    depth = 0
    open_at: list[int] = []
    comment_start = -1
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("#"):
            if comment_start < 0:
                comment_start = i
        else:
            if comment_start >= 0 and i - 1 > comment_start:
                out.append((comment_start, i - 1, "comment"))
            comment_start = -1
        if depth == 0 and _code(line):
            ind = _indent(line)
            while stack and ind <= stack[-1][0]:
                _, head = stack.pop()
                if last_code > head:
                    out.append((head, last_code, None))
            if stripped.split("#", 1)[0].rstrip().endswith(":") and not stripped.startswith("@"):
                stack.append((ind, i))
        # Brackets spanning lines.
        in_str = ""
        for ch in line:
            if in_str:
                if ch == in_str:
                    in_str = ""
                continue
            if ch in "\"'":
                in_str = ch
            elif ch == "#":
                break
            elif ch in "([{":
                open_at.append(i)
                depth += 1
            elif ch in ")]}" and open_at:
                start = open_at.pop()
                depth -= 1
                if i > start:
                    out.append((start, i, None))
        if _code(line):
            last_code = i
    while stack:
        _, head = stack.pop()
        if last_code > head:
            out.append((head, last_code, None))
    if comment_start >= 0 and len(lines) - 1 > comment_start:
        out.append((comment_start, len(lines) - 1, "comment"))
    return sorted(set(out))
