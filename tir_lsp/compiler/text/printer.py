"""The printer: IR -> TVMScript text in the TVM 0.27 ``tirx`` style.

``print_module`` / ``print_function`` / ``print_expr`` produce text that TVM 0.27's parser
reads back and that our reader turns into a structurally equal IR; printing is a fixed
point (``print(read(print(m))) == print(m)``). Where TVM prints something its own parser
cannot read back (chained comparisons, ``metadata[...]`` references), we print a form that
both parsers accept instead.

Names: every var and buffer gets a Python name when it is defined; a name already live in
an enclosing scope gets ``_1``, ``_2``... as TVM does, so the text is unambiguous. Output is
built as a list of lines and joined once; dispatch is by node class through dicts.
"""

from __future__ import annotations

import json
import keyword
import math
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from tir_lsp.compiler.ir.attrs import MetadataRef, TargetLiteral
from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.builtins import BINOP_SPELLING, BUILTINS, TypeArg
from tir_lsp.compiler.ir.dtype import INT32 as _INT32
from tir_lsp.compiler.ir.dtype import INT64 as _INT64
from tir_lsp.compiler.ir.dtype import DataType, PointerType, Type
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
    RegionArg,
    Select,
    Shuffle,
    StringImm,
    TypeLiteral,
    Var,
)
from tir_lsp.compiler.ir.function import IRModule, PrimFunc
from tir_lsp.compiler.ir.node import Node, node_fields
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
    SBlock,
    SBlockRealize,
    ScopeIdDef,
    SeqStmt,
    Stmt,
    While,
    flatten_seq,
)
from tir_lsp.compiler.ir.structural import structural_equal
from tir_lsp.compiler.text.relax_printer import print_relax_function

HEADER = ("# from tvm.script import ir as I", "# from tvm.script import tirx as T")
AXIS_IMPORT = "# from tvm.tirx.layout import Axis"

# Python operator precedence, low to high; an operand binding looser than its parent gets
# parentheses. Comparisons never chain: Python would read ``a < b == c`` as a chain.
_P_OR, _P_AND, _P_NOT, _P_CMP, _P_BOR, _P_BXOR, _P_BAND, _P_SHIFT, _P_ADD, _P_MUL, _P_UNARY = range(1, 12)
_P_ATOM = 20
_P_LAMBDA = 0  # below every operator: a lambda is always parenthesized as an operand

_BINOPS: dict[str, tuple[str, int]] = {
    "add": ("+", _P_ADD), "sub": ("-", _P_ADD), "mul": ("*", _P_MUL),
    "floordiv": ("//", _P_MUL), "floormod": ("%", _P_MUL),
    "eq": ("==", _P_CMP), "ne": ("!=", _P_CMP), "lt": ("<", _P_CMP), "le": ("<=", _P_CMP),
    "gt": (">", _P_CMP), "ge": (">=", _P_CMP),
    "and": ("and", _P_AND), "or": ("or", _P_OR),
}
# Binding strength of the operators builtin calls are written as (``operator`` in their entry).
_OPERATOR_PRECEDENCE = {"<<": _P_SHIFT, ">>": _P_SHIFT, "&": _P_BAND, "|": _P_BOR, "^": _P_BXOR, "~": _P_UNARY}
_AXIS_KINDS = {"S": "spatial", "R": "reduce", "O": "opaque", "scan": "scan", "ordered": "ordered"}
_RESERVED = frozenset(keyword.kwlist) | {"T", "I", "range"}
_NOT_IDENT = re.compile(r"\W")
_INDENT = tuple("    " * i for i in range(64))

_Expr = tuple[str, int]


def format_float(value: float) -> str:
    """A float literal as TVM prints it: 17 significant digits, positional for large values."""
    if math.isnan(value):
        return '"nan"'
    if math.isinf(value):
        return '"inf"' if value > 0 else '"-inf"'
    text = f"{value:.17g}"
    if "e+" in text:
        return f"{value:.1f}"
    if "." not in text and "e" not in text:
        text += ".0"
    return text


_PLAIN = re.compile(r'[^"\\\x00-\x1f\x7f]*')


@lru_cache(maxsize=4096)
def quote(text: str) -> str:
    """A double-quoted Python string literal."""
    if _PLAIN.fullmatch(text):
        return f'"{text}"'
    return json.dumps(text, ensure_ascii=False)


@lru_cache(maxsize=512)
def _dt(dtype: DataType) -> str:
    return str(dtype)


def type_text(t: Type) -> str:
    """``T.int32``, ``T.handle``, ``T.handle("float32", "global")``."""
    if isinstance(t, PointerType):
        return str(t)
    return f"T.{t}"


def _is_true(e: Expr | None) -> bool:
    return e is None or (isinstance(e, IntImm) and e.dtype.is_bool and e.value == 1)


def _is_zero(e: Expr) -> bool:
    return isinstance(e, IntImm) and e.value == 0


def _uses_any(e: Expr, var_ids: set[int]) -> bool:
    """Whether ``e`` mentions one of the vars (by identity)."""
    stack: list[Any] = [e]
    while stack:
        n = stack.pop()
        if isinstance(n, Var):
            if id(n) in var_ids:
                return True
        elif isinstance(n, Node):
            stack.extend([getattr(n, name) for name in node_fields(type(n))])
        elif isinstance(n, (tuple, list)):
            stack.extend(n)
    return False


class _Printer:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.names: dict[int, str] = {}
        self.live: set[str] = set()
        self.frames: list[list[tuple[int, str]]] = [[]]
        self.scalars: set[int] = set()
        self.loops: dict[int, For] = {}
        self.s_tir = False
        # Declarations of free vars of the function being printed (None outside a function).
        self.free: list[str] | None = None
        self.in_params = False
        self.type_params: tuple[str, ...] = ()  # of the function being printed: ``def f[n](...)``
        self.type_vars: list[str] = []  # ``n = TypeVar("n")`` sizes, printed before the functions
        self.later_params: set[int] = set()  # scalar params not yet printed in the signature
        # Size vars declared at module level (``n = TypeVar("n")``, named by Relax annotations).
        self.module_vars: set[str] = set()
        self.expr_fn: dict[type, Callable[[Any], _Expr]] = {
            IntImm: self._int, FloatImm: self._float, StringImm: self._string, Var: self._var,
            BinOp: self._binop, Not: self._not, Select: self._select, Cast: self._cast,
            BufferLoad: self._load, Ramp: self._ramp, Broadcast: self._broadcast,
            Shuffle: self._shuffle, Let: self._let, Call: self._call, TypeLiteral: self._typelit,
            ArrayExpr: self._array, LambdaExpr: self._lambda, GlobalCall: self._global_call,
            PyValue: self._py_value,
            RegionArg: lambda e: (self.name_of(e.region.buffer) if e.whole else self.region(e.region), _P_ATOM),
        }
        self.stmt_fn: dict[type, Callable[[Any, int], None]] = {
            Evaluate: self._evaluate, BufferStore: self._store, Bind: self._bind,
            AssertStmt: self._assert, AttrStmt: self._attr, LaunchThread: self._launch,
            For: self._for, While: self._while, IfThenElse: self._if, DeclBuffer: self._decl,
            AllocBuffer: self._alloc, Allocate: self._allocate, AllocateConst: self._allocate_const,
            SBlockRealize: self._realize, SBlock: self._bare_block, SeqStmt: self._seq_stmt,
            ScopeIdDef: self._scope_id, HintStmt: self._hint,
        }
        self.module_name = "Module"  # the class that ``Module.f(...)`` calls name

    # ------------------------------------------------------------------ names
    def define(self, obj: object, base: str) -> str:
        """Give ``obj`` a name unique among the live ones, live until its frame closes."""
        base = _NOT_IDENT.sub("_", base) or "v"
        if base[0].isdigit():
            base = "v_" + base
        name = base
        if name in self.live or name in _RESERVED:
            i = 1
            while f"{base}_{i}" in self.live:
                i += 1
            name = f"{base}_{i}"
        self.live.add(name)
        self.names[id(obj)] = name
        self.frames[-1].append((id(obj), name))
        return name

    def alias(self, obj: object, text: str) -> None:
        """Print ``obj`` as ``text`` (a buffer's data var as ``A.data``) within this frame."""
        self.names[id(obj)] = text
        self.frames[-1].append((id(obj), ""))

    def define_buffer(self, buf: Buffer, name: str | None = None) -> str:
        name = self.define(buf, name or buf.name)
        if id(buf.data) not in self.names:
            self.alias(buf.data, f"{name}.data")
        if _implicit_elem_offset(buf) and id(buf.elem_offset) not in self.names:
            self.alias(buf.elem_offset, f"{name}.elem_offset")
        return name

    def push(self) -> None:
        self.frames.append([])

    def pop(self) -> None:
        for key, name in self.frames.pop():
            self.names.pop(key, None)
            if name:
                self.live.discard(name)

    def name_of(self, obj: Var | Buffer) -> str:
        return self.names.get(id(obj)) or obj.name

    # ------------------------------------------------------------------ expressions
    def expr(self, e: Expr) -> str:
        fn = self.expr_fn.get(type(e))
        return (fn(e) if fn is not None else self._other(e))[0]

    def _sub(self, e: Expr) -> _Expr:
        fn = self.expr_fn.get(type(e))
        return fn(e) if fn is not None else self._other(e)

    def _other(self, e: object) -> _Expr:
        if isinstance(e, MetadataRef):
            # TVM left this value out of its text; a visible string keeps the output parseable.
            return quote(f"<omitted metadata {e.kind}[{e.index}]>"), _P_ATOM
        raise TypeError(f"cannot print {type(e).__name__}")

    def _int(self, e: IntImm) -> _Expr:
        dt = e.dtype
        if dt == _INT32:
            return str(e.value), (_P_UNARY if e.value < 0 else _P_ATOM)
        if dt.is_bool:
            return f"T.bool({bool(e.value)})", _P_ATOM
        return f"T.{_dt(dt)}({e.value})", _P_ATOM

    def _float(self, e: FloatImm) -> _Expr:
        return f"T.{e.dtype}({format_float(e.value)})", _P_ATOM

    def _string(self, e: StringImm) -> _Expr:
        return quote(e.value), _P_ATOM

    def _var(self, e: Var) -> _Expr:
        name = self.names.get(id(e))
        if self.in_params and id(e) in self.later_params:
            self.later_params.discard(id(e))  # quoted once, bare after, as TVM prints it
            return quote(name or e.name), _P_ATOM
        if name is None:
            if self.free is None or e.name in self.type_params or e.name in self.module_vars:
                return e.name, _P_ATOM
            if self.in_params and e.dtype == _INT64:
                # An int64 size first seen in a signature: TVM declares it ``n = TypeVar("n")``
                # before the function (a quoted "n" would read back as int32).
                return self._declare_type_var(e), _P_ATOM
            name = self._declare_free(e)
            if self.in_params:
                # TVM names a symbolic shape var at its first use in a signature as a string.
                return quote(name), _P_ATOM
        return name, _P_ATOM

    def _declare_type_var(self, v: Var) -> str:
        frames, self.frames = self.frames, self.frames[:2]
        try:
            name = self.define(v, v.name)
        finally:
            frames[1] = self.frames[1]
            self.frames = frames
        if name not in self.type_vars:
            self.type_vars.append(name)
        return name

    def _declare_free(self, v: Var) -> str:
        """A var used in a function but defined nowhere in it: TVM declares it up front
        (``n = T.int32()``); so do we, at function scope."""
        frames, self.frames = self.frames, self.frames[:2]
        try:
            name = self.define(v, v.name)
        finally:
            frames[1] = self.frames[1]
            self.frames = frames
        ty = "T.handle()" if v.dtype.is_handle else f"T.{v.dtype}()"
        self.free.append(f"{name} = {ty}")  # type: ignore[union-attr]
        return name

    def _operand(self, e: Expr, parent: int, right: bool) -> str:
        text, prec = self._sub(e)
        if prec < parent or (prec == parent and (right or parent == _P_CMP)):
            return f"({text})"
        return text

    def _infix(self, op: str, prec: int, a: Expr, b: Expr) -> _Expr:
        return f"{self._operand(a, prec, False)} {op} {self._operand(b, prec, True)}", prec

    def _binop(self, e: BinOp) -> _Expr:
        op = e.op
        if op == "div":
            if e.dtype.is_float:
                return self._infix("/", _P_MUL, e.a, e.b)
            return self._fn("T.Div", (e.a, e.b))
        if op in ("and", "or") and (isinstance(e.a, IntImm) or isinstance(e.b, IntImm)):
            # Python would fold a literal operand of `and`/`or` away; TVM spells these out.
            return self._fn("T.And" if op == "and" else "T.Or", (e.a, e.b))
        sym = _BINOPS.get(op)
        if sym is not None:
            if _tvm_folds(op, e.a, e.b):
                # TVM's parser folds the operator form (``0 * 16`` is 0): the call keeps the node.
                return self._fn(f"T.{_NODE_SPELLING[op]}", (e.a, e.b))
            return self._infix(sym[0], sym[1], e.a, e.b)
        return self._fn(f"T.{BINOP_SPELLING.get(op, op)}", (e.a, e.b))

    def _fn(self, name: str, args: tuple[Expr, ...] | list[Expr]) -> _Expr:
        return f"{name}({', '.join([self.expr(a) for a in args])})", _P_ATOM

    def _not(self, e: Not) -> _Expr:
        return f"not {self._operand(e.a, _P_NOT, False)}", _P_NOT

    def _select(self, e: Select) -> _Expr:
        return self._fn("T.Select", (e.condition, e.true_value, e.false_value))

    def _cast(self, e: Cast) -> _Expr:
        return f'T.Cast("{e.dtype}", {self.expr(e.value)})', _P_ATOM

    def _load(self, e: BufferLoad) -> _Expr:
        buf = e.buffer
        if id(buf) in self.scalars and e.predicate is None and _at_zero(e.indices):
            return self.name_of(buf), _P_ATOM
        idx = ", ".join([self.expr(i) for i in e.indices]) or "()"
        if e.predicate is not None:
            return f"{self.name_of(buf)}.vload([{idx}], predicate={self.expr(e.predicate)})", _P_ATOM
        return f"{self.name_of(buf)}[{idx}]", _P_ATOM

    def _ramp(self, e: Ramp) -> _Expr:
        return f"T.Ramp({self.expr(e.base)}, {self.expr(e.stride)}, {_lanes_text(e.lanes)})", _P_ATOM

    def _broadcast(self, e: Broadcast) -> _Expr:
        return f"T.Broadcast({self.expr(e.value)}, {_lanes_text(e.lanes)})", _P_ATOM

    def _shuffle(self, e: Shuffle) -> _Expr:
        vecs = ", ".join([self.expr(v) for v in e.vectors])
        idx = ", ".join([self.expr(i) for i in e.indices])
        return f"T.Shuffle([{vecs}], [{idx}])", _P_ATOM

    def _let(self, e: Let) -> _Expr:
        value = self.expr(e.value)
        if self.free is not None:
            # TVM reads ``T.Let(body, where={x: v})`` only with ``x`` declared before it
            # (``x = T.float32()``), as it prints it: declared once with the free vars.
            name = self.names.get(id(e.var)) or self._declare_free(e.var)
            return f"T.Let({self.expr(e.body)}, where={{{name}: {value}}})", _P_ATOM
        self.push()
        name = self.define(e.var, e.var.name)
        body = self.expr(e.body)
        self.pop()
        return f"T.Let({body}, where={{{name}: {value}}})", _P_ATOM

    def _call(self, e: Call) -> _Expr:
        op = e.op
        info = BUILTINS.get(op)
        if info is not None:
            sym = info.operator
            if sym is not None and len(e.args) == info.min_args:
                if len(e.args) == 2:
                    return self._infix(sym, _OPERATOR_PRECEDENCE[sym], e.args[0], e.args[1])
                return f"{sym}{self._operand(e.args[0], _P_UNARY, False)}", _P_UNARY
            rule = info.result
            if isinstance(rule, TypeArg) and len(e.args) >= rule.index:
                # The dtype argument the reader folded into the call's type, back in its place.
                args = [self.expr(a) for a in e.args]
                args.insert(rule.index, self._result_type(e, rule.handle_ty))
                return f"T.{op}({', '.join(args)})", _P_ATOM
        if e.kwargs:
            args = [self.expr(a) for a in e.args] + [f"{k}={self.expr(v)}" for k, v in e.kwargs]
            return f"T.{op}({', '.join(args)})", _P_ATOM
        return self._fn(f"T.{op}", e.args)

    def _array(self, e: ArrayExpr) -> _Expr:
        if e.kind == "none":
            return "None", _P_ATOM
        items = [self.expr(x) for x in e.elements]
        if e.kind == "tuple":
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")", _P_ATOM
        return "[" + ", ".join(items) + "]", _P_ATOM

    def _lambda(self, e: LambdaExpr) -> _Expr:
        self.push()
        names = [self.define(v, v.name) for v in e.params]
        body = self.expr(e.body)
        self.pop()
        return f"lambda {', '.join(names)}: {body}", _P_LAMBDA

    def _py_value(self, e: PyValue) -> _Expr:
        form, items = e.form, e.items
        if form == "name":
            return e.name, _P_ATOM
        if form == "none":
            return "None", _P_ATOM
        if form == "call":
            args = [self.expr(x) for x in items if x is not None] + [f"{k}={self.expr(v)}" for k, v in e.keywords]
            return f"{e.name}({', '.join(args)})", _P_ATOM
        if form == "index":
            base = self._operand(items[0], _P_ATOM, False)  # type: ignore[arg-type]
            return f"{base}[{', '.join([self.expr(x) for x in items[1:] if x is not None])}]", _P_ATOM
        if form == "slice":
            parts = ["" if x is None else self.expr(x) for x in items]
            text = ":".join(parts[:2]) + (f":{parts[2]}" if parts[2] else "")
            return text, _P_ATOM
        if form == "op":
            prec = _PY_OP_PRECEDENCE.get(e.name, _P_MUL)
            return self._infix(e.name, prec, items[0], items[1])  # type: ignore[arg-type]
        if form == "dict":
            return "{" + ", ".join([f"{quote(k)}: {self.expr(v)}" for k, v in e.keywords]) + "}", _P_ATOM
        inner = [self.expr(x) for x in items if x is not None]
        if form == "tuple":
            return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")", _P_ATOM
        return "[" + ", ".join(inner) + "]", _P_ATOM

    def _global_call(self, e: GlobalCall) -> _Expr:
        return self._fn(f"{self.module_name}.{e.callee}", e.args)

    def _result_type(self, e: Call, handle_ty: bool) -> str:
        """The dtype argument the reader folds into a call's type (``"int32"``, ``T.handle().ty``)."""
        if e.ret_type is not None:
            return f"{e.ret_type}.ty"
        if e.dtype.is_handle and handle_ty:
            return "T.handle().ty"
        return f'"{_dt(e.dtype)}"'

    def _typelit(self, e: TypeLiteral) -> _Expr:
        t = e.type
        if isinstance(t, PointerType):
            return f"{t}.ty", _P_ATOM
        if t.is_handle:
            return "T.handle().ty", _P_ATOM
        return f"T.{t}.ty", _P_ATOM

    # ------------------------------------------------------------------ attribute values
    def value(self, v: object) -> str:
        if isinstance(v, bool) or v is None:
            return repr(v)
        if isinstance(v, str):
            return quote(v)
        if isinstance(v, int):
            return str(v)
        if isinstance(v, float):
            return format_float(v)
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join([self.value(x) for x in v]) + "]"
        if isinstance(v, dict):
            items = sorted(v.items(), key=lambda kv: str(kv[0]))
            return "{" + ", ".join([f"{self.value(k)}: {self.value(x)}" for k, x in items]) + "}"
        if isinstance(v, TargetLiteral):
            return f"T.target({self.value(v.config)})"
        if isinstance(v, Buffer):
            return self.name_of(v)
        if isinstance(v, (Expr, MetadataRef)):
            return self.expr(v)  # type: ignore[arg-type]
        if isinstance(v, (DataType, PointerType)):
            return type_text(v)
        raise TypeError(f"cannot print attribute value {v!r}")

    # ------------------------------------------------------------------ buffers
    def shape(self, exprs: tuple[Expr, ...]) -> str:
        if len(exprs) == 1:
            return f"({self._shape_entry(exprs[0])},)"
        return "(" + ", ".join([self._shape_entry(e) for e in exprs]) + ")"

    def _shape_entry(self, e: Expr) -> str:
        text = self.expr(e)
        if self.in_params and '"' in text and not isinstance(e, Var):
            # A size first used inside an expression: TVM quotes the whole entry ("x * 8").
            text = quote(text.replace('"', ""))
        return text

    def buffer_args(self, buf: Buffer, *, dtype: bool, scope: bool = True, data: bool = False,
                    shape: bool = True) -> list[str]:
        """The arguments of ``T.Buffer``/``T.alloc_buffer``/...: shape, dtype, then kwargs."""
        args = [self.shape(buf.shape)] if shape else []
        if dtype or str(buf.dtype) != "float32":
            args.append(f'"{buf.dtype}"')
        if data:
            args.append(f"data={self.name_of(buf.data)}")
        if buf.strides:
            args.append(f"strides={self.shape(buf.strides)}")
        if buf.elem_offset is not None and not _implicit_elem_offset(buf):
            args.append(f"elem_offset={self.expr(buf.elem_offset)}")
        if scope and buf.scope != "global":
            args.append(f"scope={quote(buf.scope)}")
        if buf.align:
            args.append(f"align={buf.align}")
        if buf.offset_factor:
            args.append(f"offset_factor={buf.offset_factor}")
        if buf.buffer_type != "default":
            args.append(f"buffer_type={quote(buf.buffer_type)}")
        if buf.axis_separators:
            args.append(f"axis_separators={list(buf.axis_separators)}")
        if buf.layout is not None:
            args.append(f"layout={self.expr(buf.layout)}")
        if buf.allocated_addr:
            addr = [self.expr(e) for e in buf.allocated_addr]
            args.append(f"allocated_addr={addr[0] if len(addr) == 1 else '[' + ', '.join(addr) + ']'}")
        return args

    def region(self, r: BufferRegion) -> str:
        parts = []
        for rng in r.region:
            if isinstance(rng.extent, IntImm) and rng.extent.value == 1:
                parts.append(self.expr(rng.min))
            else:
                parts.append(f"{self.expr(rng.min)}:{self.stop(rng.min, rng.extent)}")
        name = self.name_of(r.buffer)
        if id(r.buffer) in self.scalars:
            name += ".source"  # the name alone is the scalar's value
        return f"{name}[{', '.join(parts) or '()'}]"

    def stop(self, start: Expr, extent: Expr) -> str:
        """``start + extent``, folded when both are literals of one dtype.

        The reader turns ``a:b`` into extent ``b - a``; printing such an extent back as stop
        ``b`` keeps printing a fixed point.
        """
        if isinstance(extent, BinOp) and extent.op == "sub":
            b = extent.b
            # ``b - a`` with a narrower start reads back with the start cast to the stop's dtype.
            if isinstance(b, Cast) and b.dtype == extent.a.dtype and b.value.dtype != b.dtype:
                b = b.value
            if structural_equal(b, start):
                return self.expr(extent.a)
        if isinstance(start, IntImm) and isinstance(extent, IntImm) and start.dtype == extent.dtype:
            return self.expr(IntImm(start.dtype, start.value + extent.value))
        if _is_zero(start):
            return self.expr(extent)
        return self._infix("+", _P_ADD, start, extent)[0]

    # ------------------------------------------------------------------ statements
    def line(self, level: int, text: str) -> None:
        self.out.append(_INDENT[level] + text if level < len(_INDENT) else "    " * level + text)

    def body(self, stmt: Stmt | None, level: int) -> None:
        """A nested block of statements in its own scope."""
        self.push()
        self.seq(flatten_seq(stmt), level)
        self.pop()

    def seq(self, stmts: list[Stmt], level: int) -> None:
        if not stmts:
            self.line(level, "T.evaluate(0)")
            return
        i, n = 0, len(stmts)
        fns = self.stmt_fn
        while i < n:
            s = stmts[i]
            if isinstance(s, AllocBuffer) and s.scalar:
                nxt = stmts[i + 1] if i + 1 < n else None
                folded = (isinstance(nxt, BufferStore) and nxt.buffer is s.buffer and nxt.predicate is None
                          and len(nxt.indices) == 1 and _is_zero(nxt.indices[0]))
                self._scalar(s, nxt if folded else None, level)  # type: ignore[arg-type]
                i += 2 if folded else 1
                continue
            fns[type(s)](s, level)
            i += 1

    def _seq_stmt(self, s: SeqStmt, level: int) -> None:
        self.seq(flatten_seq(s), level)

    def _scalar(self, s: AllocBuffer, init: BufferStore | None, level: int) -> None:
        value = self.expr(init.value) if init is not None else None
        name = self.define_buffer(s.buffer)
        self.scalars.add(id(s.buffer))
        if s.buffer.scope != "local":
            # ``x: T.float32`` is a local scalar: another scope is spelled out.
            self.line(level, f"{name} = T.alloc_scalar(T.{s.buffer.dtype}, scope={quote(s.buffer.scope)})")
            if value is not None:
                self.line(level, f"{name} = {value}")
            return
        head = f"{name}: T.{s.buffer.dtype}"
        self.line(level, head if value is None else f"{head} = {value}")

    def _evaluate(self, s: Evaluate, level: int) -> None:
        v = s.value
        if isinstance(v, Call):
            info = BUILTINS.get(v.op)
            if info is not None and info.print_stmt is not None and len(v.args) == info.min_args:
                self.line(level, info.print_stmt.format(*[self.expr(a) for a in v.args]))  # ``return x``
            else:
                self.line(level, self.expr(v))
        else:
            self.line(level, f"T.evaluate({self.expr(v)})")

    def _store(self, s: BufferStore, level: int) -> None:
        buf = s.buffer
        value = self.expr(s.value)
        if id(buf) in self.scalars and s.predicate is None and _at_zero(s.indices):
            self.line(level, f"{self.name_of(buf)} = {value}")
            return
        if s.predicate is not None:
            idx = ", ".join([self.expr(i) for i in s.indices])
            self.line(level, f"{self.name_of(buf)}.vstore([{idx}], {value}, predicate={self.expr(s.predicate)})")
            return
        # TVM writes a vector store's ramp index as a slice (``A[0:4] = ...``); the reader takes
        # slices only in regions, so the ramp is spelled out as TVM prints it in loads.
        idx = ", ".join([self.expr(i) for i in s.indices]) or "()"
        self.line(level, f"{self.name_of(buf)}[{idx}] = {value}")

    def _hint(self, s: HintStmt, level: int) -> None:
        args = [quote(s.message)] if s.message else []
        args += [f"{k}={self.expr(v)}" for k, v in s.attrs]
        self._call_or_scope(f"T.hint({', '.join(args)})", s.body, level)

    def _call_or_scope(self, call: str, body: Stmt | None, level: int) -> None:
        """``call`` as a statement, or as ``with call:`` over ``body`` (T.attr, T.hint)."""
        if body is None:
            self.line(level, call)
        else:
            self.line(level, f"with {call}:")
            self.body(body, level + 1)

    def _scope_id(self, s: ScopeIdDef, level: int) -> None:
        args = []
        if s.extents is not None:
            args.append("[" + ", ".join([self.expr(x) for x in s.extents]) + "]")
        if s.preferred is not None:
            args.append("preferred=[" + ", ".join([self.expr(x) for x in s.preferred]) + "]")
        if s.vars and s.vars[0].dtype != _INT32:
            args.append(f'dtype="{s.vars[0].dtype}"')
        names = [self.define(v, v.name) for v in s.vars]
        self.line(level, f"{', '.join(names)} = T.{s.kind}({', '.join(args)})")

    def _bind(self, s: Bind, level: int) -> None:
        value = self.expr(s.value)
        var = s.var
        ty = var.type_annotation if var.type_annotation is not None else var.dtype
        name = self.define(var, var.name)
        self.line(level, f"{name}: T.let[{type_text(ty)}] = {value}")

    def _assert(self, s: AssertStmt, level: int) -> None:
        cond = self.expr(s.condition)
        if s.kind is None and len(s.message) == 1:
            self.line(level, f"assert {cond}, {self.expr(s.message[0])}")
            return
        parts = ", ".join([self.expr(m) for m in s.message])
        self.line(level, f"assert {cond}, ({quote(s.kind or 'RuntimeError')}, [{parts}])")

    def _attr(self, s: AttrStmt, level: int) -> None:
        if s.node is None:
            call = f"T.attr({self.value(s.value)})"
        else:
            call = f"T.attr({self.value(s.node)}, {quote(s.key)}, {self.value(s.value)})"
        self._call_or_scope(call, s.body, level)

    def _launch(self, s: LaunchThread, level: int) -> None:
        extent = self.expr(s.extent)
        if s.body is None:
            name = self.define(s.var, s.var.name)
            self.line(level, f"{name} = T.launch_thread({quote(s.tag)}, {extent})")
            return
        self.push()
        name = self.define(s.var, s.var.name)
        self.line(level, f"with T.launch_thread({quote(s.tag)}, {extent}) as {name}:")
        self.seq(flatten_seq(s.body), level + 1)
        self.pop()

    def _for(self, s: For, level: int) -> None:
        chain = [s]
        if _plain_serial(s):
            ids = {id(s.loop_var)}
            inner = s.body
            while isinstance(inner, For) and _plain_serial(inner) and not _uses_any(inner.extent, ids):
                chain.append(inner)
                ids.add(id(inner.loop_var))
                inner = inner.body
        self.push()
        if len(chain) > 1:
            extents = ", ".join([self.expr(f.extent) for f in chain])
            names = ", ".join([self.define(f.loop_var, f.loop_var.name) for f in chain])
            header = f"for {names} in T.grid({extents}):"
        else:
            header = self._loop_header(s)
        for f in chain:
            self.loops[id(f.loop_var)] = f
        self.line(level, header)
        self.seq(flatten_seq(chain[-1].body), level + 1)
        for f in chain:
            self.loops.pop(id(f.loop_var), None)
        self.pop()

    def _loop_header(self, s: For) -> str:
        if _is_zero(s.min) and s.step is None:
            bounds = [self.expr(s.extent)]
        else:
            bounds = [self.expr(s.min), self.stop(s.min, s.extent)]
        if s.step is not None:
            bounds.append(self.expr(s.step) if s.kind == "serial" and not s.annotations else f"step={self.expr(s.step)}")
        if s.kind == "serial" and not s.annotations:
            fn = "range"
        elif s.kind == "thread_binding":
            fn = "T.thread_binding"
            bounds.append(f"thread={quote(s.thread_binding or '')}")
        else:
            fn = f"T.{s.kind}"
        if s.annotations:
            bounds.append(f"annotations={self.value(s.annotations)}")
        name = self.define(s.loop_var, s.loop_var.name)
        return f"for {name} in {fn}({', '.join(bounds)}):"

    def _while(self, s: While, level: int) -> None:
        self.line(level, f"while {self.expr(s.condition)}:")
        self.body(s.body, level + 1)

    def _if(self, s: IfThenElse, level: int) -> None:
        self.line(level, f"if {self.expr(s.condition)}:")
        self.body(s.then_case, level + 1)
        if s.else_case is not None:
            self.line(level, "else:")
            self.body(s.else_case, level + 1)

    def _decl(self, s: DeclBuffer, level: int) -> None:
        buf = s.buffer
        src = s.view_of
        if s.form == "decl_scalar":
            args = [f"T.{buf.dtype}"]
            if id(buf.data) in self.names or s.data_value is not None:
                data = self.name_of(buf.data) if s.data_value is None else self.expr(s.data_value)
                args.append(f"data={data}")
            if buf.elem_offset is not None:
                args.append(f"elem_offset={self.expr(buf.elem_offset)}")
            args.append(f"scope={quote(buf.scope)}")
            name = self.define_buffer(buf)
            self.scalars.add(id(buf))
            self.line(level, f"{name} = T.decl_scalar({', '.join(args)})")
            return
        if s.form in ("local", "local_shaped") and src is not None:
            args = [self.expr(e) for e in buf.shape] if s.form == "local_shaped" else []
            if buf.layout is not None:
                args.append(f"layout={self.expr(buf.layout)}")
            name = self.define_buffer(buf)
            self.line(level, f"{name} = {self.name_of(src)}.local({', '.join(args)})")
            return
        if s.form == "permute" and src is not None:
            name = self.define_buffer(buf)
            self.line(level, f"{name} = {self.name_of(src)}.permute({', '.join(map(str, s.dims))})")
            return
        if s.form == "view" and src is not None and (buf.dtype == src.dtype or _same_shape(buf, src)):
            if buf.dtype == src.dtype:
                view_args = ", ".join([self.expr(e) for e in buf.shape])
                if buf.layout is not None and buf.layout is not src.layout:
                    view_args += f", layout={self.expr(buf.layout)}"
            else:
                view_args = f'"{buf.dtype}"'
            text = f"{self.name_of(src)}.view({view_args})"
        else:
            has_data = id(buf.data) in self.names
            fn = "T.Buffer" if s.form == "buffer" else "T.decl_buffer"
            decl_args = self.buffer_args(buf, dtype=False, data=has_data)
            if s.data_value is not None and not has_data:
                # ``data=T.reinterpret(...)`` (TVM's packed text): the value the pointer binds.
                decl_args.insert(2 if str(buf.dtype) != "float32" else 1, f"data={self.expr(s.data_value)}")
            text = f"{fn}({', '.join(decl_args)})"
        name = self.define_buffer(buf)
        self.line(level, f"{name} = {text}")

    def _alloc(self, s: AllocBuffer, level: int) -> None:
        buf = s.buffer
        # TVM 0.27 prints scope "local"/"shared" as T.alloc_local/T.alloc_shared; both parsers
        # read the explicit scope= spelling, so that is the one we print.
        args = self.buffer_args(buf, dtype=False)
        if s.annotations:
            args.append(f"annotations={self.value(s.annotations)}")
        name = self.define_buffer(buf)
        self.line(level, f"{name} = T.alloc_buffer({', '.join(args)})")

    def _allocate(self, s: Allocate, level: int) -> None:
        scope = s.var.type_annotation.scope if s.var.type_annotation is not None else "global"
        args = [f"[{', '.join([self.expr(e) for e in s.extents])}]", f'"{s.dtype}"', quote(scope)]
        if not _is_true(s.condition):
            args.append(self.expr(s.condition))  # type: ignore[arg-type]
        if s.annotations:
            args.append(f"annotations={self.value(s.annotations)}")
        self._binding_form(s.var, f"T.allocate({', '.join(args)})", s.body, level)

    def _allocate_const(self, s: AllocateConst, level: int) -> None:
        extents = f"[{', '.join([self.expr(e) for e in s.extents])}]"
        comment = ""
        if s.data is None:
            # TVM omitted the constant; zeros keep the text parseable, the comment says so.
            count = 1
            for e in s.extents:
                count *= e.value if isinstance(e, IntImm) else 0
            zero = "0.0" if s.dtype.is_float else "0"
            data = "[" + ", ".join([zero] * count) + "]"
            ref = f"{s.metadata_ref[0]}[{s.metadata_ref[1]}]" if s.metadata_ref else "unknown"
            comment = f"  # constant data omitted by TVM ({ref}): printed as zeros"
        elif s.dtype.is_float:
            data = "[" + ", ".join([format_float(float(x)) for x in s.data]) + "]"
        else:
            data = "[" + ", ".join([str(int(x)) for x in s.data]) + "]"
        args = [data, f'"{s.dtype}"', extents]
        if s.annotations:
            args.append(f"annotations={self.value(s.annotations)}")
        self._binding_form(s.var, f"T.allocate_const({', '.join(args)})", s.body, level, comment)

    def _binding_form(self, var: Var, call: str, body: Stmt | None, level: int, comment: str = "") -> None:
        if body is None:
            name = self.define(var, var.name)
            self.line(level, f"{name} = {call}{comment}")
            return
        self.push()
        name = self.define(var, var.name)
        self.line(level, f"with {call} as {name}:{comment}")
        self.seq(flatten_seq(body), level + 1)
        self.pop()

    # ------------------------------------------------------------------ blocks
    def _realize(self, s: SBlockRealize, level: int) -> None:
        self._block(s.block, s.iter_values, s.predicate, level)

    def _bare_block(self, s: SBlock, level: int) -> None:
        self._block(s, None, None, level)

    def _block(self, b: SBlock, values: tuple[Expr, ...] | None, pred: Expr | None, level: int) -> None:
        extra = "" if values is not None else ", no_realize=True"
        self.line(level, f"with T.sblock({quote(b.name)}{extra}):")
        inner = level + 1
        self.push()
        if values is not None:
            self._axes(b.iter_vars, values, inner)
        else:
            for iv in b.iter_vars:
                self.define(iv.var, iv.var.name)
        if not _is_true(pred):
            self.line(inner, f"T.where({self.expr(pred)})")  # type: ignore[arg-type]
        if b.reads is not None:
            self.line(inner, f"T.reads({', '.join([self.region(r) for r in b.reads])})")
        if b.writes is not None:
            self.line(inner, f"T.writes({', '.join([self.region(r) for r in b.writes])})")
        if b.annotations:
            self.line(inner, f"T.sblock_attr({self.value(b.annotations)})")
        self._block_allocs(b, inner)
        for m in b.match_buffers:
            args = ", ".join([self.region(m.source)] + self.buffer_args(m.buffer, dtype=False))
            name = self.define_buffer(m.buffer)
            self.line(inner, f"{name} = T.match_buffer({args})")
        if b.init is not None:
            self.line(inner, "with T.init():")
            self.body(b.init, inner + 1)
        self.seq(flatten_seq(b.body), inner)
        self.pop()

    def _block_allocs(self, b: SBlock, level: int) -> None:
        for buf in b.alloc_buffers:
            args = ", ".join(self.buffer_args(buf, dtype=False))
            name = self.define_buffer(buf)
            self.line(level, f"{name} = T.sblock_alloc_buffer({args})")

    def _axes(self, ivs: tuple[IterVar, ...], values: tuple[Expr, ...], level: int) -> None:
        remap = len(ivs) > 1 and all(self._remappable(iv, v) for iv, v in zip(ivs, values))
        if remap:
            kinds = "".join([iv.kind for iv in ivs])
            binds = ", ".join([self.expr(v) for v in values])
            names = ", ".join([self.define(iv.var, iv.var.name) for iv in ivs])
            self.line(level, f'{names} = T.axis.remap("{kinds}", [{binds}])')
            return
        for iv, v in zip(ivs, values):
            if _is_zero(iv.dom_min):
                dom = self.expr(iv.dom_extent)
            else:
                dom = f"({self.expr(iv.dom_min)}, {self.stop(iv.dom_min, iv.dom_extent)})"
            binding = self.expr(v)
            kind = _AXIS_KINDS.get(iv.kind, iv.kind)
            dt = "" if str(iv.var.dtype) == "int32" or iv.var.dtype == iv.dom_extent.dtype else f', "{iv.var.dtype}"'
            name = self.define(iv.var, iv.var.name)
            self.line(level, f"{name} = T.axis.{kind}({dom}, {binding}{dt})")

    def _remappable(self, iv: IterVar, value: Expr) -> bool:
        if iv.kind not in ("S", "R") or not isinstance(value, Var) or not _is_zero(iv.dom_min):
            return False
        loop = self.loops.get(id(value))
        if loop is None or not _is_zero(loop.min) or loop.step is not None:
            return False
        a, b = loop.extent, iv.dom_extent
        return a is b or (isinstance(a, IntImm) and isinstance(b, IntImm) and a.value == b.value
                          and a.dtype == b.dtype)

    # ------------------------------------------------------------------ functions
    def function(self, f: PrimFunc, level: int) -> None:
        self.s_tir = f.s_tir or _has_block(f.body)
        self.push()
        flags = []
        if f.private:
            flags.append("private=True")
        if self.s_tir:
            flags.append("s_tir=True")
        self.line(level, "@T.prim_func" + (f"({', '.join(flags)})" if flags else ""))
        folded: dict[int, Buffer] = {}
        for p in f.params:
            buf = f.buffer_of(p)
            if buf is not None and buf.name == p.name:
                folded[id(p)] = buf
                name = self.define_buffer(buf)
                self.alias(p, name)
            else:
                self.define(p, p.name)
        params = []
        self.free, self.in_params, self.type_params = [], True, f.type_params
        # A scalar param a buffer before it uses in its shape: TVM reads the first such use
        # only when quoted ("n"), like a size var.
        self.later_params = {id(p) for p in f.params if id(p) not in folded}
        for p in f.params:
            self.later_params.discard(id(p))
            buf = folded.get(id(p))
            if buf is not None:
                params.append(f"{self.name_of(buf)}: T.Buffer({', '.join(self.buffer_args(buf, dtype=True))})")
            elif p.type_annotation is not None:
                params.append(f"{self.name_of(p)}: {p.type_annotation}")
            else:
                params.append(f"{self.name_of(p)}: {type_text(p.dtype)}")
        tparams = f"[{', '.join(f.type_params)}]" if f.type_params else ""
        ret = f" -> {type_text(f.ret_type)}" if f.ret_type is not None else ""
        self.in_params = False
        self.line(level, f"def {f.name}{tparams}({', '.join(params)}){ret}:")
        free_at = len(self.out)
        inner = level + 1
        if f.attrs:
            self.line(inner, f"T.func_attr({self.value(f.attrs)})")
        for p, buf in f.buffer_map:
            if id(p) in folded:
                continue
            args = ", ".join([self.name_of(p)] + self.buffer_args(buf, dtype=True))
            name = self.define_buffer(buf)
            self.line(inner, f"{name} = T.match_buffer({args})")
        body = f.body
        if isinstance(body, SBlockRealize) and _is_implicit_root(body):
            # TVM keeps the function-level root block implicit and comments it.
            self.line(inner, '# with T.sblock("root"):')
            self._block_allocs(body.block, inner)
            body = body.block.body
        self.seq(flatten_seq(body), inner)
        if self.free:
            self.out[free_at:free_at] = [_INDENT[inner] + d for d in self.free]
        self.free = None
        self.pop()


_PY_OP_PRECEDENCE = {"+": _P_ADD, "-": _P_ADD, "*": _P_MUL, "@": _P_MUL, "/": _P_MUL, "//": _P_MUL, "%": _P_MUL}


# TVM's node constructors, which build the node as given (``T.floordiv`` folds like ``//``).
_NODE_SPELLING = {"add": "Add", "sub": "Sub", "mul": "Mul", "floordiv": "FloorDiv", "floormod": "FloorMod",
                  "eq": "EQ", "ne": "NE", "lt": "LT", "le": "LE", "gt": "GT", "ge": "GE", "and": "And", "or": "Or"}


def _tvm_folds(op: str, a: Expr, b: Expr) -> bool:
    """Whether TVM's parser simplifies ``a <op> b`` written with the operator: constants on
    both sides, or an identity (``x + 0``, ``x - 0``, ``x * 1``, ``0 * x``, ``x // 1``,
    ``0 % x``), as its constant folding does."""
    va = a.value if type(a) in (IntImm, FloatImm) else None  # type: ignore[attr-defined]
    vb = b.value if type(b) in (IntImm, FloatImm) else None  # type: ignore[attr-defined]
    if va is not None and vb is not None:
        return op != "and" and op != "or"
    if op == "add":
        return va == 0 or vb == 0
    if op == "sub":
        return vb == 0
    if op == "mul":
        return va in (0, 1) or vb in (0, 1)
    if op in ("floordiv", "floormod"):
        return va == 0 or vb == 1
    return False


def _lanes_text(lanes: int) -> str:
    """A lane count; negative is a scalable vector: ``T.vscale() * n``."""
    return f"T.vscale() * {-lanes}" if lanes < 0 else str(lanes)


def _implicit_elem_offset(buf: Buffer) -> bool:
    """Whether the buffer's offset is the var TVM makes for a buffer with an offset factor
    (``A_elem_offset``, printed as ``A.elem_offset`` and left out of the declaration)."""
    eo = buf.elem_offset
    return bool(buf.offset_factor) and isinstance(eo, Var) and eo.name == f"{buf.name}_elem_offset"


def _same_shape(a: Buffer, b: Buffer) -> bool:
    if len(a.shape) != len(b.shape):
        return False
    return all(x is y or (isinstance(x, IntImm) and isinstance(y, IntImm) and x.value == y.value)
               for x, y in zip(a.shape, b.shape))


def _plain_serial(f: For) -> bool:
    return (f.kind == "serial" and _is_zero(f.min) and not f.annotations and f.step is None
            and f.thread_binding is None)


def _is_implicit_root(r: SBlockRealize) -> bool:
    """Whether a function's root block prints as TVM's comment: a plain root the reader makes
    again from the body alone (it allocates, or blocks are under it but it does not hold
    exactly one block without iterators). An explicit root around no block, or around one
    such block, prints as written (else the text would read back without it)."""
    b = r.block
    if not (b.name == "root" and not b.iter_vars and not r.iter_values and _is_true(r.predicate)
            and b.init is None and not b.match_buffers and not b.annotations
            and not b.reads and not b.writes):
        return False
    inner = b.body
    if b.alloc_buffers:
        return True
    if isinstance(inner, SBlockRealize):
        return bool(inner.block.iter_vars)
    return _has_block(inner)


def _has_block(s: Stmt | None) -> bool:
    """Whether a block appears anywhere under ``s`` (such functions print with s_tir=True)."""
    stack: list[Any] = [s]
    while stack:
        n = stack.pop()
        if isinstance(n, (SBlock, SBlockRealize)):
            return True
        if isinstance(n, SeqStmt):
            stack.extend(n.stmts)
        elif isinstance(n, IfThenElse):
            stack.append(n.then_case)
            stack.append(n.else_case)
        elif isinstance(n, Stmt):
            stack.append(getattr(n, "body", None))
    return False


def print_expr(e: Expr) -> str:
    """One expression as TVMScript (vars by their own names)."""
    return _Printer().expr(e)


def print_function(func: PrimFunc, header: list[str] | None = None) -> str:
    """A standalone ``@T.prim_func`` with the import header."""
    p = _Printer()
    p.out.extend([f"# {h}" for h in header or ()])
    p.out.extend(HEADER[1:])
    p.out.append("")
    p.function(func, 0)
    return _finish(p)


def _finish(p: _Printer) -> str:
    """The printed lines as text, with what TVM writes before the functions: the int64 sizes
    of signatures as ``n = TypeVar("n")`` (and their import comment), the ``Axis`` import
    comment when a layout names an axis (``4 @ Axis.laneid``)."""
    out = p.out
    if p.type_vars:
        first = next(i for i, line in enumerate(out) if line.startswith("@"))
        out[first:first] = [f'{n} = TypeVar("{n}")' for n in p.type_vars]
        at = next((i for i, line in enumerate(out) if line.startswith("# from tvm.script")), 0)
        out.insert(at, "# from typing import TypeVar")
    text = "\n".join(out) + "\n"
    if "Axis." in text and AXIS_IMPORT not in text:
        text = text.replace(HEADER[1] + "\n", f"{HEADER[1]}\n{AXIS_IMPORT}\n", 1)
    return text


def print_module(mod: IRModule, header: list[str] | None = None) -> str:
    """A module as TVMScript: ``@I.ir_module class Module:`` (or a top-level prim_func when
    the module came from a standalone function). ``header`` lines become leading comments."""
    p = _Printer()
    p.out.extend([f"# {h}" for h in header or ()])
    if mod.standalone:
        p.out.extend(HEADER[1:] if mod.functions else ["# from tvm.script import relax as R"])
        for f in mod.functions:
            p.out.append("")
            p.function(f, 0)
        for rf in mod.relax_functions:
            p.out.append("")
            p.out.extend(print_relax_function(rf, 0))
        return _finish(p)
    p.out.extend(HEADER)
    if mod.relax_functions or "R." in mod.global_infos:
        p.out.append("# from tvm.script import relax as R")
    p.out.append("")
    if mod.relax_functions:
        # Relax annotations name the module's size vars (``R.Tensor((n, 4))``); TVM declares them here.
        p.type_vars.extend(mod.type_vars)
        p.module_vars = set(mod.type_vars)
    p.out.append("@I.ir_module")
    p.out.append(f"class {mod.name}:")
    p.module_name = mod.name
    if mod.attrs:
        p.line(1, f"I.module_attrs({p.value(mod.attrs)})")
    for line in mod.global_infos.split("\n") if mod.global_infos else ():
        p.line(1, line)
    for i, f in enumerate(mod.functions):
        if i:
            p.out.append("")
        p.function(f, 1)
    # TVM prints the Relax functions after the PrimFuncs.
    for i, rf in enumerate(mod.relax_functions):
        if i or mod.functions:
            p.out.append("")
        p.out.extend(print_relax_function(rf, 1))
    if not mod.functions and not mod.relax_functions and not mod.attrs:
        p.line(1, "pass")
    return _finish(p)


def _at_zero(indices: tuple[Expr, ...]) -> bool:
    """Whether an access of a scalar buffer is its one element (``x``, not ``x[8 + j]``): only
    then may it print as the bare name."""
    return all(isinstance(i, IntImm) and i.value == 0 for i in indices)
