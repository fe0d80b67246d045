"""Completion: ``T.`` -> builtins (with their signatures), dtype names inside strings, and
otherwise the names visible at the cursor (the symbol index's scopes say which definitions of
the function are; a line being typed continues the body it is indented into), the module's
functions and size vars."""

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


def _typing(lines: list[str], line: int, column: int) -> tuple[int, int]:
    """The 1-based line of the last statement above ``line`` and the column a statement
    starting on ``line`` is indented to (by what is typed before the cursor on a blank line):
    the cursor continues the scopes whose bodies end there and are indented at most so far."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    typed = text[:column - 1]
    indent = len(typed) if not typed.strip() else len(text) - len(text.lstrip())
    after = line - 1
    while after > 0 and (not lines[after - 1].strip() or lines[after - 1].lstrip().startswith("#")):
        after -= 1
    return after, indent + 1


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
        builtins: list[Item] = []
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
            builtins.append(Item(label, kind, info.signature, info.description))
        return builtins
    items: list[Item] = []
    seen: set[str] = set()
    view = doc.chunk_at(line)
    if view is not None:
        after, indent = _typing(list(doc.lines), line, column)
        for d in view.result.index.visible(line - view.delta, column, (after - view.delta, indent)):
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
