"""Signature help for ``T.*`` builtins: the innermost open call before the cursor, its
parameters from ``tir_lsp.compiler.ir.builtins`` and the active one by counting top-level commas."""

from __future__ import annotations

from dataclasses import dataclass

from tir_lsp.compiler.analysis.calling_convention import split_arguments
from tir_lsp.compiler.ir.builtins import lookup_builtin
from tir_lsp.documents import Document

_MAX_LINES_BACK = 30


@dataclass(frozen=True)
class Signature:
    label: str
    parameters: list[str]
    active: int
    documentation: str


def _open_call(text: str) -> tuple[str, int] | None:
    """The callee of the innermost call still open at the end of ``text`` and the number of
    top-level commas typed in it (brackets of tuples and lists inside it are skipped)."""
    stack: list[list[object]] = []  # [bracket, callee name, commas]
    quote = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        elif ch in "([{":
            j = i
            while j > 0 and (text[j - 1].isalnum() or text[j - 1] in "_."):
                j -= 1
            stack.append([ch, text[j:i] if ch == "(" else "", 0])
        elif ch in ")]}":
            if stack:
                stack.pop()
        elif ch == "," and stack:
            stack[-1][2] = int(stack[-1][2]) + 1  # type: ignore[call-overload]
        i += 1
    for frame in reversed(stack):
        if frame[1]:
            return str(frame[1]), int(frame[2])  # type: ignore[call-overload]
    return None


def signature_help(doc: Document, line: int, column: int) -> Signature | None:
    first = max(1, line - _MAX_LINES_BACK)
    before = "\n".join(doc.lines[first - 1:line - 1] + [doc.lines[line - 1][:column - 1] if line <= len(doc.lines) else ""])
    hit = _open_call(before)
    if hit is None:
        return None
    callee, commas = hit
    if not callee.startswith("T."):
        return None
    info = lookup_builtin(callee)
    if info is None:
        return None
    inner = info.signature[info.signature.index("(") + 1:-1]
    params = split_arguments(inner)
    active = commas
    if params and params[-1].startswith("*"):
        active = min(active, len(params) - 1)
    return Signature(info.signature, params, active, info.description)
