"""Syntax tree -> IR: resolves names through scopes, types expressions, records every
definition and use in a SymbolIndex, and reports problems as diagnostics.

Nothing in the text is evaluated or imported: this is a pure translation of the tree the
parser made (``tir_lsp.compiler.text.syntax``). It never raises on bad input; a statement that
cannot be built is dropped with a diagnostic and the rest of the function still builds.

Dialects: ``syntax.Module.dialect`` is ``"tir"`` (classic ``from tvm.script import tir``),
``"tirx"`` (TVM 0.25+) or None (treated as tirx). The one place they differ is a plain
assignment of a new name ``x = e``: classic TIR binds an immutable let var (Bind); tirx
allocates a mutable one-element local buffer (``AllocBuffer(scalar=True)``) unless ``e`` is
a handle, which is bound with Bind, exactly as TVM 0.27 parses it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tir_lsp.compiler.diagnostics import ERROR, WARNING, Diagnostic
from tir_lsp.compiler.ir.attrs import MetadataRef, TargetLiteral
from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.builtins import lookup_builtin
from tir_lsp.compiler.ir.dtype import (
    BOOL_T,
    FLOAT32,
    HANDLE_T,
    INT32,
    INT64,
    DataType,
    DTypeError,
    PointerType,
    Type,
    parse_dtype,
)
from tir_lsp.compiler.ir.expr import (
    ArrayExpr,
    BinOp,
    Broadcast,
    BufferLoad,
    BufferRegion,
    Call,
    Cast,
    Expr,
    FloatImm,
    GlobalCall,
    IntImm,
    LambdaExpr,
    Let,
    Not,
    PyValue,
    Ramp,
    Range,
    RegionArg,
    Select,
    Shuffle,
    StringImm,
    TypeLiteral,
    Var,
    index_lanes,
)
from tir_lsp.compiler.ir.function import PrimFunc
from tir_lsp.compiler.ir.span import Span
from tir_lsp.compiler.ir.stmt import (
    Allocate,
    AllocateConst,
    AllocBuffer,
    AssertStmt,
    AttrStmt,
    Bind,
    BufferStore,
    DeclBuffer,
    Evaluate,
    For,
    HintStmt,
    IfThenElse,
    IterVar,
    LaunchThread,
    MatchBufferRegion,
    SBlock,
    SBlockRealize,
    ScopeIdDef,
    Stmt,
    While,
    seq,
)
from tir_lsp.compiler.text import syntax as S
from tir_lsp.compiler.text.kernel_dialect import (
    RESULT_DTYPES,
    SCOPE_ID_KINDS,
    is_tile_primitive,
    memory_span,
    registered_in_tvm,
)
from tir_lsp.compiler.text.symbols import Definition, SymbolIndex

NAMESPACES = ("T", "I", "tvm", "tir", "tirx")

# Deepest nesting of statements and expressions together that the builder accepts. What
# comes after it (analysis, printer, passes, C backend) walks the IR recursively, a few
# frames per level: this bound keeps all of them inside Python's limit of 1,000 frames with
# room for the caller's own (a test runner, the language server).
MAX_NESTING = 150
# Python operator -> IR BinOp name (arithmetic and comparison) or builtin call name.
_ARITH = {"+": "add", "-": "sub", "*": "mul", "/": "div", "//": "floordiv", "%": "floormod"}
_COMPARE = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
_BITWISE = {"&": "bitwise_and", "|": "bitwise_or", "^": "bitwise_xor", "<<": "shift_left",
            ">>": "shift_right"}
# T.<name>(a, b) spellings of binary ops.
_BINOP_BUILTINS = {
    "Div": "div", "truncdiv": "div", "truncmod": "truncmod", "floordiv": "floordiv",
    "floormod": "floormod", "min": "min", "max": "max", "Add": "add", "Sub": "sub", "Mul": "mul",
    "FloorDiv": "floordiv", "FloorMod": "floormod", "Mod": "truncmod", "Min": "min", "Max": "max",
    "EQ": "eq", "NE": "ne", "LT": "lt", "LE": "le", "GT": "gt", "GE": "ge", "And": "and", "Or": "or",
}
_LOOP_KINDS = ("serial", "parallel", "vectorized", "unroll", "thread_binding")
_AXIS_KINDS = {"spatial": "S", "reduce": "R", "scan": "scan", "opaque": "O"}
# Calls whose string argument at this position names a function (for the def-use index).
_CALLEE_ARG = {"call_extern": 1, "call_pure_extern": 1, "call_packed": 0, "call_cpacked": 0,
               "tvm_call_packed": 0, "tvm_call_cpacked": 0, "tvm_call_packed_lowered": 0,
               "tvm_call_cpacked_lowered": 0, "call_packed_lowered": 0, "call_cpacked_lowered": 0}
_FLOAT_WORDS = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan, "+inf": math.inf}


def _seq_or_nop(stmts: list[Stmt]) -> Stmt:
    """The body of a function or block; one holding only frame statements (``T.reads``,
    ``T.func_attr``...) is ``T.evaluate(0)``, as TVM builds it and our printer prints it."""
    return seq(stmts) if stmts else Evaluate(IntImm(INT32, 0))


@dataclass
class ModuleContext:
    """What a function sees of its module: the file, the dialect, module-level size vars."""

    filename: str = "<input>"
    dialect: str | None = None
    type_vars: dict[str, Var] = field(default_factory=dict)


class _Drop(Exception):
    """Internal: the statement being built is dropped (its diagnostic is already reported)."""


@dataclass
class _Binding:
    obj: Any          # Var, Buffer
    kind: str         # the Definition kind
    mutable: bool = False  # a scalar buffer (``x: T.float32 = v``) may be assigned again


@dataclass
class _BlockFrame:
    """What ``T.axis``, ``T.reads``... statements add to the enclosing block."""

    name: str
    iter_vars: list[IterVar] = field(default_factory=list)
    iter_values: list[Expr] = field(default_factory=list)
    reads: tuple[BufferRegion, ...] | None = None
    writes: tuple[BufferRegion, ...] | None = None
    init: Stmt | None = None
    predicate: Expr | None = None
    alloc_buffers: list[Buffer] = field(default_factory=list)
    match_buffers: list[MatchBufferRegion] = field(default_factory=list)
    annotations: dict[str, object] = field(default_factory=dict)
    is_root: bool = False


def _t_name(e: S.SExpr) -> str | None:
    """``T.axis.remap`` -> ``axis.remap``; None when ``e`` is not a ``T.`` name."""
    parts: list[str] = []
    while isinstance(e, S.Attribute):
        parts.append(e.attr)
        e = e.value
    if isinstance(e, S.Name) and e.id == "T" and parts:
        return ".".join(reversed(parts))
    return None


def _call_name(e: S.SExpr) -> str | None:
    """The builtin name of a ``T.xxx(...)`` call, else None."""
    if isinstance(e, S.Call):
        return _t_name(e.func)
    return None


def _kw(call: S.Call, name: str) -> S.SExpr | None:
    for k in call.keywords:
        if k.name == name:
            return k.value
    return None


def _arg(call: S.Call, pos: int, name: str) -> S.SExpr | None:
    """Argument ``pos`` or keyword ``name``."""
    if pos < len(call.args):
        return call.args[pos]
    return _kw(call, name)


def _is_literal(e: S.SExpr) -> bool:
    return _literal_value(e) is not None


def _literal_value(e: S.SExpr) -> int | float | None:
    """The number ``e`` spells (``-3``, ``+-1.5``); a loop, not recursion: signs can be many."""
    negate = False
    while isinstance(e, S.UnaryOp) and e.op in ("-", "+"):
        negate ^= e.op == "-"
        e = e.operand
    if isinstance(e, S.Constant) and isinstance(e.value, (int, float)) and not isinstance(e.value, bool):
        return -e.value if negate else e.value
    return None


def _same_syntax(a: object, b: object) -> bool:
    """Whether two syntax trees are the same ignoring spans."""
    if isinstance(a, Span) and isinstance(b, Span):
        return True
    if isinstance(a, tuple) and isinstance(b, tuple):
        return type(a) is type(b) and len(a) == len(b) and all(_same_syntax(x, y) for x, y in zip(a, b))
    return bool(a == b)


def _constant_difference(stop: S.SExpr, start: S.SExpr) -> int | None:
    """``stop - start`` when it is a constant: both numbers, or stop = start + n."""
    a, b = _literal_value(stop), _literal_value(start)
    if isinstance(a, int) and isinstance(b, int):
        return a - b
    if isinstance(stop, S.BinaryOp) and stop.op == "+":
        n = _literal_value(stop.right)
        if (n is None and isinstance(stop.right, S.Call) and len(stop.right.args) == 1
                and _call_name(stop.right) in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")):
            n = _literal_value(stop.right.args[0])  # ``start:start + T.int64(8)``
        if isinstance(n, int) and _same_syntax(stop.left, start):
            return n
    return None


def _scalable_lanes(e: S.SExpr) -> int | None:
    """n when ``e`` is ``T.vscale()`` times number literals (``T.vscale() * 4 * 2`` is 8),
    else None."""
    factor, vscales = 1, 0
    stack = [e]
    while stack:
        x = stack.pop()
        if isinstance(x, S.BinaryOp) and x.op == "*":
            stack += [x.left, x.right]
        elif _call_name(x) == "vscale":
            vscales += 1
        else:
            n = _literal_value(x)
            if not isinstance(n, int) or n <= 0:
                return None
            factor *= n
    return factor if vscales == 1 and isinstance(e, S.BinaryOp) else None


def _placed(node: Any, span: Span) -> Any:
    """A syntax tree with every span replaced by ``span`` (an expression read from a string)."""
    if isinstance(node, Span):
        return span
    if isinstance(node, tuple) and hasattr(node, "_replace"):
        return node._replace(**{f: _placed(getattr(node, f), span) for f in node._fields})
    if isinstance(node, tuple):
        return tuple(_placed(x, span) for x in node)
    return node


def _names_in(e: S.SExpr) -> list[str]:
    """The plain names an expression reads (``n`` in ``T.vectorized(n + m)``)."""
    out: list[str] = []
    stack: list[object] = [e]
    while stack:
        x = stack.pop()
        if type(x) is S.Name:
            out.append(x.id)
        elif type(x) is S.Attribute:
            continue  # ``T.vectorized``: a namespace, not a name read
        elif isinstance(x, tuple) and not isinstance(x, Span):
            stack.extend(x)
    return out


def _dotted(e: S.SExpr) -> str | None:
    """``T.S`` / ``Axis.laneid`` / ``T.TileLayout.from_iters``: a dotted name of a namespace
    (``T`` or ``Axis``), else None."""
    parts: list[str] = []
    while isinstance(e, S.Attribute):
        parts.append(e.attr)
        e = e.value
    if isinstance(e, S.Name) and e.id in ("T", "Axis") and parts:
        return ".".join([e.id, *reversed(parts)])
    return None


def _join_spans(a: Span, b: Span) -> Span:
    return Span(a.line, a.column, b.end_line, b.end_column)


def _fits_int32(v: int) -> bool:
    return -(2**31) <= v < 2**31


def _reads_buffer(e: Expr) -> bool:
    from tir_lsp.compiler.ir.visitor import walk

    found: list[object] = []
    walk(e, lambda n: found.append(n) if isinstance(n, BufferLoad) else None)
    return bool(found)


def _contains_block(stmt: Stmt | None) -> bool:
    from tir_lsp.compiler.ir.visitor import walk

    def fn(n: object) -> None:
        if isinstance(n, SBlock):
            raise _BlockFound  # the walk is pre-order: stop at the first block, not at the end

    if stmt is not None:
        try:
            walk(stmt, fn)
        except _BlockFound:
            return True
    return False


class _BlockFound(Exception):
    pass


# Syntax node class -> the FunctionBuilder method building it (``_expr_<Class>``,
# ``_stmt_<Class>``), found once instead of by name at every node.
_EXPR_METHODS: dict[type, Callable[..., Any]] = {}
_STMT_METHODS: dict[type, Callable[..., Any]] = {}


class FunctionBuilder:
    """Builds one PrimFunc from a ``syntax.FunctionDef``."""

    def __init__(self, ctx: ModuleContext) -> None:
        self.ctx = ctx
        self.index = SymbolIndex()
        self.diags: list[Diagnostic] = []
        self.scopes: list[dict[str, _Binding]] = []
        self.frames: list[_BlockFrame] = []
        # Performance (parser helper): blocks made so far; with none, build() skips the
        # _contains_block walk over the whole body (a fifth of the build time of lowered code).
        self.blocks_made = 0
        self.nesting = 0  # statements and expressions being built, outermost first
        self.suppress_undefined = 0
        self.placeholders: set[int] = set()  # ids of Vars standing for undefined names
        self.fname: str | None = None
        self.attrs: dict[str, object] = {}
        self.buffer_map: list[tuple[Var, Buffer]] = []
        self.params: list[Var] = []
        self.handle_params: dict[int, Var] = {}
        self.env_threads: dict[int, str] = {}
        self.implied_buffers: dict[int, Buffer] = {}  # pointer var id -> its buffer (_allocated_buffer)
        # (min, extent) of the loops whose bodies are being built, for T.axis.remap.
        self.open_loops: dict[int, tuple[Expr, Expr]] = {}

    # ================================================================ diagnostics, scopes
    def error(self, code: str, message: str, span: Span, severity: str = ERROR) -> None:
        # Inside the body of an unreadable block header, names and forms the header would have
        # defined are missing: whatever goes wrong there is a consequence of the syntax error
        # already reported, so it is not reported again.
        if self.suppress_undefined:
            return
        self.diags.append(Diagnostic(code, message, span, severity, file=self.ctx.filename))

    def fail(self, code: str, message: str, span: Span) -> _Drop:
        self.error(code, message, span)
        return _Drop()

    @contextmanager
    def scope(self) -> Iterator[None]:
        self.scopes.append({})
        try:
            yield
        finally:
            self.scopes.pop()

    def lookup(self, name: str) -> _Binding | None:
        for sc in reversed(self.scopes):
            b = sc.get(name)
            if b is not None:
                return b
        tv = self.ctx.type_vars.get(name)
        if tv is not None:
            return _Binding(tv, "size_var")
        return None

    def define(self, name: str, span: Span, obj: Any, kind: str, node: object | None = None,
               mutable: bool = False, check: bool = True) -> Definition:
        """Bind ``name`` in the innermost scope and record its definition."""
        cur = self.scopes[-1]
        if check and name in cur:
            self.error("TIR011", f"'{name}' is already defined in this scope", span)
        cur[name] = _Binding(obj, kind, mutable)
        d = Definition(obj, name, span, kind, node, self.fname)
        self.index.define(d)
        return d

    def refer(self, span: Span, obj: Any) -> None:
        self.index.refer(span, obj)

    # ================================================================ function
    def build(self, fdef: S.FunctionDef) -> PrimFunc | None:
        self.fname = fdef.name.id
        s_tir, private = self._decorator_flags(fdef)
        with self.scope():
            type_params: list[str] = []
            for tp in fdef.type_params:
                v = Var(tp.id, INT64, span=tp.span)  # ``def f[n](...)``: an int64 size, as in TVM
                self.define(tp.id, tp.span, v, "type_param")
                type_params.append(tp.id)
            body_stmts = list(fdef.body)
            self._predeclare_size_vars(body_stmts)
            # Scalar params first: a buffer shape may use a size param listed after it.
            by_param: dict[int, Var] = {}
            for buffers in (False, True):
                for k, p in enumerate(fdef.params):
                    if self._is_buffer_annotation(p.annotation) != buffers:
                        continue
                    try:
                        by_param[k] = self._param(p)
                    except _Drop:
                        pass
            self.params = [by_param[k] for k in sorted(by_param)]
            ret_type: Type | None = None
            if fdef.returns is not None:
                try:
                    ret_type = self._type_annotation(fdef.returns)
                except _Drop:
                    pass
            root = _BlockFrame("root", is_root=True)
            self.frames.append(root)
            with self.scope():
                stmts = self._stmts(body_stmts)
            self.frames.pop()
        body = _seq_or_nop(stmts)
        explicit_root = (
            len(stmts) == 1 and isinstance(stmts[0], SBlockRealize) and stmts[0].block.name == "root"
        )
        if not explicit_root and (root.alloc_buffers or root.match_buffers
                                  or (self.blocks_made and _contains_block(body))):
            blk = SBlock("root", (), (), (), body, alloc_buffers=tuple(root.alloc_buffers),
                         match_buffers=tuple(root.match_buffers), annotations=root.annotations,
                         span=fdef.span)
            body = SBlockRealize((), IntImm(BOOL_T, 1), blk, span=fdef.span)
        func = PrimFunc(
            fdef.name.id, tuple(self.params), tuple(self.buffer_map), body, ret_type=ret_type,
            attrs=self.attrs, s_tir=s_tir, private=private, type_params=tuple(type_params),
            span=fdef.span, name_span=fdef.name.span,
        )
        d = Definition(func, fdef.name.id, fdef.name.span, "function", func, self.fname)
        self.index.define(d)
        return func

    def _decorator_flags(self, fdef: S.FunctionDef) -> tuple[bool, bool]:
        s_tir = private = False
        for dec in fdef.decorators:
            if isinstance(dec, S.Call):
                for k in dec.keywords:
                    if isinstance(k.value, S.Constant) and k.value.value is True:
                        if k.name == "s_tir":
                            s_tir = True
                        elif k.name == "private":
                            private = True
        return s_tir, private

    def _predeclare_size_vars(self, body: list[S.SStmt] | tuple[S.SStmt, ...],
                              only: set[str] | None = None) -> None:
        """``n = T.int32()`` at the top of a body declares a symbolic size used by the params
        (TVM prints it after the signature that already uses ``n``); ``only`` limits this to
        some names (those a loop header uses before its body declares them)."""
        pairs: list[tuple[S.SExpr, S.SExpr]] = []
        for st in body:
            if isinstance(st, S.Assign) and isinstance(st.target, S.TupleExpr) and isinstance(st.value, S.TupleExpr):
                pairs += zip(st.target.elts, st.value.elts)
            elif isinstance(st, S.Assign):
                pairs.append((st.target, st.value))
        for target, value in pairs:
            if only is not None and not (isinstance(target, S.Name) and target.id in only):
                continue
            if isinstance(target, S.Name) and isinstance(value, S.Call):
                name = _call_name(value)
                info = lookup_builtin(name) if name else None
                if info is not None and info.kind == "dtype" and not value.args:
                    dt = self._dtype_of(name or "int32", value.span)
                    v = Var(target.id, dt, span=target.span)
                    self.define(target.id, target.span, v, "size_var")

    # ---------------------------------------------------------------- params
    @staticmethod
    def _is_buffer_annotation(ann: S.SExpr | None) -> bool:
        return isinstance(ann, S.Call) and _call_name(ann) in ("Buffer", "Tensor")

    def _param(self, p: S.Param) -> Var:
        name = p.name.id
        ann = p.annotation
        if ann is None:
            self.error("TIR005", f"parameter '{name}' needs a type annotation (T.Buffer, T.handle, T.int32...)", p.span)
            v = Var(name, INT32, span=p.name.span)
            self.define(name, p.name.span, v, "param")
            return v
        cname = _call_name(ann) if isinstance(ann, S.Call) else None
        if cname in ("Buffer", "Tensor") and isinstance(ann, S.Call):
            buf = self._make_buffer(name, p.name.span, ann, size_vars=True)
            handle = Var(name, HANDLE_T, span=p.name.span)
            self.buffer_map.append((handle, buf))
            self.define(name, p.name.span, buf, "buffer_param", buf)
            return handle
        ty = self._type_annotation(ann)
        if isinstance(ty, PointerType):
            v = Var(name, HANDLE_T, ty, span=p.name.span)
        else:
            v = Var(name, ty, span=p.name.span)
        if v.dtype.is_handle:
            self.handle_params[id(v)] = v
        self.define(name, p.name.span, v, "param", v)
        return v

    def _type_annotation(self, ann: S.SExpr) -> Type:
        """``T.int32``, ``T.handle``, ``T.handle("float32", "global")``, ``T.int32()``."""
        name = _t_name(ann) if isinstance(ann, S.Attribute) else _call_name(ann)
        if name == "TensorMap":  # an opaque handle to a CUDA tensor map descriptor
            return HANDLE_T
        if name == "handle":
            if isinstance(ann, S.Call) and ann.args:
                el = self._const_str(ann.args[0], "pointer element dtype")
                scope = "global"
                sc = _arg(ann, 1, "storage_scope")
                if sc is not None:
                    scope = self._const_str(sc, "storage scope")
                if el in ("void", ""):
                    return HANDLE_T
                return PointerType(self._dtype_of(el, ann.args[0].span), scope)
            return HANDLE_T
        if name is not None and lookup_builtin(name) is not None and lookup_builtin(name).kind in ("dtype", "type"):  # type: ignore[union-attr]
            return self._dtype_of(name, ann.span)
        if isinstance(ann, S.Constant) and isinstance(ann.value, str):
            return self._dtype_of(ann.value, ann.span)
        raise self.fail("TIR005", "expected a TIR type such as T.int32, T.handle or T.Buffer(...)", ann.span)

    # ---------------------------------------------------------------- buffers
    def _make_buffer(self, name: str, name_span: Span, call: S.Call, size_vars: bool = False,
                     shape_pos: int = 0, dtype_pos: int = 1,
                     data: Var | None = None, default_scope: str = "global") -> Buffer:
        """A Buffer from the arguments of T.Buffer / alloc_buffer / decl_buffer / match_buffer."""
        shape_e = _arg(call, shape_pos, "shape")
        if shape_e is None:
            raise self.fail("TIR012", f"T.{_call_name(call)} needs a shape", call.span)
        shape = self._shape(shape_e, size_vars)
        dtype = FLOAT32
        dt_e = _arg(call, dtype_pos, "dtype")
        if dt_e is not None:
            dtype = self._dtype_arg(dt_e)
        scope = default_scope
        sc = _kw(call, "scope")
        if sc is not None:
            scope = self._const_str(sc, "scope")
        strides: tuple[Expr, ...] = ()
        st = _kw(call, "strides")
        if st is not None and not (isinstance(st, S.Constant) and st.value is None):
            strides = self._shape(st, size_vars)
        elem_offset: Expr | None = None
        eo = _kw(call, "elem_offset")
        if eo is not None and not (isinstance(eo, S.Constant) and eo.value is None):
            elem_offset = self._shape_elem(eo, size_vars)
        align = self._const_int_kw(call, "align", 0)
        offset_factor = self._const_int_kw(call, "offset_factor", 0)
        buffer_type = "default"
        bt = _kw(call, "buffer_type")
        if bt is not None:
            buffer_type = self._const_str(bt, "buffer_type")
        axis_separators: tuple[int, ...] = ()
        ax = _kw(call, "axis_separators")
        if isinstance(ax, (S.ListExpr, S.TupleExpr)):
            axis_separators = tuple(self._const_int(x, "axis separator") for x in ax.elts)
        layout: Expr | None = None
        lay = _kw(call, "layout")
        if lay is not None and not (isinstance(lay, S.Constant) and lay.value is None):
            layout = self.py_value(lay)
        if elem_offset is None and offset_factor:
            # TVM gives such a buffer an offset var of its own, read as ``A.elem_offset``.
            elem_offset = Var(f"{name}_elem_offset", shape[0].dtype if shape else INT32, span=name_span)
        if data is None:
            data = Var(name, HANDLE_T, PointerType(dtype, scope), span=name_span)
        addr_e = _kw(call, "allocated_addr")
        addr: tuple[Expr, ...] = ()
        if addr_e is not None and not (isinstance(addr_e, S.Constant) and addr_e.value is None):
            addr = self._shape(addr_e, False)
        return Buffer(name, data, dtype, shape, strides, elem_offset, scope, align, offset_factor,
                      buffer_type, axis_separators, layout=layout, allocated_addr=addr, span=name_span)

    def _string_expr(self, e: S.Constant) -> S.SExpr:
        """The expression a quoted shape entry spells, every node placed on the string."""
        from tir_lsp.compiler.text.parser import parse_module

        tree, diags = parse_module(f"_ = ({e.value})\n")
        first = tree.body[0] if tree.body else None
        if diags or "\n" in str(e.value) or not isinstance(first, S.Assign):
            raise self.fail("TIR019", f"the shape entry {e.text or repr(e.value)} is not an expression", e.span)
        return _placed(first.value, e.span)

    def _shape(self, e: S.SExpr, size_vars: bool) -> tuple[Expr, ...]:
        if isinstance(e, (S.TupleExpr, S.ListExpr)):
            return tuple(self._shape_elem(x, size_vars) for x in e.elts)
        return (self._shape_elem(e, size_vars),)

    def _shape_elem(self, e: S.SExpr, size_vars: bool) -> Expr:
        """A shape/stride entry; in a param annotation a quoted or unknown name is a new size var."""
        if isinstance(e, S.Constant) and isinstance(e.value, str) and not e.value.isidentifier():
            # ``T.Buffer(("M * N",))``: TVM reads the string as an expression of sizes.
            return self._shape_elem(self._string_expr(e), size_vars)
        if isinstance(e, S.Constant) and isinstance(e.value, str):
            b = self.lookup(e.value)
            if b is not None and isinstance(b.obj, Var):
                self.refer(e.span, b.obj)
                return b.obj
            v = Var(e.value, INT32, span=e.span)
            self.define(e.value, e.span, v, "size_var")
            return v
        if size_vars and isinstance(e, S.Name) and self.lookup(e.id) is None:
            v = Var(e.id, INT32, span=e.span)
            self.define(e.id, e.span, v, "size_var")
            return v
        x = self.expr(e, INT32)
        if size_vars and not isinstance(x, (IntImm, Var)) and _reads_buffer(x):
            # A scalar buffer is a statement's business: the printer hoists parameter
            # buffers above it, and a shape is fixed when the buffer is made.
            raise self.fail("TIR019", "a buffer shape cannot read a buffer; use a var (n = T.int32())", e.span)
        return x

    # ================================================================ statements
    def _stmts(self, body: list[S.SStmt] | tuple[S.SStmt, ...]) -> list[Stmt]:
        out: list[Stmt] = []
        for st in body:
            try:
                out.extend(self.stmt(st))
            except _Drop:
                pass
            except RecursionError:
                self.error("TIR005", "statement nested too deeply", st.span)
        return out

    def _body(self, body: tuple[S.SStmt, ...]) -> Stmt:
        with self.scope():
            return seq(self._stmts(body))

    def stmt(self, st: S.SStmt) -> list[Stmt]:
        m = _STMT_METHODS.get(type(st))
        if m is None:
            m = getattr(FunctionBuilder, "_stmt_" + type(st).__name__, None)
            if m is None:
                raise self.fail("TIR005", f"'{type(st).__name__}' is not a TIR statement", st.span)
            _STMT_METHODS[type(st)] = m
        # A statement counts twice: it sits in a SeqStmt, which the IR walks recurse through
        # too (so 75 statement levels; Python's own indentation limit is 100).
        self.nesting += 2
        try:
            if self.nesting > MAX_NESTING:
                raise self.fail("TIR005", f"nested more than {MAX_NESTING} levels deep", st.span)
            result: list[Stmt] = m(self, st)
        finally:
            self.nesting -= 2
        return result

    def _stmt_Pass(self, st: S.Pass) -> list[Stmt]:
        return []

    def _stmt_Import(self, st: S.Import) -> list[Stmt]:
        return []

    def _stmt_Error(self, st: S.Error) -> list[Stmt]:
        # The header was unreadable: names it would have defined are unknown, so undefined
        # names inside are not reported (they would only echo the syntax error).
        self.suppress_undefined += 1
        try:
            with self.scope():
                return self._stmts(st.body)
        finally:
            self.suppress_undefined -= 1

    def _stmt_FunctionDef(self, st: S.FunctionDef) -> list[Stmt]:
        raise self.fail("TIR005", "nested functions are not TIR", st.name.span)

    def _stmt_ClassDef(self, st: S.ClassDef) -> list[Stmt]:
        raise self.fail("TIR005", "classes are not TIR", st.name.span)

    def _stmt_Return(self, st: S.Return) -> list[Stmt]:
        val = self.expr(st.value) if st.value is not None else IntImm(INT32, 0, span=st.span)
        return [Evaluate(Call(val.dtype, "ret", (val,), span=st.span), span=st.span)]

    def _stmt_Assert(self, st: S.Assert) -> list[Stmt]:
        cond = self.expr(st.test, BOOL_T)
        kind: str | None = None
        parts: list[Expr] = []
        msg = st.msg
        if msg is None:
            pass
        elif isinstance(msg, S.TupleExpr) and len(msg.elts) == 2:
            kind = self._const_str(msg.elts[0], "error kind")
            pl = msg.elts[1]
            items = pl.elts if isinstance(pl, (S.ListExpr, S.TupleExpr)) else (pl,)
            parts = [self._message_part(x) for x in items]
        else:
            parts = [self._message_part(msg)]
        return [AssertStmt(cond, tuple(parts), kind, span=st.span)]

    def _message_part(self, e: S.SExpr) -> Expr:
        ref = self._metadata_ref(e)
        if ref is not None:
            return StringImm(f"<metadata {ref.kind}[{ref.index}]>", MetadataRef(ref.kind, ref.index), span=e.span)
        return self.expr(e)

    def _metadata_ref(self, e: S.SExpr) -> MetadataRef | None:
        """``metadata["ir.StringImm"][3]`` -> MetadataRef, else None."""
        if (isinstance(e, S.Subscript) and len(e.indices) == 1 and isinstance(e.value, S.Subscript)
                and isinstance(e.value.value, S.Name) and e.value.value.id == "metadata"
                and len(e.value.indices) == 1):
            k, i = e.value.indices[0], e.indices[0]
            if isinstance(k, S.Constant) and isinstance(k.value, str) and isinstance(i, S.Constant) and isinstance(i.value, int):
                return MetadataRef(k.value, i.value)
        return None

    def _stmt_If(self, st: S.If) -> list[Stmt]:
        cond = self.expr(st.test, BOOL_T)
        then = self._body(st.body)
        els = self._body(st.orelse) if st.orelse else None
        return [IfThenElse(cond, then, els, span=st.span)]

    def _stmt_While(self, st: S.While) -> list[Stmt]:
        cond = self.expr(st.test, BOOL_T)
        return [While(cond, self._body(st.body), span=st.span)]

    # ---------------------------------------------------------------- for loops
    def _stmt_For(self, st: S.For) -> list[Stmt]:
        targets: list[S.Name] = []
        if isinstance(st.target, S.Name):
            targets = [st.target]
        elif isinstance(st.target, S.TupleExpr) and all(isinstance(t, S.Name) for t in st.target.elts):
            targets = list(st.target.elts)  # type: ignore[arg-type]
        else:
            raise self.fail("TIR005", "a loop target must be a name or a tuple of names", st.target.span)
        it = st.iter
        if not isinstance(it, S.Call):
            raise self.fail("TIR005", "loops iterate over range(...) or T.serial/T.grid/...", it.span)
        unknown = {n for n in _names_in(it) if self.lookup(n) is None}
        if unknown:
            # ``for j in T.vectorized(n): n = T.int32()``: TVM declares a size where it first
            # prints it, inside the loop whose header already uses it.
            self._predeclare_size_vars(st.body, unknown)
        fname = _call_name(it)
        kind: str
        loops: list[tuple[Expr, Expr, Expr | None]]  # (min, extent, step)
        thread: str | None = None
        annotations: dict[str, object] = {}
        ann = _kw(it, "annotations")
        if ann is not None:
            annotations = self._attr_dict(ann)
        if isinstance(it.func, S.Name) and it.func.id == "range":
            kind = "serial"
            loops = [self._range_args(it, "range")]
        elif fname == "grid":
            kind = "serial"
            loops = []
            for a in it.args:
                ext = self.expr(a, INT32)
                loops.append((IntImm(ext.dtype, 0, span=a.span), ext, None))
            if not loops:
                raise self.fail("TIR012", "T.grid needs at least one extent", it.span)
        elif fname in _LOOP_KINDS:
            kind = fname
            loops = [self._range_args(it, fname)]
            if fname == "thread_binding":
                th = _kw(it, "thread")
                if th is None and len(it.args) == 3:
                    th = it.args[2]
                if th is None:
                    raise self.fail("TIR012", "T.thread_binding needs thread=\"...\"", it.span)
                thread = self._const_str(th, "thread tag")
        else:
            shown = fname and f"T.{fname}" or "this call"
            raise self.fail("TIR005", f"cannot loop over {shown}", it.span)
        if len(loops) != len(targets):
            raise self.fail("TIR012", f"{len(targets)} loop variables for {len(loops)} loops", st.target.span)
        with self.scope():
            lvars: list[Var] = []
            defs: list[Definition] = []
            for t, (mn, ext, _) in zip(targets, loops):
                dt = ext.dtype if ext.dtype.is_int or ext.dtype.is_uint else INT32
                if mn.dtype != dt and mn.dtype.is_int and mn.dtype.bits > dt.bits:
                    dt = mn.dtype
                v = Var(t.id, dt, span=t.span)
                lvars.append(v)
                defs.append(self.define(t.id, t.span, v, "thread" if thread else "loop", check=False))
                self.open_loops[id(v)] = (mn, ext)
            # Each loop of a T.grid is a level of IR nesting (see ``stmt``).
            self.nesting += 2 * (len(loops) - 1)
            try:
                body = seq(self._stmts(st.body))
            finally:
                self.nesting -= 2 * (len(loops) - 1)
        for i in range(len(loops) - 1, -1, -1):
            mn, ext, step = loops[i]
            body = For(lvars[i], mn, ext, kind, body, thread, annotations if i == len(loops) - 1 else {},
                       step, span=st.span)
            defs[i].node = body
        return [body]

    def _range_args(self, it: S.Call, what: str) -> tuple[Expr, Expr, Expr | None]:
        args = [a for a in it.args]
        if what == "thread_binding" and len(args) == 3:
            args = args[:2]
        start_e = args[0] if args else _kw(it, "start")
        stop_e = args[1] if len(args) > 1 else _kw(it, "stop")
        step_e = args[2] if len(args) > 2 else _kw(it, "step")
        if start_e is None:
            raise self.fail("TIR012", f"{what} needs an extent", it.span)
        if stop_e is None:
            ext = self.expr(start_e, INT32)
            # ``range(T.uint32(4))``: the loop counts in its extent's dtype, as in TVM.
            is_index = ext.dtype.is_int or ext.dtype.is_uint
            return IntImm(ext.dtype if is_index else INT32, 0, span=start_e.span), ext, None
        if _is_literal(start_e) and not _is_literal(stop_e):
            stop = self.expr(stop_e, INT32)
            start = self.expr(start_e, stop.dtype)
        else:
            start = self.expr(start_e, INT32)
            stop = self.expr(stop_e, start.dtype)
        step = self.expr(step_e, start.dtype) if step_e is not None else None
        if isinstance(start, IntImm) and isinstance(stop, IntImm):
            extent: Expr = IntImm(stop.dtype, stop.value - start.value, span=stop.span)
        elif isinstance(start, IntImm) and start.value == 0:
            extent = stop
        else:
            extent = self._binop("sub", stop, start, stop_e.span)
        return start, extent, step

    # ---------------------------------------------------------------- with
    def _stmt_With(self, st: S.With) -> list[Stmt]:
        if len(st.items) != 1:
            raise self.fail("TIR005", "one context per 'with' in TIR", st.span)
        item = st.items[0]
        ctx = item.context
        name = _call_name(ctx)
        if not isinstance(ctx, S.Call) or name is None:
            raise self.fail("TIR005", "'with' needs a T.* context such as T.sblock(...) or T.attr(...)", ctx.span)
        if name in ("sblock", "block"):
            return [self._block(st, ctx)]
        if name == "init":
            frame = self._frame(ctx.span, "T.init")
            frame.init = self._body(st.body)
            return []
        if name == "attr":
            node, key, value = self._attr_args(ctx)
            return [AttrStmt(node, key, value, self._body(st.body), span=st.span)]
        if name == "hint":
            return [self._hint(ctx, self._body(st.body), st.span)]
        if name in ("launch_thread", "allocate", "allocate_const", "let"):
            with self.scope():
                target = item.target
                if not isinstance(target, S.Name):
                    if name == "launch_thread" and target is None and ctx.args and isinstance(ctx.args[0], S.Name):
                        target = None
                    else:
                        raise self.fail("TIR005", f"'with T.{name}(...)' needs 'as <name>'", ctx.span)
                if name == "launch_thread":
                    node = self._launch_thread(target, ctx)
                elif name == "allocate":
                    node = self._allocate(target, ctx)  # type: ignore[arg-type]
                elif name == "allocate_const":
                    node = self._allocate_const(target, ctx)  # type: ignore[arg-type]
                else:
                    raise self.fail("TIR005", "'with T.let' is not supported; use x: T.let[...] = v", ctx.span)
                body = seq(self._stmts(st.body))
            built = node.with_(body=body)
            self._retarget_definition(node, built)
            return [built]
        raise self.fail("TIR005", f"T.{name} cannot be used with 'with'", ctx.span)

    def _retarget_definition(self, old: object, new: object) -> None:
        for d in reversed(self.index.definitions):
            if d.node is old:
                d.node = new
                break

    def _frame(self, span: Span, what: str) -> _BlockFrame:
        if not self.frames or self.frames[-1].is_root:
            raise self.fail("TIR019", f"{what} is only valid directly inside a T.sblock", span)
        return self.frames[-1]

    def _block(self, st: S.With, ctx: S.Call) -> Stmt:
        name_e = _arg(ctx, 0, "name")
        bname = self._const_str(name_e, "block name") if name_e is not None else ""
        frame = _BlockFrame(bname)
        self.frames.append(frame)
        try:
            with self.scope():
                stmts = self._stmts(st.body)
        finally:
            self.frames.pop()
        block = SBlock(bname, tuple(frame.iter_vars), frame.reads, frame.writes, _seq_or_nop(stmts),
                       frame.init, tuple(frame.alloc_buffers), tuple(frame.match_buffers), frame.annotations,
                       span=st.span)
        self.blocks_made += 1
        pred = frame.predicate if frame.predicate is not None else IntImm(BOOL_T, 1)
        return SBlockRealize(tuple(frame.iter_values), pred, block, span=st.span)

    # ---------------------------------------------------------------- expression statements
    def _stmt_ExprStmt(self, st: S.ExprStmt) -> list[Stmt]:
        e = st.value
        name = _call_name(e)
        if isinstance(e, S.Call) and name is not None:
            if name == "func_attr":
                if e.args:
                    self.attrs.update(self._attr_dict(e.args[0]))
                return []
            if name in ("reads", "writes"):
                frame = self._frame(e.span, f"T.{name}")
                regions: list[BufferRegion] = []
                # The regions are the block's header, printed right after its axes: they may
                # not see what the block's body defines (it would print before its definition).
                axes = {id(iv.var) for iv in frame.iter_vars}
                inner = next((n for n, b in self.scopes[-1].items() if id(b.obj) not in axes), None)
                if inner is None and frame.alloc_buffers:
                    inner = frame.alloc_buffers[0].name
                if inner is not None:
                    raise self.fail("TIR019", f"T.{name} must come before the block's own buffers and "
                                              f"bindings ('{inner}' is defined above it)", e.span)
                for a in e.args:
                    items = a.elts if isinstance(a, (S.ListExpr, S.TupleExpr)) else (a,)
                    for x in items:
                        regions.append(self._region(x))
                if name == "reads":
                    frame.reads = tuple(regions)
                else:
                    frame.writes = tuple(regions)
                return []
            if name == "where":
                frame = self._frame(e.span, "T.where")
                self._check_arity("where", e)
                frame.predicate = self.expr(e.args[0], BOOL_T)
                return []
            if name in ("sblock_attr", "block_attr"):
                frame = self._frame(e.span, f"T.{name}")
                if e.args:
                    frame.annotations.update(self._attr_dict(e.args[0]))
                return []
            if name == "evaluate":
                self._check_arity("evaluate", e)
                return [Evaluate(self.expr(e.args[0]), span=st.span)]
            if name == "attr":
                node, key, value = self._attr_args(e)
                return [AttrStmt(node, key, value, None, span=st.span)]
            if name == "launch_thread":
                return [self._launch_thread(None, e)]
            if name == "hint":
                return [self._hint(e, None, st.span)]
            if name == "prim_func":
                raise self.fail("TIR005", "T.prim_func is a decorator", e.span)
        if isinstance(e, S.Call) and isinstance(e.func, S.Attribute) and e.func.attr == "vstore":
            return [self._vstore(e, st.span)]
        return [Evaluate(self.expr(e), span=st.span)]

    def _hint(self, call: S.Call, body: Stmt | None, span: Span) -> HintStmt:
        """``T.hint("message", key=value)``; a value may be a buffer region (``access=A[0:64]``)."""
        msg_e = _arg(call, 0, "message")
        message = self._const_str(msg_e, "hint message") if msg_e is not None else ""
        attrs = tuple((k.name, self._tile_arg(k.value)) for k in call.keywords if k.name != "message")
        return HintStmt(message, attrs, body, span=span)

    def _attr_args(self, call: S.Call) -> tuple[object, str, object]:
        if len(call.args) == 1 and isinstance(call.args[0], S.DictExpr):
            return None, "", self._attr_dict(call.args[0])
        node_e = _arg(call, 0, "node")
        key_e = _arg(call, 1, "attr_key")
        val_e = _arg(call, 2, "value")
        if node_e is None or key_e is None or val_e is None:
            raise self.fail("TIR012", "T.attr takes (node, attr_key, value) or one dict", call.span)
        node = self._attr_value(node_e) if _call_name(node_e) == "target" else self._value_or_buffer(node_e)
        key = self._const_str(key_e, "attribute key")
        value: object
        if isinstance(val_e, S.Constant) and isinstance(val_e.value, str):
            value = StringImm(val_e.value, span=val_e.span)
        else:
            value = self._value_or_buffer(val_e)
        return node, key, value

    def _value_or_buffer(self, e: S.SExpr) -> object:
        """An expression, or a Buffer when ``e`` names one (``T.attr(A, "storage_alignment", 64)``)."""
        if isinstance(e, S.Name):
            b = self.lookup(e.id)
            if b is not None and isinstance(b.obj, Buffer) and not b.mutable:
                self.refer(e.span, b.obj)
                return b.obj
        return self.expr(e)

    def _launch_thread(self, target: S.Name | None, call: S.Call) -> LaunchThread:
        self._check_arity("launch_thread", call)
        first, ext_e = call.args[0], call.args[1]
        ext = self.expr(ext_e, INT32)
        if isinstance(first, S.Constant) and isinstance(first.value, str):
            tag = first.value
            if target is None:
                raise self.fail("TIR005", "T.launch_thread(\"tag\", n) must bind a name: tx = T.launch_thread(...)", call.span)
            v = Var(target.id, ext.dtype if ext.dtype.is_int else INT32, span=target.span)
            node = LaunchThread(v, tag, ext, span=call.span)
            self.define(target.id, target.span, v, "thread", node)
            return node
        # Classic: tx = T.env_thread("threadIdx.x"); T.launch_thread(tx, 16)
        var = self.expr(first)
        if not isinstance(var, Var):
            raise self.fail("TIR019", "T.launch_thread needs a thread tag string or an env_thread var", first.span)
        tag = self.env_threads.get(id(var), var.name)
        return LaunchThread(var, tag, ext, span=call.span)

    # ---------------------------------------------------------------- assignments
    def _stmt_AugAssign(self, st: S.AugAssign) -> list[Stmt]:
        as_binary = S.BinaryOp(st.op, st.target, st.value, st.span)
        return self._assign_existing(st.target, as_binary, st.span)

    def _stmt_AnnAssign(self, st: S.AnnAssign) -> list[Stmt]:
        if not isinstance(st.target, S.Name):
            raise self.fail("TIR005", "only a name can be annotated", st.target.span)
        tgt = st.target
        ann = st.annotation
        is_let = isinstance(ann, S.Subscript) and _t_name(ann.value) == "let"
        if is_let:
            assert isinstance(ann, S.Subscript)
            if len(ann.indices) != 1:
                raise self.fail("TIR005", "T.let[...] takes one type", ann.span)
            ty = self._type_annotation(ann.indices[0])
        else:
            ty = self._type_annotation(ann)
        if st.value is None and self.ctx.dialect != "tir" and isinstance(ty, DataType) and not ty.is_handle:
            # tirx: ``x: T.int32`` declares a mutable scalar, assigned later with ``x = ...``.
            return self._scalar_alloc(tgt, ty, None, st.span)
        if st.value is None:
            # ``n: T.int32`` declares a var, like ``n = T.int32()``.
            v = self._typed_var(tgt, ty)
            self.define(tgt.id, tgt.span, v, "size_var")
            return []
        dt = HANDLE_T if isinstance(ty, PointerType) else ty
        value = self.expr(st.value, dt)
        if is_let or isinstance(ty, PointerType) or dt.is_handle or self.ctx.dialect == "tir":
            v = self._typed_var(tgt, ty)
            node = Bind(v, value, span=st.span)
            self.define(tgt.id, tgt.span, v, "let", node)
            return [node]
        return self._scalar_alloc(tgt, dt, value, st.span)

    def _typed_var(self, tgt: S.Name, ty: Type) -> Var:
        if isinstance(ty, PointerType):
            return Var(tgt.id, HANDLE_T, ty, span=tgt.span)
        return Var(tgt.id, ty, span=tgt.span)

    def _scalar_alloc(self, tgt: S.Name, dt: DataType, value: Expr | None, span: Span) -> list[Stmt]:
        data = Var(tgt.id, HANDLE_T, PointerType(dt, "local"), span=tgt.span)
        buf = Buffer(tgt.id, data, dt, (IntImm(INT32, 1),), scope="local", span=tgt.span)
        alloc = AllocBuffer(buf, scalar=True, span=span)
        self.define(tgt.id, tgt.span, buf, "scalar", alloc, mutable=True)
        if value is None:
            return [alloc]
        return [alloc, BufferStore(buf, self._coerce(value, dt), (IntImm(INT32, 0),), span=span)]

    def _scalar_decl(self, tgt: S.Name, call: S.Call, name: str, span: Span) -> list[Stmt]:
        """``x = T.alloc_scalar(T.float32, scope="shared")`` (and ``T.local_scalar``,
        ``T.shared_scalar``), ``x = T.decl_scalar(T.float32, data=p, elem_offset=0)``: a
        one-element buffer read as ``x`` and written as ``x = v``, as TVM 0.27 prints them."""
        dt_e = _arg(call, 0, "dtype")
        if dt_e is None:
            raise self.fail("TIR012", f"T.{name} needs a dtype", call.span)
        dtype = self._dtype_arg(dt_e)
        default_scope = {"local_scalar": "local", "shared_scalar": "shared"}.get(name, "global")
        sc = _kw(call, "scope")
        scope = self._const_str(sc, "scope") if sc is not None else default_scope
        if name != "decl_scalar":
            data = Var(tgt.id, HANDLE_T, PointerType(dtype, scope), span=tgt.span)
            buf = Buffer(tgt.id, data, dtype, (IntImm(INT32, 1),), scope=scope, span=tgt.span)
            alloc = AllocBuffer(buf, scalar=True, span=span)
            self.define(tgt.id, tgt.span, buf, "scalar", alloc, mutable=True)
            return [alloc]
        data_e = _kw(call, "data")
        data_var: Var | None = None
        data_value: Expr | None = None
        if data_e is not None:
            dv = self.expr(data_e)
            data_var, data_value = (dv, None) if isinstance(dv, Var) else (None, dv)
        eo_e = _kw(call, "elem_offset")
        elem_offset = self.expr(eo_e, INT32) if eo_e is not None else None
        if data_var is None:
            data_var = Var(tgt.id, HANDLE_T, PointerType(dtype, scope), span=tgt.span)
        buf = Buffer(tgt.id, data_var, dtype, (IntImm(INT32, 1),), elem_offset=elem_offset, scope=scope,
                     span=tgt.span)
        node = DeclBuffer(buf, "decl_scalar", data_value=data_value, span=span)
        self.define(tgt.id, tgt.span, buf, "scalar", node, mutable=True)
        return [node]

    def _stmt_Assign(self, st: S.Assign) -> list[Stmt]:
        tgt, val = st.target, st.value
        if isinstance(tgt, S.TupleExpr):
            if _call_name(val) == "axis.remap" and isinstance(val, S.Call):
                return self._axis_remap(tgt, val)
            if _call_name(val) in SCOPE_ID_KINDS and isinstance(val, S.Call):
                return [self._scope_id(tgt.elts, val, _call_name(val) or "")]
            if (isinstance(val, S.TupleExpr) and len(val.elts) == len(tgt.elts)
                    and all(isinstance(t, S.Name) for t in tgt.elts)):
                # ``n, m = T.int32(), T.int32()``: one assignment per pair, left to right.
                out: list[Stmt] = []
                for t, v in zip(tgt.elts, val.elts):
                    out += self._stmt_Assign(S.Assign(t, v, _join_spans(t.span, v.span)))
                return out
            raise self.fail("TIR005", "tuple assignment is only valid with T.axis.remap", tgt.span)
        if isinstance(tgt, S.Subscript):
            return self._assign_existing(tgt, val, st.span)
        if not isinstance(tgt, S.Name):
            raise self.fail("TIR005", "cannot assign to this expression", tgt.span)
        name = _call_name(val)
        if isinstance(val, S.Call) and name is not None:
            handled = self._assign_builtin(tgt, val, name, st.span)
            if handled is not None:
                return handled
        if (isinstance(val, S.Call) and isinstance(val.func, S.Attribute) and val.func.attr == "view"
                and isinstance(val.func.value, S.Name)):
            return [self._view(tgt, val)]
        if (isinstance(val, S.Call) and isinstance(val.func, S.Attribute) and val.func.attr == "local"
                and isinstance(val.func.value, S.Name)):
            return [self._local_view(tgt, val)]
        if (isinstance(val, S.Call) and isinstance(val.func, S.Attribute) and val.func.attr == "permute"
                and isinstance(val.func.value, S.Name)):
            return [self._permute(tgt, val)]
        existing = self.lookup(tgt.id)
        if existing is not None and (existing.mutable or isinstance(existing.obj, Var)
                                     or not self._in_current_scope(tgt.id)
                                     or isinstance(existing.obj, Buffer) and self._scalar_like(existing.obj)):
            return self._assign_existing(tgt, val, st.span)
        value = self.expr(val)
        if self.ctx.dialect == "tir" or value.dtype.is_handle:
            ptr = value.ret_type if isinstance(value, Call) else None
            if ptr is None and isinstance(value, Var):
                ptr = value.type_annotation
            v = Var(tgt.id, value.dtype, ptr, span=tgt.span)
            node = Bind(v, value, span=st.span)
            self.define(tgt.id, tgt.span, v, "let", node)
            return [node]
        return self._scalar_alloc(tgt, value.dtype, value, st.span)

    def _scalar_like(self, buf: Buffer) -> bool:
        """Whether TVM 0.27 reads and writes ``buf`` by its bare name (``A = v``, ``A + 1``):
        a plain one-element buffer (shape (1,), no strides, layout or special alignment).
        The classic dialect has no such sugar."""
        shape = buf.shape
        return (self.ctx.dialect != "tir" and len(shape) == 1 and type(shape[0]) is IntImm
                and shape[0].value == 1 and not buf.strides and buf.layout is None
                and buf.align in (0, 64) and buf.offset_factor in (0, 1) and not buf.axis_separators
                and buf.buffer_type == "default")

    def _in_current_scope(self, name: str) -> bool:
        return name in self.scopes[-1]

    def _assign_existing(self, tgt: S.SExpr, val: S.SExpr, span: Span) -> list[Stmt]:
        """``A[i] = v``, ``x = v`` for a scalar buffer; anything else is an immutable binding."""
        if isinstance(tgt, S.Subscript):
            buf = self._buffer_named(tgt.value)
            indices = self._indices(buf, tgt.indices)
            dt = buf.dtype
            lanes = index_lanes(indices)
            if lanes != 1:
                dt = dt.with_lanes(lanes)
            value = self._coerce(self.expr(val, dt), dt)
            return [BufferStore(buf, value, indices, span=span)]
        if isinstance(tgt, S.Name):
            b = self.lookup(tgt.id)
            if b is None:
                if not self.suppress_undefined:
                    self.error("TIR010", f"undefined name '{tgt.id}'", tgt.span)
                raise _Drop()
            if isinstance(b.obj, Buffer) and (b.mutable or self._scalar_like(b.obj)):
                self.refer(tgt.span, b.obj)
                value = self._coerce(self.expr(val, b.obj.dtype), b.obj.dtype)
                return [BufferStore(b.obj, value, (IntImm(INT32, 0),), span=span)]
            self.refer(tgt.span, b.obj)
            raise self.fail("TIR016", f"cannot assign to '{tgt.id}': it is an immutable {b.kind.replace('_', ' ')} binding", tgt.span)
        raise self.fail("TIR005", "cannot assign to this expression", tgt.span)

    def _assign_builtin(self, tgt: S.Name, call: S.Call, name: str, span: Span) -> list[Stmt] | None:
        info = lookup_builtin(name)
        if info is not None and info.kind == "dtype" and not call.args:
            # ``n = T.int32()``: a symbolic var; already declared when at the top of the body.
            b = self.scopes[-1].get(tgt.id) or (self.scopes[-2].get(tgt.id) if len(self.scopes) > 1 else None)
            if b is not None and b.kind == "size_var":
                return []
            v = Var(tgt.id, self._dtype_of(name, call.span), span=tgt.span)
            self.define(tgt.id, tgt.span, v, "size_var")
            return []
        if name == "match_buffer":
            return self._match_buffer(tgt, call)
        if name in ("alloc_buffer", "alloc_local", "alloc_shared"):
            if self.ctx.dialect == "tir" and name == "alloc_buffer":
                return self._block_alloc(tgt, call, "alloc_buffer")
            self._check_arity(name, call)
            default_scope = {"alloc_local": "local", "alloc_shared": "shared"}.get(name, "global")
            buf = self._make_buffer(tgt.id, tgt.span, call, default_scope=default_scope)
            ann = _kw(call, "annotations")
            node = AllocBuffer(buf, self._attr_dict(ann) if ann is not None else {}, span=span)
            self.define(tgt.id, tgt.span, buf, "alloc_buffer", node)
            return [node]
        if name == "sblock_alloc_buffer":
            return self._block_alloc(tgt, call, "sblock_alloc_buffer")
        if name in ("alloc_scalar", "local_scalar", "shared_scalar", "decl_scalar"):
            return self._scalar_decl(tgt, call, name, span)
        if name == "buffer_decl":  # the TVM 0.8-0.9 spelling
            name = "decl_buffer"
        if name in ("decl_buffer", "Buffer"):
            data_e = _kw(call, "data")
            data_var: Var | None = None
            data_value: Expr | None = None
            if data_e is not None and not (isinstance(data_e, S.Constant) and data_e.value is None):
                dv = self.expr(data_e)
                if isinstance(dv, Var):
                    data_var = dv
                else:
                    data_value = dv
            buf = self._make_buffer(tgt.id, tgt.span, call, data=data_var)
            form = "decl_buffer" if name == "decl_buffer" else "buffer"
            node2 = DeclBuffer(buf, form, data_value=data_value, span=span)
            self.define(tgt.id, tgt.span, buf, "decl_buffer" if form == "decl_buffer" else "buffer", node2)
            return [node2]
        if name == "allocate":
            return [self._allocate(tgt, call)]
        if name == "allocate_const":
            return [self._allocate_const(tgt, call)]
        if name == "launch_thread":
            return [self._launch_thread(tgt, call)]
        if name == "env_thread":
            self._check_arity(name, call)
            tag = self._const_str(call.args[0], "thread tag")
            v = Var(tgt.id, INT32, span=tgt.span)
            self.env_threads[id(v)] = tag
            self.define(tgt.id, tgt.span, v, "thread")
            return []
        if name in SCOPE_ID_KINDS:
            return [self._scope_id((tgt,), call, name)]
        if name.startswith("axis.") and name != "axis.remap":
            frame = self._frame(call.span, f"T.{name}")
            kind = _AXIS_KINDS.get(name[5:])
            if kind is None:
                raise self.fail("TIR004", f"unknown block axis kind T.{name}", call.func.span)
            self._check_arity(name, call)
            dom_e, bind_e = call.args[0], call.args[1]
            binding = self.expr(bind_e, INT32)
            if isinstance(dom_e, (S.TupleExpr, S.ListExpr)) and len(dom_e.elts) == 2:
                lo = self.expr(dom_e.elts[0], binding.dtype)
                hi = self.expr(dom_e.elts[1], binding.dtype)
                dmin, dext = lo, self._binop("sub", hi, lo, dom_e.span) if not (isinstance(lo, IntImm) and isinstance(hi, IntImm)) else IntImm(hi.dtype, hi.value - lo.value)
            else:
                dext = self.expr(dom_e, binding.dtype)
                dmin = IntImm(dext.dtype, 0)
            v = Var(tgt.id, binding.dtype if binding.dtype.is_int else INT32, span=tgt.span)
            iv = IterVar(v, dmin, dext, kind, span=call.span)
            frame.iter_vars.append(iv)
            frame.iter_values.append(binding)
            self.define(tgt.id, tgt.span, v, "block_iter", iv)
            return []
        return None

    def _scope_id(self, targets: tuple[S.SExpr, ...], call: S.Call, kind: str) -> ScopeIdDef:
        """``tx = T.thread_id([32])`` / ``bx, by = T.cta_id([2, 4], dtype="uint32")``."""
        if not all(isinstance(t, S.Name) for t in targets):
            raise self.fail("TIR005", f"T.{kind} binds names", call.span)
        dt_e = _kw(call, "dtype")
        if kind == "cta_id_in_pair" and dt_e is None and call.args:
            dt_e = call.args[0]
        dtype = self._dtype_arg(dt_e) if dt_e is not None else INT32
        ext_e = None if kind == "cta_id_in_pair" else _arg(call, 0, "extents")
        extents = self._id_list(ext_e, dtype)
        preferred = self._id_list(_arg(call, 1, "preferred") if kind.startswith("cta_id") else None, dtype)
        count = len(extents) if extents is not None else 1
        if count != len(targets):
            raise self.fail("TIR012", f"T.{kind} defines {count} id(s), assigned to {len(targets)} name(s)",
                            call.span)
        ids = tuple(Var(t.id, dtype, span=t.span) for t in targets)  # type: ignore[union-attr]
        node = ScopeIdDef(ids, kind, extents, preferred, span=call.span)
        for t, v in zip(targets, ids):
            self.define(t.id, t.span, v, "thread", node)  # type: ignore[union-attr]
        return node

    def _id_list(self, e: S.SExpr | None, dtype: DataType) -> tuple[Expr, ...] | None:
        if e is None or isinstance(e, S.Constant) and e.value is None:
            return None
        items = e.elts if isinstance(e, (S.ListExpr, S.TupleExpr)) else (e,)
        return tuple(self.expr(x, dtype) for x in items)

    def _block_alloc(self, tgt: S.Name, call: S.Call, kind: str) -> list[Stmt]:
        self._check_arity(kind, call)
        buf = self._make_buffer(tgt.id, tgt.span, call)
        ann = _kw(call, "annotations")
        if ann is not None:
            buf = buf.with_(annotations=self._attr_dict(ann))
        frame = self.frames[-1] if self.frames else None
        if frame is None:
            raise self.fail("TIR019", f"T.{kind} outside a function body", call.span)
        frame.alloc_buffers.append(buf)
        self.define(tgt.id, tgt.span, buf, kind, buf)
        return []

    def _match_buffer(self, tgt: S.Name, call: S.Call) -> list[Stmt]:
        self._check_arity("match_buffer", call)
        src = call.args[0]
        if isinstance(src, S.Subscript):
            frame = self.frames[-1] if self.frames else None
            region = self._region(src)
            buf = self._make_buffer(tgt.id, tgt.span, call, shape_pos=1, dtype_pos=2, size_vars=True)
            if _arg(call, 2, "dtype") is None:
                buf = buf.with_(dtype=region.buffer.dtype,
                                data=Var(tgt.id, HANDLE_T, PointerType(region.buffer.dtype, buf.scope), span=tgt.span))
            mb = MatchBufferRegion(buf, region, span=call.span)
            if frame is None:
                raise self.fail("TIR019", "T.match_buffer of a region outside a function", call.span)
            frame.match_buffers.append(mb)
            self.define(tgt.id, tgt.span, buf, "match_buffer", mb)
            return []
        handle = self.expr(src)
        if not (isinstance(handle, Var) and id(handle) in self.handle_params):
            raise self.fail("TIR019", "T.match_buffer needs a handle parameter or a buffer region", src.span)
        if any(v is handle for v, _ in self.buffer_map):
            raise self.fail("TIR011", f"parameter '{handle.name}' is already matched to a buffer", src.span)
        buf = self._make_buffer(tgt.id, tgt.span, call, shape_pos=1, dtype_pos=2, size_vars=True)
        self.buffer_map.append((handle, buf))
        self.define(tgt.id, tgt.span, buf, "match_buffer", buf)
        return []

    def _allocate(self, tgt: S.Name, call: S.Call) -> Allocate:
        self._check_arity("allocate", call)
        ext_e = _arg(call, 0, "extents")
        dt_e = _arg(call, 1, "dtype")
        if ext_e is None or dt_e is None:
            raise self.fail("TIR012", "T.allocate needs extents and a dtype", call.span)
        extents = self._shape(ext_e, False)
        dtype = self._dtype_arg(dt_e)
        scope_e = _arg(call, 2, "scope")
        scope = self._const_str(scope_e, "scope") if scope_e is not None else "global"
        cond_e = _arg(call, 3, "condition")
        cond = self.expr(cond_e, BOOL_T) if cond_e is not None else None
        ann = _kw(call, "annotations")
        v = Var(tgt.id, HANDLE_T, PointerType(dtype, scope), span=tgt.span)
        node = Allocate(v, dtype, extents, cond, self._attr_dict(ann) if ann is not None else {}, span=call.span)
        self.define(tgt.id, tgt.span, v, "allocate", node)
        return node

    def _allocate_const(self, tgt: S.Name, call: S.Call) -> AllocateConst:
        self._check_arity("allocate_const", call)
        data_e, dt_e, ext_e = call.args[0], call.args[1], call.args[2]
        dtype = self._dtype_arg(dt_e)
        extents = self._shape(ext_e, False)
        data: tuple[int | float, ...] | None = None
        ref: tuple[str, int] | None = None
        mref = self._metadata_ref(data_e)
        if mref is not None:
            ref = (mref.kind, mref.index)
        elif isinstance(data_e, (S.ListExpr, S.TupleExpr)):
            vals: list[int | float] = []
            for x in data_e.elts:
                lv = _literal_value(x)
                if lv is None:
                    raise self.fail("TIR019", "T.allocate_const data must be number literals", x.span)
                vals.append(float(lv) if dtype.is_float else int(lv))
            data = tuple(vals)
        else:
            raise self.fail("TIR019", "T.allocate_const data must be a list of numbers or a metadata reference", data_e.span)
        ann = _kw(call, "annotations")
        v = Var(tgt.id, HANDLE_T, PointerType(dtype, "global"), span=tgt.span)
        node = AllocateConst(v, dtype, extents, data, self._attr_dict(ann) if ann is not None else {},
                             None, ref, span=call.span)
        self.define(tgt.id, tgt.span, v, "allocate_const", node)
        return node

    def _view(self, tgt: S.Name, call: S.Call) -> Stmt:
        assert isinstance(call.func, S.Attribute) and isinstance(call.func.value, S.Name)
        src = self._buffer_named(call.func.value)
        # ``A.view(256)``, ``A.view(16, 16)``, ``A.view((16, 16))``, a dtype string anywhere.
        dims = [a for a in call.args if not (isinstance(a, S.Constant) and isinstance(a.value, str))]
        strs = [a for a in call.args if isinstance(a, S.Constant) and isinstance(a.value, str)]
        if len(dims) == 1:
            shape = self._shape(dims[0], False)
        elif dims:
            shape = tuple(self.expr(a, INT32) for a in dims)
        else:
            shape_kw = _kw(call, "shape")
            shape = self._shape(shape_kw, False) if shape_kw is not None else src.shape
        dt_e = strs[0] if strs else _kw(call, "dtype")
        dtype = self._dtype_arg(dt_e) if dt_e is not None else src.dtype
        # ``A.view(8, 8, layout=T.TileLayout(...))``: a view laid out across threads; without
        # ``layout=`` a same-dtype view keeps its source's layout, as TVM does.
        lay = _kw(call, "layout")
        layout = self.py_value(lay) if lay is not None else src.layout if dtype == src.dtype else None
        buf = Buffer(tgt.id, src.data, dtype, shape, scope=src.scope, layout=layout, span=tgt.span)
        node = DeclBuffer(buf, "view", src, span=call.span)
        self.define(tgt.id, tgt.span, buf, "view", node)
        return node

    def _permute(self, tgt: S.Name, call: S.Call) -> Stmt:
        """``B = A.permute(1, 0)``: A's storage with its dimensions reordered (TVM 0.27
        kernels). The permuted layout needs TVM's layout algebra, so it is not kept."""
        assert isinstance(call.func, S.Attribute) and isinstance(call.func.value, S.Name)
        src = self._buffer_named(call.func.value)
        dims: list[int] = []
        for a in call.args:
            if not (isinstance(a, S.Constant) and type(a.value) is int):
                raise self.fail("TIR019", "A.permute takes dimension numbers: A.permute(1, 0)", a.span)
            dims.append(a.value)
        if sorted(dims) != list(range(len(src.shape))):
            raise self.fail("TIR012", f"A.permute needs each of the {len(src.shape)} dimensions of "
                                      f"'{src.name}' once, got {tuple(dims)}", call.span)
        shape = tuple(src.shape[d] for d in dims)
        buf = Buffer(tgt.id, src.data, src.dtype, shape, scope=src.scope, span=tgt.span)
        node = DeclBuffer(buf, "permute", src, span=call.span, dims=tuple(dims))
        self.define(tgt.id, tgt.span, buf, "view", node)
        return node

    def _local_view(self, tgt: S.Name, call: S.Call) -> Stmt:
        """``r = R.local()`` / ``R.local(8, 8)``: the storage one thread holds of a buffer laid
        out across threads (TVM 0.27 kernels). Without a shape it is one dimension, the span
        of the layout's memory part."""
        assert isinstance(call.func, S.Attribute) and isinstance(call.func.value, S.Name)
        src = self._buffer_named(call.func.value)
        lay = _kw(call, "layout")
        layout = self.py_value(lay) if lay is not None else None
        if call.args:
            shape = tuple(self.expr(a, INT32) for a in call.args)
            form = "local_shaped"
        else:
            # TVM: the span of the source layout's memory part, or its size when the local
            # view is given its own layout.
            span = memory_span(src.layout, size=layout is not None)
            if span is None:
                raise self.fail("TIR019", f"cannot tell the local size of '{src.name}' from its layout; "
                                          f"give it: {src.name}.local(n)", call.span)
            shape, form = (IntImm(INT32, span),), "local"
        buf = Buffer(tgt.id, src.data, src.dtype, shape, scope=src.scope, layout=layout, span=tgt.span)
        node = DeclBuffer(buf, form, src, span=call.span)
        self.define(tgt.id, tgt.span, buf, "view", node)
        return node

    def _axis_remap(self, tgt: S.TupleExpr, call: S.Call) -> list[Stmt]:
        frame = self._frame(call.span, "T.axis.remap")
        self._check_arity("axis.remap", call)
        kinds = self._const_str(call.args[0], "iterator kinds")
        binds_e = call.args[1]
        binds = binds_e.elts if isinstance(binds_e, (S.ListExpr, S.TupleExpr)) else (binds_e,)
        if not (len(kinds) == len(binds) == len(tgt.elts)):
            raise self.fail("TIR012", f"T.axis.remap: {len(tgt.elts)} names, {len(kinds)} kinds, {len(binds)} bindings", call.span)
        for t, k, b in zip(tgt.elts, kinds, binds):
            if not isinstance(t, S.Name):
                raise self.fail("TIR005", "T.axis.remap targets must be names", t.span)
            if k not in "SR":
                raise self.fail("TIR019", f"iterator kind '{k}' is not S or R", call.args[0].span)
            binding = self.expr(b, INT32)
            dom = self._loop_extent_of(binding)
            if dom is None:
                raise self.fail("TIR019", "T.axis.remap binds loop variables only", b.span)
            v = Var(t.id, binding.dtype, span=t.span)
            iv = IterVar(v, dom[0], dom[1], k, span=t.span)
            frame.iter_vars.append(iv)
            frame.iter_values.append(binding)
            self.define(t.id, t.span, v, "block_iter", iv)
        return []

    def _loop_extent_of(self, v: Expr) -> tuple[Expr, Expr] | None:
        """The (min, extent) of the loop defining var ``v``."""
        if not isinstance(v, Var):
            return None
        d = self.index.definition_of(v)
        if d is None:
            return None
        node = d.node
        if isinstance(node, For):
            return node.min, node.extent
        # The For node is made after its body; find the loop bounds through a pending record.
        return self.open_loops.get(id(v))

    # ================================================================ expressions
    def expr(self, e: S.SExpr | None, hint: DataType | None = None) -> Expr:
        """Build an expression; ``hint`` is the dtype a bare number literal takes."""
        if e is None:
            raise _Drop()
        m = _EXPR_METHODS.get(type(e))
        if m is None:
            m = getattr(FunctionBuilder, "_expr_" + type(e).__name__, None)
            if m is None:
                raise self.fail("TIR005", f"'{type(e).__name__}' is not a TIR expression", e.span)
            _EXPR_METHODS[type(e)] = m
        self.nesting += 1
        try:
            if self.nesting > MAX_NESTING:
                raise self.fail("TIR005", f"nested more than {MAX_NESTING} levels deep", e.span)
            result: Expr = m(self, e, hint)
        finally:
            self.nesting -= 1
        return result

    def _expr_Constant(self, e: S.Constant, hint: DataType | None) -> Expr:
        v = e.value
        if isinstance(v, bool):
            return IntImm(BOOL_T, int(v), span=e.span)
        if isinstance(v, int):
            if hint is not None and hint.is_float:
                return FloatImm(hint.element_of(), float(v), span=e.span)
            if hint is not None and (hint.is_int or hint.is_uint):
                el = hint.element_of()
                lo, hi = (0, 2**el.bits) if el.is_uint else (-(2 ** (el.bits - 1)), 2 ** (el.bits - 1))
                if lo <= v < hi:
                    return IntImm(el, v, span=e.span)
                # Too wide for the other side's type: int64, and the other side is cast.
            if not -(2 ** 63) <= v < 2 ** 63:
                raise self.fail("TIR019", f"integer literal {v} does not fit in 64 bits", e.span)
            return IntImm(INT32 if _fits_int32(v) else INT64, v, span=e.span)
        if isinstance(v, float):
            dt = hint.element_of() if hint is not None and hint.is_float else FLOAT32
            return FloatImm(dt, v, span=e.span)
        if isinstance(v, str):
            return StringImm(v, span=e.span)
        raise self.fail("TIR005", "None is not a TIR value", e.span)

    def _expr_Name(self, e: S.Name, hint: DataType | None) -> Expr:
        if e.id in NAMESPACES:
            raise self.fail("TIR005", f"'{e.id}' is a namespace, not a value", e.span)
        b = self.lookup(e.id)
        if b is None:
            if not self.suppress_undefined:
                self.error("TIR010", f"undefined name '{e.id}'", e.span)
            placeholder = Var(e.id, hint if hint is not None and not hint.is_float else INT32, span=e.span)
            self.placeholders.add(id(placeholder))
            return placeholder
        self.refer(e.span, b.obj)
        if isinstance(b.obj, Buffer):
            if b.mutable or self._scalar_like(b.obj):
                return BufferLoad(b.obj, (IntImm(INT32, 0),), b.obj.dtype, span=e.span)
            raise self.fail("TIR019", f"buffer '{e.id}' used as a value; index it or use {e.id}.data", e.span)
        if isinstance(b.obj, Var):
            return b.obj
        raise self.fail("TIR005", f"'{e.id}' is not a value", e.span)

    def _expr_Attribute(self, e: S.Attribute, hint: DataType | None) -> Expr:
        if e.attr == "ty" and isinstance(e.value, S.Call) and _call_name(e.value) == "handle":
            return TypeLiteral(self._type_annotation(e.value), span=e.span)
        if e.attr == "ty" and isinstance(e.value, S.Call):
            return TypeLiteral(self._type_annotation(e.value), span=e.span)
        if (isinstance(e.value, S.Name) and e.value.id not in NAMESPACES
                or isinstance(e.value, S.Attribute) and e.value.attr in ("source", "buffer")):
            buf = self._buffer_named(e.value)
            if e.attr == "data":
                return buf.data
            if e.attr == "elem_offset":
                return buf.elem_offset if buf.elem_offset is not None else IntImm(INT32, 0, span=e.attr_span)
            if e.attr in ("shape", "strides"):
                raise self.fail("TIR005", f"'{e.value.id}.{e.attr}' is a tuple; index it: {e.value.id}.{e.attr}[0]", e.span)
            raise self.fail("TIR005", f"buffer attribute '.{e.attr}' is not supported here", e.attr_span)
        name = _t_name(e)
        if name is not None:
            info = lookup_builtin(name)
            if info is None:
                self.error("TIR004", f"unknown builtin T.{name}", e.span, WARNING)
            raise self.fail("TIR005", f"T.{name} is not a value here (call it?)", e.span)
        raise self.fail("TIR005", "attribute access is not a TIR expression here", e.span)

    def _expr_UnaryOp(self, e: S.UnaryOp, hint: DataType | None) -> Expr:
        if e.op in ("-", "+"):
            lv = _literal_value(e)
            if lv is not None:
                c = S.Constant(lv, e.span)
                return self._expr_Constant(c, hint)
            a = self.expr(e.operand, hint)
            if a.dtype.is_handle or a.dtype.is_bool:  # there is no -1 of a handle or a bool to multiply by
                kind = "a bool" if a.dtype.is_bool else "a handle (a string or pointer)"
                raise self.fail("TIR005", f"unary '{e.op}' of {kind} is not TIR", e.span)
            if e.op == "+":
                return a
            # TVM spells negation as a multiplication by -1 (``x * -1``), so do we.
            neg = FloatImm(a.dtype.element_of(), -1.0) if a.dtype.is_float else IntImm(a.dtype.element_of(), -1)
            return self._binop("mul", a, neg, e.span)
        if e.op == "not":
            a = self.expr(e.operand, BOOL_T)
            return Not(a, span=e.span)
        if e.op == "~":
            a = self.expr(e.operand, hint)
            return Call(a.dtype, "bitwise_not", (a,), span=e.span)
        raise self.fail("TIR005", f"unary '{e.op}' is not TIR", e.span)

    def _operands(self, left: S.SExpr, right: S.SExpr, hint: DataType | None) -> tuple[Expr, Expr]:
        """Build both sides; a number literal takes the other side's dtype, as in TVM."""
        if _is_literal(left) and not _is_literal(right):
            b = self.expr(right, hint)
            a = self.expr(left, b.dtype)
        elif _is_literal(right) and not _is_literal(left):
            a = self.expr(left, hint)
            b = self.expr(right, a.dtype)
        else:
            a = self.expr(left, hint)
            b = self.expr(right, a.dtype if _is_literal(right) else hint)
        return a, b

    def _expr_BinaryOp(self, e: S.BinaryOp, hint: DataType | None) -> Expr:
        op = e.op
        if op in ("and", "or"):
            a = self.expr(e.left, BOOL_T)
            b = self.expr(e.right, BOOL_T)
            return BinOp(op, a, b, BOOL_T.with_lanes(max(a.dtype.lanes, b.dtype.lanes)), span=e.span)
        if op in _COMPARE:
            a, b = self._operands(e.left, e.right, None)
            return self._binop(_COMPARE[op], a, b, e.span)
        if hint is not None and hint.is_bool:
            hint = None
        if op in _ARITH:
            a, b = self._operands(e.left, e.right, hint)
            return self._binop(_ARITH[op], a, b, e.span)
        if op in _BITWISE:
            a, b = self._operands(e.left, e.right, hint)
            a, b = self._match(a, b)
            return Call(a.dtype, _BITWISE[op], (a, b), span=e.span)
        if op == "**":
            a, b = self._operands(e.left, e.right, hint)
            a, b = self._match(a, b)
            return Call(a.dtype, "pow", (a, b), span=e.span)
        raise self.fail("TIR005", f"operator '{op}' is not TIR", e.span)

    def _binop(self, op: str, a: Expr, b: Expr, span: Span | None) -> Expr:
        a, b = self._match(a, b)
        if op in _COMPARE.values() or op in ("and", "or"):
            dt = BOOL_T.with_lanes(a.dtype.lanes)
        else:
            dt = a.dtype
        return BinOp(op, a, b, dt, span=span)

    def _match(self, a: Expr, b: Expr) -> tuple[Expr, Expr]:
        """Bring two operands to one dtype as TVM's BinaryOpMatchTypes does."""
        da, db = a.dtype, b.dtype
        # An undefined name (already reported) takes the other side's dtype rather than a cast,
        # so the one mistake is not reported again as a dtype mismatch.
        if da != db and isinstance(a, Var) and id(a) in self.placeholders:
            return Var(a.name, db, span=a.span), b
        if da != db and isinstance(b, Var) and id(b) in self.placeholders:
            return a, Var(b.name, da, span=b.span)
        if da == db or da.is_handle or db.is_handle:
            return a, b
        if da.lanes != db.lanes:
            if da.lanes == 1:
                a = Broadcast(a, db.lanes, span=a.span)
            elif db.lanes == 1:
                b = Broadcast(b, da.lanes, span=b.span)
            da, db = a.dtype, b.dtype
            if da == db:
                return a, b
        ea, eb = da.element_of(), db.element_of()
        target: DataType
        if ea.is_float and not eb.is_float:
            target = ea
        elif eb.is_float and not ea.is_float or ea.is_bool and not eb.is_bool:
            target = eb
        elif eb.is_bool and not ea.is_bool:
            target = ea
        elif ea.bits != eb.bits:
            target = ea if ea.bits > eb.bits else eb
        elif ea.is_uint != eb.is_uint:
            target = ea if ea.is_uint else eb
        else:
            return a, b
        lanes = da.lanes
        return self._coerce(a, target.with_lanes(lanes)), self._coerce(b, target.with_lanes(lanes))

    def _coerce(self, e: Expr, dt: DataType) -> Expr:
        """``e`` as ``dt``: literals retyped, other values cast; unchanged when it matches."""
        if e.dtype == dt or dt.is_handle or e.dtype.is_handle:
            return e
        if e.dtype.lanes == 1 and dt.lanes > 1:
            return Broadcast(self._coerce(e, dt.element_of()), dt.lanes, span=e.span)
        if (isinstance(e, IntImm) and e.span is not None and not e.dtype.is_bool and not dt.is_bool
                and dt.lanes == 1 and dt.is_float):
            return FloatImm(dt, float(e.value), span=e.span)
        if e.dtype.lanes != dt.lanes:
            return e
        return Cast(dt, e, span=e.span)

    def _expr_Subscript(self, e: S.Subscript, hint: DataType | None) -> Expr:
        if self._metadata_ref(e) is not None:
            ref = self._metadata_ref(e)
            assert ref is not None
            return StringImm(f"<metadata {ref.kind}[{ref.index}]>", ref, span=e.span)
        if (isinstance(e.value, S.Attribute) and e.value.attr in ("shape", "strides")
                and isinstance(e.value.value, S.Name)):
            return self._shape_entry(e.value, e.indices)
        buf = self._buffer_named(e.value)
        indices = self._indices(buf, e.indices)
        lanes = index_lanes(indices)
        dt = buf.dtype.with_lanes(lanes) if lanes != 1 else buf.dtype
        return BufferLoad(buf, indices, dt, span=e.span)

    def _shape_entry(self, attr: S.Attribute, items: tuple[S.SExpr, ...]) -> Expr:
        """``A.shape[i]`` / ``A.strides[i]``: the entry itself, as TVM reads it."""
        buf = self._buffer_named(attr.value)
        dims = buf.shape if attr.attr == "shape" else buf.strides
        k = self._const_int(items[0], f"index of {attr.attr}") if len(items) == 1 else None
        if k is None or not -len(dims) <= k < len(dims):
            raise self.fail("TIR014", f"'{buf.name}.{attr.attr}' has {len(dims)} entries", attr.span)
        return dims[k]

    def _buffer_named(self, e: S.SExpr) -> Buffer:
        if isinstance(e, S.Attribute) and e.attr in ("source", "buffer") and isinstance(e.value, S.Name):
            # ``x.source`` / ``x.buffer``: the one-element buffer holding scalar ``x``.
            buf = self._buffer_named(e.value)
            b = self.lookup(e.value.id)
            if b is None or not (b.mutable or self._scalar_like(buf)):
                raise self.fail("TIR019", f"'{e.value.id}' is not a scalar; '.{e.attr}' is the buffer of a scalar", e.span)
            return buf
        if not isinstance(e, S.Name):
            raise self.fail("TIR005", "only a buffer name can be indexed", e.span)
        b = self.lookup(e.id)
        if b is None:
            if not self.suppress_undefined:
                self.error("TIR010", f"undefined buffer '{e.id}'", e.span)
            raise _Drop()
        self.refer(e.span, b.obj)
        if not isinstance(b.obj, Buffer):
            implied = self._allocated_buffer(b)
            if implied is not None:
                return implied
            raise self.fail("TIR019", f"'{e.id}' is not a buffer", e.span)
        return b.obj

    def _allocated_buffer(self, b: _Binding) -> Buffer | None:
        """The buffer a pointer from ``K = T.allocate(...)`` / ``T.allocate_const(...)``
        stands for when it is indexed directly (``K[x]``, TVM 0.8-0.9 text): its dtype and
        extents, over its memory; one per pointer."""
        if b.kind not in ("allocate", "allocate_const") or not isinstance(b.obj, Var):
            return None
        buf = self.implied_buffers.get(id(b.obj))
        if buf is None:
            d = self.index.definition_of(b.obj)
            node = d.node if d is not None else None
            if not isinstance(node, (Allocate, AllocateConst)):
                return None
            buf = Buffer(b.obj.name, b.obj, node.dtype, node.extents, span=b.obj.span)
            self.implied_buffers[id(b.obj)] = buf
        return buf

    def _indices(self, buf: Buffer, items: tuple[S.SExpr, ...]) -> tuple[Expr, ...]:
        if len(items) == 1 and type(items[0]) is S.TupleExpr and not items[0].elts:
            return ()  # ``S[()]``: the element of a zero-dimensional buffer
        out: list[Expr] = []
        for k, x in enumerate(items):
            if isinstance(x, S.Slice):
                out.append(self._slice_ramp(x, buf.shape[k].dtype if k < len(buf.shape) else INT32))
                continue
            dim_dt = buf.shape[k].dtype if k < len(buf.shape) and buf.shape[k].dtype.is_int else INT32
            out.append(self.expr(x, dim_dt))
        return tuple(out)

    def _slice_ramp(self, x: S.Slice, dim_dt: DataType) -> Expr:
        """``A[b:b + 16]`` (a vector access) -> Ramp(b, 1, 16); the lane count must be a
        constant: stop is written as start plus a number, as TVM prints it."""
        if x.start is None or x.stop is None:
            raise self.fail("TIR019", "a vector slice needs a start and a stop", x.span)
        base = self.expr(x.start, dim_dt if dim_dt.is_int else INT32)
        if not (base.dtype.is_int or base.dtype.is_uint):
            raise self.fail("TIR019", f"a vector slice needs an integer start, not {base.dtype}", x.start.span)
        stride = self.expr(x.step, base.dtype) if x.step is not None else IntImm(base.dtype, 1)
        width = _constant_difference(x.stop, x.start)
        scalable = _scalable_lanes(x.stop) if _literal_value(x.start) == 0 else None
        if (scalable is None and isinstance(x.stop, S.BinaryOp) and x.stop.op == "+"
                and _same_syntax(x.stop.left, x.start)):
            scalable = _scalable_lanes(x.stop.right)  # ``b:b + T.vscale() * 4``
        if scalable is not None:  # ``A[0:T.vscale() * 4]``, ``A[b:b + T.vscale() * 8:2]``
            self.expr(x.stop, base.dtype)
            step = stride.value if isinstance(stride, IntImm) and stride.value > 0 else 1
            return Ramp(base, stride, -max(scalable // step, 1), span=x.span)
        if width is None:
            raise self.fail("TIR019", "the length of a vector slice must be a constant (start:start + n)", x.span)
        # Visit the stop for references; its value is implied by start and lanes.
        self.expr(x.stop, base.dtype)
        step = stride.value if isinstance(stride, IntImm) and stride.value > 0 else 1
        lanes = (width + step - 1) // step
        return Ramp(base, stride, lanes, span=x.span)

    def _region(self, e: S.SExpr) -> BufferRegion:
        """``A[v_i, 0:16]`` -> BufferRegion; a bare ``A`` is the whole buffer."""
        if isinstance(e, S.Name):
            buf = self._buffer_named(e)
            return BufferRegion(buf, tuple(Range(IntImm(s.dtype, 0), s) for s in buf.shape), span=e.span)
        if not isinstance(e, S.Subscript):
            raise self.fail("TIR019", "expected a buffer region such as A[i, 0:16]", e.span)
        buf = self._buffer_named(e.value)
        if len(e.indices) == 1 and type(e.indices[0]) is S.TupleExpr and not e.indices[0].elts:
            return BufferRegion(buf, (), span=e.span)  # ``S[()]``: a zero-dimensional buffer
        ranges: list[Range] = []
        for k, x in enumerate(e.indices):
            dim_dt = buf.shape[k].dtype if k < len(buf.shape) and buf.shape[k].dtype.is_int else INT32
            if isinstance(x, S.Slice):
                lo = self.expr(x.start, dim_dt) if x.start is not None else IntImm(dim_dt, 0)
                if x.stop is not None:
                    hi = self.expr(x.stop, lo.dtype)
                elif k < len(buf.shape):
                    hi = buf.shape[k]
                else:
                    raise self.fail("TIR014", "slice without a stop beyond the buffer's rank", x.span)
                if isinstance(lo, IntImm) and isinstance(hi, IntImm):
                    # One dtype for both ends (a wide stop widens the start), so the printer
                    # can write the stop back as one literal.
                    lo = IntImm(hi.dtype, lo.value, span=lo.span) if lo.dtype != hi.dtype else lo
                    ext: Expr = IntImm(hi.dtype, hi.value - lo.value, span=x.span)
                elif isinstance(lo, IntImm) and lo.value == 0:
                    ext = hi
                else:
                    ext = self._binop("sub", hi, lo, x.span)
                ranges.append(Range(lo, ext, span=x.span))
            else:
                idx = self.expr(x, dim_dt)
                ranges.append(Range(idx, IntImm(idx.dtype if idx.dtype.is_int else INT32, 1), span=x.span))
        return BufferRegion(buf, tuple(ranges), span=e.span)

    def _expr_IfExp(self, e: S.IfExp, hint: DataType | None) -> Expr:
        raise self.fail("TIR005", "'a if c else b' is not TIR; use T.Select or T.if_then_else", e.span)

    def _expr_Call(self, e: S.Call, hint: DataType | None) -> Expr:
        name = _call_name(e)
        if name is None:
            if isinstance(e.func, S.Attribute) and e.func.attr == "view":
                raise self.fail("TIR005", "A.view(...) must be assigned to a name", e.span)
            if isinstance(e.func, S.Attribute) and e.func.attr == "vload":
                return self._vload(e)
            f = e.func
            if (isinstance(f, S.Attribute) and isinstance(f.value, S.Name) and f.value.id not in NAMESPACES
                    and self.lookup(f.value.id) is None):
                # ``Module.f(a, b)``: a call of another function of the module.
                args = tuple(self._call_arg(a) for a in e.args)
                self.index.call_names.append((f.attr, f.attr_span))
                return GlobalCall(hint if hint is not None and not hint.is_bool else INT32, f.attr, args, span=e.span)
            raise self.fail("TIR005", "only T.* builtins can be called in TIR", e.func.span)
        return self._builtin_call(name, e, hint)

    def _vector_access(self, e: S.Call, what: str) -> tuple[Buffer, tuple[Expr, ...], Expr | None]:
        """The buffer, indices and predicate of ``A.vload([i, j], predicate=p)`` /
        ``A.vstore([i, j], v, predicate=p)``."""
        assert isinstance(e.func, S.Attribute)
        buf = self._buffer_named(e.func.value)
        idx_e = _arg(e, 0, "indices")
        if idx_e is None:
            raise self.fail("TIR012", f"{what} needs a list of indices", e.span)
        items = idx_e.elts if isinstance(idx_e, (S.ListExpr, S.TupleExpr)) else (idx_e,)
        indices = self._indices(buf, items)
        pred_e = _kw(e, "predicate")
        pred = self.expr(pred_e, BOOL_T) if pred_e is not None else None
        return buf, indices, pred

    def _vload(self, e: S.Call) -> Expr:
        buf, indices, pred = self._vector_access(e, "A.vload")
        dt_e = _kw(e, "dtype")
        lanes = index_lanes(indices)
        dt = self._dtype_arg(dt_e) if dt_e is not None else buf.dtype.with_lanes(lanes)
        return BufferLoad(buf, indices, dt, pred, span=e.span)

    def _vstore(self, e: S.Call, span: Span) -> Stmt:
        buf, indices, pred = self._vector_access(e, "A.vstore")
        val_e = _arg(e, 1, "value")
        if val_e is None:
            raise self.fail("TIR012", "A.vstore needs a value", e.span)
        lanes = index_lanes(indices)
        value = self._coerce(self.expr(val_e, buf.dtype.with_lanes(lanes)), buf.dtype.with_lanes(lanes))
        return BufferStore(buf, value, indices, pred, span=span)

    # ---------------------------------------------------------------- builtin calls
    def _check_arity(self, name: str, call: S.Call) -> None:
        info = lookup_builtin(name)
        if info is None:
            return
        n = len(call.args) + len([k for k in call.keywords if k.name not in _OPTIONAL_KWARGS])
        if n < info.min_args or (info.max_args is not None and n > info.max_args):
            want = (f"{info.min_args}" if info.min_args == info.max_args
                    else f"{info.min_args} or more" if info.max_args is None
                    else f"{info.min_args} to {info.max_args}")
            raise self.fail("TIR012", f"T.{name} takes {want} argument(s), got {n}: {info.signature}", call.span)

    def _builtin_call(self, name: str, e: S.Call, hint: DataType | None) -> Expr:
        info = lookup_builtin(name)
        span = e.span
        if info is None:
            if is_tile_primitive(name):
                args = tuple(self._tile_arg(a) for a in e.args)
                kwargs = tuple((k.name, self._tile_arg(k.value)) for k in e.keywords)
                return Call(hint if hint is not None else INT32, name, args, kwargs=kwargs, span=span)
            if not registered_in_tvm(name):
                self.error("TIR004", f"unknown builtin T.{name}", e.func.span, WARNING)
            args = tuple(self._call_arg(a) for a in e.args)
            known = RESULT_DTYPES.get(name)
            dt = parse_dtype(known) if known is not None else hint if hint is not None else INT32
            return Call(dt, name, args, kwargs=self._kwargs(e), span=span)
        self._check_arity(name, e)
        if len(e.args) < info.min_args:
            # The arity counted a keyword, but what follows reads the arguments by position.
            kw = next((k for k in e.keywords if k.name not in _OPTIONAL_KWARGS), None)
            where = kw.span if kw is not None else span
            raise self.fail("TIR012", f"T.{name} takes {info.min_args} positional argument(s), got {len(e.args)}: "
                                      f"{info.signature}", where)
        if info.kind == "dtype":
            return self._dtype_ctor(name, e)
        if info.kind in ("stmt", "decorator", "type") and name not in ("handle",):
            raise self.fail("TIR005", f"T.{name}(...) is a statement, not a value", span)
        if name == "handle":
            raise self.fail("TIR005", "T.handle(...) is a type; use T.handle(...).ty as a value", span)
        if name == "Cast":
            dt = self._dtype_arg(e.args[0])
            # No dtype hint for the operand: a bare literal is int32 (or float32) as in TVM,
            # which is how the printer writes it back.
            return Cast(dt, self.expr(e.args[1]), span=span)
        if name == "Select":
            c = self.expr(e.args[0], BOOL_T)
            t, f = self._operands(e.args[1], e.args[2], hint)
            t, f = self._match(t, f)
            return Select(c, t, f, span=span)
        if name == "if_then_else":
            c = self.expr(e.args[0], BOOL_T)
            t, f = self._operands(e.args[1], e.args[2], hint)
            t, f = self._match(t, f)
            return Call(t.dtype, "if_then_else", (c, t, f), span=span)
        if name in _BINOP_BUILTINS:
            a, b = self._operands(e.args[0], e.args[1], hint)
            return self._binop(_BINOP_BUILTINS[name], a, b, span)
        if name == "Not":
            return Not(self.expr(e.args[0], BOOL_T), span=span)
        if name == "Ramp":
            base, stride = self._operands(e.args[0], e.args[1], hint.element_of() if hint else None)
            base, stride = self._match(base, stride)
            return Ramp(base, stride, self._lanes(e.args[2]), span=span)
        if name == "Broadcast":
            v = self.expr(e.args[0], hint.element_of() if hint else None)
            return Broadcast(v, self._lanes(e.args[1]), span=span)
        if name == "Shuffle":
            vecs_e, idx_e = e.args[0], e.args[1]
            vecs = tuple(self.expr(x) for x in (vecs_e.elts if isinstance(vecs_e, (S.ListExpr, S.TupleExpr)) else (vecs_e,)))
            idxs = tuple(self.expr(x, INT32) for x in (idx_e.elts if isinstance(idx_e, (S.ListExpr, S.TupleExpr)) else (idx_e,)))
            dt = vecs[0].dtype.element_of().with_lanes(len(idxs)) if vecs else INT32
            return Shuffle(vecs, idxs, dt, span=span)
        if name == "Let":
            return self._let_expr(e)
        if name == "call_ffi_kernel":
            # ``T.call_ffi_kernel("kernel", *args, launch_params=[...], ret_ty="int32")``
            ret = _kw(e, "ret_ty")
            dt = self._dtype_arg(ret) if ret is not None else INT32
            self.index.call_names.append((self._const_str(e.args[0], "kernel name"), e.args[0].span))
            return Call(dt, name, tuple(self._call_arg(a) for a in e.args), kwargs=self._kwargs(e), span=span)
        if name in ("reinterpret", "type_annotation", "min_value", "max_value", "infinity") or name.startswith("call_") and name not in ("call_packed", "call_cpacked", "call_packed_lowered", "call_cpacked_lowered"):
            # The dtype argument (a string or a T.handle(...).ty) becomes the call's type.
            dt, ptr = self._result_type_arg(e.args[0])
            rest = e.args[1:]
            args = tuple(self._call_arg(a) for a in rest)
            self._note_callee(name, e)
            return Call(dt, name, args, ptr, span=span)
        if name == "tvm_struct_get":
            dt, ptr = self._result_type_arg(e.args[3])
            args = tuple(self.expr(a, INT32) for a in e.args[:3])
            return Call(dt, name, args, ptr, span=span)
        # Generic builtin: build args, then type by the rule.
        self._note_callee(name, e)
        if info.result == "arg0" and len(e.args) == 2:
            a, b = self._operands(e.args[0], e.args[1], hint)
            a, b = self._match(a, b)
            args = (a, b)
        else:
            args = tuple(self._call_arg(a, hint if i == 0 and info.result == "arg0" else None)
                         for i, a in enumerate(e.args))
        return Call(self._result_dtype(info.result, args, hint), name, args, span=span)

    def _note_callee(self, name: str, e: S.Call) -> None:
        pos = _CALLEE_ARG.get(name)
        if pos is None:
            return
        # call_extern's position counts the dtype argument.
        if pos < len(e.args):
            a = e.args[pos]
            if isinstance(a, S.Constant) and isinstance(a.value, str):
                self.index.call_names.append((a.value, a.span))

    def _call_arg(self, a: S.SExpr, hint: DataType | None = None) -> Expr:
        t = type(a)
        if t is S.ListExpr or t is S.TupleExpr:
            kind = "list" if t is S.ListExpr else "tuple"
            return ArrayExpr(tuple(self._call_arg(x) for x in a.elts), kind, span=a.span)  # type: ignore[union-attr]
        if t is S.Constant and a.value is None:  # type: ignore[union-attr]
            return ArrayExpr((), "none", span=a.span)
        if t is S.Lambda:
            return self._lambda(a)  # type: ignore[arg-type]
        if isinstance(a, S.Name):
            b = self.lookup(a.id)
            if b is not None and isinstance(b.obj, Buffer) and not b.mutable and not self._scalar_like(b.obj):
                # A buffer passed to a builtin stands for its data pointer.
                self.refer(a.span, b.obj)
                return b.obj.data
        return self.expr(a, hint)

    def _tile_arg(self, a: S.SExpr) -> Expr:
        """An argument of a tile primitive: ``A[0:16, i]`` is a region of A, not a load."""
        if isinstance(a, S.Subscript) and isinstance(a.value, S.Name):
            b = self.lookup(a.value.id)
            if b is not None and isinstance(b.obj, Buffer):
                return RegionArg(self._region(a), span=a.span)
        if isinstance(a, S.Name):
            b = self.lookup(a.id)
            if b is not None and isinstance(b.obj, Buffer) and not b.mutable:
                return RegionArg(self._region(a), whole=True, span=a.span)
        if isinstance(a, S.DictExpr):
            kws = tuple((self._const_str(k, "key"), self._tile_arg(v)) for k, v in a.items)
            return PyValue("dict", "", (), kws, span=a.span)
        return self._call_arg(a)

    def py_value(self, e: S.SExpr) -> Expr:
        """A layout (``T.TileLayout(T.S[(8, 4):(4 @ Axis.laneid, 1)])``) or other data of the
        kernel dialect, kept as written; numbers and names of vars in it are expressions."""
        t = type(e)
        if t is S.Constant:
            v = e.value  # type: ignore[union-attr]
            return PyValue("none", span=e.span) if v is None else self.expr(e)
        if t is S.Name and self.lookup(e.id) is not None:  # type: ignore[union-attr]
            return self.expr(e)
        dotted = _dotted(e)
        if dotted is not None:
            return PyValue("name", dotted, span=e.span)
        if t is S.UnaryOp and _literal_value(e) is not None:
            return self.expr(e)
        if t is S.Call:
            cname = _call_name(e)
            info = lookup_builtin(cname) if cname else None
            if info is not None and info.kind == "dtype":
                return self.expr(e)  # ``T.bool(False)``, ``T.int32(4)``: a value
            fname = _dotted(e.func)  # type: ignore[union-attr]
            if fname is None:
                raise self.fail("TIR005", "expected a layout such as T.TileLayout(...)", e.span)
            args = tuple(self.py_value(x) for x in e.args)  # type: ignore[union-attr]
            kws = tuple((k.name, self.py_value(k.value)) for k in e.keywords)  # type: ignore[union-attr]
            return PyValue("call", fname, args, kws, span=e.span)
        if t is S.Subscript:
            items = (self.py_value(e.value),) + tuple(self.py_value(x) for x in e.indices)  # type: ignore[union-attr]
            return PyValue("index", "", items, span=e.span)
        if t is S.Slice:
            parts = tuple(None if x is None else self.py_value(x) for x in (e.start, e.stop, e.step))  # type: ignore[union-attr]
            return PyValue("slice", "", parts, span=e.span)
        if t is S.BinaryOp:
            return PyValue("op", e.op, (self.py_value(e.left), self.py_value(e.right)), span=e.span)  # type: ignore[union-attr]
        if t is S.TupleExpr or t is S.ListExpr:
            form = "tuple" if t is S.TupleExpr else "list"
            return PyValue(form, "", tuple(self.py_value(x) for x in e.elts), span=e.span)  # type: ignore[union-attr]
        if t is S.DictExpr:
            kws = tuple((self._const_str(k, "key"), self.py_value(v)) for k, v in e.items)  # type: ignore[union-attr]
            return PyValue("dict", "", (), kws, span=e.span)
        return self.expr(e)

    def _lambda(self, e: S.Lambda) -> LambdaExpr:
        """``lambda i, j: (j, i)``: int32 index vars, bound in the body only."""
        with self.scope():
            params = tuple(Var(p.id, INT32, span=p.span) for p in e.params)
            for p, v in zip(e.params, params):
                self.define(p.id, p.span, v, "lambda_param")
            body = self._call_arg(e.body)
        return LambdaExpr(params, body, span=e.span)

    def _kwargs(self, e: S.Call) -> tuple[tuple[str, Expr], ...]:
        """The keyword arguments of a call kept as written (``launch_params=[...]``)."""
        return tuple((k.name, self._call_arg(k.value)) for k in e.keywords)

    def _result_dtype(self, rule: str, args: tuple[Expr, ...], hint: DataType | None) -> DataType:
        if rule == "arg0" or rule == "arg1":
            k = 0 if rule == "arg0" else 1
            return args[k].dtype if len(args) > k else (hint or INT32)
        if rule == "float_of_arg0":
            return args[0].dtype if args and args[0].dtype.is_float else FLOAT32
        if rule == "bool":
            return BOOL_T.with_lanes(args[0].dtype.lanes) if args and args[0].dtype.lanes > 1 else BOOL_T
        if rule == "handle":
            return HANDLE_T
        if rule == "void":
            return parse_dtype("void")
        if rule in ("int32",):
            return INT32
        return hint or INT32

    def _result_type_arg(self, e: S.SExpr) -> tuple[DataType, PointerType | None]:
        if isinstance(e, S.Constant) and isinstance(e.value, str):
            return self._dtype_of(e.value, e.span), None
        if isinstance(e, S.Attribute) and e.attr == "ty" and isinstance(e.value, S.Call):
            ty = self._type_annotation(e.value)
            if isinstance(ty, PointerType):
                return HANDLE_T, ty
            return ty, None
        name = _t_name(e)
        if name is not None:
            ty = self._type_annotation(e)
            return (HANDLE_T, ty) if isinstance(ty, PointerType) else (ty, None)
        raise self.fail("TIR019", "expected a dtype string such as \"float32\" or T.handle(...).ty", e.span)

    def _let_expr(self, e: S.Call) -> Expr:
        where = _kw(e, "where")
        if not isinstance(where, S.DictExpr) or len(where.items) != 1:
            raise self.fail("TIR019", "T.Let(body, where={var: value}) needs one binding", e.span)
        k, v = where.items[0]
        if not isinstance(k, S.Name):
            raise self.fail("TIR019", "T.Let binds a name", k.span)
        value = self.expr(v)
        with self.scope():
            b = self.lookup(k.id)
            if b is not None and isinstance(b.obj, Var) and b.kind == "size_var":
                var = b.obj
                self.refer(k.span, var)
            else:
                var = Var(k.id, value.dtype, span=k.span)
                self.define(k.id, k.span, var, "let")
            body = self.expr(e.args[0])
        return Let(var, value, body, span=e.span)

    def _dtype_ctor(self, name: str, e: S.Call) -> Expr:
        dt = self._dtype_of(name, e.func.span)
        if not e.args:
            raise self.fail("TIR019", f"T.{name}() declares a var; assign it: n = T.{name}()", e.span)
        a = e.args[0]
        el = dt.element_of()
        lv = _literal_value(a)
        val: Expr
        if isinstance(a, S.Constant) and isinstance(a.value, bool):
            val = IntImm(el, int(a.value), span=e.span) if not el.is_float else FloatImm(el, float(a.value), span=e.span)
        elif lv is not None:
            if el.is_float:
                val = FloatImm(el, float(lv), span=e.span)
            else:
                if isinstance(lv, float) and not math.isfinite(lv):
                    raise self.fail("TIR019", f"T.{name}({lv}) is not a finite number", a.span)
                iv = int(lv)
                lo, hi = ((0, 2) if el.is_bool else (0, 2**el.bits) if el.is_uint
                          else (-(2 ** (el.bits - 1)), 2 ** (el.bits - 1)))
                # TVM rejects these too; a bool of -1 would not even print back as itself.
                if el.bits <= 64 and not lo <= iv < hi:
                    raise self.fail("TIR019", f"{iv} is out of range for {el}", a.span)
                val = IntImm(el, iv, span=e.span)
        elif isinstance(a, S.Constant) and isinstance(a.value, str):
            word = a.value.strip().lower()
            if el.is_float and word in _FLOAT_WORDS:
                val = FloatImm(el, _FLOAT_WORDS[word], span=e.span)
            else:
                raise self.fail("TIR019", f"T.{name} of the string {a.value!r}", a.span)
        else:
            x = self.expr(a, el)
            if x.dtype == dt:
                return x
            return Cast(dt, x, span=e.span)
        return Broadcast(val, dt.lanes, span=e.span) if dt.lanes > 1 else val

    # ================================================================ constants, dtypes, attrs
    def _dtype_of(self, text: str, span: Span) -> DataType:
        try:
            return parse_dtype(text)
        except DTypeError:
            self.error("TIR015", f"unknown data type '{text}'", span)
            return FLOAT32

    def _dtype_arg(self, e: S.SExpr) -> DataType:
        if isinstance(e, S.Constant) and isinstance(e.value, str):
            return self._dtype_of(e.value, e.span)
        name = _t_name(e)
        if name is not None:
            return self._dtype_of(name, e.span)
        raise self.fail("TIR019", "expected a dtype string such as \"float32\"", e.span)

    def _const_str(self, e: S.SExpr, what: str) -> str:
        if isinstance(e, S.Constant) and isinstance(e.value, str):
            return e.value
        raise self.fail("TIR019", f"{what} must be a string literal", e.span)

    def _const_int(self, e: S.SExpr, what: str) -> int:
        v = _literal_value(e)
        if isinstance(v, int):
            return v
        if isinstance(e, S.Call) and _call_name(e) in ("int32", "int64") and e.args:
            v = _literal_value(e.args[0])
            if isinstance(v, int):
                return v
        raise self.fail("TIR019", f"{what} must be an integer constant", e.span)

    def _lanes(self, e: S.SExpr) -> int:
        """A lane count: a number, or ``T.vscale() * n`` (a scalable vector: -n, as in TVM)."""
        n = _scalable_lanes(e)
        if n is not None:
            return -n
        lanes = self._const_int(e, "lanes")
        if lanes < 1:
            raise self.fail("TIR019", f"a vector has at least one lane, not {lanes}", e.span)
        return lanes

    def _const_int_kw(self, call: S.Call, name: str, default: int) -> int:
        e = _kw(call, name)
        return self._const_int(e, name) if e is not None else default

    def _attr_dict(self, e: S.SExpr) -> dict[str, object]:
        if not isinstance(e, S.DictExpr):
            raise self.fail("TIR019", "expected a dict literal", e.span)
        out: dict[str, object] = {}
        for k, v in e.items:
            if isinstance(k, S.Constant) and isinstance(k.value, str):
                out[k.value] = self._attr_value(v)
            else:
                self.error("TIR019", "attribute keys must be string literals", k.span)
        return out

    def _attr_value(self, e: S.SExpr) -> object:
        lv = e.value if isinstance(e, S.Constant) else _literal_value(e)
        if isinstance(lv, float) and not math.isfinite(lv):  # no literal prints back as inf
            raise self.fail("TIR019", f"an attribute value must be a finite number, not {lv}", e.span)
        if isinstance(e, S.Constant):
            return e.value
        if lv is not None:
            return lv
        if isinstance(e, (S.ListExpr, S.TupleExpr)):
            return [self._attr_value(x) for x in e.elts]
        if isinstance(e, S.DictExpr):
            d: dict[object, object] = {}
            for k, v in e.items:
                d[self._attr_value(k) if isinstance(k, S.Constant) else self._value_or_buffer(k)] = self._attr_value(v)
            return d
        if _call_name(e) == "target" and isinstance(e, S.Call):
            cfg = self._attr_value(e.args[0]) if e.args else None
            if len(e.args) > 1 and isinstance(cfg, dict):
                cfg = dict(cfg)
                cfg["host"] = self._attr_value(e.args[1])
            if not _json_like(cfg):  # a target is plain data: JSON writes it and reads it back
                raise self.fail("TIR019", "a T.target config holds only strings, numbers, lists and "
                                          "dicts with string keys", e.args[0].span if e.args else e.span)
            return TargetLiteral(cfg)
        mref = self._metadata_ref(e)
        if mref is not None:
            return mref
        return self._value_or_buffer(e)



def _json_like(value: object) -> bool:
    """Strings, numbers, bools and None in lists and in dicts with string keys (and targets)."""
    if isinstance(value, TargetLiteral):
        return _json_like(value.config)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_like(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_json_like(v) for v in value)
    return value is None or isinstance(value, (str, int, float))


_OPTIONAL_KWARGS = {"annotations", "dtype", "scope", "strides", "elem_offset", "align", "offset_factor",
                    "buffer_type", "axis_separators", "data", "where", "thread", "is_size_var",
                    "storage_scope", "condition", "step", "name", "no_realize", "span", "layout"}


# ==================================================================== module level
def build_function(fdef: S.FunctionDef, ctx: ModuleContext) -> tuple[PrimFunc | None, SymbolIndex, list[Diagnostic]]:
    """Build one function on its own (the server rebuilds the function being edited).

    String references to other functions (``T.call_extern("int32", "f", ...)``) are left in
    ``index.call_names``; ``SymbolIndex.link_functions`` turns them into references.
    """
    fb = FunctionBuilder(ctx)
    try:
        func = fb.build(fdef)
    except _Drop:
        func = None
    except RecursionError:
        fb.error("TIR005", "function nested too deeply", fdef.span)
        func = None
    return func, fb.index, fb.diags


def build_module_attrs(call: S.Call, ctx: ModuleContext) -> tuple[dict[str, object], list[Diagnostic]]:
    """The attributes of an ``I.module_attrs({...})`` call (the module around the functions is
    read by ``tir_lsp.compiler.text.parsed_file``)."""
    fb = FunctionBuilder(ctx)
    fb.scopes.append({})
    attrs: dict[str, object] = {}
    try:
        if call.args:
            attrs.update(fb._attr_dict(call.args[0]))
    except _Drop:
        pass
    return attrs, fb.diags
