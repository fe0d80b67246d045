"""A line-based, then token-based, delta-debugging minimiser: the smallest input (within a
time budget) that still fails with the same signature."""

from __future__ import annotations

import time
from collections.abc import Callable

from .mutators import tokens


def _ddmin(parts: list[str], joiner: str, still_fails: Callable[[str], bool], deadline: float) -> list[str]:
    n = 2
    while len(parts) >= 2 and time.monotonic() < deadline:
        size = max(1, len(parts) // n)
        removed_any = False
        for start in range(0, len(parts), size):
            if time.monotonic() >= deadline:
                break
            candidate = parts[:start] + parts[start + size:]
            if candidate and still_fails(joiner.join(candidate)):
                parts, n, removed_any = candidate, max(n - 1, 2), True
                break
        if not removed_any:
            if size == 1:
                break
            n = min(n * 2, len(parts))
    return parts


def minimize(text: str, still_fails: Callable[[str], bool], budget: float = 30.0) -> str:
    """``text`` with as many lines, then tokens, removed as keeps ``still_fails`` true."""
    deadline = time.monotonic() + budget
    lines = _ddmin(text.split("\n"), "\n", still_fails, deadline)
    text = "\n".join(lines)
    spans = tokens(text)
    # Tokens with the text between them, so that removing one keeps the rest as it was.
    pieces, last = [], 0
    for a, b in spans:
        pieces.append(text[last:b])
        last = b
    pieces.append(text[last:])
    pieces = _ddmin(pieces, "", still_fails, deadline)
    return "".join(pieces)
