"""Diagnostics: errors as values with a code, a message and a span, rendered only at the edge."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

from tir_lsp.compiler.ir.span import Span

Severity = Literal["error", "warning", "info"]
ERROR: Final = "error"
WARNING: Final = "warning"
INFO: Final = "info"

# Every code the project reports, with a one-line description (used for SARIF rule metadata,
# the README table and `tir-lsp check --select`).
CODES: dict[str, str] = {
    "TIR001": "syntax error",
    "TIR002": "inconsistent indentation",
    "TIR003": "invalid character or unterminated string",
    "TIR004": "unknown T.* builtin",
    "TIR005": "Python construct that is not TIR",
    "TIR006": "file is not valid UTF-8 text",
    "TIR007": "invalid JSON IR",
    "TIR010": "undefined name",
    "TIR011": "name defined twice in the same scope",
    "TIR012": "wrong number of arguments to a known builtin",
    "TIR013": "store of one dtype into a buffer of another without a cast",
    "TIR014": "index count does not match the buffer's rank",
    "TIR015": "unknown data type",
    "TIR016": "assignment to an immutable binding",
    "TIR017": "operands of different dtypes",
    "TIR018": "duplicate function in module",
    "TIR019": "invalid argument to a builtin",
    "TIR020": "R.call_tir arguments or outputs do not match the PrimFunc's buffer parameters",
    "TIR101": "call_extern of a packed function",
    "TIR102": "call_packed/call_cpacked of a function that is not packed",
    "TIR103": "argument count differs from the callee's",
    "TIR104": "DLTensor handle and raw data pointer mixed up",
    "TIR105": "function signature matches no calling convention",
    "TIR106": "invalid calling_conv value",
    "TIR107": "invalid combination of executor options",
    "TIR108": "entry function does not follow the convention the options demand",
    "TIR109": "executor option spelled in a target string (deprecated)",
    "TIR201": "a compiler pass cannot handle this IR",
    "TIR202": "C backend cannot lower this construct",
    "TIR203": "model import error: unsupported operator, attribute or shape",
    "TIR204": "Relax function not compiled (not a static chain of R.call_tir)",
    "TIR900": "internal error: a bug in tir-lsp (other diagnostics may be missing)",
}


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


def sort_key(d: Diagnostic) -> tuple[object, ...]:
    """Deterministic order: file, position, code, message."""
    return (d.file or "", d.span.line, d.span.column, d.code, d.message)
