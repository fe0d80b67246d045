"""What an operator is: shape inference plus a compute rule that writes TIR text.

Every operator returns a *final expression*: a function from output index names to the TIR
text of one output element. Elementwise operators need nothing else, so a chain of them
composes into one expression (fusion). Other operators first write stages (``T.sblock``
loop nests over intermediate buffers) with the ``StageWriter`` and return an expression that
reads them. The fused function then stores the composed expression in a single last stage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from tir_lsp.compiler.frontend.graph import FLOATS, OpNode

Index = list[str]
Expr = Callable[[Index], str]

# How an operator may be fused: elementwise ones fold into their producer's last stage;
# injective ones (reshape, transpose, concat) read inputs at other indices, so they start
# a group; complex ones (reductions) start a group and write stages.
ELEMENTWISE, INJECTIVE, COMPLEX = "elementwise", "injective", "complex"


class OpError(Exception):
    """An operator cannot be imported; ``attribute`` names the attribute at fault, if any."""

    def __init__(self, message: str, attribute: str | None = None) -> None:
        super().__init__(message)
        self.attribute = attribute


def f32(value: float) -> str:
    """A float32 literal in TIR text (exact: the float32 value printed as a double)."""
    v = float(np.float32(value))
    if v == float("inf"):
        return "T.float32(3.4028234663852886e+38)"
    if v == float("-inf"):
        return "T.float32(-3.4028234663852886e+38)"
    return f"T.float32({v!r})"


def lit(value: float, dtype: str) -> str:
    """A literal of ``dtype`` in TIR text (ints and bools are floats to the type checker);
    infinities of a float become its largest finite value (as ``f32`` does); an integer
    must fit its dtype."""
    if dtype == "float32":
        return f32(float(value))
    if dtype == "bool":
        return f"T.bool({bool(value)})"
    if dtype in FLOATS:
        v = float(np.asarray(value, dtype=dtype))
        big = float(np.finfo(dtype).max)
        v = big if v == float("inf") else -big if v == float("-inf") else v
        return f"T.{dtype}({v!r})"
    info = np.iinfo(dtype)
    v = int(value)
    if not info.min <= v <= info.max:
        raise OpError(f"the value {value} does not fit {dtype}")
    return f"T.{dtype}({v})"


@dataclass
class Operand:
    """An input of an operator inside a fused function: a buffer param or the chain value,
    with its element dtype."""

    shape: tuple[int, ...]
    load: Callable[[Index], str]
    dtype: str = "float32"


def accum_dtype(dtype: str) -> str:
    """The dtype a reduction over ``dtype`` accumulates in: float16 in float32 (rounded once,
    at the end, as onnxruntime computes it), every other dtype in its own (integers wrap)."""
    return "float32" if dtype == "float16" else dtype


def lowest(dtype: str) -> str:
    """The smallest value of ``dtype`` as a literal: a max-reduction's start and pad value
    (a float's largest finite negative, as ``f32``)."""
    return lit(float("-inf") if dtype in FLOATS else int(np.iinfo(dtype).min), dtype)


def as_dtype(op: Operand, dtype: str) -> Operand:
    """``op`` read as ``dtype``: a cast around each load, or ``op`` itself when it has it."""
    if op.dtype == dtype:
        return op
    return Operand(op.shape, lambda idx: f"T.Cast(\"{dtype}\", {op.load(idx)})", dtype)


def cast_to(dtype: str, expr: Callable[[Index], str], have: str) -> Callable[[Index], str]:
    """The final expression ``expr`` (of dtype ``have``) as ``dtype``."""
    if have == dtype:
        return expr
    return lambda idx: f"T.Cast(\"{dtype}\", {expr(idx)})"


def buffer_operand(name: str, shape: tuple[int, ...], dtype: str = "float32") -> Operand:
    """An operand read straight from buffer ``name`` (rank >= 1: scalars are shape (1,))."""
    return Operand(shape, lambda idx: f"{name}[{', '.join(idx)}]", dtype)


def broadcast(idx: Index, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> Index:
    """The index into an input of ``in_shape`` numpy-broadcast to ``out_shape``."""
    lead = len(out_shape) - len(in_shape)
    return [("0" if d == 1 and out_shape[lead + j] != 1 else idx[lead + j]) for j, d in enumerate(in_shape)]


def broadcast_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    out = []
    for x, y in zip(pa, pb):
        if x != y and 1 not in (x, y):
            raise OpError(f"shapes {a} and {b} do not broadcast")
        out.append(max(x, y))
    return tuple(out)


def shape_text(shape: tuple[int, ...]) -> str:
    """``(4,)`` / ``(1, 3, 8, 8)``: a shape tuple as TIR text."""
    return f"({shape[0]},)" if len(shape) == 1 else f"({', '.join(map(str, shape))})"


def affine(base: str, stride: int, offset: str, dil: int, pad: int) -> str:
    """``base * stride + offset * dil - pad`` without the terms that do nothing."""
    out = base if stride == 1 else f"{base} * {stride}"
    out += f" + {offset}" if dil == 1 else f" + {offset} * {dil}"
    return out if pad == 0 else f"{out} - {pad}"


def axes_input_fold(node: OpNode, consts: dict[str, np.ndarray]) -> tuple[OpNode, dict[str, np.ndarray]]:
    """Axes given as a constant second input (Unsqueeze / Squeeze from opset 13, ReduceSum from
    13 and the other reductions from 18) -> the ``axes`` attribute older opsets use."""
    if len(node.inputs) > 1 and node.inputs[1]:
        if node.inputs[1] not in consts:
            raise OpError(f"input {node.inputs[1]} (axes) must be a constant")
        attrs = {**node.attrs, "axes": [int(a) for a in consts[node.inputs[1]].reshape(-1)]}
        return OpNode(node.name, node.op_type, node.inputs[:1], node.outputs, attrs), {}
    return node, {}


@dataclass
class StageWriter:
    """Collects the TIR text of a function body: buffers it allocates and its loop nests."""

    lines: list[str] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)
    blocks: set[str] = field(default_factory=set)
    # True: intermediate buffers become parameters of the function (``scratch``), placed by
    # the memory planner in the workspace pool, instead of allocations (stack or heap).
    scratch_params: bool = False
    scratch: list[tuple[str, tuple[int, ...]]] = field(default_factory=list)
    # The dtype of each intermediate buffer that is not float32.
    dtypes: dict[str, str] = field(default_factory=dict)

    def fresh(self, base: str) -> str:
        name, k = base, 0
        while name in self.taken:
            k += 1
            name = f"{base}_{k}"
        self.taken.add(name)
        return name

    def alloc(self, base: str, shape: tuple[int, ...], dtype: str = "float32") -> str:
        name = self.fresh(base)
        if dtype != "float32":
            self.dtypes[name] = dtype
        if self.scratch_params:
            self.scratch.append((name, tuple(shape)))
        elif dtype != "float32":
            self.lines.append(f"{name} = T.sblock_alloc_buffer({shape_text(shape)}, \"{dtype}\")")
        else:
            self.lines.append(f"{name} = T.sblock_alloc_buffer({shape_text(shape)})")
        return name

    def stage(self, name: str, extents: list[int], kinds: str, body: Callable[[Index], str],
              target: Callable[[Index], str], init: str | None = None) -> None:
        """A loop nest over ``extents`` writing ``target(v) = body(v)``; ``kinds`` has one
        letter per axis, S (spatial) or R (reduction), and ``init`` starts a reduction."""
        block, k = name, 0
        while block in self.blocks:
            k += 1
            block = f"{name}_{k}"
        self.blocks.add(block)
        loops = [f"i{k}" for k in range(len(extents))]
        bvars = [f"v_i{k}" for k in range(len(extents))]
        ind = "    "
        self.lines.append(f"for {', '.join(loops)} in T.grid({', '.join(map(str, extents))}):")
        self.lines.append(f"{ind}with T.sblock(\"{block}\"):")
        if len(loops) == 1:  # remap binds two or more; one axis is spelled out
            kind = "spatial" if kinds == "S" else "reduce"
            self.lines.append(f"{ind * 2}{bvars[0]} = T.axis.{kind}({extents[0]}, {loops[0]})")
        else:
            self.lines.append(f"{ind * 2}{', '.join(bvars)} = T.axis.remap(\"{kinds}\", [{', '.join(loops)}])")
        if init is not None:
            self.lines.append(f"{ind * 2}with T.init():")
            self.lines.append(f"{ind * 3}{target(bvars)} = {init}")
        self.lines.append(f"{ind * 2}{target(bvars)} = {body(bvars)}")


@dataclass(frozen=True)
class OpDef:
    """One ONNX operator: its TVM-style name, fusion kind, allowed attributes with
    defaults, input count range, shape rule and compute rule."""

    onnx_name: str
    tvm_name: str
    kind: str
    attrs: dict[str, object]
    min_inputs: int
    max_inputs: int
    # (node, input shapes, constant inputs by position) -> output shape
    infer: Callable[[OpNode, list[tuple[int, ...]], dict[int, np.ndarray]], tuple[int, ...]]
    # (writer, node, operands, output shape) -> final expression
    compute: Callable[[StageWriter, OpNode, list[Operand], tuple[int, ...]], Expr]
    # inputs that must be constants known at compile time (Reshape's shape)
    const_inputs: tuple[int, ...] = ()
    # Rewrites the node before shape inference when its constant inputs allow it (batch
    # norm folds to a scale and a shift): (node, constants of the graph) -> (node, new
    # constants). None: nothing to fold.
    fold: Callable[[OpNode, dict[str, np.ndarray]], tuple[OpNode, dict[str, np.ndarray]]] | None = None
    # (node, dtype of each input: None for an omitted one or one of ``const_inputs``) -> the
    # output's dtype, or OpError. None: every input float32, output float32.
    dtypes: Callable[[OpNode, list[str | None]], str] | None = None


def float32_only(node: OpNode, dtypes: list[str | None]) -> str:
    """The dtype rule of operators written for float32 only."""
    for d in dtypes:
        if d is not None and d != "float32":
            raise OpError(f"input dtype {d} is not supported (float32 only)")
    return "float32"


def same_dtype(allowed: tuple[str, ...]) -> Callable[[OpNode, list[str | None]], str]:
    """The dtype rule of an operator whose inputs share one dtype from ``allowed``, which is
    also its output's."""
    def rule(node: OpNode, dtypes: list[str | None]) -> str:
        present = [d for d in dtypes if d is not None]
        if not present:
            raise OpError("has no non-constant input")
        if len(set(present)) > 1:
            raise OpError(f"inputs have different dtypes {sorted(set(present))}")
        if present[0] not in allowed:
            raise OpError(f"input dtype {present[0]} is not supported (supported: {', '.join(allowed)})")
        return present[0]

    return rule
