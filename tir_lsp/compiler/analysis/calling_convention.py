"""Calling-convention checks (TIR101..TIR109), as /work/shared/CALLING_CONVENTION.md states them.

Which state a function is in (unlowered, packed, unpacked, device) is read from its text
alone: params, the ``calling_conv`` attr and the return type. Calls name their convention
(``call_extern``, ``call_packed``, ``call_cpacked`` and their lowered forms); a call whose
callee is defined in the module (or another file of the workspace) is checked against the
callee's state. Executor options come from ``I.module_attrs`` and, deprecated, from target
strings (``"c -executor=aot -unpacked-api=1"``).

Every function expects IR of any stage and returns diagnostics, never raises.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from tir_lsp.compiler.analysis.semantic import function_nodes, iter_calls
from tir_lsp.compiler.diagnostics import ERROR, WARNING, Diagnostic, Related, Severity
from tir_lsp.compiler.ir.attrs import TargetLiteral
from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.dtype import INT32, DataType, PointerType
from tir_lsp.compiler.ir.expr import BinOp, BufferLoad, Call, Expr, IntImm, StringImm, Var
from tir_lsp.compiler.ir.function import IRModule, PrimFunc
from tir_lsp.compiler.ir.node import Node
from tir_lsp.compiler.ir.span import Span
from tir_lsp.compiler.ir.stmt import (
    AllocBuffer,
    AssertStmt,
    Bind,
    DeclBuffer,
    SBlock,
    flatten_seq,
)

# How a function is called, as its text shows it (see ``Convention``).
ConventionState = Literal["unlowered", "packed", "unpacked", "device"]
UNLOWERED: Final = "unlowered"
PACKED: Final = "packed"
UNPACKED: Final = "unpacked"
DEVICE: Final = "device"
# What a value passed at an argument position is (see ``Param``).
ArgKind = Literal["tensor", "pointer", "scalar", "unknown"]
C_RUNTIME_ABI, FFI_ABI = "C-runtime", "FFI"

EXTERN_CALLS = frozenset({"call_extern", "call_pure_extern"})
PACKED_CALLS = frozenset({"call_packed", "tvm_call_packed"})
CPACKED_CALLS = frozenset({"call_cpacked", "tvm_call_cpacked"})
LOWERED_CALLS = frozenset({"tvm_call_packed_lowered", "tvm_call_cpacked_lowered",
                           "call_packed_lowered", "call_cpacked_lowered"})
CONVENTION_CALLS = EXTERN_CALLS | PACKED_CALLS | CPACKED_CALLS | LOWERED_CALLS

ENTRY_ATTRS = ("tir.is_entry_func", "tirx.is_entry_func")
ENTRY_NAMES = ("__tvm_main__", "tvm_module_main")
# Device targets: a function with one of these kinds may be a kernel launched with calling_conv 2.
# TVM's target kinds registered with a device type other than kDLCPU (trn is kDLTrn, ext_dev kDLExtDev).
DEVICE_KINDS = frozenset({"cuda", "rocm", "opencl", "vulkan", "metal", "webgpu", "hexagon", "nvptx", "trn",
                          "ext_dev"})

# tvm_struct_get field of a DLTensor read only from a tensor argument (ndim).
_ARR_NDIM = 4
_NO_SPAN = Span(1, 1, 1, 1)


# =========================================================================== function states
@dataclass(frozen=True, slots=True)
class Param:
    """What a callee takes at one argument position: ``tensor`` (a DLTensor handle),
    ``pointer`` (a raw data pointer, ``dtype`` its elements), ``scalar`` or ``unknown``."""

    kind: ArgKind
    name: str
    dtype: DataType | None = None


@dataclass(frozen=True, slots=True)
class Convention:
    """The calling state of one function, as its text shows it.

    ``arity`` is the argument count a caller must pass (packed: its ``num_args`` check;
    otherwise its params), None when unknown; ``params`` what each position takes, when
    known; ``problem`` the TIR105 message when the signature matches no convention;
    ``problem_if_unpacked`` the TIR105 message that holds only once the function is known
    to be called as unpacked (a plain function with pointer params returning nothing is
    what TVM prints before any lowering).
    """

    state: ConventionState
    calling_conv: object
    abi: str | None = None
    arity: int | None = None
    params: tuple[Param, ...] | None = None
    problem: str | None = None
    problem_if_unpacked: str | None = None


def _int_attr(value: object) -> object:
    if isinstance(value, IntImm):
        return value.value
    return value


def _is_pointer(p: Var) -> bool:
    return p.dtype.is_handle and isinstance(p.type_annotation, PointerType)


def _typed_pointer(p: Var) -> bool:
    ann = p.type_annotation
    return p.dtype.is_handle and isinstance(ann, PointerType) and not ann.element.is_void


def _is_handle_param(p: Var, element: str | None = None) -> bool:
    if not p.dtype.is_handle:
        return False
    if element is None or p.type_annotation is None:
        return True
    return str(p.type_annotation.element) in (element, "void")


def packed_abi(f: PrimFunc) -> str | None:
    """``C-runtime`` (six params) or ``FFI`` (four params) when ``f``'s params match one."""
    ps = f.params
    if len(ps) == 6 and (_is_handle_param(ps[0]) and _is_handle_param(ps[1], "int32") and ps[2].dtype == INT32
                         and _is_handle_param(ps[3]) and _is_handle_param(ps[4], "int32") and _is_handle_param(ps[5])):
        return C_RUNTIME_ABI
    if len(ps) == 4 and (_is_handle_param(ps[0]) and _is_handle_param(ps[1]) and ps[2].dtype == INT32
                         and _is_handle_param(ps[3])):
        return FFI_ABI
    return None


def _num_args_check(f: PrimFunc, num_args: Var) -> int | None:
    """N of the ``assert num_args == N`` at the top of a packed function."""
    for st in flatten_seq(f.body)[:8]:
        if isinstance(st, AssertStmt) and isinstance(st.condition, BinOp) and st.condition.op == "eq":
            a, b = st.condition.a, st.condition.b
            if a is num_args and isinstance(b, IntImm):
                return b.value
            if b is num_args and isinstance(a, IntImm):
                return a.value
    return None


def _packed_tensor_positions(f: PrimFunc, args: Var) -> set[int]:
    """Argument positions a packed function reads as DLTensors: those whose handle, taken
    from ``args``, has its ``ndim`` read (both MakePackedAPI flavours check it)."""
    from_args: dict[int, int] = {}
    nodes = function_nodes(f)
    for n in nodes:
        if isinstance(n, Bind) and n.var.dtype.is_handle:
            for sub in function_nodes_of_expr(n.value):
                if (isinstance(sub, Call) and sub.op == "tvm_struct_get" and sub.args and sub.args[0] is args
                        and len(sub.args) > 1 and isinstance(sub.args[1], IntImm)):
                    from_args[id(n.var)] = sub.args[1].value
                    break
    out: set[int] = set()
    for c in iter_calls(nodes, frozenset({"tvm_struct_get"})):
        if (len(c.args) > 2 and isinstance(c.args[2], IntImm) and c.args[2].value == _ARR_NDIM
                and id(c.args[0]) in from_args):
            out.add(from_args[id(c.args[0])])
    return out


def function_nodes_of_expr(e: Expr) -> list[Node]:
    """The nodes of one expression (pre-order)."""
    out: list[Node] = []
    stack: list[object] = [e]
    while stack:
        n = stack.pop()
        if isinstance(n, Buffer):
            continue
        if isinstance(n, Node):
            out.append(n)
            for name in ("a", "b", "value", "args", "condition", "true_value", "false_value",
                         "base", "stride", "body", "vectors", "indices"):
                v = getattr(n, name, None)
                if isinstance(v, (Node, tuple)):
                    stack.append(v)
        elif isinstance(n, tuple):
            stack.extend(n)
    return out


_CONVENTIONS: dict[int, tuple[PrimFunc, Convention]] = {}


def classify(f: PrimFunc) -> Convention:
    """The calling state of ``f`` (cached per function object)."""
    hit = _CONVENTIONS.get(id(f))
    if hit is not None and hit[0] is f:
        return hit[1]
    conv = _classify(f)
    if len(_CONVENTIONS) > 4096:
        _CONVENTIONS.clear()
    _CONVENTIONS[id(f)] = (f, conv)
    return conv


def _classify(f: PrimFunc) -> Convention:
    cc = _int_attr(f.attrs.get("calling_conv", 0))
    if cc == 1:
        abi = packed_abi(f)
        if abi is None:
            got = ", ".join(f"{p.name}: {_type_text(p)}" for p in f.params)
            return Convention(PACKED, cc, None, None, None,
                              f"function '{f.name}' has \"calling_conv\": 1 (packed) but its params ({got}) match "
                              "neither packed ABI: the C-runtime ABI takes (args: T.handle, arg_type_ids: "
                              "T.handle(\"int32\"), num_args: T.int32, out_ret_value: T.handle, out_ret_tcode: "
                              "T.handle(\"int32\"), resource_handle: T.handle), the FFI ABI (self_handle: T.handle, "
                              "args: T.handle, num_args: T.int32, result: T.handle)")
        problem = None
        if f.ret_type != INT32:
            problem = (f"packed function '{f.name}' returns {_ret_text(f)}; both packed ABIs return T.int32 "
                       "(0 on success)")
        args = f.params[0] if abi == C_RUNTIME_ABI else f.params[1]
        arity = _num_args_check(f, f.params[2])
        tensors = _packed_tensor_positions(f, args)
        params = None
        if arity is not None and tensors:
            params = tuple(Param("tensor" if i in tensors else "unknown", f"#{i}") for i in range(arity))
        return Convention(PACKED, cc, abi, arity, params, problem)
    if cc == 2:
        return Convention(DEVICE, cc)
    if f.buffer_map:
        buffers = {id(v): b for v, b in f.buffer_map}
        params = tuple(Param("tensor", p.name, buffers[id(p)].dtype) if id(p) in buffers else _plain_param(p)
                       for p in f.params)
        return Convention(UNLOWERED, cc, None, len(f.params), params)
    if f.ret_type == INT32 or any(_is_pointer(p) for p in f.params):
        problem = None
        if f.ret_type != INT32:
            problem = (f"unpacked function '{f.name}' (pointer params, no \"calling_conv\") returns "
                       f"{_ret_text(f)}; an unpacked function returns T.int32 (0 on success): add -> T.int32 "
                       "and return 0")
        return Convention(UNPACKED, cc, None, len(f.params), tuple(_plain_param(p) for p in f.params),
                          problem_if_unpacked=problem)
    return Convention(UNLOWERED, cc, None, len(f.params), tuple(_plain_param(p) for p in f.params))


def _plain_param(p: Var) -> Param:
    if _typed_pointer(p):
        assert isinstance(p.type_annotation, PointerType)
        return Param("pointer", p.name, p.type_annotation.element)
    if p.dtype.is_handle:
        return Param("unknown", p.name)
    return Param("scalar", p.name, p.dtype)


def _type_text(p: Var) -> str:
    if isinstance(p.type_annotation, PointerType):
        return f'T.handle("{p.type_annotation.element}")'
    return "T.handle" if p.dtype.is_handle else f"T.{p.dtype}"


def _ret_text(f: PrimFunc) -> str:
    if f.ret_type is None:
        return "nothing"
    return str(f.ret_type) if isinstance(f.ret_type, PointerType) else f"T.{f.ret_type}"


def describe_state(conv: Convention) -> str:
    if conv.state == PACKED:
        return f"packed ({conv.abi or 'no'} ABI, \"calling_conv\": 1)"
    if conv.state == UNPACKED:
        return "unpacked (typed pointer params, returns T.int32)"
    if conv.state == DEVICE:
        return "a device kernel (\"calling_conv\": 2)"
    return "unlowered (T.Buffer params, not callable from C yet)"


def is_entry(f: PrimFunc) -> bool:
    return any(f.attrs.get(k) is True for k in ENTRY_ATTRS) or f.name in ENTRY_NAMES or f.global_symbol in ENTRY_NAMES


def _target_kind(f: PrimFunc) -> str | None:
    t = f.attrs.get("target")
    if isinstance(t, TargetLiteral):
        cfg = t.config
        if isinstance(cfg, dict):
            kind = cfg.get("kind")
            return kind if isinstance(kind, str) else None
        if isinstance(cfg, str):
            return cfg.split()[0] if cfg.split() else None
    return None


# =========================================================================== text positions
class SourceText:
    """The lines of the analysed file, to read how an argument is written at its span (a
    buffer passed to a packed call as ``A`` or as ``A.data``: the IR holds its data pointer
    either way)."""

    def __init__(self, text: str | None) -> None:
        from tir_lsp.compiler.text.parsed_file import split_lines  # lines as the spans count them

        self.lines: Sequence[str] | None = split_lines(text) if text is not None else None

    def slice(self, span: Span) -> str:
        """The text ``span`` covers ("" without text)."""
        if self.lines is None:
            return ""
        lines = self.lines
        if span.line == span.end_line:
            return lines[span.line - 1][span.column - 1:span.end_column - 1]
        parts = [lines[span.line - 1][span.column - 1:]]
        parts += lines[span.line:span.end_line - 1]
        parts.append(lines[span.end_line - 1][:span.end_column - 1])
        return "\n".join(parts)


def split_arguments(inner: str) -> list[str]:
    """``"int32", f(a, b), x`` -> ['"int32"', 'f(a, b)', 'x']: the comma-separated items at the
    top level of an argument list, stripped (commas inside brackets or strings are kept)."""
    args: list[str] = []
    depth, quote, start = 0, "", 0
    for i, ch in enumerate(inner):
        if quote:
            if ch == quote and inner[i - 1] != "\\":
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            args.append(inner[start:i].strip())
            start = i + 1
    last = inner[start:].strip()
    if last:
        args.append(last)
    return args


# =========================================================================== executor options
OPTION_DEFAULTS: dict[str, object] = {
    "executor": "graph", "interface-api": "packed", "unpacked-api": False, "runtime": "crt", "link-params": False,
}
OPTION_VALUES: dict[str, tuple[object, ...]] = {
    "executor": ("aot", "graph"), "interface-api": ("packed", "c"), "unpacked-api": (True, False),
    "runtime": ("crt", "cpp"), "link-params": (True, False),
}


@dataclass(frozen=True, slots=True)
class OptionSource:
    """Where an option's value was written: ``I.module_attrs`` or a target string."""

    value: object
    place: str
    span: Span
    in_target: bool


@dataclass(slots=True)
class ExecutorOptions:
    """The executor options a module states, each with where it was written."""

    sources: dict[str, list[OptionSource]] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def explicit(self) -> bool:
        return bool(self.sources)

    def get(self, name: str) -> object:
        src = self.sources.get(name)
        return src[0].value if src else OPTION_DEFAULTS[name]

    def where(self, name: str) -> OptionSource | None:
        src = self.sources.get(name)
        return src[0] if src else None

    def says(self, name: str) -> str:
        """``"executor" is "graph" (the default)`` or ``... (in I.module_attrs)``."""
        src = self.where(name)
        v = self.get(name)
        shown = f'"{v}"' if isinstance(v, str) else str(v)
        return f'"{name}" is {shown} ({"the default" if src is None else src.place})'


def _bool_text(v: str) -> bool | str:
    low = v.lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    return v


def _target_options(cfg: object) -> list[tuple[str, object, str]]:
    """(option, value, spelling) of each executor option inside a target config."""
    out: list[tuple[str, object, str]] = []
    if isinstance(cfg, str):
        for tok in cfg.split()[1:]:
            if not tok.startswith("-"):
                continue
            key, _, raw = tok.lstrip("-").partition("=")
            if key not in OPTION_DEFAULTS:
                continue
            value: object
            if key in ("unpacked-api", "link-params"):
                value = _bool_text(raw) if raw else True
            elif key == "runtime":
                value = {"c": "crt", "c++": "cpp"}.get(raw, raw)
            else:
                value = raw
            out.append((key, value, tok))
    elif isinstance(cfg, dict):
        for key, value in cfg.items():
            if key in OPTION_DEFAULTS:
                out.append((key, value, f'"{key}": {value!r}'))
    return out


def _show(v: object) -> str:
    return f'"{v}"' if isinstance(v, str) else repr(v)


def read_options(module: IRModule, filename: str | None) -> ExecutorOptions:
    """The module's executor options, the TIR109 deprecation warnings for options in target
    strings, and a TIR107 error for each option two places give different values."""
    opts = ExecutorOptions()
    fallback = module.span or _NO_SPAN
    for key in OPTION_DEFAULTS:
        if key in module.attrs:
            span = module.attr_spans.get(key, fallback)
            opts.sources.setdefault(key, []).append(OptionSource(module.attrs[key], "in I.module_attrs", span, False))
    targets: list[tuple[TargetLiteral, str, Span]] = []
    t = module.attrs.get("target")
    if isinstance(t, TargetLiteral):
        targets.append((t, "in the module's target string", module.attr_spans.get("target", fallback)))
    for f in module.functions:
        t = f.attrs.get("target")
        if isinstance(t, TargetLiteral):
            targets.append((t, f"in the target string of function '{f.name}'",
                            f.attr_spans.get("target") or f.name_span or f.span or _NO_SPAN))
    for lit, place, where in targets:
        found = _target_options(lit.config)
        if not found:
            continue
        for key, value, _ in found:
            opts.sources.setdefault(key, []).append(OptionSource(value, place, where, True))
        moved = ", ".join(f"{_show(k)}: {_show(v) if not isinstance(v, bool) else v}" for k, v, _ in found)
        spelled = " ".join(s for _, _, s in found)
        opts.diagnostics.append(Diagnostic(
            "TIR109", f"executor options in a target string are deprecated ({spelled}); they mean the same as "
            f"I.module_attrs({{{moved}}}): write them there", where, WARNING, (), filename))
    for key, srcs in opts.sources.items():
        first_src = srcs[0]
        for other in srcs[1:]:
            if other.value != first_src.value:
                opts.diagnostics.append(Diagnostic(
                    "TIR107", f'"{key}" is {_show(first_src.value)} {first_src.place} but {_show(other.value)} '
                    f"{other.place}: make them agree", other.span, ERROR,
                    (Related(first_src.span, f'"{key}" is {_show(first_src.value)} here', filename),), filename))
    return opts


def _option_span(opts: ExecutorOptions, *names: str) -> tuple[Span, tuple[Related, ...]]:
    spans = [s for s in (opts.where(n) for n in names) if s is not None]
    if not spans:
        return _NO_SPAN, ()
    return spans[0].span, tuple(Related(s.span, "set here") for s in spans[1:])


def check_options(opts: ExecutorOptions, filename: str | None) -> list[Diagnostic]:
    """TIR107 for each invalid value or combination of the module's executor options."""
    out: list[Diagnostic] = []
    if not opts.explicit:
        return out

    def bad(message: str, *names: str) -> None:
        span, related = _option_span(opts, *names)
        out.append(Diagnostic("TIR107", message, span, ERROR,
                              tuple(Related(r.span, r.message, filename) for r in related), filename))

    for key, allowed in OPTION_VALUES.items():
        v = opts.get(key)
        if v not in allowed:
            bad(f'{opts.says(key)} is not a valid value: use one of {", ".join(_show(a) for a in allowed)}', key)
    executor, iface = opts.get("executor"), opts.get("interface-api")
    unpacked, runtime = opts.get("unpacked-api") is True, opts.get("runtime")
    if executor == "graph" and unpacked:
        bad(f"{opts.says('unpacked-api')} and {opts.says('executor')}: the graph executor invokes operators "
            'through packed functions only, so unpacked operators could never be called. Use "executor": "aot", '
            'or drop "unpacked-api"', "unpacked-api", "executor")
    if executor == "graph" and iface == "c":
        bad(f"{opts.says('interface-api')} and {opts.says('executor')}: the C interface exists only for the aot "
            'executor. Use "executor": "aot", or "interface-api": "packed"', "interface-api", "executor")
    if executor == "aot" and iface == "c" and not unpacked:
        bad(f"{opts.says('interface-api')}, {opts.says('executor')} and {opts.says('unpacked-api')}: the typed "
            'C entry point calls operators directly, so they must be unpacked. Set "unpacked-api": True',
            "interface-api", "unpacked-api")
    if iface == "c" and runtime == "cpp":
        bad(f"{opts.says('interface-api')} and {opts.says('runtime')}: the C interface needs the C runtime. "
            'Use "runtime": "crt", or "interface-api": "packed"', "interface-api", "runtime")
    return out


_OPTIONS_CACHE: dict[int, tuple[IRModule, ExecutorOptions]] = {}


def module_options(module: IRModule, filename: str | None = None) -> ExecutorOptions:
    """``read_options`` cached per module object (for re-checking one function at a time)."""
    hit = _OPTIONS_CACHE.get(id(module))
    if hit is not None and hit[0] is module:
        return hit[1]
    opts = read_options(module, filename)
    if len(_OPTIONS_CACHE) > 64:
        _OPTIONS_CACHE.clear()
    _OPTIONS_CACHE[id(module)] = (module, opts)
    return opts


# =========================================================================== per-function checks
@dataclass(frozen=True, slots=True)
class Callee:
    func: PrimFunc
    file: str | None  # None: the caller's own file


def find_callee(name: str, module: IRModule, files: Mapping[str, IRModule] | None, own_file: str | None) -> Callee | None:
    """The function a call names (by global symbol, then by name): in the module first, then
    in the other files of the workspace."""
    for f in module.functions:
        if f.global_symbol == name:
            return Callee(f, None)
    for f in module.functions:
        if f.name == name:
            return Callee(f, None)
    for fname, mod in (files or {}).items():
        if fname == own_file or mod is module:
            continue
        for f in mod.functions:
            if f.global_symbol == name or f.name == name:
                return Callee(f, fname)
    return None


class ArgKinds:
    """What each value of a caller is: a DLTensor handle, a raw data pointer, a scalar."""

    def __init__(self, func: PrimFunc, nodes: list[Node], conv: Convention) -> None:
        self.data_of: dict[int, Buffer] = {}
        self.tensors: set[int] = set()
        for v, b in func.buffer_map:
            self.tensors.add(id(v))
            self.data_of[id(b.data)] = b
        for n in nodes:
            t = type(n)
            if t is DeclBuffer or t is AllocBuffer:
                b = n.buffer  # type: ignore[attr-defined]
                self.data_of.setdefault(id(b.data), b)
            elif t is SBlock:
                for b in n.alloc_buffers:  # type: ignore[attr-defined]
                    self.data_of.setdefault(id(b.data), b)
        if conv.state == PACKED and conv.abi is not None:
            args = func.params[0] if conv.abi == C_RUNTIME_ABI else func.params[1]
            for n in nodes:
                if type(n) is Bind and n.var.dtype.is_handle and n.var.type_annotation is None:
                    for sub in function_nodes_of_expr(n.value):
                        if isinstance(sub, Call) and sub.op == "tvm_struct_get" and sub.args and sub.args[0] is args:
                            self.tensors.add(id(n.var))
                            break

    def kind(self, e: Expr) -> tuple[ArgKind, DataType | None, str]:
        """(kind, pointer element dtype, how to name it in a message)."""
        if isinstance(e, Var):
            if id(e) in self.tensors:
                return "tensor", None, f"'{e.name}'"
            buf = self.data_of.get(id(e))
            if buf is not None:
                return "pointer", buf.dtype, f"'{buf.name}.data'"
            if _typed_pointer(e):
                assert isinstance(e.type_annotation, PointerType)
                return "pointer", e.type_annotation.element, f"'{e.name}'"
            return ("unknown" if e.dtype.is_handle else "scalar"), None, f"'{e.name}'"
        if isinstance(e, Call):
            if e.op == "tvm_stack_make_array":
                return "tensor", None, "T.tvm_stack_make_array(...)"
            if e.op == "address_of" and e.args and isinstance(e.args[0], BufferLoad):
                return "pointer", e.args[0].buffer.dtype, f"T.address_of({e.args[0].buffer.name}[...])"
            if e.ret_type is not None and not e.ret_type.element.is_void:
                return "pointer", e.ret_type.element, f"T.{e.op}(...)"
        return ("unknown" if e.dtype.is_handle else "scalar"), None, "the value"


def _call_parts(call: Call) -> tuple[str | None, tuple[Expr, ...] | None]:
    """(callee name, the arguments it receives; None when only a count is known)."""
    if not call.args or not isinstance(call.args[0], StringImm) or call.args[0].metadata is not None:
        return None, None
    name = call.args[0].value
    if call.op in CPACKED_CALLS:
        # The last argument of call_cpacked is the resource handle, not an argument of the callee.
        return name, call.args[1:-1]
    if call.op in LOWERED_CALLS:
        return name, None
    return name, call.args[1:]


def _lowered_count(call: Call) -> int | None:
    """end - begin of a lowered packed call (args on a stack)."""
    for lo, hi in ((-2, -1), (-3, -2)):
        if len(call.args) >= 1 - lo:
            a, b = call.args[lo], call.args[hi]
            if isinstance(a, IntImm) and isinstance(b, IntImm) and a.dtype.is_int and b.dtype.is_int:
                return b.value - a.value
    return None


_EXTERN_CALLEES: dict[int, tuple[IRModule, frozenset[str]]] = {}


def _extern_callees(module: IRModule) -> frozenset[str]:
    """Names the functions of ``module`` call with ``T.call_extern`` for a result (cached per
    module)."""
    hit = _EXTERN_CALLEES.get(id(module))
    if hit is not None and hit[0] is module:
        return hit[1]
    names: set[str] = set()
    for f in module.functions:
        for call in iter_calls(function_nodes(f), EXTERN_CALLS):
            callee = _call_parts(call)[0]
            if callee and not call.dtype.is_void:  # a void call expects no status back
                names.add(callee)
    if len(_EXTERN_CALLEES) > 256:
        _EXTERN_CALLEES.clear()
    out = frozenset(names)
    _EXTERN_CALLEES[id(module)] = (module, out)
    return out


class ConventionChecker:
    """The TIR101..TIR106 and TIR108 checks of one function."""

    def __init__(self, func: PrimFunc, module: IRModule, filename: str | None,
                 files: Mapping[str, IRModule] | None, text: SourceText, nodes: list[Node]) -> None:
        self.func, self.module, self.file, self.files, self.text, self.nodes = func, module, filename, files, text, nodes
        self.fallback = func.name_span or func.span or _NO_SPAN
        self.conv = classify(func)
        self.diags: list[Diagnostic] = []
        self._kinds: ArgKinds | None = None

    def report(self, code: str, message: str, span: Span | None, severity: Severity = ERROR,
               related: tuple[Related, ...] = ()) -> None:
        self.diags.append(Diagnostic(code, message, span or self.fallback, severity, related, self.file))

    def run(self) -> list[Diagnostic]:
        self.check_signature()
        self.check_calling_conv()
        self.check_entry()
        for call in iter_calls(self.nodes, CONVENTION_CALLS):
            self.check_call(call)
        return self.diags

    # ------------------------------------------------------------------ TIR105, TIR106
    def check_signature(self) -> None:
        if self.conv.problem is not None:
            self.report("TIR105", self.conv.problem, self.func.name_span)
        elif self.conv.problem_if_unpacked is not None and self.called_unpacked():
            self.report("TIR105", self.conv.problem_if_unpacked, self.func.name_span)

    def called_unpacked(self) -> bool:
        """Whether the module makes this function unpacked: its options choose unpacked
        operators, or a function of the module calls it with ``T.call_extern``."""
        if self.module.attrs.get("unpacked-api") is True:
            return True
        names = {self.func.name, self.func.global_symbol}
        return any(n in names for n in _extern_callees(self.module))

    def check_calling_conv(self) -> None:
        raw = self.func.attrs.get("calling_conv")
        if raw is None:
            return
        cc = _int_attr(raw)
        span = self.func.attr_spans.get("calling_conv") or self.func.name_span
        if isinstance(cc, bool) or cc not in (0, 1, 2):
            self.report("TIR106", f"\"calling_conv\": {cc!r} in function '{self.func.name}' is not a calling "
                        "convention: use 0 (default), 1 (packed) or 2 (device kernel launch)", span)
        elif cc == 2:
            # Without a target the function's device is still to be bound (TVM's BindTarget):
            # only a host target contradicts a device kernel launch.
            kind = _target_kind(self.func)
            if kind is not None and kind not in DEVICE_KINDS:
                self.report("TIR106", f"\"calling_conv\": 2 (device kernel launch) in function '{self.func.name}', "
                            f"which is a host function (target {kind}): use 0 or 1, or give it a device target", span)

    # ------------------------------------------------------------------ TIR108
    def check_entry(self) -> None:
        if not is_entry(self.func):
            return
        opts = module_options(self.module, self.file)
        if not opts.explicit or self.conv.state in (UNLOWERED, DEVICE):
            return  # unlowered: the compiler lowers it as the options demand
        iface = opts.get("interface-api")
        src = opts.where("interface-api")
        related = (Related(src.span, f'"interface-api" is {_show(iface)} here', self.file),) if src else ()
        name = self.func.name
        if iface == "packed" and self.conv.state != PACKED:
            self.report("TIR108", f"entry function '{name}' is {describe_state(self.conv)}, but {opts.says('interface-api')} "
                        "demands a packed entry (\"calling_conv\": 1) that the runtime calls like any packed function: "
                        "make it packed, or set \"interface-api\": \"c\"", self.func.name_span, ERROR, related)
        elif iface == "c":
            if self.conv.state != UNPACKED:
                self.report("TIR108", f"entry function '{name}' is {describe_state(self.conv)}, but {opts.says('interface-api')} "
                            "demands an unpacked entry with a typed C signature: make it unpacked, or set "
                            "\"interface-api\": \"packed\"", self.func.name_span, ERROR, related)
                return
            untyped = [p.name for p in self.func.params if p.dtype.is_handle and not _typed_pointer(p)]
            if untyped:
                self.report("TIR108", f"entry function '{name}' has untyped handle param(s) {', '.join(untyped)}, but "
                            f"{opts.says('interface-api')} demands a typed C signature: write T.handle(\"<dtype>\")",
                            self.func.name_span, ERROR, related)

    # ------------------------------------------------------------------ TIR101..TIR104
    def check_call(self, call: Call) -> None:
        name, args = _call_parts(call)
        if name is None:
            return
        found = find_callee(name, self.module, self.files, self.file)
        if found is None:
            return
        callee, conv = found.func, classify(found.func)
        # The file by its base name: the server knows absolute paths, `tir-lsp check` relative
        # ones, and both must print the same message.
        where = f" in {os.path.basename(found.file)}" if found.file else ""
        line = callee.name_span.line if callee.name_span else (callee.span.line if callee.span else 0)
        related = (Related(callee.name_span or callee.span or _NO_SPAN,
                           f"'{callee.name}' is defined here as {describe_state(conv)}", found.file or self.file),)
        head = f'"{call.dtype}", ' if call.op in EXTERN_CALLS else ""
        site = f"T.{call.op}({head}\"{name}\", ...) in '{self.func.name}'"
        callee_text = f"'{callee.name}' (line {line}{where})"
        packed_call = call.op not in EXTERN_CALLS
        if call.op in EXTERN_CALLS and conv.state == PACKED:
            self.report("TIR101", f"{site} calls {callee_text}, which is {describe_state(conv)}: a packed function "
                        f"cannot be called directly with C arguments; use T.call_cpacked(\"{name}\", ...) or make "
                        f"'{callee.name}' unpacked", call.span, ERROR, related)
            return
        # An unlowered callee in a module whose options choose packed operators is lowered
        # packed by the compiler (as TVM's AOT main calls its operators before MakePackedAPI).
        lowered_packed = (conv.state == UNLOWERED and found.file is None
                          and module_options(self.module, self.file).explicit
                          and module_options(self.module, self.file).get("unpacked-api") is False)
        if packed_call and conv.state in (UNPACKED, UNLOWERED) and not lowered_packed:
            fix = (f"use T.call_extern(\"int32\", \"{name}\", ...)" if conv.state == UNPACKED
                   else f"lower '{callee.name}' to packed first (MakePackedAPI)")
            self.report("TIR102", f"{site} calls {callee_text}, which is {describe_state(conv)}, not packed: {fix}",
                        call.span, ERROR, related)
        if conv.state == DEVICE:
            return
        count = len(args) if args is not None else _lowered_count(call)
        if count is not None and conv.arity is not None and count != conv.arity:
            what = "as its num_args check says" if conv.state == PACKED else "params"
            extra = (" (the last argument of call_cpacked is the resource handle)" if call.op in CPACKED_CALLS else "")
            self.report("TIR103", f"{site} passes {count} argument(s){extra}, but {callee_text} takes {conv.arity} "
                        f"{what}", call.span, ERROR, related)
        if args is not None and conv.params is not None:
            self.check_arg_kinds(call, args, conv, site, callee_text, related, packed_call)

    def check_arg_kinds(self, call: Call, args: tuple[Expr, ...], conv: Convention, site: str, callee_text: str,
                        related: tuple[Related, ...], packed_call: bool) -> None:
        assert conv.params is not None
        if self._kinds is None:
            self._kinds = ArgKinds(self.func, self.nodes, self.conv)
        # Where each argument is written (after the callee's name), as args counts them.
        spans = call.arg_spans[1:1 + len(args)]
        written = [self.text.slice(s) if s is not None else "" for s in spans] if packed_call else []
        for i, (arg, param) in enumerate(zip(args, conv.params)):
            kind, dtype, shown = self._kinds.kind(arg)
            if packed_call and id(arg) in self._kinds.data_of:
                # A buffer named in a packed call is passed as a DLTensor (TVM packs it with
                # T.tvm_stack_make_array), but the IR holds its data pointer, as for ``A.data``:
                # only the text tells them apart, so without it the argument is not judged.
                spelled = written[i] if i < len(written) else ""
                if spelled.isidentifier():
                    kind, shown = "tensor", f"'{spelled}'"
                elif not spelled.endswith(".data"):
                    kind = "unknown"
            span = spans[i] if i < len(spans) and spans[i] is not None else call.span
            if param.kind == "tensor" and not packed_call:
                # An unlowered callee called with C arguments takes the data pointer of each buffer.
                param = Param("pointer", param.name, param.dtype)
            if param.kind == "pointer":
                if kind == "tensor":
                    self.report("TIR104", f"{site} passes {shown} as argument #{i}, a DLTensor handle, but {callee_text} "
                                f"takes a raw data pointer ({param.dtype}*) for '{param.name}': pass the buffer's "
                                ".data", span, ERROR, related)
                elif kind == "pointer" and dtype is not None and param.dtype is not None and dtype != param.dtype:
                    self.report("TIR104", f"{site} passes {shown}, a pointer to {dtype}, as argument #{i}, but "
                                f"{callee_text} takes a pointer to {param.dtype} for '{param.name}'",
                                span, ERROR, related)
            elif param.kind == "tensor" and kind == "pointer":
                self.report("TIR104", f"{site} passes {shown}, a raw data pointer, as argument #{i}, but {callee_text} "
                            f"is packed and expects a DLTensor handle there: pass the tensor handle or "
                            "T.tvm_stack_make_array(...)", span, ERROR, related)


def check_function(func: PrimFunc, module: IRModule, filename: str | None, *,
                   files: Mapping[str, IRModule] | None = None, text: SourceText | None = None,
                   nodes: list[Node] | None = None) -> list[Diagnostic]:
    """TIR101..TIR106 and TIR108 diagnostics of one function."""
    return ConventionChecker(func, module, filename, files, text or SourceText(None),
                             nodes if nodes is not None else function_nodes(func)).run()


def check_module_options(module: IRModule, filename: str | None) -> list[Diagnostic]:
    """TIR107 and TIR109: the module's executor options, read fresh (not from the cache)."""
    opts = read_options(module, filename)
    _OPTIONS_CACHE[id(module)] = (module, opts)
    return opts.diagnostics + check_options(opts, filename)
