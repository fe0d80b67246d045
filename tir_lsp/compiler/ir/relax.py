"""Relax functions (``@R.function``): the graph-level functions TVM prints next to PrimFuncs.

The compiler does not lower Relax; these nodes keep what the language server navigates and
checks (vars with their struct info, bindings, calls, ``cls.f`` references) and what the
printer needs to print a function back. Expressions the checks do not look into are kept as
their source text (``RLiteral``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tir_lsp.compiler.ir.span import Span


@dataclass(frozen=True, slots=True, eq=False)
class Node:
    """Base of the Relax nodes: immutable, identity-compared, with a source span. Not a TIR
    ``tir_lsp.compiler.ir.node.Node``: TIR passes, visitors and the JSON format never see these."""

    span: Span | None = field(default=None, kw_only=True, repr=False)

# ---------------------------------------------------------------- struct info
# A shape dimension: a constant, or the text of a symbolic expression (``n``, ``n * 2``).
Dim = int | str


@dataclass(frozen=True, slots=True, eq=False)
class TensorInfo(Node):
    """``R.Tensor((n, 4), dtype="float32")``; ``shape`` is None when only ``ndim`` is known
    (-1: unknown rank). ``dtype`` is None when not given."""

    shape: tuple[Dim, ...] | None
    dtype: str | None
    ndim: int = -1
    ndim_written: bool = False  # ``ndim=`` was written (TVM writes ``ndim=-1`` for unknown rank)
    vdevice: str | None = None  # ``vdevice="cuda:0:global"``


@dataclass(frozen=True, slots=True, eq=False)
class ShapeInfo(Node):
    """``R.Shape([n, 4])`` (``values``) or ``R.Shape(ndim=2)``."""

    values: tuple[Dim, ...] | None
    ndim: int = -1
    ndim_written: bool = False


@dataclass(frozen=True, slots=True, eq=False)
class TupleInfo(Node):
    """``R.Tuple(a, b)``."""

    fields: tuple[StructInfo, ...]


@dataclass(frozen=True, slots=True, eq=False)
class PrimInfo(Node):
    """``R.Prim("int64")`` / ``T.bool`` (TVM 0.27 prints scalar params as TIR types)."""

    dtype: str
    text: str


@dataclass(frozen=True, slots=True, eq=False)
class OpaqueInfo(Node):
    """Any other annotation (``R.Object``, ``R.Any``, ``R.Callable(...)``), as written."""

    text: str


StructInfo = TensorInfo | ShapeInfo | TupleInfo | PrimInfo | OpaqueInfo


# ---------------------------------------------------------------- vars and expressions
@dataclass(frozen=True, slots=True, eq=False)
class RelaxVar(Node):
    """A parameter or a bound name; ``span`` is its name at the definition. ``sinfo`` is the
    annotation, or what the bound value gives (a ``call_tir``'s ``out_ty``...)."""

    name: str
    sinfo: StructInfo | None


@dataclass(frozen=True, slots=True, eq=False)
class RVarRef(Node):
    var: RelaxVar


@dataclass(frozen=True, slots=True, eq=False)
class RGlobalRef(Node):
    """``cls.name``: a function of the module (``span`` covers ``name``)."""

    name: str
    prefix: str = "cls"


@dataclass(frozen=True, slots=True, eq=False)
class RCall(Node):
    """``op(args, key=value)``: ``op`` is the dotted name as written (``R.call_tir``,
    ``R.nn.relu``), or ``callee`` for a call of a function value (``cls.helper(x)``)."""

    op: str | None
    callee: RExpr | None
    args: tuple[RExpr, ...]
    kwargs: tuple[tuple[str, RExpr], ...]


@dataclass(frozen=True, slots=True, eq=False)
class RTuple(Node):
    """``(a, b)``, or ``[a, b]`` when ``brackets`` (``inplace_indices=[0]``, ``R.shape([8])``)."""

    fields: tuple[RExpr, ...]
    brackets: bool = False
    bare: bool = False  # written without parentheses (``gv = lv0, lv1``)


@dataclass(frozen=True, slots=True, eq=False)
class RTupleGetItem(Node):
    value: RExpr
    index: int


@dataclass(frozen=True, slots=True, eq=False)
class RSInfo(Node):
    """A struct info written where an expression goes (``out_ty=R.Tensor(...)``)."""

    sinfo: StructInfo


@dataclass(frozen=True, slots=True, eq=False)
class RLiteral(Node):
    """Anything else, kept as written: numbers, strings, ``R.shape([8])`` arguments, dicts,
    ``metadata["relax.expr.Constant"][0]``, TIR expressions of symbolic vars."""

    text: str


RExpr = RVarRef | RGlobalRef | RCall | RTuple | RTupleGetItem | RSInfo | RLiteral


# ---------------------------------------------------------------- statements
@dataclass(frozen=True, slots=True, eq=False)
class RBinding(Node):
    """``var = value`` or ``var: annotation = value`` (``annotated``)."""

    var: RelaxVar
    value: RExpr
    annotated: bool = False


@dataclass(frozen=True, slots=True, eq=False)
class RExprStmt(Node):
    """A call kept for its effect (``R.func_attr``, ``R.output`` outside a dataflow block)."""

    value: RExpr


@dataclass(frozen=True, slots=True, eq=False)
class RVerbatim(Node):
    """A statement kept as written: ``cls = Module``, ``n = T.int64()``."""

    text: str


@dataclass(frozen=True, slots=True, eq=False)
class RDataflow(Node):
    """``with R.dataflow():`` ... ``R.output(a, b)``."""

    body: tuple[RStmt, ...]
    outputs: tuple[RVarRef, ...]


@dataclass(frozen=True, slots=True, eq=False)
class RIf(Node):
    cond: RExpr
    then_body: tuple[RStmt, ...]
    else_body: tuple[RStmt, ...]


@dataclass(frozen=True, slots=True, eq=False)
class RReturn(Node):
    value: RExpr


@dataclass(frozen=True, slots=True, eq=False)
class RFunctionDef(Node):
    """A function defined inside a Relax function (a closure), bound to ``var``."""

    func: RelaxFunction
    var: RelaxVar


RStmt = RBinding | RExprStmt | RVerbatim | RDataflow | RIf | RReturn | RFunctionDef


@dataclass(frozen=True, slots=True, eq=False)
class RelaxFunction(Node):
    """An ``@R.function``. ``decorator`` is its decorator as written (``R.function(private=True)``)."""

    name: str
    params: tuple[RelaxVar, ...]
    ret: StructInfo | None
    body: tuple[RStmt, ...]
    decorator: str = "R.function"
    private: bool = False
    name_span: Span | None = None

    @property
    def global_symbol(self) -> str:
        return self.name


def walk_calls(stmts: tuple[RStmt, ...]) -> list[RCall]:
    """Every call in ``stmts``, outermost first, in source order."""
    out: list[RCall] = []

    def expr(e: RExpr) -> None:
        if isinstance(e, RCall):
            out.append(e)
            if e.callee is not None:
                expr(e.callee)
            for a in e.args:
                expr(a)
            for _k, v in e.kwargs:
                expr(v)
        elif isinstance(e, RTuple):
            for f in e.fields:
                expr(f)
        elif isinstance(e, RTupleGetItem):
            expr(e.value)

    def stmt(s: RStmt) -> None:
        if isinstance(s, (RBinding, RExprStmt, RReturn)):
            expr(s.value)
        elif isinstance(s, RDataflow):
            for x in s.body:
                stmt(x)
        elif isinstance(s, RIf):
            expr(s.cond)
            for x in s.then_body + s.else_body:
                stmt(x)
        elif isinstance(s, RFunctionDef):
            for x in s.func.body:
                stmt(x)

    for s in stmts:
        stmt(s)
    return out


# What hover says about the ``R.*`` names that structure a Relax function (signature, meaning).
RELAX_BUILTINS: dict[str, tuple[str, str]] = {
    "function": ("@R.function(private=False, pure=True)", "A Relax function: a graph of calls over tensors."),
    "call_tir": ("R.call_tir(cls.f, (x, ...), out_ty=R.Tensor(...), tir_vars=None)",
                 ("Calls the PrimFunc `f` destination-passing style: `f(x, ..., out)`, one buffer per output; "
                 "the result has the struct info `out_ty`.")),
    "call_tir_inplace": ("R.call_tir_inplace(cls.f, (x, ...), inplace_indices=[i, ...], out_ty=...)",
                         ("Like R.call_tir, but output k is written into argument `inplace_indices[k]` "
                         "(-1: a new buffer).")),
    "call_tir_with_grad": ("R.call_tir_with_grad(cls.f, (x, ...), out_ty=..., te_grad_name=...)",
                           "R.call_tir that also names the TE function computing its gradient."),
    "call_dps_packed": ("R.call_dps_packed(\"name\", (x, ...), out_ty=...)",
                        "Calls a packed function destination-passing style (outputs allocated by the caller)."),
    "call_packed": ("R.call_packed(\"name\", *args, ty_args=...)",
                    "Calls a packed function by name; `ty_args` is the struct info of its result."),
    "call_pure_packed": ("R.call_pure_packed(\"name\", *args, ty_args=...)", "R.call_packed of a pure function."),
    "dataflow": ("with R.dataflow():", ("A dataflow block: pure bindings; only the names in R.output are visible "
                 "after it.")),
    "output": ("R.output(*vars)", "The names a dataflow block exposes to the rest of the function."),
    "func_attr": ("R.func_attr({...})", "Attributes of the Relax function."),
    "const": ("R.const(value, dtype)", "A constant tensor."),
    "Tensor": ("R.Tensor(shape, dtype=..., ndim=-1)", "Struct info of a tensor."),
    "Shape": ("R.Shape([dims]) / R.Shape(ndim=n)", "Struct info of a shape value."),
    "Tuple": ("R.Tuple(*fields)", "Struct info of a tuple."),
    "shape": ("R.shape([dims])", "A shape value."),
    "tuple": ("R.tuple(*values)", "A tuple value."),
}
