"""Code actions: quick fixes for diagnostics (``tir_lsp.compiler.analysis.fixes.quick_fixes``) and
"Lower to C" (kind ``source``), which runs the ``tir.lowerToC`` command."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from tir_lsp.compiler.diagnostics import Diagnostic
from tir_lsp.compiler.ir.span import Span
from tir_lsp.documents import Document
from tir_lsp.features.commands import LOWER_TO_C

LOWER_TITLE = "Lower to C"
log = logging.getLogger(__name__)


@dataclass
class Action:
    title: str
    kind: str  # "quickfix" | "source"
    command: str | None = None
    arguments: list[Any] = field(default_factory=list)
    edits: list[tuple[Span, str]] = field(default_factory=list)
    diagnostic: Diagnostic | None = None
    preferred: bool = False


def _quick_fixes(doc: Document, diags: list[Diagnostic]) -> list[Action]:
    from tir_lsp.compiler.analysis.fixes import quick_fixes

    text = "\n".join(doc.lines) + "\n"
    out: list[Action] = []
    for d in diags:
        try:
            # The other files' modules, where a call's callee may live (a packed call's arguments).
            fixes = quick_fixes(d, text, files=doc.files or None)
        except Exception:  # a broken fix must not break the menu: logged, the other fixes offered
            log.exception("internal error computing the quick fixes of %s at %s:%s", d.code, d.span.line, d.span.column)
            continue
        for fx in fixes:
            out.append(Action(fx.title, "quickfix", edits=list(fx.edits), diagnostic=d, preferred=fx.preferred))
    return out


def code_actions(doc: Document, line: int, end_line: int, diags: list[Diagnostic],
                 create_file: bool) -> list[Action]:
    """Actions for the 1-based line range; ``create_file`` asks ``tir.lowerToC`` to write the
    C next to the file (clients that cannot open an untitled document themselves)."""
    out = _quick_fixes(doc, diags)
    extra: list[Any] = [{"createFile": True}] if create_file else []
    if doc.module.functions:
        out.append(Action(LOWER_TITLE, "source", LOWER_TO_C, [doc.uri, *([None] if extra else []), *extra]))
        view = doc.chunk_at(line)
        if view is not None and view.result.functions and len(doc.module.functions) > 1:
            name = view.result.functions[0].name
            out.append(Action(f"{LOWER_TITLE}: function {name}", "source", LOWER_TO_C, [doc.uri, name, *extra]))
    return out
