"""Semantic checks on the IR of one function: dtypes of stores and operands, buffer ranks,
builtin arity, boolean conditions.

Expects any PrimFunc (built from text, loaded from JSON, or made by a pass); guarantees a
list of diagnostics, never an exception. Text the builder already rejected (TIR012 arity,
syntax) does not reach the IR, so nothing here repeats the builder's reports.

Implicit conversions: TVMScript's parser converts mismatched operands and stored values the
way TVM's ``BinaryOpMatchTypes`` does, and so does our builder, which marks the cast it
inserts by giving it exactly the span of the value it converts (an explicit ``T.Cast`` spans
the whole call). A value converted implicitly gets a warning (TVM accepts it, but int64 ->
int32 or float32 -> float16 silently loses bits); a mismatch with no cast at all, which only
hand-made or pass-made IR can hold, is an error because TVM's own constructors reject it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import fields

from tir_lsp.compiler.diagnostics import ERROR, WARNING, Diagnostic, Related, Severity
from tir_lsp.compiler.ir.affine import affine
from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.builtins import TypeArg, lookup_builtin
from tir_lsp.compiler.ir.dtype import DataType
from tir_lsp.compiler.ir.expr import (
    BinOp,
    BufferLoad,
    BufferRegion,
    Call,
    Cast,
    Expr,
    FloatImm,
    IntImm,
    Select,
    Var,
    index_lanes,
)
from tir_lsp.compiler.ir.function import PrimFunc
from tir_lsp.compiler.ir.node import Node, node_fields
from tir_lsp.compiler.ir.span import Span
from tir_lsp.compiler.ir.stmt import (
    AssertStmt,
    BufferStore,
    DeclBuffer,
    For,
    IfThenElse,
    IterVar,
    SBlockRealize,
    While,
)

_NO_SPAN = Span(1, 1, 1, 1)
# Fields that refer to a buffer declared elsewhere: its shape is checked where it is declared.
_REFERENCE_FIELDS = frozenset({"buffer", "view_of"})
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}
# Names in field annotations that never hold a node to walk (buffers are entered where
# declared, not here).
_LEAF_TYPES = frozenset({"int", "str", "bool", "float", "None", "tuple", "DataType", "PointerType", "Type",
                         "Buffer", "MetadataRef"})


def _child_fields(cls: type) -> tuple[str, ...]:
    names = _CHILD_FIELDS.get(cls)
    if names is None:
        hints = {f.name: set(re.findall(r"[A-Za-z_]\w*", str(f.type))) for f in fields(cls)}
        names = tuple(n for n in node_fields(cls) if n not in _REFERENCE_FIELDS and not hints[n] <= _LEAF_TYPES)
        _CHILD_FIELDS[cls] = names
    return names


def function_nodes(func: PrimFunc) -> list[Node]:
    """Every statement and expression of ``func``'s body (and buffer regions), pre-order.

    A flat list made once per function so that each check is a cheap loop; buffers are not
    entered (their shapes are expressions of the declaration, not of the code).
    """
    out: list[Node] = []
    stack: list[object] = [func.body]
    append, pop, push, extend = out.append, stack.pop, stack.append, stack.extend
    fields_of = _CHILD_FIELDS
    while stack:
        n = pop()
        cls = type(n)
        names = fields_of.get(cls)
        if names is None:
            if cls is tuple or cls is list:
                extend(reversed(n))  # type: ignore[call-overload]
                continue
            if not isinstance(n, Node) or isinstance(n, Buffer):
                continue
            names = _child_fields(cls)
        append(n)  # type: ignore[arg-type]
        for name in names:
            v = getattr(n, name)
            if v is None:
                continue
            if type(v) is dict:
                if v:
                    extend(v.values())
            else:
                push(v)
    return out


def _span(node: Node | None, fallback: Span) -> Span:
    return node.span if node is not None and node.span is not None else fallback


def _buffer_related(buf: Buffer) -> tuple[Related, ...]:
    if buf.span is None:
        return ()
    shape = ", ".join(str(s.value) if isinstance(s, IntImm) else "?" for s in buf.shape)
    return (Related(buf.span, f"buffer '{buf.name}' declared here as {buf.dtype} with shape ({shape})"),)


def implicit_cast_source(e: Expr) -> Expr | None:
    """The value the builder converted implicitly when ``e`` is such a cast (its span is the
    span of its value); None for explicit casts, literals and anything else."""
    if isinstance(e, Cast) and e.span is not None and e.span == e.value.span:
        if isinstance(e.value, (IntImm, FloatImm)):
            return None  # literal promotion, as TVM does it for Python numbers
        return e.value
    return None


def _a(dtype: DataType) -> str:
    """``an int32``, ``a float32``."""
    return f"{'an' if str(dtype)[0] in 'aeiou' else 'a'} {dtype}"


def describe(e: Expr) -> str:
    """A short name for an operand in a message: ``'n'``, ``'A[...]'``, ``T.exp(...)``."""
    if isinstance(e, Var):
        return f"'{e.name}'"
    if isinstance(e, BufferLoad):
        return f"'{e.buffer.name}[...]'"
    if isinstance(e, Call):
        return f"T.{e.op}(...)"
    if isinstance(e, Cast):
        return f'T.Cast("{e.dtype}", ...)'
    if isinstance(e, IntImm):
        return str(e.value)
    return "the value"


class SemanticChecker:
    """Runs each check over the nodes of one function."""

    def __init__(self, func: PrimFunc, filename: str | None = None) -> None:
        self.func = func
        self.file = filename
        self.fallback = func.name_span or func.span or _NO_SPAN
        self.diags: list[Diagnostic] = []
        self.ranges: dict[Var, tuple[int, int]] = {}  # of loop vars and block iterators (run)
        self.views: set[int] = set()

    def report(self, code: str, message: str, node: Node | None, severity: Severity = ERROR,
               related: tuple[Related, ...] = ()) -> None:
        self.diags.append(Diagnostic(code, message, _span(node, self.fallback), severity, related, self.file))

    def run(self, nodes: list[Node]) -> list[Diagnostic]:
        self.ranges = _var_ranges(nodes)
        # Buffers declared over memory bound elsewhere (``T.decl_buffer(..., data=A.data)``,
        # ``A.view(...)``): their shape need not cover what the code reaches through them
        # (TVM's StorageRewrite shares one allocation that way), so their bounds are not checked.
        self.views = {id(n.buffer) for n in nodes if type(n) is DeclBuffer}
        self.out_of_bounds: list[tuple[Node, Diagnostic]] = []
        for n in nodes:
            t = type(n)
            if t is BinOp:
                self.check_binop(n)  # type: ignore[arg-type]
            elif t is BufferStore:
                self.check_store(n)  # type: ignore[arg-type]
                if self.check_rank(n.buffer, len(n.indices), n, "store to"):  # type: ignore[attr-defined]
                    self.check_bounds(n.buffer, n.indices, n, "store to")  # type: ignore[attr-defined]
            elif t is BufferLoad:
                if self.check_rank(n.buffer, len(n.indices), n, "load from"):  # type: ignore[attr-defined]
                    self.check_bounds(n.buffer, n.indices, n, "load from")  # type: ignore[attr-defined]
            elif t is BufferRegion:
                self.check_rank(n.buffer, len(n.region), n, "region of")  # type: ignore[attr-defined]
            elif t is Call:
                self.check_arity(n)  # type: ignore[arg-type]
            elif t in (IfThenElse, While, AssertStmt):
                self.check_condition(n.condition, n)  # type: ignore[attr-defined]
            elif t is SBlockRealize:
                self.check_condition(n.predicate, n)  # type: ignore[attr-defined]
        if self.out_of_bounds:
            # Code under a condition may never run for the values that would be out of bounds
            # (TVM's loop partitioning leaves such branches behind ``if T.GT(0, 0):``).
            guarded = _guarded_ids(self.func.body)
            self.diags += [d for access, d in self.out_of_bounds if id(access) not in guarded]
        return self.diags

    # ------------------------------------------------------------------ TIR017
    def check_binop(self, e: BinOp) -> None:
        a, b = e.a, e.b
        da, db = a.dtype, b.dtype
        if da.is_handle or db.is_handle:
            return
        if da != db:
            self.report("TIR017", f"operands of '{e.op}' have different dtypes: {describe(a)} is {da}, "
                        f"{describe(b)} is {db}; cast one side with T.Cast", e)
            return
        for side, other in ((a, b), (b, a)):
            src = implicit_cast_source(side)
            if src is not None and src.dtype.element_of() != side.dtype.element_of():
                self.report("TIR017", f"operands of '{e.op}' have different dtypes: {describe(src)} is "
                            f"{src.dtype}, {describe(other)} is {other.dtype}; {describe(src)} is converted to "
                            f"{side.dtype} implicitly: write T.Cast(\"{side.dtype}\", ...) if that is meant",
                            e, WARNING)
                return

    # ------------------------------------------------------------------ TIR013
    def check_store(self, st: BufferStore) -> None:
        buf, value = st.buffer, st.value
        lanes = index_lanes(st.indices)
        want = buf.dtype.with_lanes(buf.dtype.lanes * lanes)
        got = value.dtype
        if got != want:
            what = (f"{_a(got)} value into buffer '{buf.name}' of dtype {buf.dtype}"
                    if got.element_of() != want.element_of()
                    else f"a value of {got.lanes} lane(s) into {lanes} index lane(s) of buffer '{buf.name}' ({want})")
            self.report("TIR013", f"store of {what} without a cast; write T.Cast(\"{want}\", ...)",
                        st, ERROR, _buffer_related(buf))
            return
        src = implicit_cast_source(value)
        if src is not None and src.dtype.element_of() != want.element_of():
            self.report("TIR013", f"store of {_a(src.dtype)} value into buffer '{buf.name}' of dtype {buf.dtype} "
                        f"without a cast; it is converted implicitly: write T.Cast(\"{want}\", ...) if that is meant",
                        st, WARNING, _buffer_related(buf))

    # ------------------------------------------------------------------ TIR014
    def check_rank(self, buf: Buffer, count: int, node: Node, what: str) -> bool:
        """Whether ``count`` indices fit ``buf``'s rank (else TIR014)."""
        rank = len(buf.shape)
        if count == rank:
            return True
        hint = ""
        if count == 1 and rank > 1:
            size = 1
            for s in buf.shape:
                size = size * s.value if isinstance(s, IntImm) and size else 0
            hint = (f"; to index it flat, declare a flat view first "
                    f"({buf.name}_1 = T.decl_buffer(({size or 'n'},), data={buf.name}.data))")
        self.report("TIR014", f"{what} buffer '{buf.name}' with {count} index(es), but it has {rank} "
                    f"dimension(s){hint}", node, ERROR, _buffer_related(buf))
        return False

    def check_bounds(self, buf: Buffer, indices: tuple[Expr, ...], node: Node, what: str) -> None:
        """TIR014 for an index outside its dimension of a constant extent on every run: a
        constant, or an affine expression whose loop variables' constant ranges keep it out
        (``s[8 + j]`` on a one-element scalar ``s``), in code no condition guards (``run``
        keeps those). Reported at the index."""
        if id(buf) in self.views:
            return
        for dim, (index, extent) in enumerate(zip(indices, buf.shape)):
            if type(extent) is not IntImm:
                continue
            lo_hi = self._index_range(index)
            if lo_hi is None:
                continue
            lo, hi = lo_hi
            if lo < extent.value and hi >= 0:
                continue
            value = str(lo) if lo == hi else f"from {lo} to {hi}"
            where = f"dimension {dim} of " if len(buf.shape) > 1 else ""
            at = index if index.span is not None and not isinstance(index, Var) else node
            self.out_of_bounds.append((node, Diagnostic(
                "TIR014", f"{what} buffer '{buf.name}' at index {value}, out of bounds: {where}'{buf.name}' "
                f"has {extent.value} element(s)", _span(at, self.fallback), ERROR, _buffer_related(buf), self.file)))
            return

    def _index_range(self, index: Expr) -> tuple[int, int] | None:
        """The least and greatest value of an integer index over its loop variables' ranges;
        None when it is not affine or a variable's range is not known."""
        if index.dtype.lanes != 1 or not index.dtype.is_int:
            return None
        form = affine(index)
        if form is None:
            return None
        lo = hi = form.get(None, 0)
        for var, coeff in form.items():
            if var is None or coeff == 0:
                continue
            r = self.ranges.get(var)
            if r is None:
                return None
            a, b = coeff * r[0], coeff * r[1]
            lo, hi = lo + min(a, b), hi + max(a, b)
        return lo, hi

    # ------------------------------------------------------------------ TIR012
    def check_arity(self, call: Call) -> None:
        # Text calls were checked by the builder before any argument was folded; here only
        # IR made elsewhere (JSON, passes) for builtins whose arguments map one to one.
        if call.span is not None:
            return
        info = lookup_builtin(call.op)
        if info is None or info.kind != "expr" or isinstance(info.result, TypeArg):
            return
        n = len(call.args)
        if n < info.min_args or (info.max_args is not None and n > info.max_args):
            self.report("TIR012", f"T.{call.op} takes {info.arity_text()} argument(s), got {n}: {info.signature}", call)

    # ------------------------------------------------------------------ conditions
    def check_condition(self, cond: Expr, node: Node) -> None:
        dt: DataType = cond.dtype
        # An integer is true when nonzero, in TVM as in C: TVM prints ``if i:`` itself.
        if dt.is_bool or (dt.is_integer and dt.lanes == 1):
            return
        kind = {IfThenElse: "if", While: "while", AssertStmt: "assert", SBlockRealize: "T.where"}[type(node)]
        # A Var's span is where it is defined, not this use: point at the statement then.
        where = cond if cond.span is not None and not isinstance(cond, Var) else node
        self.report("TIR017", f"{kind} condition is {dt}, not bool; compare it explicitly (e.g. x != 0)",
                    where, WARNING)


def _var_ranges(nodes: list[Node]) -> dict[Var, tuple[int, int]]:
    """The least and greatest value of each loop variable and block iterator with constant
    bounds that runs at least once (a var is bound in one place: its range holds wherever it
    is used)."""
    out: dict[Var, tuple[int, int]] = {}
    for n in nodes:
        t = type(n)
        if t is For:
            v, mn, ext, step = n.loop_var, n.min, n.extent, n.step  # type: ignore[attr-defined]
        elif t is IterVar:
            v, mn, ext, step = n.var, n.dom_min, n.dom_extent, None  # type: ignore[attr-defined]
        else:
            continue
        if type(mn) is IntImm and type(ext) is IntImm and ext.value > 0 and step is None:
            out[v] = (mn.value, mn.value + ext.value - 1)
    return out


def _guarded_ids(body: Node) -> set[int]:
    """The ids of the nodes under a condition: the branches of an ``if``, a ``T.Select`` or a
    ``T.if_then_else``, a ``while`` body, a block with a ``T.where`` predicate."""
    out: set[int] = set()
    stack: list[tuple[object, bool]] = [(body, False)]
    while stack:
        n, guarded = stack.pop()
        if isinstance(n, (tuple, list)):
            stack.extend((x, guarded) for x in n)
            continue
        if not isinstance(n, Node) or isinstance(n, Buffer):
            continue
        if guarded:
            out.add(id(n))
        t = type(n)
        if t is IfThenElse or t is Select:
            branches = (n.then_case, n.else_case) if t is IfThenElse else (n.true_value, n.false_value)  # type: ignore[attr-defined]
            stack.append((n.condition, guarded))  # type: ignore[attr-defined]
            stack.extend((b, True) for b in branches)
        elif t is While:
            stack.append((n.condition, guarded))  # type: ignore[attr-defined]
            stack.append((n.body, True))  # type: ignore[attr-defined]
        elif t is Call and n.op == "if_then_else":  # type: ignore[attr-defined]
            args = n.args  # type: ignore[attr-defined]
            stack.append((args[0], guarded))
            stack.extend((a, True) for a in args[1:])
        elif t is SBlockRealize:
            stack.append((n.iter_values, guarded))  # type: ignore[attr-defined]
            stack.append((n.predicate, guarded))  # type: ignore[attr-defined]
            pred = n.predicate  # type: ignore[attr-defined]
            stack.append((n.block, guarded or not (type(pred) is IntImm and pred.value)))  # type: ignore[attr-defined]
        else:
            for name in _child_fields(t):
                v = getattr(n, name)
                if type(v) is dict:
                    stack.extend((x, guarded) for x in v.values())
                elif v is not None:
                    stack.append((v, guarded))
    return out


def check_function(func: PrimFunc, filename: str | None = None,
                   nodes: list[Node] | None = None) -> list[Diagnostic]:
    """Semantic diagnostics of one function (``nodes``: its ``function_nodes``, if made)."""
    return SemanticChecker(func, filename).run(nodes if nodes is not None else function_nodes(func))


def iter_calls(nodes: list[Node], ops: frozenset[str]) -> Iterator[Call]:
    """The calls among ``nodes`` whose op is in ``ops``."""
    for n in nodes:
        if type(n) is Call and n.op in ops:
            yield n
