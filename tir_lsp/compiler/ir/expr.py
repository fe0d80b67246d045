"""Expressions. Every expression has a ``dtype``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tir_lsp.compiler.ir.attrs import MetadataRef
from tir_lsp.compiler.ir.dtype import BOOL_T, HANDLE_T, DataType, PointerType, Type
from tir_lsp.compiler.ir.node import SOURCE_SPANS, Node
from tir_lsp.compiler.ir.span import Span

if TYPE_CHECKING:
    from tir_lsp.compiler.ir.buffer import Buffer


@dataclass(frozen=True, slots=True, eq=False)
class Expr(Node):
    """Base of all expressions. Every concrete class has a ``dtype`` (a field or a property)."""

    if TYPE_CHECKING:

        @property
        def dtype(self) -> DataType: ...


@dataclass(frozen=True, slots=True, eq=False)
class IntImm(Expr):
    dtype: DataType
    value: int


@dataclass(frozen=True, slots=True, eq=False)
class FloatImm(Expr):
    dtype: DataType
    value: float


@dataclass(frozen=True, slots=True, eq=False)
class StringImm(Expr):
    """A string constant. ``metadata`` is set when the text referred to a string TVM left
    out (``metadata["ir.StringImm"][3]``); ``value`` is then a readable placeholder."""

    value: str
    metadata: MetadataRef | None = None

    @property
    def dtype(self) -> DataType:
        return HANDLE_T


@dataclass(frozen=True, slots=True, eq=False)
class Var(Expr):
    """A variable. Its identity is its definition; names may repeat (shadowing)."""

    name: str
    dtype: DataType
    type_annotation: PointerType | None = None



# The ``BinOp.op`` names whose result is bool (ir.construct types a new BinOp by them).
COMPARE_OPS = ("eq", "ne", "lt", "le", "gt", "ge")
LOGIC_OPS = ("and", "or")


@dataclass(frozen=True, slots=True, eq=False)
class BinOp(Expr):
    """``a <op> b``; comparisons and logic ops have dtype bool (with the operands' lanes).

    ``op`` is one of add, sub, mul, div, truncmod, floordiv, floormod, min, max (arithmetic),
    eq, ne, lt, le, gt, ge (comparisons), and, or (logic).
    """

    op: str
    a: Expr
    b: Expr
    dtype: DataType


@dataclass(frozen=True, slots=True, eq=False)
class Not(Expr):
    a: Expr

    @property
    def dtype(self) -> DataType:
        return BOOL_T.with_lanes(self.a.dtype.lanes)


@dataclass(frozen=True, slots=True, eq=False)
class Select(Expr):
    condition: Expr
    true_value: Expr
    false_value: Expr

    @property
    def dtype(self) -> DataType:
        return self.true_value.dtype


@dataclass(frozen=True, slots=True, eq=False)
class Cast(Expr):
    dtype: DataType
    value: Expr


@dataclass(frozen=True, slots=True, eq=False)
class BufferLoad(Expr):
    buffer: Buffer
    indices: tuple[Expr, ...]
    dtype: DataType
    predicate: Expr | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Ramp(Expr):
    """``base, base+stride, ...`` over ``lanes`` lanes."""

    base: Expr
    stride: Expr
    lanes: int

    @property
    def dtype(self) -> DataType:
        return self.base.dtype.with_lanes(self.lanes)


@dataclass(frozen=True, slots=True, eq=False)
class Broadcast(Expr):
    value: Expr
    lanes: int

    @property
    def dtype(self) -> DataType:
        return self.value.dtype.with_lanes(self.lanes)


@dataclass(frozen=True, slots=True, eq=False)
class Shuffle(Expr):
    vectors: tuple[Expr, ...]
    indices: tuple[Expr, ...]
    dtype: DataType


@dataclass(frozen=True, slots=True, eq=False)
class Let(Expr):
    """``T.Let(body, where={var: value})``: an expression-level binding."""

    var: Var
    value: Expr
    body: Expr

    @property
    def dtype(self) -> DataType:
        return self.body.dtype


@dataclass(frozen=True, slots=True, eq=False)
class Call(Expr):
    """A call of a builtin ``T.<op>`` (``exp``, ``call_extern``, ``tvm_struct_get``...).

    ``ret_type`` is the pointer type of a handle-returning call where the text spells one
    (``T.reinterpret(T.handle("float32").ty, x)``).
    """

    dtype: DataType
    op: str
    args: tuple[Expr, ...]
    ret_type: PointerType | None = None
    # Keyword arguments as written (``launch_params=["threadIdx.x"]``), in order.
    kwargs: tuple[tuple[str, Expr], ...] = ()
    # Where each of ``args`` is written (a var's own span is where it is defined, not used).
    arg_spans: tuple[Span | None, ...] = field(default_factory=tuple, compare=False, repr=False, kw_only=True, metadata=SOURCE_SPANS)


@dataclass(frozen=True, slots=True, eq=False)
class TypeLiteral(Expr):
    """A type written as a call argument: ``T.handle("int64", "global").ty`` or ``T.handle().ty``."""

    type: Type

    @property
    def dtype(self) -> DataType:
        return HANDLE_T


@dataclass(frozen=True, slots=True, eq=False)
class ArrayExpr(Expr):
    """A list or tuple passed as a call argument (``T.thread_id([32])``, ``[a, b]``), or
    ``None`` (``kind`` "none", no elements). Only calls hold one; it has no value of its own."""

    elements: tuple[Expr, ...]
    kind: str = "list"  # "list", "tuple" or "none"

    @property
    def dtype(self) -> DataType:
        return HANDLE_T


@dataclass(frozen=True, slots=True, eq=False)
class LambdaExpr(Expr):
    """``lambda i, j: (j, i)``: an index map passed to a call or written in an attribute."""

    params: tuple[Var, ...]
    body: Expr

    @property
    def dtype(self) -> DataType:
        return HANDLE_T


@dataclass(frozen=True, slots=True, eq=False)
class GlobalCall(Expr):
    """``Module.f(a, b)``: a call of another function of the module, by name."""

    dtype: DataType
    callee: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True, eq=False)
class PyValue(Expr):
    """Data of the TVM 0.27 kernel dialect written in Python syntax and kept as written:
    layouts (``T.TileLayout(T.S[(8, 4):(4 @ Axis.laneid, 1)])``), axis names.

    ``form`` is ``name`` (``name`` a dotted name: ``T.S``, ``Axis.laneid``), ``call``
    (``name`` called with ``items`` and ``keywords``), ``index`` (``items[0][items[1:]]``),
    ``slice`` (``items`` start, stop, step; a missing part is None), ``op`` (``name`` the
    operator, ``items`` its operands), ``tuple``, ``list``, ``dict`` (``keywords`` with
    string keys) or ``none``. Numbers and vars inside are ordinary expressions.
    """

    form: str
    name: str = ""
    items: tuple[Expr | None, ...] = ()
    keywords: tuple[tuple[str, Expr], ...] = ()

    @property
    def dtype(self) -> DataType:
        return HANDLE_T


@dataclass(frozen=True, slots=True, eq=False)
class RegionArg(Expr):
    """A buffer region passed to a call (``T.cta.copy(A[0:16, 0:8], B[0:16, 0:8])``)."""

    region: BufferRegion
    whole: bool = False  # written as the buffer's bare name

    @property
    def dtype(self) -> DataType:
        return HANDLE_T


@dataclass(frozen=True, slots=True, eq=False)
class Range(Node):
    """``min:min+extent`` (a slice in a buffer region, or an iteration domain)."""

    min: Expr
    extent: Expr


@dataclass(frozen=True, slots=True, eq=False)
class BufferRegion(Node):
    """``A[v_i, 0:16]``: a buffer and one range per dimension (a point is extent 1)."""

    buffer: Buffer
    region: tuple[Range, ...]


def is_const_int(e: Expr, value: int | None = None) -> bool:
    """Whether ``e`` is an integer constant (equal to ``value`` when given)."""
    return isinstance(e, IntImm) and (value is None or e.value == value)


def index_lanes(indices: tuple[Expr, ...]) -> int:
    """The lane count of a buffer access: that of its vector index (a ramp), else 1. A
    scalable index has negative lanes (``T.vscale() * 4`` is -4)."""
    for i in indices:
        lanes = i.dtype.lanes
        if lanes != 1:
            return lanes
    return 1
