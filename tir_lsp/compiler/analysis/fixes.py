"""Quick fixes: the mechanical edit that resolves a diagnostic, where there is one.

The language server turns each ``Fix`` into a code action. A fix replaces ``span`` (as the
diagnostic's spans count: 1-based lines and columns, end exclusive) by ``new_text``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tir_lsp.compiler.analysis.calling_convention import (
    ArgKinds,
    SourceText,
    classify,
    find_callee,
    packed_abi,
)
from tir_lsp.compiler.analysis.semantic import function_nodes
from tir_lsp.compiler.diagnostics import Diagnostic
from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.expr import Call, IntImm, StringImm
from tir_lsp.compiler.ir.function import IRModule, PrimFunc
from tir_lsp.compiler.ir.span import Span
from tir_lsp.compiler.ir.visitor import walk
from tir_lsp.compiler.text.symbols import SymbolIndex

# The null resource handle TVM's AOT executor passes as the last argument of call_cpacked.
NULL_RESOURCE_HANDLE = "T.reinterpret(T.handle().ty, T.uint64(0))"


@dataclass(frozen=True, slots=True)
class Fix:
    title: str
    span: Span
    new_text: str
    preferred: bool = True

    @property
    def edits(self) -> tuple[tuple[Span, str], ...]:
        """The fix as a list of (span, new text) edits, the shape a code action carries."""
        return ((self.span, self.new_text),)


def _function_at(module: IRModule, line: int) -> PrimFunc | None:
    for f in module.functions:
        if f.span is not None and f.span.line <= line <= f.span.end_line:
            return f
    return None


def _call_at(f: PrimFunc, span: Span) -> Call | None:
    found: list[Call] = []
    walk(f.body, lambda n: found.append(n) if isinstance(n, Call) and n.span == span else None)
    return found[0] if found else None


def _dltensor(buf: Buffer, data: str) -> str | None:
    """A DLTensor over buffer ``buf`` (its data pointer spelled ``data``), as TVM packs a buffer:
    T.tvm_stack_make_array(data, shape, strides (none: compact), ndim, a value of its dtype,
    elem_offset)."""
    if not all(isinstance(d, IntImm) for d in buf.shape):
        return None  # a symbolic shape: the extents are not known here
    dims = ", ".join(str(d.value) for d in buf.shape)  # type: ignore[attr-defined]
    return (f"T.tvm_stack_make_array({data}, T.tvm_stack_make_shape({dims}), {NULL_RESOURCE_HANDLE}, "
            f"{len(buf.shape)}, T.{buf.dtype}(0), 0)")


def _as_packed_arguments(caller: PrimFunc, call: Call, module: IRModule, written: list[str],
                         files: Mapping[str, IRModule] | None) -> list[str] | None:
    """The arguments of a call_extern (as ``written``) as a packed callee takes them: each raw
    data pointer where the callee reads a DLTensor becomes a DLTensor over that pointer's
    buffer. None when one cannot be made (a pointer of no known buffer or shape): no fix is
    better than a call that still passes a pointer where a tensor is read."""
    if not isinstance(call.args[0], StringImm):
        return None
    found = find_callee(call.args[0].value, module, files, None)
    params = classify(found.func).params if found is not None else None
    ir_args = call.args[1:]
    if params is None or len(ir_args) != len(written):
        return list(written)  # a callee whose params are not known: the call is only respelled
    kinds = ArgKinds(caller, function_nodes(caller), classify(caller))
    out = []
    for text, arg, param in zip(written, ir_args, params):
        kind, _dtype, _shown = kinds.kind(arg)
        if param.kind != "tensor" or kind != "pointer":
            out.append(text)
            continue
        buf = kinds.data_of.get(id(arg))
        tensor = _dltensor(buf, text) if buf is not None else None
        if tensor is None:
            return None
        out.append(tensor)
    return out


def _respelled_call(diag: Diagnostic, module: IRModule, src: SourceText,
                    files: Mapping[str, IRModule] | None) -> list[Fix]:
    """TIR101: the call_extern as a call_cpacked; TIR102: the packed call as a call_extern.
    The arguments are kept as written, read at their spans."""
    caller = _function_at(module, diag.span.line)
    call = _call_at(caller, diag.span) if caller is not None else None
    if caller is None or call is None or not call.args or len(call.arg_spans) != len(call.args):
        return []
    written = [src.slice(s) if s is not None else "" for s in call.arg_spans]
    if not all(written):
        return []
    if diag.code == "TIR101" and call.op == "call_extern":
        packed_args = _as_packed_arguments(caller, call, module, written[1:], files)
        if packed_args is None:
            return []
        new = f"T.call_cpacked({', '.join([written[0], *packed_args, NULL_RESOURCE_HANDLE])})"
        return [Fix("Call it as a packed function: T.call_cpacked", diag.span, new)]
    if diag.code == "TIR102" and call.op in ("call_cpacked", "call_packed"):
        rest = written[1:-1] if call.op == "call_cpacked" else written[1:]
        new = "T.call_extern(" + ", ".join(['"int32"', written[0], *rest]) + ")"
        return [Fix("Call it directly with C arguments: T.call_extern", diag.span, new)]
    return []


def quick_fixes(diag: Diagnostic, module: IRModule | str, index: SymbolIndex | None = None,
                text: str | None = None, files: Mapping[str, IRModule] | None = None) -> list[Fix]:
    """The fixes of ``diag`` (TIR101, TIR102: respell the call; TIR106: the calling_conv
    value the function's params call for). ``text`` is the document the diagnostic is on;
    without it no fix is offered. ``quick_fixes(diag, text)`` works too: the module is then
    read from the text when a fix needs it. The module's spans must be those of ``text``."""
    if isinstance(module, str):
        text = module
        if diag.code not in ("TIR101", "TIR102", "TIR106"):
            return quick_fixes(diag, IRModule(()), index, text, files)
        from tir_lsp.compiler.text.reader import read_tir

        return quick_fixes(diag, read_tir(text).module, index, text, files)
    if text is None:
        return []
    if diag.code in ("TIR101", "TIR102"):
        return _respelled_call(diag, module, SourceText(text), files)
    if diag.code == "TIR106":
        f = _function_at(module, diag.span.line)
        if f is None or f.attr_spans.get("calling_conv") != diag.span:
            return []  # the diagnostic is not on the value (a calling_conv read from elsewhere)
        value = "1" if packed_abi(f) is not None else "0"
        return [Fix(f'Set "calling_conv" to {value}', diag.span, value)]
    return []
