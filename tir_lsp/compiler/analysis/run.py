"""The one entry point of analysis: text in, every diagnostic out.

``tir-lsp check``, the language server and ``tirc`` all call ``analyze_text``, so they
report the same things in the same order. ``analyze_function`` re-checks one function after
an edit; ``analyze_module`` runs the checks beyond parsing on a module built elsewhere.

These functions are the analysis layer's error boundary: a check that raises (a bug) costs
the diagnostics of its one function (or of the module's options), which become one TIR900
diagnostic at that function's name, its traceback logged; the other functions are checked.
The server checks function by function through the same functions, so it reports the same.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from tir_lsp.compiler.analysis import calling_convention, relax_calls, semantic
from tir_lsp.compiler.analysis.calling_convention import SourceText
from tir_lsp.compiler.diagnostics import Diagnostic, internal_error, sort_key
from tir_lsp.compiler.ir.function import IRModule, PrimFunc
from tir_lsp.compiler.ir.relax import RelaxFunction
from tir_lsp.compiler.ir.span import Span
from tir_lsp.compiler.text.reader import ReadResult, read_tir
from tir_lsp.compiler.text.symbols import SymbolIndex


@dataclass
class Analysis:
    """``result``: module, index, parse and build diagnostics; ``diagnostics``: all of them
    (parse, build, semantic, calling convention), sorted, without duplicates."""

    result: ReadResult
    diagnostics: list[Diagnostic]


def _unique_sorted(diags: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[tuple[object, ...]] = set()
    out: list[Diagnostic] = []
    for d in sorted(diags, key=sort_key):
        key = (d.file, d.span, d.code, d.message, d.severity)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def analyze_function(func: PrimFunc, module: IRModule, filename: str, *,
                     files: Mapping[str, IRModule] | None = None, text: str | SourceText | None = None) -> list[Diagnostic]:
    """Semantic and calling-convention diagnostics of one function of ``module`` (calls are
    resolved in ``module`` and ``files``; ``text``, when given, places attribute values)."""
    try:
        src = text if isinstance(text, SourceText) else SourceText(text)
        nodes = semantic.function_nodes(func)
        out = semantic.check_function(func, filename, nodes)
        out += calling_convention.check_function(func, module, filename, files=files, text=src, nodes=nodes)
        return out
    except Exception as exc:  # noqa: BLE001 - the boundary: logged, and a TIR900 at the function
        return [internal_error(f"checking function '{func.name}'", exc, _name_span(func), filename)]


def analyze_relax_function(func: RelaxFunction, module: IRModule, filename: str) -> list[Diagnostic]:
    """The checks of one ``@R.function`` against the module's PrimFuncs (TIR020, TIR010)."""
    try:
        return relax_calls.check_relax_function(func, module, filename)
    except Exception as exc:  # noqa: BLE001 - the boundary: logged, and a TIR900 at the function
        return [internal_error(f"checking function '{func.name}'", exc, _name_span(func), filename)]


def analyze_module_options(module: IRModule, filename: str) -> list[Diagnostic]:
    """The checks of the module's executor options (``I.module_attrs``, target strings)."""
    try:
        return calling_convention.check_module_options(module, filename)
    except Exception as exc:  # noqa: BLE001 - the boundary: logged, and a TIR900 at the file's start
        return [internal_error("checking the module's options", exc, Span(1, 1, 1, 1), filename)]


def _name_span(func: PrimFunc | RelaxFunction) -> Span:
    return func.name_span or func.span or Span(1, 1, 1, 1)


def analyze_module(module: IRModule, index: SymbolIndex, filename: str, *,
                   files: Mapping[str, IRModule] | None = None, text: str | None = None) -> list[Diagnostic]:
    """Semantic and calling-convention diagnostics of a whole module (not parse or build ones)."""
    # The checks allocate many small lists but no reference cycles. Right after a large
    # module was read, a full collection of the reader's garbage is due, and the first
    # allocation would run it inside the checks (several times their cost): hold the
    # collector until the checks are done. Nothing is allocated before the disable.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        src = SourceText(text)
        out = analyze_module_options(module, filename)
        for func in module.functions:
            out += analyze_function(func, module, filename, files=files, text=src)
        for rfunc in module.relax_functions:
            out += analyze_relax_function(rfunc, module, filename)
        return _unique_sorted(out)
    finally:
        if was_enabled:
            gc.enable()


def external_call_names(module: IRModule, calls: Iterable[tuple[str, object]]) -> set[str]:
    """Names of the functions called by string (``T.call_extern("int32", "f", ...)``; the
    ``call_names`` of a ``SymbolIndex``) that ``module`` does not define itself."""
    local = {f.name for f in module.functions} | {f.global_symbol for f in module.functions}
    local |= {f.name for f in module.relax_functions}
    return {n for n, _span in calls if n not in local}


def analyze_text(text: str, filename: str = "<input>", *,
                 files: Mapping[str, IRModule] | None = None,
                 resolve_files: Callable[[set[str]], Mapping[str, IRModule]] | None = None) -> Analysis:
    """Read ``text`` and run every check; ``files`` are the other modules of the workspace
    (by file name) where calls to functions defined elsewhere are resolved, or
    ``resolve_files`` gives them for the names called but not defined in ``text``."""
    result = read_tir(text, filename)
    crashed: list[Diagnostic] = []
    if resolve_files is not None:
        names = external_call_names(result.module, result.index.call_names)
        try:
            if names:
                files = {**(files or {}), **resolve_files(names)}
        except Exception as exc:  # noqa: BLE001 - the boundary: logged and a TIR900; our own checks go on
            crashed = [resolve_crash(exc, filename)]
    checked = analyze_module(result.module, result.index, filename, files=files, text=text)
    return Analysis(result, _unique_sorted(result.diagnostics + crashed + checked))


def resolve_crash(exc: Exception, filename: str) -> Diagnostic:
    """The TIR900 for a failure to find the functions of other files this file calls."""
    return internal_error("finding the functions this file calls in other files", exc, Span(1, 1, 1, 1), filename)
