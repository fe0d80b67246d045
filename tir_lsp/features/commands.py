"""The work behind ``workspace/executeCommand`` (contract: vscode-extension/README.md):

- ``tir.lowerToC [uri, functionName?]`` -> ``{"title", "language": "c", "content"}``
- ``tir.showTirAfterPass [uri, passName]`` -> ``{"title", "language": "tir", "content"}``
- ``tir.listPasses`` -> pass names in pipeline order
- ``tir.exportJson [uri]`` -> ``{"title", "language": "json", "content"}``

Plain functions of a Document: the server runs them in a thread and turns CommandError
into an LSP error response (and its diagnostics into published ones).
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field

from tir_lsp.compiler.diagnostics import ERROR, CompilerError, Diagnostic
from tir_lsp.compiler.ir.function import IRModule
from tir_lsp.documents import Document

LOWER_TO_C = "tir.lowerToC"
SHOW_TIR_AFTER_PASS = "tir.showTirAfterPass"
LIST_PASSES = "tir.listPasses"
EXPORT_JSON = "tir.exportJson"


@dataclass
class CommandError(Exception):
    """A command failed; ``message`` is shown, ``diagnostics`` are published on the document."""

    message: str
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message


def _stem(doc: Document) -> str:
    base = posixpath.basename(doc.filename.replace("\\", "/")) or "untitled"
    return base.rsplit(".", 1)[0] if "." in base else base


def render_errors(diags: list[Diagnostic], doc: Document) -> str:
    """``diags`` as the text of a failed command's message, one gcc-style line each."""
    return "\n".join(d.render(doc.filename) for d in diags)


def checked_module(doc: Document, function: str | None) -> IRModule:
    """The module of ``doc`` (only ``function`` when named) to lower; CommandError when the
    document has errors or no such function."""
    errors = [d for d in doc.diagnostics if d.severity == ERROR]
    if errors:
        raise CommandError(render_errors(errors, doc), errors)
    mod = doc.module
    if not mod.functions:
        raise CommandError(f"{doc.filename}: the file defines no function to lower")
    if function:
        f = mod.get(function) or next((g for g in mod.functions if g.global_symbol == function), None)
        if f is None:
            names = ", ".join(g.name for g in mod.functions)
            raise CommandError(f"{doc.filename}: no function named '{function}' (functions: {names})")
        mod = mod.with_(functions=(f,))
    return mod


def wants_unpacked(mod: IRModule) -> bool:
    """The module's own ``"unpacked-api"`` option (I.module_attrs or a target string)."""
    from tir_lsp.compiler.analysis.calling_convention import module_options

    return module_options(mod).get("unpacked-api") is True


def _run(mod: IRModule, doc: Document, stop_after: str | None = None) -> IRModule:
    from tir_lsp.compiler.transform.pass_api import PipelineOptions
    from tir_lsp.compiler.transform.pipeline import run_pipeline

    try:
        return run_pipeline(mod, PipelineOptions(unpacked_api=wants_unpacked(mod), stop_after=stop_after))
    except CompilerError as exc:
        diags = [d if d.file else Diagnostic(d.code, d.message, d.span, d.severity, d.related, doc.filename)
                 for d in exc.diagnostics]
        raise CommandError(render_errors(diags, doc), diags) from exc


def lower_to_c(doc: Document, function: str | None = None) -> dict[str, str]:
    from tir_lsp.compiler.backend.c_codegen import emit_c
    from tir_lsp.compiler.backend.runtime_header import with_runtime_inlined

    lowered = _run(checked_module(doc, function), doc)
    try:
        # Shown in an editor or saved anywhere, the C has no header next to it: it carries it.
        content = with_runtime_inlined(emit_c(lowered))
    except CompilerError as exc:
        diags = [d if d.file else Diagnostic(d.code, d.message, d.span, d.severity, d.related, doc.filename)
                 for d in exc.diagnostics]
        raise CommandError(render_errors(diags, doc), diags) from exc
    title = f"{_stem(doc)}.{function}.c" if function else f"{_stem(doc)}.c"
    return {"title": title, "language": "c", "content": content}


def list_passes() -> list[str]:
    from tir_lsp.compiler.transform.pipeline import list_passes as names

    return names()


def show_tir_after_pass(doc: Document, pass_name: str) -> dict[str, str]:
    from tir_lsp.compiler.text.printer import print_module

    known = list_passes()
    if pass_name not in known:
        raise CommandError(f"unknown pass '{pass_name}'; known passes: {', '.join(known)}")
    lowered = _run(checked_module(doc, None), doc, stop_after=pass_name)
    content = print_module(lowered, header=[f"tir-lsp: TIR after {pass_name}"])
    return {"title": f"{_stem(doc)}.after.{pass_name}.tir", "language": "tir", "content": content}


def export_json(doc: Document) -> dict[str, str]:
    from tir_lsp.compiler.backend.json_format import dumps

    mod = checked_module(doc, None)
    return {"title": f"{_stem(doc)}.json", "language": "json", "content": dumps(mod, indent=1) + "\n"}


def c_file_path(tir_path: str, title: str, roots: list[str]) -> str | None:
    """Where "Lower to C" may have the client create its file: next to the TIR file, named
    after ``title`` with any directory part flattened (a function's global_symbol may hold
    ``../``), never an existing file or link, and, when the workspace has folders, inside one
    of them once symlinks are resolved. None when there is no such place."""
    if not os.path.isabs(tir_path):
        return None  # not a file on disk (an untitled: document)
    folder = os.path.dirname(tir_path)
    real = os.path.realpath(folder)
    inside = [os.path.realpath(r) for r in roots]
    if inside and not any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in inside):
        return None
    name = title.replace("/", "_").replace("\\", "_").lstrip(".") or "untitled.c"
    return free_c_path(os.path.join(folder, name), os.path.lexists)


def free_c_path(wanted: str, exists: object) -> str:
    """``wanted`` (``dir/x.c``), or ``dir/x.1.c``, ``dir/x.2.c``... when taken: never an
    existing file."""
    stem = wanted.removesuffix(".c")
    candidate = f"{stem}.c"
    n = 1
    while callable(exists) and exists(candidate):
        candidate = f"{stem}.{n}.c"
        n += 1
    return candidate
