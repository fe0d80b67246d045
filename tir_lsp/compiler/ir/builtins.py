"""The one definition of every known ``T.*`` name: builtin calls, statement forms, dtypes.

Each entry says, as data, what a builtin is (the MLIR ODS / xDSL IRDL idea in dataclasses):
its arity and argument kinds, the rule for its result dtype, how the builder builds it when
it is not a plain ``Call``, how the printer writes it when that is special, how LowerIntrin
rewrites it and how the C backend writes it. The builder, printer, LowerIntrin, the C
backend and the language server (hover, completion, signature help) all read this table,
so a new builtin is one ``register(builtin(...))``.

What is code rather than data (a C renderer, a rewrite) is named by a hook the layer that
owns it defines (``CHook("reinterpret")`` in the C backend, ``LowerHook("abs")`` in
LowerIntrin); tests/test_builtins_table.py checks that every hook named here exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from tir_lsp.compiler.ir.dtype import (
    BOOL_T,
    HANDLE_T,
    INT32,
    SMALL_FLOATS,
    VOID_T,
    DataType,
    is_dtype_name,
)

if TYPE_CHECKING:
    from tir_lsp.compiler.ir.expr import Expr


class Kind(str, Enum):
    """What a ``T.<name>`` is: a value (``expr``), a statement form, a type, a dtype
    constructor (``T.float32(1)``) or a decorator. A ``str`` enum: compares with plain names."""

    EXPR = "expr"
    STMT = "stmt"
    TYPE = "type"
    DTYPE = "dtype"
    DECORATOR = "decorator"


class ArgKind(Enum):
    """How the builder reads one positional argument of a generic builtin call."""

    VALUE = "value"    # an expression (a list, None, a lambda, a buffer standing for its data)
    INDEX = "index"    # an int32 expression (a field number, a handle var)
    CALLEE = "callee"  # a string naming a function: recorded in the def-use index
    TYPE = "type"      # the result dtype (``"float32"``, ``T.handle("int8").ty``): not an IR argument


# ---------------------------------------------------------------- result dtype rules
class ResultRule:
    """The dtype of a call of the builtin, from its (built) IR arguments and the dtype the
    context expects (``hint``)."""

    __slots__ = ()

    def dtype(self, args: Sequence[Expr], hint: DataType | None) -> DataType:
        return hint or INT32


@dataclass(frozen=True, slots=True)
class ArgDtype(ResultRule):
    """The dtype of argument ``index`` (``T.exp(x)``: x's; ``T.Select(c, a, b)``: a's)."""

    index: int

    def dtype(self, args: Sequence[Expr], hint: DataType | None) -> DataType:
        return args[self.index].dtype if len(args) > self.index else (hint or INT32)


@dataclass(frozen=True, slots=True)
class Fixed(ResultRule):
    """Always this dtype (``int32``, ``handle``, ``void``)."""

    result: DataType

    def dtype(self, args: Sequence[Expr], hint: DataType | None) -> DataType:
        return self.result


@dataclass(frozen=True, slots=True)
class Predicate(ResultRule):
    """``bool``, with as many lanes as the first argument (``T.isnan(x)``, ``T.EQ(a, b)``)."""

    def dtype(self, args: Sequence[Expr], hint: DataType | None) -> DataType:
        return BOOL_T.with_lanes(args[0].dtype.lanes) if args and args[0].dtype.lanes > 1 else BOOL_T


@dataclass(frozen=True, slots=True)
class TypeArg(ResultRule):
    """The dtype written as argument ``index`` (``T.call_extern("float32", "f", x)``,
    ``T.tvm_struct_get(h, 0, 1, "handle")``). That argument is the call's type in the IR, not
    one of its arguments; the printer writes it back at the same position. ``handle_ty``:
    a handle result is written ``T.handle().ty`` (else ``"handle"``)."""

    index: int
    handle_ty: bool = True


@dataclass(frozen=True, slots=True)
class OwnName(ResultRule):
    """A dtype constructor: the dtype its own name spells (``T.float32(1)``)."""


@dataclass(frozen=True, slots=True)
class NoValue(ResultRule):
    """A statement, type or decorator form: not a value (as an argument, typed by its context)."""


ARG0, ARG1 = ArgDtype(0), ArgDtype(1)
BOOL = Predicate()
I32, HANDLE, VOID = Fixed(INT32), Fixed(HANDLE_T), Fixed(VOID_T)
NONE, SELF = NoValue(), OwnName()


# ---------------------------------------------------------------- how it is built
class Build(Enum):
    """A builtin the builder builds as an IR node of its own (or with its own rule) instead
    of a generic ``Call``: the builder has one method per member."""

    BINOP = "binop"                # BinOp(entry.binop, a, b): T.Add, T.floordiv, T.min, T.EQ...
    NOT = "not"                    # Not(a)
    CAST = "cast"                  # Cast(dtype, value)
    SELECT = "select"              # Select(c, t, f), t and f matched
    IF_THEN_ELSE = "if_then_else"  # Call(t.dtype, c, t, f), t and f matched
    RAMP = "ramp"                  # Ramp(base, stride, lanes)
    BROADCAST = "broadcast"        # Broadcast(value, lanes)
    SHUFFLE = "shuffle"            # Shuffle([vectors], [indices])
    LET = "let"                    # Let(var, value, body) from T.Let(body, where={var: value})
    FFI_KERNEL = "ffi_kernel"      # Call typed by its ret_ty= keyword; names a kernel


# ---------------------------------------------------------------- how it is written in C
@dataclass(frozen=True, slots=True)
class CTemplate:
    """C text with ``{0}``, ``{1}``... the rendered IR arguments, or ``{args}`` all of them
    separated by commas. ``per_lane``: arguments rendered for the lane being written (a
    vector call is one C expression per lane), else as scalars; ``rounded``: the result is
    wrapped to the call dtype's width (integer ops computed in a wider C type)."""

    text: str
    per_lane: bool = True
    rounded: bool = False


@dataclass(frozen=True, slots=True)
class CHook:
    """A renderer of the C backend by name (``reinterpret``, ``struct_get``...)."""

    name: str


@dataclass(frozen=True, slots=True)
class CUnsupported:
    """No C form, for this reason (the backend reports it as an error)."""

    reason: str


CForm = CTemplate | CHook | CUnsupported


# ---------------------------------------------------------------- how LowerIntrin rewrites it
@dataclass(frozen=True, slots=True)
class Libm:
    """A call of the C99 libm function ``base`` (``base`` + ``f`` for float32); an error for
    a non-float dtype."""

    base: str


@dataclass(frozen=True, slots=True)
class LowerHook:
    """A rewrite LowerIntrin defines by name (``abs``, ``sigmoid``...)."""

    name: str


Lowering = Libm | LowerHook


@dataclass(frozen=True, slots=True)
class BuiltinInfo:
    """One ``T.<name>``.

    ``min_args``/``max_args`` count the arguments as written (None: any number more);
    ``signature`` and ``description`` are what hover, completion and signature help show.
    ``args`` gives the kinds of the leading positional arguments (the rest are values);
    ``build`` (with ``binop``) names the builder's form for a builtin that is not a generic
    ``Call``; ``operator`` is the Python and C operator a two-argument (infix) or
    one-argument (prefix) call is written as; ``print_stmt``/``c_stmt`` write an evaluated
    call as a statement (``return x``); ``c`` is its C form and ``lower`` its LowerIntrin
    rewrite; ``lanewise``: a vector call is one scalar call per lane (VectorizeLoop);
    ``tvm``: TVM knows it (else the builder warns that it is unknown to TVM).
    """

    name: str
    min_args: int
    max_args: int | None
    description: str
    result: ResultRule
    signature: str
    kind: Kind = Kind.EXPR
    args: tuple[ArgKind, ...] = ()
    build: Build | None = None
    binop: str | None = None
    operator: str | None = None
    print_stmt: str | None = None
    c: CForm | None = None
    c_stmt: CTemplate | None = None
    lower: Lowering | None = None
    lanewise: bool = False
    tvm: bool = True
    # Derived from ``result``: where the dtype argument is, and the arity in the IR.
    type_arg: int | None = field(init=False, default=None)
    ir_min_args: int = field(init=False, default=0)
    ir_max_args: int | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        t = self.result.index if isinstance(self.result, TypeArg) else None
        drop = 0 if t is None else 1
        object.__setattr__(self, "type_arg", t)
        object.__setattr__(self, "ir_min_args", max(self.min_args - drop, 0))
        object.__setattr__(self, "ir_max_args", None if self.max_args is None else self.max_args - drop)

    def arg_kind(self, index: int) -> ArgKind:
        """The kind of positional argument ``index`` as written."""
        if index == self.type_arg:
            return ArgKind.TYPE
        return self.args[index] if index < len(self.args) else ArgKind.VALUE

    def arity_text(self, ir: bool = False) -> str:
        """``2``, ``1 or more``, ``1 to 3``: the argument count written or (``ir``) in the IR."""
        lo, hi = (self.ir_min_args, self.ir_max_args) if ir else (self.min_args, self.max_args)
        return f"{lo}" if lo == hi else f"{lo} or more" if hi is None else f"{lo} to {hi}"


BUILTINS: dict[str, BuiltinInfo] = {}
# BinOp op -> the builtin spelling the printer writes for one with no infix form (``T.Div``):
# the first entry registered with that ``binop``.
BINOP_SPELLING: dict[str, str] = {}
# Python operator -> the builtin it is (``&`` -> bitwise_and; ``~`` -> bitwise_not).
OPERATOR_BUILTINS: dict[tuple[str, int], str] = {}


def register(info: BuiltinInfo) -> BuiltinInfo:
    """Adds ``info`` to the table (replacing an entry of the same name)."""
    BUILTINS[info.name] = info
    if info.binop is not None:
        BINOP_SPELLING.setdefault(info.binop, info.name)
    if info.operator is not None:
        OPERATOR_BUILTINS[(info.operator, info.min_args)] = info.name
    return info


def unregister(name: str) -> None:
    """Removes the entry ``name`` (for tests that register their own)."""
    info = BUILTINS.pop(name)
    if info.binop is not None and BINOP_SPELLING.get(info.binop) == name:
        del BINOP_SPELLING[info.binop]
        for other in BUILTINS.values():
            if other.binop == info.binop:
                BINOP_SPELLING[info.binop] = other.name
                break
    if info.operator is not None and OPERATOR_BUILTINS.get((info.operator, info.min_args)) == name:
        del OPERATOR_BUILTINS[(info.operator, info.min_args)]


def builtin(name: str, lo: int, hi: int | None, result: ResultRule, params: str, desc: str,
            kind: Kind = Kind.EXPR, *, args: tuple[ArgKind, ...] = (), build: Build | None = None,
            binop: str | None = None, operator: str | None = None, print_stmt: str | None = None,
            c: CForm | None = None, c_stmt: CTemplate | None = None, lower: Lowering | None = None,
            lanewise: bool = False, tvm: bool = True) -> BuiltinInfo:
    """The entry of ``T.<name>(<params>)``, taking ``lo`` to ``hi`` arguments (see BuiltinInfo)."""
    return BuiltinInfo(name, lo, hi, desc, result, f"T.{name}({params})", kind, args, build, binop, operator,
                       print_stmt, c, c_stmt, lower, lanewise, tvm)


def _add(*a: Any, **k: Any) -> None:
    register(builtin(*a, **k))


# ---------------------------------------------------------------- statement / structure forms
_S, _T = Kind.STMT, Kind.TYPE
_add("prim_func", 0, 1, NONE, "func=None, private=False, s_tir=False", "Decorator marking a TIR function.", Kind.DECORATOR)
_add("Buffer", 1, 2, NONE, "shape, dtype=\"float32\", data=None, strides=None, elem_offset=None, scope=\"global\", align=0, offset_factor=0, buffer_type=\"default\", axis_separators=None", "A buffer: a typed, shaped view of memory (parameter annotation or declaration).", _T)
_add("grid", 1, None, NONE, "*extents", "Nested serial loops, one per extent.", _S)
for _k in ("serial", "parallel", "vectorized", "unroll"):
    _add(_k, 1, 2, NONE, "start, stop=None, annotations=None", f"A {_k} loop over [start, stop) (or [0, start)).", _S)
_add("thread_binding", 1, 3, NONE, "start, stop=None, thread, annotations=None", "A loop bound to a GPU thread axis.", _S)
_add("sblock", 0, 2, NONE, "name=\"\", no_realize=False", "A schedulable block with its own iterators, reads and writes.", _S)
_add("block", 0, 2, NONE, "name=\"\", no_realize=False", "A schedulable block (classic spelling of T.sblock).", _S)
for _k, _d in (("spatial", "a spatial"), ("reduce", "a reduction"), ("scan", "a scan"), ("opaque", "an opaque")):
    _add(f"axis.{_k}", 2, 3, NONE, "dom, binding, dtype=\"int32\"", f"Declares {_d} block iterator over dom bound to binding.", _S)
_add("axis.remap", 2, 2, NONE, "kinds, bindings", "Declares block iterators at once: kinds is a string of S/R, one per binding.", _S)
_add("reads", 0, None, NONE, "*buffer_regions", "The buffer regions a block reads.", _S)
_add("writes", 0, None, NONE, "*buffer_regions", "The buffer regions a block writes.", _S)
_add("init", 0, 0, NONE, "", "The initialization of a reduction block (runs on the first reduction iteration).", _S)
_add("where", 1, 1, NONE, "predicate", "The predicate under which a block instance executes.", _S)
_add("sblock_attr", 1, 1, NONE, "attrs", "Annotations of the enclosing block.", _S)
_add("block_attr", 1, 1, NONE, "attrs", "Annotations of the enclosing block (classic spelling).", _S)
_add("alloc_buffer", 1, 2, NONE, "shape, dtype=\"float32\", data=None, strides=None, elem_offset=None, scope=\"global\", align=-1, offset_factor=0, buffer_type=\"default\", axis_separators=None, annotations=None", "Allocates a buffer for the rest of the enclosing scope.", _S)
_add("alloc_local", 1, 2, NONE, "shape, dtype=\"float32\", annotations=None", "Allocates a buffer in local (per-thread) memory for the rest of the scope.", _S)
_add("alloc_shared", 1, 2, NONE, "shape, dtype=\"float32\", annotations=None", "Allocates a buffer in shared memory for the rest of the scope.", _S)
_add("sblock_alloc_buffer", 1, 2, NONE, "shape, dtype=\"float32\", scope=\"global\", ...", "Allocates a buffer owned by the enclosing block (the implicit root block at function level).", _S)
_add("decl_buffer", 1, 2, NONE, "shape, dtype=\"float32\", data=None, strides=None, elem_offset=None, scope=\"global\", align=0, offset_factor=0, buffer_type=\"default\", axis_separators=None", "Declares a buffer over existing memory (data=pointer).", _S)
_add("alloc_scalar", 1, 2, NONE, "dtype, scope=\"global\"", "Allocates a one-element buffer read as x and written as x = v.", _S)
_add("local_scalar", 1, 1, NONE, "dtype", "Allocates a one-element local buffer read as x and written as x = v.", _S)
_add("shared_scalar", 1, 1, NONE, "dtype", "Allocates a one-element shared buffer read as x and written as x = v.", _S)
_add("decl_scalar", 1, 1, NONE, "dtype, data=None, elem_offset=0, scope=\"global\"", "Declares a one-element buffer over existing memory, read as x and written as x = v.", _S)
_add("hint", 0, 1, NONE, "message=\"\", **attrs", "A directive for the statements it wraps (with T.hint(...):) or that follow.", _S)
_add("buffer_decl", 1, 2, NONE, "shape, dtype=\"float32\", data=None, strides=None, elem_offset=None, scope=\"global\", align=0, offset_factor=0", "Declares a buffer over existing memory (TVM 0.8-0.9 spelling of T.decl_buffer).", _S)
_add("match_buffer", 2, 3, NONE, "param_or_region, shape, dtype=\"float32\", data=None, strides=None, elem_offset=None, scope=\"global\", align=-1, offset_factor=0, buffer_type=\"default\", axis_separators=None", "Binds a buffer to a handle parameter or to a region of another buffer.", _S)
_add("allocate", 2, 4, NONE, "extents, dtype, scope=\"global\", condition=True, annotations=None", "Allocates memory and binds a pointer var (classic dialect).", _S)
_add("allocate_const", 3, 3, NONE, "data, dtype, extents, annotations=None", "Binds a pointer to constant data.", _S)
_add("attr", 1, 3, NONE, "node, attr_key, value", "An attribute attached to a node for the rest of the scope (or a with-body).", _S)
_add("launch_thread", 2, 2, NONE, "thread_tag, extent", "Launches a thread axis and binds its index var.", _S)
_add("env_thread", 1, 1, NONE, "thread_tag", "A thread index var for T.launch_thread.", _S)
_add("func_attr", 1, 1, NONE, "attrs", "Attributes of the enclosing function.", _S)
_add("target", 1, 2, NONE, "config, host=None", "A compilation target literal.", _T)
_add("let", 0, 0, NONE, "", "Type annotation T.let[type] of an immutable binding.", _T)
_add("evaluate", 1, 1, NONE, "value", "Evaluates an expression for its side effects.", _S)
_add("assume", 1, 1, VOID, "cond", "Tells the compiler that cond holds.")
_add("handle", 0, 2, HANDLE, "dtype=None, storage_scope=\"global\"", "An opaque pointer type, optionally to elements of dtype.", _T)
_add("TensorMap", 0, 0, HANDLE, "", "An opaque handle to a CUDA tensor map descriptor (a type).", _T)
_add("Tensor", 1, 2, NONE, "shape, dtype=\"float32\"", "Alias of T.Buffer.", _T)
_add("comm_reducer", 2, 2, NONE, "combiner, identity", "A commutative reducer.")
_add("meta_var", 1, 1, NONE, "value", "A meta-programming value.")

# ---------------------------------------------------------------- expression constructors
_add("Cast", 2, 2, TypeArg(0), "dtype, value", "Converts value to dtype.", build=Build.CAST)
_add("Select", 3, 3, ARG1, "condition, true_value, false_value", "Picks one of two values (both evaluated).", build=Build.SELECT)
_add("if_then_else", 3, 3, ARG1, "cond, t, f", "Picks one of two values, evaluating only the chosen one.",
     build=Build.IF_THEN_ELSE, c=CTemplate("({0} ? {1} : {2})"), lanewise=True)
_add("Ramp", 3, 3, ARG0, "base, stride, lanes", "A vector base, base+stride, ... of lanes lanes.", build=Build.RAMP)
_add("Broadcast", 2, 2, ARG0, "value, lanes", "A vector of lanes copies of value.", build=Build.BROADCAST)
_add("Shuffle", 2, 2, ARG0, "vectors, indices", "A vector made of lanes picked from vectors.", build=Build.SHUFFLE)
_add("Let", 1, 1, ARG0, "body, where={var: value}", "An expression-level binding.", build=Build.LET)
for _k, _op, _d in (("Div", "div", "Division (truncating for integers)."), ("truncdiv", "div", "Truncating integer division."),
                    ("truncmod", "truncmod", "Remainder of truncating division."),
                    ("floordiv", "floordiv", "Division rounding toward minus infinity."),
                    ("floormod", "floormod", "Remainder of floor division."), ("min", "min", "The smaller of a and b."),
                    ("max", "max", "The larger of a and b."), ("Add", "add", "a + b."), ("Sub", "sub", "a - b."),
                    ("Mul", "mul", "a * b."), ("FloorDiv", "floordiv", "Floor division."),
                    ("FloorMod", "floormod", "Floor modulo."), ("Mod", "truncmod", "Truncating modulo."),
                    ("Min", "min", "The smaller of a and b."), ("Max", "max", "The larger of a and b.")):
    _add(_k, 2, 2, ARG0, "a, b", _d, build=Build.BINOP, binop=_op)
for _k, _op in (("EQ", "eq"), ("NE", "ne"), ("LT", "lt"), ("LE", "le"), ("GT", "gt"), ("GE", "ge"), ("And", "and"),
                ("Or", "or")):
    _add(_k, 2, 2, BOOL, "a, b", f"Comparison/logic {_k}.", build=Build.BINOP, binop=_op)
_add("Not", 1, 1, BOOL, "a", "Logical not.", build=Build.NOT)
_add("min_value", 1, 1, TypeArg(0), "dtype", "The smallest value of dtype.")
_add("max_value", 1, 1, TypeArg(0), "dtype", "The largest value of dtype.")
_add("infinity", 1, 1, TypeArg(0), "dtype", "Positive infinity of dtype.")
_add("reinterpret", 2, 2, TypeArg(0), "dtype, value", "The bits of value seen as dtype.", c=CHook("reinterpret"))

# ---------------------------------------------------------------- math intrinsics
# Computed by C99 libm (LowerIntrin): builtin -> the libm function (the double version).
_LIBM = {"exp": "exp", "exp2": "exp2", "log": "log", "log2": "log2", "log10": "log10", "log1p": "log1p",
         "sqrt": "sqrt", "sin": "sin", "cos": "cos", "tan": "tan", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh",
         "asin": "asin", "acos": "acos", "atan": "atan", "asinh": "asinh", "acosh": "acosh", "atanh": "atanh",
         "erf": "erf", "floor": "floor", "ceil": "ceil", "round": "nearbyint", "nearbyint": "nearbyint",
         "trunc": "trunc", "expm1": "expm1", "fabs": "fabs", "pow": "pow", "atan2": "atan2", "fmod": "fmod",
         "hypot": "hypot", "copysign": "copysign", "nextafter": "nextafter", "ldexp": "ldexp"}
# Applied lane by lane: a vector call is one scalar call per lane (VectorizeLoop).
_LANEWISE = frozenset({"exp", "exp2", "exp10", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "sin", "cos",
                       "tan", "sinh", "cosh", "tanh", "asin", "acos", "atan", "atan2", "pow", "fabs", "abs",
                       "floor", "ceil", "round", "nearbyint", "trunc", "erf", "sigmoid", "fmod", "copysign",
                       "hypot", "isnan", "isinf", "isfinite"})


def _math(name: str, lo: int, result: ResultRule, params: str, desc: str, lower: Lowering | None) -> None:
    _add(name, lo, lo, result, params, desc, lower=lower, lanewise=name in _LANEWISE)


for _k in ("exp", "exp2", "exp10", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "sin", "cos", "tan",
           "sinh", "cosh", "tanh", "asin", "acos", "atan", "asinh", "acosh", "atanh", "erf", "sigmoid",
           "floor", "ceil", "round", "nearbyint", "trunc", "expm1", "fabs"):
    _math(_k, 1, ARG0, "x", f"Elementwise {_k} of x.", Libm(_LIBM[_k]) if _k in _LIBM else LowerHook(_k))
_math("abs", 1, ARG0, "x", "Absolute value of x.", LowerHook("abs"))
for _k in ("pow", "atan2", "fmod", "hypot", "copysign", "nextafter", "ldexp"):
    _math(_k, 2, ARG0, "x, y", f"Elementwise {_k}(x, y).", Libm(_LIBM[_k]))
for _k in ("isnan", "isinf", "isfinite"):
    _math(_k, 1, BOOL, "x", f"Whether x {_k[2:]}.", None)
# libm functions TVM has no builtin for: the builder warns, LowerIntrin still lowers them.
for _k, _n in (("cbrt", 1), ("fmin", 2), ("fmax", 2)):
    _add(_k, _n, _n, ARG0, "x" if _n == 1 else "x, y", f"C's {_k} (not a TVM builtin).", lower=Libm(_k), tvm=False)
_add("popcount", 1, 1, ARG0, "x", "Number of set bits in x.")
_add("clz", 1, 1, I32, "x", "Number of leading zero bits in x.")
_add("iter_var", 4, 4, HANDLE, "var, dom, iter_type, thread_tag", "An iteration variable (an attribute's node in lowered text).")
_add("likely", 1, 1, ARG0, "cond", "Marks cond as likely true.", c=CTemplate("{0}"), lower=LowerHook("likely"), lanewise=True)
# Written as the same operator in TVMScript and in C (computed wider in C, so rounded).
for _k, _op, _d in (("bitwise_and", "&", "Bitwise and."), ("bitwise_or", "|", "Bitwise or."),
                    ("bitwise_xor", "^", "Bitwise exclusive or."), ("bitwise_not", "~", "Bitwise complement."),
                    ("shift_left", "<<", "a shifted left by b bits."), ("shift_right", ">>", "a shifted right by b bits.")):
    _n = 1 if _op == "~" else 2
    _c = CTemplate(f"({_op}{{0}})" if _n == 1 else f"({{0}} {_op} {{1}})", rounded=True)
    _add(_k, _n, _n, ARG0, "a" if _n == 1 else "a, b", _d, operator=_op, c=_c, lanewise=True)
_add("q_multiply_shift", 4, 4, ARG0, "x, y, q, s", "Fixed-point multiply and shift.")

# ---------------------------------------------------------------- calls and runtime builtins
_PACKED = CUnsupported("packed calls through the TVM runtime")
_TYPED_CALL = TypeArg(0, handle_ty=False)
_CALLEE = (ArgKind.TYPE, ArgKind.CALLEE)
_add("call_extern", 2, None, _TYPED_CALL, "dtype, func_name, *args", "Direct call of an external C function.", args=_CALLEE, c=CHook("extern_call"))
_add("call_pure_extern", 2, None, _TYPED_CALL, "dtype, func_name, *args", "Direct call of a side-effect-free external C function.", args=_CALLEE, c=CHook("extern_call"), lanewise=True)
_add("call_llvm_intrin", 2, None, _TYPED_CALL, "dtype, intrinsic, *args", "Call of an LLVM intrinsic.")
_add("call_llvm_pure_intrin", 2, None, _TYPED_CALL, "dtype, intrinsic, *args", "Call of a pure LLVM intrinsic.", c=CHook("extern_call"))
_add("call_intrin", 2, None, _TYPED_CALL, "dtype, op_name, *args", "Call of a TIR intrinsic by name.")
_add("call_packed", 1, None, I32, "func_name, *args", "Late-bound call of a packed function by name through the runtime.", args=(ArgKind.CALLEE,), c=_PACKED)
_add("call_cpacked", 1, None, I32, "func_name, *args", "Direct call of a packed function symbol.", args=(ArgKind.CALLEE,), c=CHook("cpacked_call"))
_add("call_packed_lowered", 1, None, I32, "func_name, *args", "Lowered packed call.", args=(ArgKind.CALLEE,))
_add("call_cpacked_lowered", 1, None, I32, "func_name, *args", "Lowered direct packed call.", args=(ArgKind.CALLEE,))
_add("tvm_call_packed", 1, None, I32, "func_name, *args", "Packed call (builtin spelling).", args=(ArgKind.CALLEE,))
_add("tvm_call_cpacked", 1, None, I32, "func_name, *args", "Direct packed call (builtin spelling).", args=(ArgKind.CALLEE,))
_add("tvm_call_packed_lowered", 5, 5, I32, "func_name, args_stack, type_codes_stack, begin, end", "Packed call with arguments on a stack made by tvm_stack_alloca.", args=(ArgKind.CALLEE,), c=_PACKED)
_add("tvm_call_cpacked_lowered", 5, 5, I32, "func_name, args_stack, type_codes_stack, begin, end", "Direct packed call with arguments on a stack.", args=(ArgKind.CALLEE,), c=_PACKED)
_add("tvm_struct_get", 4, 4, TypeArg(3), "handle, index, field, dtype", "Reads a field of a runtime struct (DLTensor, packed args).",
     args=(ArgKind.INDEX, ArgKind.INDEX, ArgKind.INDEX), c=CHook("struct_get"))
_add("tvm_struct_set", 4, 4, I32, "handle, index, field, value", "Writes a field of a runtime struct.")
_add("tvm_stack_alloca", 2, 2, HANDLE, "type, num", "Allocates num entries of type on the stack.", c=_PACKED)
_add("tvm_stack_make_shape", 0, None, HANDLE, "*dims", "Builds a shape array on the stack.", c=CHook("stack_make_shape"))
_add("tvm_stack_make_array", 6, 6, HANDLE, "data, shape, strides, ndim, dtype, elem_offset", "Builds a DLTensor on the stack.", c=CHook("stack_make_array"))
_add("tvm_throw_last_error", 0, 0, I32, "", "Returns the last runtime error to the caller.", c_stmt=CTemplate("return -1;"))
_add("isnullptr", 1, 1, BOOL, "handle", "Whether handle is a null pointer.", c=CTemplate("({0} == NULL)", per_lane=False))
_add("handle_add_byte_offset", 2, 2, HANDLE, "handle, offset", "The pointer handle moved by offset bytes.",
     c=CTemplate("((void*)((char*)({0}) + {1}))", per_lane=False))
_add("address_of", 1, 1, HANDLE, "buffer_load", "The address of a buffer element.", c=CHook("address_of"))
_add("tvm_access_ptr", 5, 5, HANDLE, "ptype, data, offset, extent, rw_mask", "A pointer to a buffer region with access mask.")
_add("type_annotation", 1, 1, TypeArg(0), "dtype", "A value standing for a type.")
_add("TVMBackendAllocWorkspace", 5, 5, HANDLE, "device_type, device_id, nbytes, dtype_code_hint, dtype_bits_hint", "Allocates workspace memory from the runtime.",
     c=CTemplate("TVMBackendAllocWorkspace({args})", per_lane=False))
_add("TVMBackendFreeWorkspace", 3, 3, I32, "device_type, device_id, ptr", "Frees workspace memory allocated by TVMBackendAllocWorkspace.",
     c=CTemplate("TVMBackendFreeWorkspace({args})", per_lane=False))
_add("ret", 1, 1, ARG0, "value", "Returns value from the function.", print_stmt="return {0}", c_stmt=CTemplate("return {0};", per_lane=False))
_add("tvm_check_return", 3, 3, I32, "expected, return_unexpected, nested_call", "Checks a call's return value.")
_add("lookup_param", 1, 1, HANDLE, "param_name", "A linked parameter by name.")
_add("undef", 0, 0, I32, "", "An undefined value.")
_add("start_profile_intrinsic", 1, 1, VOID, "id", "Profiling start marker.")
_add("end_profile_intrinsic", 1, 1, VOID, "id", "Profiling end marker.")
_add("tvm_thread_allreduce", 1, None, HANDLE, "*args", "Cross-thread reduction.")
_add("tvm_storage_sync", 1, 3, I32, "scope, is_global=False, num_blocks=0", "Memory barrier for a storage scope.")
_add("prefetch", 2, None, I32, "buffer, region", "Prefetch hint.")
_add("vscale", 0, 0, I32, "", "The scalable vector multiplier.")
_add("call_ffi_kernel", 1, None, I32, "kernel_name, *args, launch_params=[...], ret_ty=\"int32\"", "Launches a device kernel of the module through the FFI.",
     build=Build.FFI_KERNEL)
for _k, _d in (("thread_id", "the thread in its cta"), ("thread_id_in_wg", "the thread in its warpgroup"),
               ("lane_id", "the thread in its warp"), ("warp_id", "the warp in its cta"),
               ("warp_id_in_wg", "the warp in its warpgroup"), ("warpgroup_id", "the warpgroup in its cta"),
               ("cta_id", "the cta in the kernel"), ("cta_id_in_cluster", "the cta in its cluster"),
               ("cluster_id", "the cluster in the kernel")):
    _add(_k, 0, 3, NONE, "extents=None, dtype=\"int32\"", f"Binds the id(s) of {_d}, one name per extent: tx = T.{_k}([32]).", _S)
_add("cta_id_in_pair", 0, 1, NONE, "dtype=\"int32\"", "Binds the id of the cta in its pair.", _S)


# ---------------------------------------------------------------- dtype constructors
def _dtype_info(name: str) -> BuiltinInfo:
    return BuiltinInfo(name, 0, 1, f"A {name} constant or conversion (no argument: declares a {name} var).",
                       SELF, f"T.{name}(value=None, is_size_var=False)", Kind.DTYPE)


_BASE_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16",
                "float32", "float64", "bfloat16", "bool", *SMALL_FLOATS)
for _b in _BASE_DTYPES:
    for _lanes in (1, 2, 3, 4, 8, 16, 32, 64):
        _dname = _b if _lanes == 1 else f"{_b}x{_lanes}"
        BUILTINS[_dname] = _dtype_info(_dname)
BUILTINS["void"] = BuiltinInfo("void", 0, 0, "The void type.", VOID, "T.void()", Kind.TYPE)


def lookup_builtin(name: str) -> BuiltinInfo | None:
    """The entry for ``name`` (``exp``, ``T.exp``, ``axis.remap``), or None when unknown.

    Any dtype name (``int8x12``) is known as a dtype constructor even when not listed.
    """
    name = name.removeprefix("T.")
    info = BUILTINS.get(name)
    if info is None and is_dtype_name(name) and name not in ("handle", "void"):
        info = _dtype_info(name)
    return info
