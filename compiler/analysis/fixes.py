"""Quick fixes: the mechanical edit that resolves a diagnostic, where there is one.

The language server turns each ``Fix`` into a code action. A fix replaces ``span`` (as the
diagnostic's spans count: 1-based lines and columns, end exclusive) by ``new_text``.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.analysis.calling_convention import SourceText, packed_abi, split_call
from compiler.analysis.symbols import SymbolIndex
from compiler.diagnostics import Diagnostic
from compiler.ir.function import IRModule, PrimFunc
from compiler.ir.span import Span

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


def quick_fixes(diag: Diagnostic, module: IRModule | str, index: SymbolIndex | None = None,
                text: str | None = None) -> list[Fix]:
    """The fixes of ``diag`` (TIR101, TIR102: respell the call; TIR106: the calling_conv
    value the function's params call for). ``text`` is the document the diagnostic is on;
    without it no fix is offered. ``quick_fixes(diag, text)`` works too: the module is then
    read from the text when a fix needs it."""
    if isinstance(module, str):
        text = module
        if diag.code != "TIR106":
            return quick_fixes(diag, IRModule(()), index, text)
        from compiler.text.reader import read_tir

        return quick_fixes(diag, read_tir(text).module, index, text)
    src = SourceText(text)
    if diag.code in ("TIR101", "TIR102") and text is not None:
        parts = split_call(src.slice(diag.span))
        if parts is None:
            return []
        head, args = parts
        if diag.code == "TIR101" and head == "T.call_extern" and len(args) >= 2:
            new = f"T.call_cpacked({', '.join(args[1:] + [NULL_RESOURCE_HANDLE])})"
            return [Fix("Call it as a packed function: T.call_cpacked", diag.span, new)]
        if diag.code == "TIR102" and head in ("T.call_cpacked", "T.call_packed") and args:
            rest = args[1:-1] if head == "T.call_cpacked" else args[1:]
            new = "T.call_extern(" + ", ".join(['"int32"', args[0], *rest]) + ")"
            return [Fix("Call it directly with C arguments: T.call_extern", diag.span, new)]
        return []
    if diag.code == "TIR106":
        f = _function_at(module, diag.span.line)
        if f is None:
            return []
        value = "1" if packed_abi(f) is not None else "0"
        if text is not None and src.slice(diag.span).strip().lstrip("-").isdigit():
            return [Fix(f'Set "calling_conv" to {value}', diag.span, value)]
    return []
