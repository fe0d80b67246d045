"""Diagnostics: errors as values with a code, a message and a span, rendered only at the edge."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Final, Literal

from tir_lsp.compiler.ir.span import Span

Severity = Literal["error", "warning", "info"]
ERROR: Final = "error"
WARNING: Final = "warning"
INFO: Final = "info"

# Every code the project reports, in one list: the README's and docs/check.md's tables
# (written by docs/diagnostic_codes.py), SARIF's rules and `tir-lsp check --select` read it.


@dataclass(frozen=True, slots=True)
class Code:
    """A diagnostic code: the severity it is reported with (a few places may lower or raise
    it), a title (SARIF's short description) and, when the title is not enough, a short note."""

    code: str
    severity: str
    title: str
    note: str = ""

    @property
    def meaning(self) -> str:
        """The title and the note, as one phrase for a table."""
        return f"{self.title} ({self.note})" if self.note else self.title


CODES: dict[str, Code] = {c.code: c for c in (
    Code("TIR001", ERROR, "syntax error"),
    Code("TIR002", ERROR, "inconsistent indentation"),
    Code("TIR003", ERROR, "invalid character or unterminated string"),
    Code("TIR004", WARNING, "unknown T.* builtin"),
    Code("TIR005", ERROR, "Python construct that is not TIR"),
    Code("TIR006", ERROR, "file is not valid UTF-8 text", "also a file that cannot be read or holds a NUL byte"),
    Code("TIR007", ERROR, "invalid JSON IR"),
    Code("TIR010", ERROR, "undefined name"),
    Code("TIR011", ERROR, "name defined twice in the same scope"),
    Code("TIR012", ERROR, "wrong number of arguments to a known builtin"),
    Code("TIR013", ERROR, "store of one dtype into a buffer of another without a cast"),
    Code("TIR014", ERROR, "index count does not match the buffer's rank, or an index is always out of bounds"),
    Code("TIR015", ERROR, "unknown data type"),
    Code("TIR016", ERROR, "assignment to an immutable binding"),
    Code("TIR017", ERROR, "operands of different dtypes"),
    Code("TIR018", ERROR, "duplicate function in module"),
    Code("TIR019", ERROR, "invalid argument to a builtin"),
    Code("TIR020", ERROR, "R.call_tir arguments or outputs do not match the PrimFunc's buffer parameters"),
    Code("TIR101", ERROR, "call_extern of a packed function"),
    Code("TIR102", ERROR, "call_packed/call_cpacked of a function that is not packed"),
    Code("TIR103", ERROR, "argument count differs from the callee's"),
    Code("TIR104", ERROR, "DLTensor handle and raw data pointer mixed up"),
    Code("TIR105", ERROR, "function signature matches no calling convention"),
    Code("TIR106", ERROR, "invalid calling_conv value"),
    Code("TIR107", ERROR, "invalid combination of executor options"),
    Code("TIR108", ERROR, "entry function does not follow the convention the options demand"),
    Code("TIR109", WARNING, "executor option spelled in a target string (deprecated)"),
    Code("TIR201", ERROR, "a compiler pass cannot handle this IR"),
    Code("TIR202", ERROR, "C backend cannot lower this construct"),
    Code("TIR203", ERROR, "model import error: unsupported operator, attribute or shape",
         "`tirc build` only; also a file that is not an ONNX model"),
    Code("TIR204", INFO, "Relax function not compiled: not a static chain of R.call_tir", "`tirc lower` only"),
    Code("TIR900", ERROR, "internal error: a bug in tir-lsp",
         "at the function, or the file, whose other diagnostics may be missing; the log has the traceback"),
)}


@dataclass(frozen=True, slots=True)
class Related:
    """A second place a diagnostic refers to (the other side of a mismatch)."""

    span: Span
    message: str
    file: str | None = None


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    message: str
    span: Span
    severity: Severity = ERROR
    related: tuple[Related, ...] = field(default=())
    file: str | None = None

    def render(self, file: str | None = None) -> str:
        """``file:line:col: severity: message [CODE]``, gcc style."""
        where = file or self.file or "<input>"
        return f"{where}:{self.span.line}:{self.span.column}: {self.severity}: {self.message} [{self.code}]"

    def shifted(self, lines: int) -> Diagnostic:
        return Diagnostic(
            self.code, self.message, self.span.shifted(lines), self.severity,
            tuple(Related(r.span.shifted(lines), r.message, r.file) for r in self.related), self.file,
        )


class CompilerError(Exception):
    """Raised at a boundary when work cannot go on; carries the diagnostics that say why."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic) -> None:
        self.diagnostics = [diagnostics] if isinstance(diagnostics, Diagnostic) else list(diagnostics)
        super().__init__("; ".join(d.message for d in self.diagnostics))


# Where the compiler logs what it cannot return as a value (an internal error's traceback).
# The language server forwards these records to the client's log; `tir-lsp check` and `tirc`
# write them on stderr.
log = logging.getLogger("tir_lsp.compiler")


def internal_error(what: str, exc: BaseException, span: Span, file: str | None = None) -> Diagnostic:
    """A bug caught at a boundary (one function's checks, one file's reading): its traceback
    goes to the log, and the user gets a TIR900 diagnostic at ``span`` saying what failed
    (``what``: "checking function 'f'", "reading this file")."""
    log.error("internal error while %s in %s: %s: %s", what, file or "<input>", type(exc).__name__, exc, exc_info=exc)
    return Diagnostic("TIR900", f"internal error while {what} ({type(exc).__name__}: {exc}); its other diagnostics "
                      "may be missing. This is a bug in tir-lsp: the traceback is in the log.", span, ERROR, file=file)


def sort_key(d: Diagnostic) -> tuple[object, ...]:
    """Deterministic order: file, position, code, message."""
    return (d.file or "", d.span.line, d.span.column, d.code, d.message)
