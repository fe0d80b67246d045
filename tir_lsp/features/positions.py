"""Compiler spans (1-based lines, 1-based code-point columns) <-> LSP ranges (0-based lines,
columns in the negotiated encoding, UTF-16 unless the client chose otherwise)."""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from tir_lsp.compiler.ir.span import Span


def _units(codec: PositionCodec, line: str, column0: int) -> int:
    if line.isascii():
        return column0
    return int(codec.client_num_units(line[:column0]))


def to_lsp_position(codec: PositionCodec, lines: Sequence[str], line: int, column: int) -> types.Position:
    """1-based (line, column) -> LSP Position."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    return types.Position(line=max(line - 1, 0), character=_units(codec, text, max(column - 1, 0)))


def to_lsp_range(codec: PositionCodec, lines: Sequence[str], span: Span) -> types.Range:
    return types.Range(start=to_lsp_position(codec, lines, span.line, span.column),
                       end=to_lsp_position(codec, lines, span.end_line, span.end_column))


def from_lsp_position(codec: PositionCodec, lines: Sequence[str], pos: types.Position) -> tuple[int, int]:
    """LSP Position -> 1-based (line, column) in code points."""
    text = lines[pos.line] if 0 <= pos.line < len(lines) else ""
    if text.isascii():
        return pos.line + 1, pos.character + 1
    units = 0
    for i, ch in enumerate(text):
        if units >= pos.character:
            return pos.line + 1, i + 1
        units += codec.impl.code_units_for_char(ch)
    return pos.line + 1, len(text) + 1


def word_at(lines: Sequence[str], line: int, column: int, extra: str = "") -> tuple[str, int, int]:
    """The identifier (with ``extra`` characters allowed, e.g. ".") around a 1-based position:
    (text, first column, column past the end); ("", column, column) when none."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    i = min(max(column - 1, 0), len(text))

    def ok(c: str) -> bool:
        return c.isalnum() or c == "_" or c in extra

    start = i
    while start > 0 and ok(text[start - 1]):
        start -= 1
    end = i
    while end < len(text) and ok(text[end]):
        end += 1
    return text[start:end], start + 1, end + 1
