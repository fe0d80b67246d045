"""Formatting that keeps meaning: TIR text in, the same tokens and comments laid out again.

The formatter works on the lexer's tokens, never on the IR, so names (``X`` stays ``X``),
comments and ``metadata[...]`` references come out as they went in. It normalises only
whitespace, the way TVM's ``.script()`` prints: 4 spaces per block level, one space around
binary operators and after commas, none inside brackets, around ``.`` or around ``=`` of a
keyword argument, none around the ``:`` of a slice; two spaces before a trailing comment;
exactly one blank line between two functions (none at the start of a block), at most one
blank line elsewhere; no trailing whitespace, ``\\n`` line ends and one final newline. Line
breaks the author put inside brackets are kept; a continuation line stays lined up with its
bracket if it was, else it moves with its statement. TVM's own output is therefore a fixed
point but for the final newline it omits.

``format_tir`` checks its result before handing it back: both texts must lex to the same
tokens and comments, read to structurally equal modules and give the same diagnostics. A
text with syntax errors, or any difference, gives the input back with the reason
(``Formatted.refused``): no edit is better than a wrong one.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import TYPE_CHECKING

from tir_lsp.compiler.diagnostics import Diagnostic
from tir_lsp.compiler.ir.structural import structural_diff

# The lexer's own token pattern and indentation width: the formatter sees the tokens and
# blocks the parser sees (plus the comments and line breaks the parser skips).
from tir_lsp.compiler.text.lexer import TOKEN_RE, indent_width

if TYPE_CHECKING:
    from tir_lsp.compiler.text.reader import ReadResult

INDENT = "    "
# Codes of the diagnostics that mean the text was not fully parsed.
SYNTAX_CODES = frozenset({"TIR001", "TIR002", "TIR003", "TIR006"})

_OPEN = frozenset("([{")
_CLOSE = frozenset(")]}")
_PREFIX = frozenset({"-", "+", "~", "*", "**"})
# Words after which an operator starts an operand (``return -1``, ``in (1, 2)``).
_KEYWORDS = frozenset(keyword.kwlist) - {"True", "False", "None"}


class LayoutError(Exception):
    """Text the formatter cannot lay out (it does not lex, or its indentation is broken)."""

    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(f"line {line}:{column}: {message}")


@dataclass(frozen=True, slots=True)
class Formatted:
    """The result of ``format_tir``: ``text`` is the input itself when ``refused`` says why
    (and ``error`` is the syntax error that stopped it, if one did)."""

    text: str
    refused: str | None = None
    error: Diagnostic | None = None


# ---------------------------------------------------------------------------------------
# Reading the text into statements, comment lines and blank lines


@dataclass(slots=True)
class _Stmt:
    """One logical line: its block depth, the width it was indented by, and its pieces:
    ("tok", kind, value), ("comment", text), ("cont",) for a backslash continuation and
    ("break", width, aligned) for a line break: the next line's indentation, and whether it
    lined up with the innermost open bracket (``f(a,`` / ``  b)``)."""

    depth: int
    width: int
    pieces: list[tuple[object, ...]]

    @property
    def first(self) -> str:
        return str(self.pieces[0][2])

    def starts_definition(self) -> bool:
        return self.first in ("@", "def", "class")


@dataclass(slots=True)
class _Comment:
    """A line holding only a comment; ``depth`` is settled once the next statement is known."""

    text: str
    width: int
    stack: tuple[int, ...]
    depth: int = 0


class _Blank:
    __slots__ = ()


_BLANK = _Blank()
_Item = _Stmt | _Comment | _Blank


def _scan(text: str) -> list[_Item]:
    """Statements, comment lines and blank lines of ``text`` (``\\n`` line ends)."""
    items: list[_Item] = []
    indents = [0]
    brackets = 0
    stmt: _Stmt | None = None
    open_columns: list[int] = []  # where the open brackets of the statement are
    broken = False  # a line break inside the statement is owed before its next piece
    line, line_start, pos, n = 1, 0, 0, len(text)
    line_has_comment = False
    while pos < n:
        m = TOKEN_RE.match(text, pos)
        if m is None:
            rest = text[pos:].lstrip(" \t\f")
            if not rest:
                break
            raise LayoutError(line, n - len(rest) - line_start + 1, f"unexpected character {rest[0]!r}")
        kind = m.lastgroup
        value = m.group(kind)  # type: ignore[arg-type]
        start = m.end() - len(value)
        pos = m.end()
        if kind == "nl" or kind == "cont":
            if kind == "cont":
                if stmt is None:
                    raise LayoutError(line, start - line_start + 1, "line continuation outside a statement")
                stmt.pieces.append(("cont",))
                broken = True
            elif stmt is not None and brackets > 0:
                broken = True
            elif stmt is not None:
                items.append(stmt)
                stmt = None
            elif not line_has_comment:
                items.append(_BLANK)
            line += 1
            line_start = pos
            line_has_comment = False
            continue
        if kind == "comment":
            line_has_comment = True
            if stmt is None:
                items.append(_Comment(value.rstrip(), indent_width(text[line_start:start]), tuple(indents)))
            else:
                if broken:
                    stmt.pieces.append(_break(text[line_start:start], open_columns))
                    broken = False
                stmt.pieces.append(("comment", value.rstrip()))
            continue
        if stmt is None:
            width = indent_width(text[line_start:start])
            if width > indents[-1]:
                indents.append(width)
            while width < indents[-1]:
                indents.pop()
            if width != indents[-1]:
                raise LayoutError(line, 1, "unindent does not match any outer indentation level")
            stmt = _Stmt(len(indents) - 1, width, [])
        elif broken:
            stmt.pieces.append(_break(text[line_start:start], open_columns))
            broken = False
        stmt.pieces.append(("tok", kind, value))
        if kind == "op":
            if value in _OPEN:
                brackets += 1
                open_columns.append(indent_width(text[line_start:start]))
            elif value in _CLOSE:
                if brackets == 0:
                    raise LayoutError(line, start - line_start + 1, f"unmatched '{value}'")
                brackets -= 1
                open_columns.pop()
        elif kind == "string" and "\n" in value:
            line += value.count("\n")
            line_start = start + value.rfind("\n") + 1
    if brackets:
        raise LayoutError(line, pos - line_start + 1, "a bracket was never closed")
    if stmt is not None:
        items.append(stmt)
    return items


def _break(prefix: str, open_columns: list[int]) -> tuple[str, int, bool]:
    width = indent_width(prefix)
    return ("break", width, bool(open_columns) and width == open_columns[-1] + 1)


def _settle_comment_depths(items: list[_Item]) -> None:
    """A comment line takes the depth of the block whose indentation it has (the next
    statement's, or an enclosing one's); otherwise the next statement's depth."""
    next_stmt: _Stmt | None = None
    for item in reversed(items):
        if isinstance(item, _Stmt):
            next_stmt = item
        elif isinstance(item, _Comment):
            if next_stmt is not None and item.width == next_stmt.width:
                item.depth = next_stmt.depth
            elif item.width in item.stack:
                item.depth = item.stack.index(item.width)
            else:
                item.depth = next_stmt.depth if next_stmt is not None else 0


# ---------------------------------------------------------------------------------------
# Laying the items out again


def _group_openers(items: list[_Item]) -> set[int]:
    """Indexes of the items that open a definition: a decorator or ``def``/``class`` (not
    right after its decorator), or the first of the comment lines right above it."""
    openers: set[int] = set()
    prev_stmt: _Stmt | None = None
    for i, item in enumerate(items):
        if not isinstance(item, _Stmt):
            continue
        if item.starts_definition() and not (prev_stmt is not None and prev_stmt.first == "@"
                                             and _only_comments_between(items, prev_stmt, i)):
            j = i
            while j > 0 and isinstance(items[j - 1], _Comment) and items[j - 1].depth == item.depth:  # type: ignore[union-attr]
                j -= 1
            openers.add(j)
        prev_stmt = item
    return openers


def _only_comments_between(items: list[_Item], prev: _Stmt, i: int) -> bool:
    j = i - 1
    while j >= 0 and items[j] is not prev:
        if not isinstance(items[j], _Comment):
            return False
        j -= 1
    return True


def _render(stmt: _Stmt) -> list[str]:
    """The physical lines of one statement."""
    out: list[str] = []
    base = INDENT * stmt.depth
    line = base
    brackets: list[str] = []
    columns: list[int] = []  # where the open brackets are in the output
    prev: tuple[str, str] | None = None  # (kind, value) of the previous token
    prev_prefix = False  # the previous token was a prefix operator (or a decorator's @)
    at_start = True  # nothing yet on this physical line
    for piece in stmt.pieces:
        tag = piece[0]
        if tag == "break":
            out.append(line.rstrip())
            if piece[2] and columns:  # still lined up with its bracket
                line = " " * (columns[-1] + 1)
            else:  # moved with the statement
                line = base + " " * max(0, int(piece[1]) - stmt.width)  # type: ignore[call-overload]
            at_start = True
            continue
        if tag == "cont":
            line = line.rstrip() + (" \\" if not at_start else "\\")
            continue
        if tag == "comment":
            line = (line.rstrip() + "  " if not at_start else line) + str(piece[1])
            at_start = False
            continue
        kind, value = str(piece[1]), str(piece[2])
        if kind == "name" and value in _KEYWORDS and not (prev is not None and prev[1] == "."):
            kind = "keyword"  # `in`, `not`, `return`; but `T.async` is an attribute
        inner = brackets[-1] if brackets else None
        prefix_op = kind == "op" and (value in _PREFIX and _starts_operand(prev) or value == "@" and prev is None)
        if not at_start and _space_between(prev, prev_prefix, kind, value, inner):
            line += " "
        line += value
        at_start = False
        if kind == "op":
            if value in _OPEN:
                brackets.append(value)
                columns.append(len(line) - 1 - (line.rfind("\n") + 1))
            elif value in _CLOSE and brackets:
                brackets.pop()
                columns.pop()
        prev, prev_prefix = (kind, value), prefix_op
    out.append(line.rstrip())
    return out


def _starts_operand(prev: tuple[str, str] | None) -> bool:
    """Whether an operator after ``prev`` is a prefix one (``-x``, ``*args``), not binary."""
    if prev is None:
        return True
    kind, value = prev
    if kind == "op":
        return value not in _CLOSE
    return kind == "keyword"


def _space_between(prev: tuple[str, str] | None, prev_prefix: bool, kind: str, value: str,
                   inner: str | None) -> bool:
    """Whether one space separates the previous token from this one (``inner`` is the
    innermost open bracket)."""
    if prev is None or prev_prefix:
        return False
    pkind, pv = prev
    if pkind == "op" and (pv in _OPEN or pv == "."):
        return False
    if kind == "op":
        if value in _CLOSE or value == "," or value == ".":
            return False
        if value == ":":
            return pv == ","  # `A[0, :]`; never before a slice's, a dict's or a block's colon
    if pv == ":":
        return inner != "["  # `A[0:4]`, but `{"a": 1}`, `x: T.int32`, `lambda x: x`
    if pv == ",":
        return True
    if value == "=" or pv == "=":
        return inner is None  # `x = 1`, but `f(x=1)`
    if kind == "op" and value in _OPEN:
        # A call or subscript hugs its callee: `f(x)`, `A[i]`, `f(x)(y)`, `"ab"[0]`.
        return not (pkind in ("name", "string") or pv in _CLOSE)
    return True


def layout(text: str) -> str:
    """``text`` laid out again (see the module docstring); raises ``LayoutError`` on text the
    lexer would reject. Only whitespace changes; nothing is checked here (``format_tir`` does)."""
    text = _unify_line_ends(text)
    items = _scan(text)
    _settle_comment_depths(items)
    openers = _group_openers(items)
    out: list[str] = []
    blanks = 0
    last_stmt: _Stmt | None = None
    siblings: list[_Stmt] = []  # the last statement at each depth, for the current block
    for i, item in enumerate(items):
        if isinstance(item, _Blank):
            blanks += 1
            continue
        depth = item.depth
        if not out or (last_stmt is not None and (depth > last_stmt.depth or last_stmt.first == "@")):
            blanks = 0  # none at the start of the file or of a block, nor under a decorator
        elif i in openers and len(siblings) > depth and siblings[depth].starts_definition():
            blanks = 1  # one between two functions (but none forced before the first)
        out.extend([""] * min(blanks, 1))
        blanks = 0
        if isinstance(item, _Comment):
            out.append(INDENT * depth + item.text)
        else:
            out.extend(_render(item))
            last_stmt = item
            del siblings[depth:]
            siblings.append(item)
    return "\n".join(out) + "\n" if out else ""


def _unify_line_ends(text: str) -> str:
    """``\\r\\n`` and a lone ``\\r`` end a line each, as for the parser."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


# ---------------------------------------------------------------------------------------
# Formatting with a check


def format_tir(text: str, filename: str = "<input>") -> Formatted:
    """``text`` laid out again, or left as it is (with ``refused`` set) when it has syntax
    errors or when the laid-out text would not read back to the same tokens, comments,
    structurally equal module and diagnostics."""
    return _format(text, filename)[0]


def _format(text: str, filename: str) -> tuple[Formatted, ReadResult]:
    """``format_tir``'s result, and what reading ``text`` gave."""
    from tir_lsp.compiler.text.reader import read_tir

    source = _unify_line_ends(text)
    before = read_tir(source, filename)
    syntax = [d for d in before.diagnostics if d.code in SYNTAX_CODES]
    if syntax:
        return Formatted(text, f"not formatted: {_where(syntax[0])}", syntax[0]), before
    try:
        out = layout(source)
    except LayoutError as exc:
        return Formatted(text, f"not formatted: {exc}"), before
    if out == text:
        return Formatted(text), before
    why = _difference(source, out, before, filename)
    if why is not None:
        return Formatted(text, f"not formatted: formatting would change the text's meaning ({why})"), before
    return Formatted(out), before


# A line with its end, as editors count lines: \n, \r\n or a lone \r.
_LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def lines_with_ends(text: str) -> list[str]:
    """The lines of ``text`` as LSP counts them, each with its line end (the last may have none)."""
    return _LINE_RE.findall(text)


def format_range(text: str, first: int, last: int, filename: str = "<input>") -> Formatted:
    """``text`` with only the changes ``format_tir`` makes on lines ``first``..``last``
    (0-based, inclusive) applied; the other lines keep their bytes, line ends included. The
    result is checked as ``format_tir``'s is: a selection that cuts a block so that its
    lines no longer nest (a header re-indented, its body not) is refused."""
    full, before = _format(text, filename)
    if full.refused is not None or full.text == text:
        return full
    old = lines_with_ends(text)
    new = full.text.splitlines()
    matcher = SequenceMatcher(None, [ln.rstrip("\r\n") for ln in old], new, autojunk=False)
    out: list[str] = []
    hunks: list[tuple[str, int, int, int, int]] = []
    tag: str
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "replace" and i2 - i1 == j2 - j1:  # line for line: each on its own
            hunks.extend((tag, i1 + k, i1 + k + 1, j1 + k, j1 + k + 1) for k in range(i2 - i1))
        else:
            hunks.append((tag, i1, i2, j1, j2))
    for tag, i1, i2, j1, j2 in hunks:
        inside = first <= i1 <= last if i1 == i2 else i1 <= last and i2 - 1 >= first
        if tag == "equal" or not inside:
            out.extend(old[i1:i2])
        else:
            end = old[i1][len(old[i1].rstrip("\r\n")):] if i1 < len(old) else ""
            out.extend(ln + (end or "\n") for ln in new[j1:j2])
    partial = "".join(out)
    if partial == text:
        return Formatted(text)
    why = _difference(_unify_line_ends(text), _unify_line_ends(partial), before, filename)
    if why is not None:
        return Formatted(text, f"not formatted: formatting only the selection would change the text's meaning "
                               f"({why}); format the whole document")
    return Formatted(partial)


def _where(d: Diagnostic) -> str:
    return f"line {d.span.line}:{d.span.column}: {d.message} [{d.code}]"


def _difference(source: str, out: str, before: ReadResult, filename: str) -> str | None:
    """None when ``out`` means what ``source`` (read as ``before``) means, else the first
    difference found."""
    from tir_lsp.compiler.text.parser import tir_lexer
    from tir_lsp.compiler.text.reader import read_tir

    if _words(source) != _words(out):
        return "tokens or comments differ"
    lexer = tir_lexer()
    if _blocks(lexer, source) != _blocks(lexer, out):
        return "block structure differs"
    after = read_tir(out, filename)
    diff = structural_diff(before.module, after.module)
    if diff is not None:
        return f"module differs at {diff}"
    if _diagnostic_keys(before.diagnostics) != _diagnostic_keys(after.diagnostics):
        return "diagnostics differ"
    return None


def _words(text: str) -> list[str]:
    """Every token and comment of ``text``, in order, without the whitespace between them."""
    return [m.group(m.lastgroup).rstrip() for m in TOKEN_RE.finditer(text)  # type: ignore[arg-type]
            if m.lastgroup not in ("nl", "cont")]


def _blocks(lexer: object, text: str) -> list[str]:
    """The parser's token types, ``_NL``, ``_INDENT`` and ``_DEDENT`` included (the values
    are ``_words``'s business)."""
    return [t[0] for t in lexer.tokenize(text, 1)]  # type: ignore[attr-defined]


def _diagnostic_keys(diagnostics: list[Diagnostic]) -> list[tuple[str, str, str]]:
    return sorted((d.code, d.severity, d.message) for d in diagnostics)
