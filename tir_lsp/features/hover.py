"""Hover: what the name or expression under the cursor is, as markdown (MLIR-style).

Names come from the def-use index (vars, buffers, functions, functions named by string in
calls); ``T.*`` builtins from ``tir_lsp.compiler.ir.builtins``; anything else from the smallest IR
expression whose span holds the position.
"""

from __future__ import annotations

import os

from tir_lsp.compiler.analysis.calling_convention import DEVICE, PACKED, UNLOWERED, UNPACKED, classify
from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.builtins import lookup_builtin
from tir_lsp.compiler.ir.expr import Expr, IntImm, Var
from tir_lsp.compiler.ir.function import PrimFunc
from tir_lsp.compiler.ir.node import Node
from tir_lsp.compiler.ir.relax import RELAX_BUILTINS, RelaxFunction, RelaxVar
from tir_lsp.compiler.ir.span import Span
from tir_lsp.compiler.ir.stmt import Allocate, AllocBuffer, Bind, DeclBuffer, For, IterVar, LaunchThread
from tir_lsp.compiler.ir.visitor import child_values, iter_nodes
from tir_lsp.compiler.text.printer import print_expr, type_text
from tir_lsp.compiler.text.relax_printer import signature, var_text
from tir_lsp.compiler.text.symbols import Definition, DefinitionKind
from tir_lsp.documents import ChunkView, Document
from tir_lsp.features.positions import word_at

_KIND_WORDS: dict[DefinitionKind, str] = {
    "param": "parameter", "buffer_param": "buffer parameter", "loop": "loop variable", "let": "let binding",
    "block_iter": "block iterator", "thread": "thread index", "alloc_buffer": "buffer allocated with T.alloc_buffer",
    "sblock_alloc_buffer": "buffer allocated with T.sblock_alloc_buffer",
    "decl_buffer": "buffer declared with T.decl_buffer", "match_buffer": "buffer bound with T.match_buffer",
    "view": "view of another buffer", "buffer": "buffer declared with T.Buffer", "allocate": "pointer from T.allocate",
    "allocate_const": "pointer to constant data (T.allocate_const)", "scalar": "scalar local variable",
    "function": "function", "type_param": "type parameter", "size_var": "size variable",
    "lambda_param": "lambda parameter",
}


def _code(text: str) -> str:
    return f"```python\n{text}\n```"


def buffer_decl(buf: Buffer) -> str:
    """``T.Buffer((16, 16), "float32")`` plus the non-default fields."""
    shape = ", ".join(print_expr(e) for e in buf.shape)
    if len(buf.shape) == 1:
        shape += ","
    parts = [f"({shape})", f'"{buf.dtype}"']
    if buf.strides:
        parts.append("strides=(" + ", ".join(print_expr(e) for e in buf.strides) + ("," if len(buf.strides) == 1 else "") + ")")
    if buf.elem_offset is not None and not (isinstance(buf.elem_offset, IntImm) and buf.elem_offset.value == 0):
        parts.append(f"elem_offset={print_expr(buf.elem_offset)}")
    if buf.scope != "global":
        parts.append(f'scope="{buf.scope}"')
    return f"T.Buffer({', '.join(parts)})"


def function_signature(f: PrimFunc) -> str:
    """``def f(A: T.Buffer((16,), "float32"), n: T.int32) -> T.int32``."""
    params = []
    for p in f.params:
        buf = f.buffer_of(p)
        if buf is not None and buf.name == p.name:
            params.append(f"{p.name}: {buffer_decl(buf)}")
        else:
            t = p.type_annotation if p.type_annotation is not None else p.dtype
            params.append(f"{p.name}: {type_text(t)}")
    ret = f" -> {type_text(f.ret_type)}" if f.ret_type is not None else ""
    return f"def {f.name}({', '.join(params)}){ret}"


_CALL_HINT = {
    PACKED: "call it with `T.call_packed` / `T.call_cpacked`",
    UNPACKED: "call it with `T.call_extern`",
    DEVICE: "launched on the device by its host code, not called from C",
    UNLOWERED: "not callable from C until lowered",
}


def function_hover(f: PrimFunc) -> str:
    """The signature and calling convention of ``f``, as the checker classifies it
    (``tir_lsp.compiler.analysis.calling_convention``: hover and diagnostics never disagree)."""
    conv = classify(f)
    state = "device kernel" if conv.state == DEVICE else conv.state
    abi = f"{conv.abi} ABI, " if conv.abi else ""
    sym = f" (C symbol `{f.global_symbol}`)" if f.global_symbol != f.name else ""
    text = f"{_code(function_signature(f))}\n\nfunction{sym}; calling convention: **{state}** ({abi}{_CALL_HINT[conv.state]})"
    if conv.problem:
        text += f"\n\nTIR105: {conv.problem}"
    return text


def external_function_hover(f: PrimFunc, path: str, roots: list[str]) -> str:
    """Hover of a function defined in another file: its signature and calling convention, and
    where it is (the file relative to the workspace folder holding it, and the line)."""
    shown = path
    for root in roots:
        rel = os.path.relpath(path, root)
        if not rel.startswith(".."):
            shown = rel
            break
    line = f.name_span.line if f.name_span is not None else (f.span.line if f.span is not None else None)
    where = f"defined in `{shown}`" + (f" line {line}" if line is not None else "")
    return f"{function_hover(f)}\n\n{where}"


def _find_node(root: Node, cls: type, pred: object) -> Node | None:
    stack: list[Node] = [root]
    while stack:
        n = stack.pop()
        if isinstance(n, cls) and pred(n):  # type: ignore[operator]
            return n
        for name, value in child_values(n):
            if name in ("buffer", "view_of") and isinstance(value, Buffer):
                continue
            stack.extend(iter_nodes(value))
    return None


def _var_detail(d: Definition, var: Var, func: PrimFunc | None) -> str:
    node = d.node
    if isinstance(node, For) or (d.kind == "loop" and func is not None):
        loop = node if isinstance(node, For) else (
            _find_node(func.body, For, lambda n: n.loop_var is var) if func is not None else None)
        if isinstance(loop, For):
            lo, ext = print_expr(loop.min), print_expr(loop.extent)
            stop = ext if lo == "0" else f"{lo} + {ext}"
            kind = loop.kind if loop.thread_binding is None else f'thread_binding "{loop.thread_binding}"'
            return f"loop variable, {kind} over [{lo}, {stop})"
    if d.kind == "let" and func is not None:
        b = node if isinstance(node, Bind) else _find_node(func.body, Bind, lambda n: n.var is var)
        if isinstance(b, Bind):
            return f"let binding = `{print_expr(b.value)}`"
    if isinstance(node, IterVar):
        kinds = {"S": "spatial", "R": "reduce", "O": "opaque"}
        lo, ext = print_expr(node.dom_min), print_expr(node.dom_extent)
        stop = ext if lo == "0" else f"{lo} + {ext}"
        return f"block iterator, {kinds.get(node.kind, node.kind)} over [{lo}, {stop})"
    if d.kind == "thread" and func is not None:
        lt = node if isinstance(node, LaunchThread) else _find_node(func.body, LaunchThread, lambda n: n.var is var)
        if isinstance(lt, LaunchThread):
            return f'thread index "{lt.tag}", extent {print_expr(lt.extent)}'
    if d.kind in ("allocate", "allocate_const") and func is not None:
        al = node if isinstance(node, Allocate) else _find_node(func.body, Allocate, lambda n: n.var is var)
        if isinstance(al, Allocate):
            return f"pointer from T.allocate of {', '.join(print_expr(e) for e in al.extents)} x {al.dtype}"
    if d.kind == "param" and func is not None:
        buf = func.buffer_of(var)
        extra = f", bound to buffer `{buf.name}`" if buf is not None else ""
        return f"parameter of `{func.name}`{extra}"
    return _KIND_WORDS.get(d.kind, d.kind)


def _var_hover(d: Definition | None, var: Var, func: PrimFunc | None) -> str:
    t = var.type_annotation if var.type_annotation is not None else var.dtype
    head = _code(f"{var.name}: {type_text(t)}")
    if d is None:
        return head
    return f"{head}\n\n{_var_detail(d, var, func)}"


def _relax_var_hover(d: Definition | None, var: RelaxVar) -> str:
    head = _code(var_text(var))
    if d is None:
        return head
    what = "parameter" if d.kind == "param" else "binding"
    detail = f"Relax {what}" + (f" of `{d.function}`" if d.function else "")
    if var.sinfo is None:
        detail += " (struct info not written)"
    return f"{head}\n\n{detail}"


def _where(d: Definition, span: Span) -> str:
    fn = f" in `{d.function}`" if d.function else ""
    return f"line {span.line}{fn}"


def _buffer_hover(d: Definition | None, span: Span | None, buf: Buffer) -> str:
    out = [_code(f"{buf.name}: {buffer_decl(buf)}")]
    facts = [f"data: `{buf.data.name}`"]
    if buf.strides:
        facts.append("strides: (" + ", ".join(print_expr(e) for e in buf.strides) + ")")
    facts.append(f"scope: {buf.scope}")
    out.append(", ".join(facts))
    if d is not None and span is not None:
        kind = _KIND_WORDS.get(d.kind, d.kind)
        if d.kind == "view" and isinstance(d.node, DeclBuffer) and d.node.view_of is not None:
            kind = f"view of `{d.node.view_of.name}`"
        elif d.kind == "buffer_param":
            kind = "buffer parameter"
        elif isinstance(d.node, AllocBuffer) and d.node.scalar:
            kind = "scalar local variable (one-element buffer)"
        out.append(f"{kind}, declared at {_where(d, span)}")
    return "\n\n".join(out)


def _shadows(d: Definition | None, view: ChunkView | None) -> str:
    """A note when ``d`` hides a name bound in an enclosing scope (the index's scopes say)."""
    if d is None or view is None:
        return ""
    other = view.result.index.shadowed_by(d)
    if other is None:
        return ""
    what = _KIND_WORDS.get(other.kind, other.kind)
    return f"\n\nshadows the {what} `{other.name}` of line {other.span.line + view.delta}"


def _builtin_hover(doc: Document, line: int, column: int) -> tuple[str, Span] | None:
    word, start, end = word_at(doc.lines, line, column, ".")
    if word.startswith("R.") and column >= start + 2 and word[2:] in RELAX_BUILTINS:
        signature_text, description = RELAX_BUILTINS[word[2:]]
        return f"{_code(signature_text)}\n\n{description}", Span(line, start, line, end)
    if not word.startswith("T.") or column < start + 2:
        return None
    # Only the part up to the cursor's segment: `T.axis.remap` -> axis.remap.
    name = word[2:]
    info = lookup_builtin(name)
    while info is None and "." in name:
        name = name.rsplit(".", 1)[0]
        info = lookup_builtin(name)
    if info is None:
        return None
    end = start + 2 + len(name)
    return f"{_code(info.signature)}\n\n{info.description}", Span(line, start, line, end)


def _smallest_expr(func: PrimFunc, line: int, column: int) -> Expr | None:
    best: Expr | None = None
    best_size = (10**9, 10**9)
    stack: list[Node] = [func]
    while stack:
        n = stack.pop()
        sp = n.span
        if sp is not None and isinstance(n, Expr) and not isinstance(n, Var) and sp.contains(line, column):
            size = (sp.end_line - sp.line, sp.end_column - sp.column if sp.end_line == sp.line else 10**6)
            if size <= best_size:
                best, best_size = n, size
        for name, value in child_values(n):
            if name in ("buffer", "view_of") and isinstance(value, Buffer):
                continue
            stack.extend(iter_nodes(value))
    return best


def _func_of(view: ChunkView | None, line: int) -> PrimFunc | None:
    if view is None or not view.result.functions:
        return None
    return view.result.functions[0]


def hover(doc: Document, line: int, column: int, external: object = None) -> tuple[str, Span] | None:
    """Markdown for the 1-based position, with the span it describes; None when nothing.

    ``external(name)`` may describe a function defined in another workspace file.
    """
    loc = doc.at(line, column)
    if loc is not None:
        sym = loc.symbol
        found = doc.definition_of(sym, loc.chunk)
        d, dspan = found if found is not None else (None, None)
        func = _func_of(loc.chunk, line)
        if isinstance(sym, PrimFunc):
            return function_hover(sym), loc.span
        if isinstance(sym, RelaxFunction):
            return f"{_code(signature(sym))}\n\nRelax function (not compiled by tirc)", loc.span
        if isinstance(sym, RelaxVar):
            return _relax_var_hover(d, sym), loc.span
        if isinstance(sym, str):
            other = external(sym) if callable(external) else None
            text = other or f"`{sym}`: not defined in this workspace (an external function)"
            return text, loc.span
        if isinstance(sym, Buffer):
            return _buffer_hover(d, dspan, sym) + _shadows(d, loc.chunk), loc.span
        if isinstance(sym, Var):
            return _var_hover(d, sym, func) + _shadows(d, loc.chunk), loc.span
    b = _builtin_hover(doc, line, column)
    if b is not None:
        return b
    view = doc.chunk_at(line)
    func = _func_of(view, line)
    if func is None or view is None:
        return None
    local = line - view.delta
    e = _smallest_expr(func, local, column)
    if e is None:
        return None
    assert e.span is not None
    return f"{_code(print_expr(e))}\n\n`{e.dtype}`", e.span.shifted(view.delta)
