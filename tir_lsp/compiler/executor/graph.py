"""The operator graph of an AOT module read back from its TIR: one node per operator call in
``__tvm_main__`` (``T.call_extern`` / ``T.call_cpacked``), an edge from the call that writes
a tensor (its last argument) to each later call that reads it. For ``tirc graph``."""

from __future__ import annotations

import json
from dataclasses import dataclass

from tir_lsp.compiler.analysis.calling_convention import is_entry
from tir_lsp.compiler.ir.expr import Call, Expr, StringImm, Var
from tir_lsp.compiler.ir.function import IRModule, PrimFunc
from tir_lsp.compiler.ir.visitor import walk

_CALLS = ("call_extern", "call_cpacked", "call_packed")


@dataclass(frozen=True)
class OpCall:
    index: int
    callee: str
    convention: str
    args: tuple[str, ...]


def entry_function(mod: IRModule) -> PrimFunc | None:
    for f in mod.functions:
        # TVM 0.27 spells the attribute "tirx.is_entry_func"; older releases "tir.is_entry_func".
        if is_entry(f) or f.global_symbol.endswith("__tvm_main__"):
            return f
    return None


def _arg_name(e: Expr) -> str:
    if isinstance(e, Var):
        return e.name
    names: list[str] = []
    walk(e, lambda n: names.append(n.name) if isinstance(n, Var) else None)
    return names[0] if names else type(e).__name__


def operator_calls(mod: IRModule) -> list[OpCall]:
    """The operator calls of the entry function in program order."""
    f = entry_function(mod)
    if f is None:
        return []
    calls: list[OpCall] = []

    def visit(n: object) -> None:
        # The callee's name comes first (call_extern's dtype is the Call's own dtype).
        if isinstance(n, Call) and n.op in _CALLS and n.args and isinstance(n.args[0], StringImm):
            args = n.args[1:]
            if n.op != "call_extern" and args and not isinstance(args[-1], Var):
                args = args[:-1]  # the resource handle
            calls.append(OpCall(len(calls), n.args[0].value, n.op, tuple(_arg_name(a) for a in args)))

    walk(f.body, visit)
    return calls


def graph_edges(calls: list[OpCall]) -> list[tuple[int, int, str]]:
    writer: dict[str, int] = {}
    edges: list[tuple[int, int, str]] = []
    for c in calls:
        for a in c.args[:-1]:
            if a in writer:
                edges.append((writer[a], c.index, a))
        if c.args:
            writer[c.args[-1]] = c.index
    return edges


def to_json(mod: IRModule) -> str:
    calls = operator_calls(mod)
    data = {"nodes": [{"id": c.index, "op": c.callee, "convention": c.convention, "args": list(c.args)} for c in calls],
            "edges": [{"from": a, "to": b, "tensor": t} for a, b, t in graph_edges(calls)]}
    return json.dumps(data, indent=1) + "\n"


def to_dot(mod: IRModule) -> str:
    calls = operator_calls(mod)
    lines = ["digraph model {", "  node [shape=box];"]
    lines += [f'  n{c.index} [label="{c.callee}"];' for c in calls]
    lines += [f'  n{a} -> n{b} [label="{t}"];' for a, b, t in graph_edges(calls)]
    lines.append("}")
    return "\n".join(lines) + "\n"
