"""Semantic tokens (full): vars and buffers as variables (``declaration`` where defined),
parameters, functions, ``T.*`` builtins as functions with ``defaultLibrary``, dtypes (as
``T.float32`` or inside strings) as types, keywords, numbers, strings and comments."""

from __future__ import annotations

import keyword
import re
from typing import cast

from pygls.workspace.position_codec import PositionCodec

from tir_lsp.compiler.ir.builtins import lookup_builtin
from tir_lsp.compiler.ir.dtype import is_dtype_name
from tir_lsp.compiler.ir.function import PrimFunc
from tir_lsp.documents import Document

TOKEN_TYPES = ["variable", "parameter", "function", "type", "keyword", "number", "string", "comment", "namespace",
               "property"]
TOKEN_MODIFIERS = ["declaration", "defaultLibrary", "readonly"]
_T = {name: i for i, name in enumerate(TOKEN_TYPES)}
_DECL, _LIB = 1, 2

_TOKEN = re.compile(
    r"(?P<comment>#.*)"
    r"|(?P<string>[rRbBuUfF]{0,2}(?:\"(?:[^\"\\]|\\.)*\"?|'(?:[^'\\]|\\.)*'?))"
    r"|(?P<number>(?:0[xXoObB][0-9a-fA-F_]+|\d[\d_]*\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)[jJ]?)"
    r"|(?P<name>[A-Za-z_]\w*)"
    r"|(?P<dot>\.)"
)
_KEYWORDS = set(keyword.kwlist)
# Relax struct info constructors (``R.Tensor``...), types; other ``R.*`` names are functions.
_RELAX_TYPES = {"Tensor", "Shape", "Tuple", "Object", "Any", "Prim", "Callable"}


def _entry_map(doc: Document) -> dict[tuple[int, int], tuple[int, int]]:
    """(line, column) of each name in the index -> (token type, modifiers)."""
    cached = doc.cache.get("semantic_entries")
    if cached is not None:
        # Only this function writes the "semantic_entries" entry of the document's cache.
        return cast("dict[tuple[int, int], tuple[int, int]]", cached)
    out: dict[tuple[int, int], tuple[int, int]] = {}

    def kind_of(sym: object, kind: str | None) -> int:
        if isinstance(sym, PrimFunc) or kind == "function":
            return _T["function"]
        if kind in ("param", "buffer_param"):
            return _T["parameter"]
        return _T["variable"]

    for d, span, _v in doc.definitions():
        out[(span.line, span.column)] = (kind_of(d.symbol, d.kind), _DECL)
    params = {id(d.symbol) for d, _s, _v in doc.definitions() if d.kind in ("param", "buffer_param")}
    for v in doc.chunks:
        for r in v.result.index.references:
            t = _T["parameter"] if id(r.symbol) in params else kind_of(r.symbol, None)
            out.setdefault((r.span.line + v.delta, r.span.column), (t, 0))
        # Functions named in calls: `cls.f` of Relax (a string callee is a string token).
        for _name, sp in v.result.index.call_names:
            out.setdefault((sp.line + v.delta, sp.column), (_T["function"], 0))
    doc.cache["semantic_entries"] = out
    return out


def semantic_tokens(doc: Document, codec: PositionCodec | None = None) -> list[int]:
    """The LSP relative encoding (5 ints per token), columns in the client's units."""
    entries = _entry_map(doc)
    data: list[int] = []
    prev_line, prev_col = 0, 0

    def emit(line0: int, col0: int, length: int, ttype: int, mods: int) -> None:
        nonlocal prev_line, prev_col
        if codec is not None and not ascii_line:
            text = doc.lines[line0]
            start = codec.client_num_units(text[:col0])
            length = codec.client_num_units(text[col0:col0 + length])
            col0 = start
        dl = line0 - prev_line
        dc = col0 - prev_col if dl == 0 else col0
        data.extend((dl, dc, length, ttype, mods))
        prev_line, prev_col = line0, col0

    for i, text in enumerate(doc.lines):
        ascii_line = text.isascii()
        after_t_dot = after_r_dot = False
        after_dot = False
        for m in _TOKEN.finditer(text):
            kind = m.lastgroup
            col = m.start()
            if kind == "dot":
                after_dot = True
                continue
            word = m.group()
            if kind == "comment":
                emit(i, col, len(word), _T["comment"], 0)
            elif kind == "string":
                inner = word.strip("rRbBuUfF").strip("\"'")
                emit(i, col, len(word), _T["type"] if is_dtype_name(inner) else _T["string"], 0)
            elif kind == "number":
                emit(i, col, len(word), _T["number"], 0)
            elif kind == "name":
                hit = entries.get((i + 1, col + 1))
                if hit is not None:
                    emit(i, col, len(word), hit[0], hit[1])
                elif after_r_dot:
                    emit(i, col, len(word), _T["type"] if word in _RELAX_TYPES else _T["function"], _LIB)
                elif after_t_dot:
                    info = lookup_builtin(word)
                    is_type = is_dtype_name(word) or (info is not None and info.kind in ("dtype", "type"))
                    emit(i, col, len(word), _T["type"] if is_type else _T["function"], _LIB)
                elif after_dot:
                    emit(i, col, len(word), _T["property"], 0)
                elif word in _KEYWORDS:
                    emit(i, col, len(word), _T["keyword"], 0)
                elif word in ("T", "I", "R"):
                    emit(i, col, len(word), _T["namespace"], 0)
                after_t_dot = word == "T" and not after_dot and text[m.end():m.end() + 1] == "."
                after_r_dot = word == "R" and not after_dot and text[m.end():m.end() + 1] == "."
            after_dot = False
    return data
