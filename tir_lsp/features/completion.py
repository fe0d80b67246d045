"""Completion: ``T.`` -> builtins (with their signatures), dtype names inside strings, and
otherwise the names visible at the cursor (definitions of the function above the cursor whose
scope holds it, by TIR's block structure, the module's functions and size vars)."""

from __future__ import annotations

from dataclasses import dataclass

from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.builtins import BUILTINS
from tir_lsp.documents import Document

DTYPE_NAMES = ("float32", "float16", "float64", "bfloat16", "int8", "int16", "int32", "int64", "uint8", "uint16",
               "uint32", "uint64", "bool", "handle", "float8_e4m3fn", "float8_e5m2", "float4_e2m1fn")
_KEYWORDS = ("for", "in", "if", "else", "elif", "with", "as", "while", "return", "assert", "pass", "def", "True",
             "False", "None", "and", "or", "not")


@dataclass(frozen=True)
class Item:
    label: str
    kind: str  # function, variable, buffer, type, keyword, module
    detail: str = ""
    documentation: str = ""


def _in_string(prefix: str) -> bool:
    quote = ""
    for ch in prefix:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return False
    return bool(quote)


class _Blocks:
    """The indentation structure of the text, by logical line (a statement continued inside
    brackets is one line): which statement each line belongs to, its indentation, and whether
    it opens a block (ends with ``:``). TIR scopes follow it: a name bound by a block's header
    (loop var, param, ``with ... as``) lives in that block's body; a name bound by a plain
    statement lives until its block ends."""

    def __init__(self, lines: list[str]) -> None:
        self.start: list[int] = []  # per line (0-based): the first line of its statement
        self.indent: list[int | None] = []  # per statement start; None: blank or comment only
        self.header: list[bool] = []
        depth, first = 0, 0
        for n, text in enumerate(lines):
            code = _code_of(text)
            if depth == 0:
                first = n
            self.start.append(first)
            depth = max(0, depth + sum(code.count(c) for c in "([{") - sum(code.count(c) for c in ")]}"))
            stripped = text.strip()
            self.indent.append(None if depth == 0 and first == n and (not stripped or stripped.startswith("#"))
                               else len(text) - len(text.lstrip()))
            self.header.append(False)
            if depth == 0:
                self.header[first] = code.rstrip().endswith(":")

    def visible(self, def_line: int, line: int, column: int, lines: list[str]) -> bool:
        """Whether a name defined on 0-based ``def_line`` is in scope at 0-based ``line``, 1-based
        ``column``."""
        if not (0 <= def_line < len(self.start)) or not (0 <= line < len(self.start)):
            return True
        first = self.start[def_line]
        own = self.indent[first] or 0
        header = self.header[first]
        if self.start[line] == first:
            return not header  # on its own statement: a header's names are for its body
        for n in range(first + 1, line + 1):
            if self.start[n] != n:
                continue  # a continuation line: its indentation says nothing
            ind = self.indent[n]
            if n == line:
                typed = lines[n][:column - 1]
                ind = len(typed) if not typed.strip() else len(lines[n]) - len(lines[n].lstrip())
            if ind is None:
                continue
            if ind < own or (header and ind == own):
                return False
        return True


def _code_of(text: str) -> str:
    """``text`` without its comment and the contents of its strings (brackets in them do not count)."""
    out, quote = [], ""
    for ch in text:
        if quote:
            if ch == quote:
                quote = ""
                out.append(ch)
        elif ch in "\"'":
            quote = ch
            out.append(ch)
        elif ch == "#":
            break
        else:
            out.append(ch)
    return "".join(out)


def completion(doc: Document, line: int, column: int) -> list[Item]:
    text = doc.lines[line - 1] if 0 < line <= len(doc.lines) else ""
    prefix = text[:column - 1]
    if _in_string(prefix):
        return [Item(n, "type", "data type") for n in DTYPE_NAMES]
    word_start = len(prefix)
    while word_start > 0 and (prefix[word_start - 1].isalnum() or prefix[word_start - 1] in "_."):
        word_start -= 1
    dotted = prefix[word_start:]
    if dotted.startswith("T."):
        scope = dotted[2:].rpartition(".")[0]
        items = []
        for name, info in BUILTINS.items():
            if not info.tvm:
                continue  # a libm name LowerIntrin knows, which TVM would reject
            if scope:
                if not name.startswith(scope + "."):
                    continue
                label = name[len(scope) + 1:]
            else:
                if "x" in name and info.kind == "dtype" and name.split("x")[-1].isdigit():
                    continue  # vector dtypes: thousands of them; typed by hand
                label = name
            kind = "type" if info.kind in ("dtype", "type") else "function"
            items.append(Item(label, kind, info.signature, info.description))
        return items
    items: list[Item] = []
    seen: set[str] = set()
    view = doc.chunk_at(line)
    if view is not None:
        local = line - view.delta
        lines = list(doc.lines)
        blocks = _Blocks(lines)
        for d in view.result.index.definitions:
            if d.name in seen or (d.span.line, d.span.column) >= (local, column):
                continue
            if d.kind != "function" and not blocks.visible(d.span.line + view.delta - 1, line - 1, column, lines):
                continue
            seen.add(d.name)
            if isinstance(d.symbol, Buffer):
                items.append(Item(d.name, "buffer", f'T.Buffer({d.symbol.dtype}) {d.kind}'))
            elif d.kind == "function":
                items.append(Item(d.name, "function", "function"))
            else:
                dtype = getattr(d.symbol, "dtype", "")
                items.append(Item(d.name, "variable", f"{dtype} {d.kind}"))
    for name, _span, _f in doc.function_names():
        if name not in seen:
            seen.add(name)
            items.append(Item(name, "function", "function"))
    if doc.skeleton is not None:
        for d in doc.skeleton.index.definitions:
            if d.name not in seen:
                seen.add(d.name)
                items.append(Item(d.name, "variable", "size variable"))
    items.append(Item("T", "module", "tvm.script.tirx"))
    items.extend(Item(k, "keyword") for k in _KEYWORDS)
    return items
