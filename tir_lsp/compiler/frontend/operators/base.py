"""What an operator is: shape inference plus a compute rule that builds TIR (as IR, through
``ir.construct``; text is only for dumps).

Every operator returns a *final expression*: a function from output indices to the value of
one output element. Elementwise operators need nothing else, so a chain of them composes
into one expression (fusion). Other operators first write stages (``T.sblock`` loop nests
over intermediate buffers) with the ``StageWriter`` and return an expression that reads
them. The fused function then stores the composed expression in a single last stage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import SupportsInt, TypeAlias, cast

import numpy as np

from tir_lsp.compiler.frontend.graph import FLOAT8S, FLOATS, HALF_FLOATS, OpNode, numpy_dtype
from tir_lsp.compiler.ir import construct as ir
from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.construct import ExprLike, Value
from tir_lsp.compiler.ir.dtype import BOOL_T, FLOAT32, INT32
from tir_lsp.compiler.ir.expr import BufferLoad, FloatImm, IntImm
from tir_lsp.compiler.ir.stmt import Stmt

# An index of an output element: one value per dimension (loop or block vars, expressions).
Index: TypeAlias = Sequence[ExprLike]
Expr: TypeAlias = Callable[[Index], Value]


def index_zero() -> Value:
    """The index ``0`` of a dimension of size 1 (an int32 constant, as ``0`` in text)."""
    return index_const(0)


def index_const(n: int) -> Value:
    """An int32 index constant: as a number written in an index expression, it stays a node
    (``8 // 4`` is a floordiv of two constants, not ``2``)."""
    return Value(IntImm(INT32, n))

# How an operator may be fused: elementwise ones fold into their producer's last stage;
# injective ones (reshape, transpose, concat) read inputs at other indices, so they start
# a group; complex ones (reductions) start a group and write stages.
ELEMENTWISE, INJECTIVE, COMPLEX = "elementwise", "injective", "complex"


def as_int(value: object) -> int:
    """An integer attribute's value (ONNX attributes are untyped here)."""
    return int(cast(SupportsInt, value))


def as_ints(value: object) -> list[int]:
    """A list-of-integers attribute's value."""
    return [int(v) for v in cast(Iterable[SupportsInt], value)]


class OpError(Exception):
    """An operator cannot be imported; ``attribute`` names the attribute at fault, if any."""

    def __init__(self, message: str, attribute: str | None = None) -> None:
        super().__init__(message)
        self.attribute = attribute


_F32_MAX = float(np.finfo(np.float32).max)
_BF16_MAX = 3.3895313892515355e38  # (2 - 2**-7) * 2**127


def f32(value: float) -> Value:
    """A float32 constant (``T.float32(v)``): the value rounded to float32; infinities
    become the largest finite float32."""
    v = float(np.float32(value))
    v = _F32_MAX if v == float("inf") else -_F32_MAX if v == float("-inf") else v
    return Value(FloatImm(FLOAT32, v))


def lit(value: float, dtype: str) -> Value:
    """A constant of ``dtype`` (``T.<dtype>(v)``; ints and bools are floats to the type
    checker); infinities of a float become its largest finite value (as ``f32`` does); an
    integer must fit its dtype."""
    if dtype == "float32":
        return f32(float(value))
    if dtype == "bool":
        return Value(IntImm(BOOL_T, int(bool(value))))
    if dtype in FLOAT8S:  # a value it holds (rounded; NaN when out of range)
        return Value(FloatImm(ir.dtype(dtype), float(np.asarray(value, dtype=numpy_dtype(dtype)))))
    if dtype in FLOATS:
        v = float(np.asarray(value, dtype=numpy_dtype(dtype)))
        big = _BF16_MAX if dtype == "bfloat16" else float(np.finfo(dtype).max)  # numpy has no bfloat16 finfo
        v = big if v == float("inf") else -big if v == float("-inf") else v
        return Value(FloatImm(ir.dtype(dtype), v))
    info = np.iinfo(dtype)
    iv = int(value)
    if not info.min <= iv <= info.max:
        raise OpError(f"the value {value} does not fit {dtype}")
    return Value(IntImm(ir.dtype(dtype), iv))


@dataclass
class Operand:
    """An input of an operator inside a fused function: a buffer param or the chain value,
    with its element dtype."""

    shape: tuple[int, ...]
    load: Callable[[Index], Value]
    dtype: str = "float32"
    # The buffer it reads, when it is a buffer (not a fused expression).
    buffer: Buffer | None = None


def accum_dtype(dtype: str) -> str:
    """The dtype a reduction over ``dtype`` accumulates in: float16 and bfloat16 in float32
    (rounded once, at the end, as onnxruntime computes it), every other dtype in its own
    (integers wrap)."""
    return "float32" if dtype in HALF_FLOATS else dtype


def lowest(dtype: str) -> Value:
    """The smallest value of ``dtype``: a max-reduction's start and pad value (a float's
    largest finite negative, as ``f32``)."""
    return lit(float("-inf") if dtype in FLOATS else int(np.iinfo(dtype).min), dtype)


def as_dtype(op: Operand, dtype: str) -> Operand:
    """``op`` read as ``dtype``: a cast around each load, or ``op`` itself when it has it."""
    if op.dtype == dtype:
        return op
    return Operand(op.shape, lambda idx: Value(ir.cast(dtype, op.load(idx))), dtype)


def cast_to(dtype: str, expr: Expr, have: str) -> Expr:
    """The final expression ``expr`` (of dtype ``have``) as ``dtype``."""
    if have == dtype:
        return expr
    return lambda idx: Value(ir.cast(dtype, expr(idx)))


def buffer_operand(buf: Buffer) -> Operand:
    """An operand read straight from ``buf`` (rank >= 1: scalars are shape (1,))."""
    return Operand(ir.dims(buf), lambda idx: at(buf, idx), str(buf.dtype), buf)


def at(buf: Buffer, idx: Index) -> Value:
    """``buf[idx]``."""
    return Value(ir.load(buf, *idx))


def broadcast(idx: Index, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> list[ExprLike]:
    """The index into an input of ``in_shape`` numpy-broadcast to ``out_shape``."""
    lead = len(out_shape) - len(in_shape)
    return [(index_zero() if d == 1 and out_shape[lead + j] != 1 else idx[lead + j]) for j, d in enumerate(in_shape)]


def broadcast_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    out = []
    for x, y in zip(pa, pb):
        if x != y and 1 not in (x, y):
            raise OpError(f"shapes {a} and {b} do not broadcast")
        out.append(max(x, y))
    return tuple(out)


def affine(base: Value, stride: int, offset: Value, dil: int, pad: int) -> Value:
    """``base * stride + offset * dil - pad`` without the terms that do nothing."""
    out = base if stride == 1 else base * stride
    out = out + (offset if dil == 1 else offset * dil)
    return out if pad == 0 else out - pad


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
class BlockFrame:
    """A block being written (``StageWriter.block``): its iterators as values, and the
    buffers it allocates (``T.sblock_alloc_buffer``) and its ``T.init()``."""

    vars: list[Value]
    alloc_buffers: list[Buffer] = field(default_factory=list)
    init: Stmt | None = None

    def alloc(self, name: str, shape: tuple[int, ...], dtype: str = "float32", scope: str = "global") -> Buffer:
        buf = ir.buffer(name, shape, dtype, scope=scope)
        self.alloc_buffers.append(buf)
        return buf


@dataclass
class StageWriter:
    """Builds a function body: the buffers it allocates and its loop nests, as IR. Loops and
    blocks nest as ``with`` statements (``with w.loop("n", 4) as n:``), as in the text."""

    taken: set[str] = field(default_factory=set)
    blocks: set[str] = field(default_factory=set)
    # True: intermediate buffers become parameters of the function (``scratch``), placed by
    # the memory planner in the workspace pool, instead of allocations (stack or heap).
    scratch_params: bool = False
    scratch: list[Buffer] = field(default_factory=list)
    # The buffers the root block allocates (``T.sblock_alloc_buffer`` at function level).
    allocs: list[Buffer] = field(default_factory=list)
    # The statements of each open loop or block, the function's own first.
    frames: list[list[Stmt]] = field(default_factory=lambda: [[]])
    # Buffers written only by the stores of register tiles (``tile_store``), by name, with
    # what the operator's final expression adds to them ("bias", else ""): each element is
    # stored once, from a tile's accumulator, and nothing else in the function reads or
    # writes them, so ``fuse`` may apply the function's final expression to each tile as
    # it is stored (an epilogue) instead of in a last pass over the output.
    tile_outputs: dict[str, str] = field(default_factory=dict)

    def fresh(self, base: str) -> str:
        """A buffer name: ``base``, or ``base_1``, ``base_2``... when the function has it."""
        return _unique(base, self.taken)

    def block_name(self, base: str) -> str:
        """A block name: ``base``, or ``base_1``, ``base_2``... when a block has it."""
        return _unique(base, self.blocks)

    def alloc(self, base: str, shape: tuple[int, ...], dtype: str = "float32") -> Buffer:
        buf = ir.buffer(self.fresh(base), shape, dtype)
        (self.scratch if self.scratch_params else self.allocs).append(buf)
        return buf

    def emit(self, stmt: Stmt) -> None:
        """Appends ``stmt`` to the innermost open loop or block (or the function)."""
        self.frames[-1].append(stmt)

    def tile_store(self, target: Value, value: ExprLike) -> None:
        """``target = value``, a register tile's accumulator stored to its output element
        (see ``tile_outputs``)."""
        node = target.node
        assert isinstance(node, BufferLoad)
        self.tile_outputs.setdefault(node.buffer.name, "")
        self.emit(store_to(target, value))

    def body(self) -> Stmt:
        """The function's statements (all loops and blocks closed)."""
        assert len(self.frames) == 1
        return ir.seq(*self.frames[0])

    @contextmanager
    def loop(self, name: str, extent: int, kind: str = "serial") -> Iterator[Value]:
        """``for name in range(extent)`` (or ``T.<kind>(extent)``) around what is emitted inside."""
        v = ir.var(name)
        self.frames.append([])
        yield Value(v)
        self.emit(ir.for_(v, extent, ir.seq(*self.frames.pop()), kind=kind))

    @contextmanager
    def grid(self, names: Sequence[str], extents: Sequence[int]) -> Iterator[list[Value]]:
        """``for names in T.grid(extents)`` around what is emitted inside."""
        vs = [ir.var(n) for n in names]
        self.frames.append([])
        yield [Value(v) for v in vs]
        body = ir.seq(*self.frames.pop())
        for v, e in reversed(list(zip(vs, extents))):
            body = ir.for_(v, e, body)
        self.emit(body)

    @contextmanager
    def block(self, name: str, axes: Sequence[tuple[str, str, int, ExprLike]]) -> Iterator[BlockFrame]:
        """``with T.sblock(name):`` over ``axes`` (name, kind S/R, extent, bound value)."""
        ivs = [ir.iter_var(n, e, k) for n, k, e, _ in axes]
        frame = BlockFrame([Value(iv.var) for iv in ivs])
        self.frames.append([])
        yield frame
        body = ir.seq(*self.frames.pop())
        self.emit(ir.sblock(name, [(iv, b) for iv, (_, _, _, b) in zip(ivs, axes)], body, frame.init,
                            frame.alloc_buffers))

    def stage(self, name: str, extents: list[int], kinds: str, body: Expr, target: Expr,
              init: ExprLike | None = None) -> None:
        """A loop nest over ``extents`` writing ``target(v) = body(v)``; ``kinds`` has one
        letter per axis, S (spatial) or R (reduction), and ``init`` starts a reduction.
        ``target`` gives the element written (a load of it)."""
        block = self.block_name(name)
        with self.grid([f"i{k}" for k in range(len(extents))], extents) as loops:
            axes = [(f"v_i{k}", kinds[k], e, loops[k]) for k, e in enumerate(extents)]
            with self.block(block, axes) as blk:
                if init is not None:
                    blk.init = store_to(target(blk.vars), init)
                self.emit(store_to(target(blk.vars), body(blk.vars)))


def _unique(base: str, taken: set[str]) -> str:
    name, k = base, 0
    while name in taken:
        k += 1
        name = f"{base}_{k}"
    taken.add(name)
    return name


def store_to(target: Value, value: ExprLike) -> Stmt:
    """``target = value`` for ``target`` a load of the element written."""
    node = target.node
    assert isinstance(node, BufferLoad)
    return ir.store(node.buffer, value, *node.indices)


# An operator's compute rule: (writer, node, operands, output shape) -> final expression.
Compute: TypeAlias = Callable[[StageWriter, OpNode, list[Operand], tuple[int, ...]], Expr]


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
    compute: Compute
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
