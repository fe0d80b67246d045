"""The lexer for TIR text: one compiled regex, Python-style INDENT/DEDENT, exact positions.

Lark's own contextual lexer plus its postlex indenter cost about a third of the parse time,
and its terminal priorities made ``>>`` lex as two ``>``. This lexer does longest-match on
operators itself, skips comments, blank lines and newlines inside brackets, and emits the
grammar's ``_NL``/``_INDENT``/``_DEDENT`` tokens, numbering lines from any first line so a
function can be lexed on its own at its place in the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from lark import Token
from lark.lexer import Lexer, LexerState

# Terminals whose pattern is an alternation in the grammar: literal -> terminal name.
_MULTI = {
    **dict.fromkeys(("==", "!=", "<=", ">=", "<", ">"), "COMP_OP"),
    **dict.fromkeys(("<<", ">>"), "SHIFT_OP"),
    **dict.fromkeys(("+", "-"), "ADD_OP"),
    **dict.fromkeys(("/", "//", "%"), "MUL_OP"),
    **dict.fromkeys(("+=", "-=", "*=", "/=", "//=", "%=", "&=", "|=", "^=", "<<=", ">>=", "**="), "AUGOP"),
}

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>[ \t\f]+|\\[ \t\f]*\r?\n)
    |(?P<nl>\r?\n)
    |(?P<comment>\#[^\n]*)
    |(?P<string>[rRbBuU]{0,2}(?:"(?!"")(?:[^"\\\n]|\\.)*"|'(?!'')(?:[^'\\\n]|\\.)*'|\"\"\"(?:[^\\]|\\.)*?\"\"\"|'''(?:[^\\]|\\.)*?'''))
    |(?P<name>[^\W\d]\w*)
    |(?P<number>0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:(?:\d[\d_]*)?\.\d[\d_]*|\d[\d_]*\.?)(?:[eE][+-]?\d+)?[jJ]?)
    |(?P<op>\*\*=|//=|>>=|<<=|\.\.\.|\*\*|//|<<|>>|<=|>=|==|!=|->|\+=|-=|\*=|/=|%=|&=|\|=|\^=|[-+*/%@&|^~<>()\[\]{},:.;=])
    """,
    re.VERBOSE | re.DOTALL,
)
_OPEN = frozenset("([{")
_CLOSE = frozenset(")]}")


class LexError(Exception):
    """Text that is not a token, or indentation that matches no enclosing block."""

    def __init__(self, line: int, column: int, message: str, code: str, end_column: int = 0) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.message = message
        self.code = code
        self.end_column = end_column or column + 1


class LexInput:
    """What the parser is given: the text and the line number of its first line."""

    __slots__ = ("text", "first_line")

    def __init__(self, text: str, first_line: int = 1) -> None:
        self.text = text
        self.first_line = first_line


def _tok(type_: str, value: str, pos: int, line: int, col: int, end_line: int, end_col: int) -> Token:
    return Token(type_, value, pos, line, col, end_line, end_col, pos + len(value))


class TirLexer(Lexer):
    """A Lark ``Lexer`` for the TIR grammar (pass it as ``lexer=`` to ``Lark``)."""

    __future_interface__ = 2  # lex(state, parser_state), state being our LexInput

    def __init__(self, lexer_conf: Any) -> None:
        self.literals: dict[str, str] = dict(_MULTI)
        self.keywords: dict[str, str] = {}
        for term in lexer_conf.terminals:
            pat = term.pattern
            if pat.type == "str" and pat.value not in self.literals:
                if pat.value.isidentifier():
                    self.keywords[pat.value] = term.name
                else:
                    self.literals[pat.value] = term.name

    def lex(self, lexer_state: LexerState | LexInput, parser_state: Any) -> Iterator[Token]:
        text: Any = lexer_state.text if isinstance(lexer_state, LexerState) else lexer_state
        if isinstance(text, LexInput):  # custom input arrives wrapped in a LexerState
            return self.tokenize(text.text, text.first_line)
        return self.tokenize(text.text if hasattr(text, "text") else str(text), 1)

    def tokenize(self, text: str, first_line: int) -> Iterator[Token]:  # noqa: C901 - one hot loop
        match = _TOKEN_RE.match
        literals = self.literals
        keywords = self.keywords
        n = len(text)
        pos = 0
        line = first_line
        line_start = 0
        depth = 0
        opened: list[tuple[int, int, str]] = []  # (line, column, bracket) of open brackets
        indents = [0]
        at_line_start = True
        last_nl = True  # no _NL is owed before the first statement
        while pos < n:
            if at_line_start and depth == 0:
                # Measure this line's indentation; skip blank and comment-only lines.
                end = pos
                width = 0
                while end < n and text[end] in " \t\f":
                    width = (width // 8 + 1) * 8 if text[end] == "\t" else width + 1
                    end += 1
                if end >= n:
                    pos = end
                    break
                c = text[end]
                if c == "\n" or c == "\r" or c == "#":
                    nl = text.find("\n", end)
                    if nl < 0:
                        pos = n
                        break
                    pos = nl + 1
                    line += 1
                    line_start = pos
                    continue
                at_line_start = False
                col = end - line_start + 1
                if width > indents[-1]:
                    indents.append(width)
                    yield _tok("_INDENT", "", end, line, col, line, col)
                elif width < indents[-1]:
                    while width < indents[-1]:
                        indents.pop()
                        yield _tok("_DEDENT", "", end, line, col, line, col)
                    if width != indents[-1]:
                        raise LexError(line, 1, "unindent does not match any outer indentation level",
                                       "TIR002", col)
                pos = end
            m = match(text, pos)
            if m is None:
                col = pos - line_start + 1
                ch = text[pos]
                if ch in "'\"":
                    raise LexError(line, col, "unterminated string", "TIR003",
                                   (text.find("\n", pos) if "\n" in text[pos:] else n) - line_start + 1)
                shown = repr(ch) if ch.isprintable() else f"U+{ord(ch):04X}"
                raise LexError(line, col, f"invalid character {shown}", "TIR003")
            kind = m.lastgroup
            value = m.group()
            start = pos
            pos = m.end()
            if kind == "ws":
                if "\n" in value:
                    line += 1
                    line_start = pos
                continue
            if kind == "comment":
                continue
            if kind == "nl":
                if depth == 0:
                    if not last_nl:
                        yield _tok("_NL", value, start, line, start - line_start + 1, line, start - line_start + 2)
                        last_nl = True
                    at_line_start = True
                line += 1
                line_start = pos
                continue
            col = start - line_start + 1
            if kind == "name":
                yield _tok(keywords.get(value, "NAME"), value, start, line, col, line, col + len(value))
            elif kind == "op":
                if value in _OPEN:
                    depth += 1
                    opened.append((line, col, value))
                elif value in _CLOSE and depth > 0:
                    depth -= 1
                    opened.pop()
                yield _tok(literals[value], value, start, line, col, line, col + len(value))
            elif kind == "string" and "\n" in value:
                lines_in = value.count("\n")
                end_col = len(value) - value.rfind("\n")
                yield _tok("STRING", value, start, line, col, line + lines_in, end_col)
                line += lines_in
                line_start = start + value.rfind("\n") + 1
            else:
                yield _tok("STRING" if kind == "string" else "NUMBER", value, start, line, col, line,
                           col + len(value))
            last_nl = False
        if opened:
            bline, bcol, bracket = opened[-1]
            raise LexError(bline, bcol, f"'{bracket}' was never closed", "TIR001")
        col = pos - line_start + 1
        if not last_nl:
            yield _tok("_NL", "", pos, line, col, line, col)
        while len(indents) > 1:
            indents.pop()
            yield _tok("_DEDENT", "", pos, line, col, line, col)
