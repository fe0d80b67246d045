"""Compiler diagnostics -> LSP diagnostics (code, source "tir-lsp", severity, related
information), filtered by the client's ``check.select`` / ``check.ignore`` options."""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from tir_lsp.compiler.diagnostics import ERROR, INFO, WARNING, Diagnostic, Severity
from tir_lsp.features.positions import to_lsp_range

SOURCE = "tir-lsp"
_SEVERITY: dict[Severity, types.DiagnosticSeverity] = {
    ERROR: types.DiagnosticSeverity.Error,
    WARNING: types.DiagnosticSeverity.Warning,
    INFO: types.DiagnosticSeverity.Information,
}


def selected(diags: Sequence[Diagnostic], select: Sequence[str] = (), ignore: Sequence[str] = ()) -> list[Diagnostic]:
    """Diagnostics whose code is selected (a prefix such as ``TIR1`` selects a family)."""
    out = []
    for d in diags:
        if select and not any(d.code.startswith(s) for s in select):
            continue
        if any(d.code.startswith(s) for s in ignore):
            continue
        out.append(d)
    return out


def to_lsp(d: Diagnostic, uri: str, lines: Sequence[str], codec: PositionCodec,
           uri_of: object = None) -> types.Diagnostic:
    related = None
    if d.related:
        related = []
        for r in d.related:
            r_uri = uri if r.file is None or r.file == d.file or not callable(uri_of) else uri_of(r.file)
            r_lines = lines if r_uri == uri else ()
            related.append(types.DiagnosticRelatedInformation(
                location=types.Location(uri=r_uri, range=to_lsp_range(codec, r_lines, r.span)), message=r.message))
    return types.Diagnostic(
        range=to_lsp_range(codec, lines, d.span),
        message=d.message,
        severity=_SEVERITY[d.severity],
        code=d.code,
        source=SOURCE,
        related_information=related,
    )
