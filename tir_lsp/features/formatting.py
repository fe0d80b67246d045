"""Document and range formatting: the compiler's formatter (``tir_lsp.compiler.text.formatter``) as
LSP edits.

The formatter only moves whitespace and checks that the text still means the same; a text it
refuses (syntax errors) gets no edit, and the reason is handed back for the log. The edit
replaces only the lines that change, so the editor keeps the cursor and folds elsewhere.
"""

from __future__ import annotations

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from tir_lsp.compiler.text.formatter import Formatted, format_range, format_tir, lines_with_ends


def formatting_edits(text: str, codec: PositionCodec) -> tuple[list[types.TextEdit], str | None]:
    """The edits that format ``text`` (none when it is already formatted), and why it was
    not formatted when the formatter refused it."""
    return _edits(text, format_tir(text), codec)


def range_formatting_edits(text: str, selection: types.Range,
                           codec: PositionCodec) -> tuple[list[types.TextEdit], str | None]:
    """As ``formatting_edits``, changing only the lines the selection touches (a selection
    ending at the start of a line does not touch that line)."""
    first, last = selection.start.line, selection.end.line
    if last > first and selection.end.character == 0:
        last -= 1
    return _edits(text, format_range(text, first, last), codec)


def _edits(text: str, result: Formatted, codec: PositionCodec) -> tuple[list[types.TextEdit], str | None]:
    if result.refused is not None or result.text == text:
        return [], result.refused
    old = lines_with_ends(text)
    new = lines_with_ends(result.text)
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    if end_old < len(old) or not old or old[-1].endswith(("\n", "\r")):
        end = types.Position(line=end_old, character=0)
    else:  # up to the end of a last line that has no line end
        end = types.Position(line=len(old) - 1, character=int(codec.client_num_units(old[-1])))
    edit = types.TextEdit(range=types.Range(start=types.Position(line=start, character=0), end=end),
                          new_text="".join(new[start:end_new]))
    return [edit], None
