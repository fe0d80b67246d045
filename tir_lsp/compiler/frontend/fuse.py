"""Operator fusion and TIR generation: a ``Graph`` -> fused groups, each one PrimFunc (built as
IR; ``FusedOp.text`` prints it for dumps).

Fusion folds every elementwise operator into the group before it when the tensor between
them has no other consumer, is not a model output and has the operator's output shape
(``conv -> add(bias) -> relu`` is one function). Functions are named like TVM's:
``tvmgen_<model>_fused_<op>_<op>...`` with TVM's operator names (``nn_conv2d``, ``add``,
``nn_relu``, ``nn_dense``...), a ``_1``, ``_2`` suffix telling repeated groups apart. Params
are ``p0, p1, ...`` (the group's inputs in order of first use) and the output ``T_<op>``.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field

from tir_lsp.compiler.frontend.epilogue import fuse_epilogue
from tir_lsp.compiler.frontend.graph import Graph, OpNode
from tir_lsp.compiler.frontend.operators import ELEMENTWISE, OPERATORS
from tir_lsp.compiler.frontend.operators.base import Expr, Operand, StageWriter, at, buffer_operand
from tir_lsp.compiler.ir import construct as ir
from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.construct import Value
from tir_lsp.compiler.ir.expr import BufferLoad
from tir_lsp.compiler.ir.function import PrimFunc
from tir_lsp.compiler.ir.visitor import IRMutator


@dataclass
class FusedOp:
    """One generated function: the nodes it computes, its input tensors (params in order)
    and output tensor, and its PrimFunc."""

    name: str
    nodes: list[OpNode]
    inputs: list[str]
    output: str
    func: PrimFunc | None = None
    # Intermediate buffers passed in before the output (``fuse(..., scratch_params=True)``):
    # (param name, shape); float32 unless ``scratch_dtypes`` says otherwise.
    scratch: list[tuple[str, tuple[int, ...]]] = field(default_factory=list)
    # The dtype of each scratch buffer that is not float32.
    scratch_dtypes: dict[str, str] = field(default_factory=dict)

    def scratch_dtype(self, name: str) -> str:
        """The dtype of scratch buffer ``name``."""
        return self.scratch_dtypes.get(name, "float32")

    @property
    def text(self) -> str:
        """The function as TIR text (a module holding it alone): for dumps and tests."""
        from tir_lsp.compiler.text.printer import print_module

        assert self.func is not None
        text: str = print_module(ir.ir_module([self.func]))
        return text


def c_identifier(name: str) -> str:
    """A C-safe identifier for ``name`` (model names, tensor names)."""
    out = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not out or out[0].isdigit():
        out = "v_" + out
    return out


def tensor_identifier(name: str) -> str:
    """``c_identifier`` for a name that stands alone in TIR text and C (a tensor's): a tensor
    named ``and``, ``not`` or ``int`` gets a trailing underscore."""
    out = c_identifier(name)
    return out + "_" if out in _RESERVED else out


# Python keywords (TIR text is Python syntax) and C keywords and type names.
_RESERVED = frozenset(keyword.kwlist) | {
    "auto", "bool", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum",
    "extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return", "short",
    "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void", "volatile", "while",
    "main", "T", "I"}


def _consumers(graph: Graph) -> dict[str, int]:
    count: dict[str, int] = {}
    for n in graph.nodes:
        for i in n.inputs:
            count[i] = count.get(i, 0) + 1
    for o in graph.outputs:
        count[o] = count.get(o, 0) + 1
    return count


def fuse(graph: Graph, model: str = "default", scratch_params: bool = False) -> list[FusedOp]:
    """The fused groups of ``graph`` in execution order, each with its PrimFunc. With
    ``scratch_params`` every intermediate buffer of a function is a parameter (before the
    output) that the caller places, instead of an allocation inside it."""
    uses = _consumers(graph)
    groups: list[FusedOp] = []
    for node in graph.nodes:
        op = OPERATORS[node.op_type]
        last = groups[-1] if groups else None
        if (op.kind == ELEMENTWISE and last is not None and last.output in node.inputs
                and uses.get(last.output, 0) == 1 and last.output not in graph.outputs
                and graph.tensors[last.output].shape == graph.tensors[node.outputs[0]].shape):
            last.nodes.append(node)
            last.output = node.outputs[0]
            continue
        groups.append(FusedOp("", [node], [], node.outputs[0]))
    seen: dict[str, int] = {}
    for g in groups:
        base = f"tvmgen_{c_identifier(model)}_fused_" + "_".join(OPERATORS[n.op_type].tvm_name for n in g.nodes)
        k = seen.get(base, 0)
        seen[base] = k + 1
        g.name = base if k == 0 else f"{base}_{k}"
        g.func = _function(graph, g, scratch_params)
    return groups


def _function(graph: Graph, g: FusedOp, scratch_params: bool = False) -> PrimFunc:
    w = StageWriter(scratch_params=scratch_params)
    params: dict[str, Buffer] = {}
    chain: tuple[str, Expr] | None = None
    for node in g.nodes:
        op = OPERATORS[node.op_type]
        operands: list[Operand] = []
        for pos, name in enumerate(node.inputs):
            if pos in op.const_inputs or not name:
                continue
            shape, dtype = graph.tensors[name].shape, graph.tensors[name].dtype
            if chain is not None and name == chain[0]:
                # The producer's expression becomes an operand of this operator.
                operands.append(Operand(shape, chain[1], dtype))
                continue
            if name not in params:
                params[name] = ir.buffer(f"p{len(params)}", shape, dtype)
                g.inputs.append(name)
                w.taken.add(params[name].name)
            operands.append(buffer_operand(params[name]))
        out_shape = graph.tensors[node.outputs[0]].shape
        expr = op.compute(w, node, operands, out_shape)
        if graph.tensors[node.outputs[0]].dtype == "bfloat16" and node is not g.nodes[-1]:
            expr = _bf16_rounded(expr)
        chain = (node.outputs[0], expr)
    assert chain is not None
    last_op = OPERATORS[g.nodes[-1].op_type].tvm_name.removeprefix("nn_")
    out_shape = graph.tensors[g.output].shape
    out_dtype = graph.tensors[g.output].dtype
    out = ir.buffer(w.fresh(f"T_{last_op}"), out_shape, out_dtype)
    labels = [OPERATORS[n.op_type].tvm_name.removeprefix("nn_") for n in g.nodes[1:]]
    fused = fuse_epilogue(w, chain[1], out, labels)
    same = [b for b in w.scratch if ir.dims(b) == tuple(out_shape)]
    in_place = fused is None and len(same) == 1 and str(same[0].dtype) == out_dtype
    if fused is not None:
        body = fused
    else:
        # A last stage that would copy the accumulator to itself (a pooling or reduction
        # alone, accumulated in the output below) is a pass over memory doing nothing.
        if not (in_place and _reads_itself(chain[1], same[0])):
            w.stage(out.name, list(out_shape), "S" * len(out_shape), chain[1], lambda v: at(out, v))
        body = w.body()
    if in_place:
        # The accumulator has the output's shape and the last stage reads it only at the
        # index it writes: accumulate in the output itself (no scratch, no copy of memory).
        body = _ReplaceBuffer(same[0], out).visit(body)
        w.scratch.remove(same[0])
    g.scratch = [(b.name, ir.dims(b)) for b in w.scratch]
    g.scratch_dtypes = {b.name: str(b.dtype) for b in w.scratch if str(b.dtype) != "float32"}
    # The output stays the last parameter (as TVM's fused functions have it).
    return ir.prim_func(g.name, [*params.values(), *w.scratch, out], ir.root_block(body, w.allocs),
                        {"global_symbol": g.name, "tirx.noalias": True}, s_tir=True)


def _bf16_rounded(expr: Expr) -> Expr:
    """``expr`` rounded to bfloat16 where the next operator of a fused chain reads it. The C
    backend keeps bfloat16 arithmetic in float until a store or a cast (TVM's semantics), but
    each ONNX operator's output is a bfloat16 tensor, rounded (as onnxruntime and numpy's
    ml_dtypes compute): the cast through float32 makes that rounding explicit in the TIR."""
    return lambda idx: Value(ir.cast("bfloat16", ir.cast("float32", expr(idx))))


def _reads_itself(final: Expr, buf: Buffer) -> bool:
    """Whether ``final(idx)`` is exactly ``buf[idx]``."""
    idx = [ir.var(f"i{k}") for k in range(len(buf.shape))]
    node = final([Value(v) for v in idx]).node
    return (isinstance(node, BufferLoad) and node.buffer is buf
            and all(a is b for a, b in zip(node.indices, idx)) and len(node.indices) == len(idx))


class _ReplaceBuffer(IRMutator):  # type: ignore[misc, unused-ignore]  # Any when imports are skipped
    """Every access of one buffer made an access of another."""

    def __init__(self, old: Buffer, new: Buffer) -> None:
        self.old, self.new = old, new

    def visit_Buffer(self, node: Buffer) -> Buffer:
        return self.new if node is self.old else node
