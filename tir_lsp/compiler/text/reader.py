"""Text -> IR: parse TIR text into a syntax tree, then build IR, index and diagnostics."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import NamedTuple

from tir_lsp.compiler.diagnostics import Diagnostic, internal_error, sort_key
from tir_lsp.compiler.ir.function import IRModule
from tir_lsp.compiler.ir.span import Span
from tir_lsp.compiler.text.symbols import SymbolIndex


class ReadResult(NamedTuple):
    module: IRModule
    # The field shadows tuple.index (a method) on purpose: callers read ``result.index``.
    index: SymbolIndex  # type: ignore[assignment]
    diagnostics: list[Diagnostic]


def read_tir(text: str, filename: str = "<input>") -> ReadResult:
    """Parse and build ``text`` (``ParsedFile``, the one parse path); syntax and build
    diagnostics together, sorted by position."""
    from tir_lsp.compiler.text.parsed_file import ParsedFile

    # Reading allocates many small objects that all stay alive: the cyclic GC would only
    # re-scan them (it tripled the build time of a 10,000-line module).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        parsed = ParsedFile.parse(text, filename)
        return ReadResult(parsed.module, parsed.index(), sorted(parsed.diagnostics, key=sort_key))
    except Exception as exc:  # noqa: BLE001 - the text layer's boundary: TIR900 (logged), never raise
        return ReadResult(IRModule(()), SymbolIndex(), [internal_error("reading this file", exc, Span(1, 1, 1, 1),
                                                                       filename)])
    finally:
        if gc_was_enabled:
            gc.enable()


def _bad_byte_position(data: bytes, offset: int) -> Span:
    """1-based line and column (in characters) of the byte at ``offset``."""
    before = data[:offset]
    line = before.count(b"\n") + 1
    line_start = before.rfind(b"\n") + 1
    column = len(before[line_start:].decode("utf-8", errors="replace")) + 1
    return Span(line, column, line, column + 1)


def decode_tir_bytes(data: bytes, filename: str = "<input>") -> tuple[str | None, Diagnostic | None]:
    """UTF-8 text of ``data``, or a TIR006 diagnostic at the first invalid byte or NUL."""
    try:
        # A UTF-8 byte order mark (Windows editors write one) is not part of the text.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, Diagnostic("TIR006", f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
                                _bad_byte_position(data, exc.start), file=filename)
    nul = data.find(b"\x00")
    if nul >= 0:
        return None, Diagnostic("TIR006", "file contains a NUL byte", _bad_byte_position(data, nul), file=filename)
    return text, None


def read_tir_file(path: str | Path) -> ReadResult:
    """Read a file as TIR; bad encodings come back as a TIR006 diagnostic, never an exception
    (an unreadable file is reported as TIR006 too)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        return ReadResult(IRModule(()), SymbolIndex(),
                          [Diagnostic("TIR006", f"cannot read file: {exc.strerror}", Span(1, 1, 1, 1), file=str(p))])
    text, bad = decode_tir_bytes(data, str(p))
    if bad is not None:
        return ReadResult(IRModule(()), SymbolIndex(), [bad])
    assert text is not None
    return read_tir(text, str(p))
