"""``tir.passPipeline [uri, options?]``: the document's module through the whole pipeline,
once, as a list of stages for a Compiler-Explorer-style "Opt Pipeline" view.

Result (lines 0-based, like LSP)::

    {"title": "x.pipeline",
     "input": {"text": str, "functions": [Fn]},
     "passes": [{"name": str, "changed": bool,
                 "text": str | None,        # the TIR after the pass, only when it changed
                 "functions": [Fn] | None,  # with "text"
                 "before": int,             # index of the pass whose text is this pass's
                                            # input, -1 = "input"
                 "after": int,              # index holding the text after: itself when
                                            # changed, else the same as "before"
                 "omitted": bool}],         # True: changed, but the text was left out (maxChars)
     "omittedNote": str | None}
    Fn = {"name": str, "startLine": int, "endLine": int (exclusive),
          "sourceLine": int | None}         # line of the function's name in the document

Only changed passes carry text (an unchanged pass's text is the one before it), and once the
texts total ``maxChars`` (option, default 16 M characters) the rest are left out and marked
``omitted``: ``tir.showTirAfterPass`` gives any single stage. Options: ``maxChars``,
``unpackedApi`` (default: the document's own option).
"""

from __future__ import annotations

import posixpath
from typing import Any

from tir_lsp.compiler.diagnostics import CompilerError, Diagnostic
from tir_lsp.documents import Document
from tir_lsp.features.commands import CommandError, checked_module, render_errors, wants_unpacked

PASS_PIPELINE = "tir.passPipeline"
DEFAULT_MAX_CHARS = 16_000_000


def _functions(functions: Any, source_lines: dict[str, int]) -> list[dict[str, Any]]:
    return [{"name": f.name, "startLine": f.start, "endLine": f.end, "sourceLine": source_lines.get(f.name)}
            for f in functions]


def _source_lines(doc: Document) -> dict[str, int]:
    """0-based line of each function's name in the document, by name and by C symbol."""
    out: dict[str, int] = {}
    for name, span, f in doc.function_names():
        out.setdefault(name, span.line - 1)
        if f is not None:
            out.setdefault(f.global_symbol, span.line - 1)
    return out


def pass_pipeline(doc: Document, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """The stages of the document's module (see the module docstring); CommandError when the
    document has errors or a pass refuses the module."""
    from tir_lsp.compiler.transform.pass_api import PipelineOptions
    from tir_lsp.compiler.transform.pipeline_trace import trace_pipeline

    options = options if isinstance(options, dict) else {}
    max_chars = options.get("maxChars", DEFAULT_MAX_CHARS)
    if not isinstance(max_chars, int) or isinstance(max_chars, bool) or max_chars < 0:
        raise CommandError(f"{PASS_PIPELINE}: maxChars must be a non-negative integer, got {max_chars!r}")
    mod = checked_module(doc, None)
    unpacked = options.get("unpackedApi")
    if not isinstance(unpacked, bool):
        unpacked = wants_unpacked(mod)
    try:
        stages = trace_pipeline(mod, PipelineOptions(unpacked_api=unpacked))
    except CompilerError as exc:
        diags = [d if d.file else Diagnostic(d.code, d.message, d.span, d.severity, d.related, doc.filename)
                 for d in exc.diagnostics]
        raise CommandError(render_errors(diags, doc), diags) from exc
    except RecursionError:
        raise CommandError(f"{doc.filename}: the module is nested too deeply to lower") from None

    source_lines = _source_lines(doc)
    first = stages[0]
    budget = max_chars - len(first.text)
    passes: list[dict[str, Any]] = []
    holder = -1  # the pass whose text is the current stage
    omitted = 0
    for i, stage in enumerate(stages[1:]):
        entry: dict[str, Any] = {"name": stage.pass_name, "changed": stage.changed, "text": None,
                                 "functions": None, "before": holder, "after": holder, "omitted": False}
        if stage.changed:
            holder = i
            entry["after"] = i
            if len(stage.text) <= budget:
                budget -= len(stage.text)
                entry["text"] = stage.text
                entry["functions"] = _functions(stage.functions, source_lines)
            else:
                entry["omitted"] = True
                omitted += 1
        passes.append(entry)
    base = posixpath.basename(doc.filename.replace("\\", "/")) or "untitled"
    return {
        "title": f"{base.rsplit('.', 1)[0] if '.' in base else base}.pipeline",
        "input": {"text": first.text, "functions": _functions(first.functions, source_lines)},
        "passes": passes,
        "omittedNote": (f"{omitted} changed stage(s) left out: the texts passed {max_chars} characters; "
                        "use tir.showTirAfterPass for one stage") if omitted else None,
    }
