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
from operator import itemgetter
from typing import Any

# Terminals whose pattern is an alternation in the grammar: literal -> terminal name.
_MULTI = {
    **dict.fromkeys(("==", "!=", "<=", ">=", "<", ">"), "COMP_OP"),
    **dict.fromkeys(("<<", ">>"), "SHIFT_OP"),
    **dict.fromkeys(("+", "-"), "ADD_OP"),
    **dict.fromkeys(("/", "//", "%"), "MUL_OP"),
    **dict.fromkeys(("+=", "-=", "*=", "/=", "//=", "%=", "&=", "|=", "^=", "<<=", ">>=", "**="), "AUGOP"),
}

# Leading blanks are part of every match (one match per token, none for the blanks). The
# alternatives are tried in order: a string's prefix letter is not read as a name, and ".5"
# is a number, not ".". Every operator must be a grammar literal: ";" is not one (TIR has no
# statement separator), so it is left out and reported as an invalid character.
TOKEN_RE = re.compile(
    r"""
    [ \t\f]*(?:
    (?P<string>[rRbBuU]{0,2}(?:"(?!"")(?:[^"\\\n]|\\.)*"|'(?!'')(?:[^'\\\n]|\\.)*'|\"\"\"(?:[^\\]|\\.)*?\"\"\"|'''(?:[^\\]|\\.)*?'''))
    |(?P<name>[^\W\d]\w*)
    |(?P<number>0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:(?:\d[\d_]*)?\.\d[\d_]*|\d[\d_]*\.?)(?:[eE][+-]?\d+)?[jJ]?)
    |(?P<op>\*\*=|//=|>>=|<<=|\.\.\.|\*\*|//|<<|>>|<=|>=|==|!=|->|\+=|-=|\*=|/=|%=|&=|\|=|\^=|[-+*/%@&|^~<>()\[\]{},:.=])
    |(?P<nl>\r?\n)
    |(?P<comment>\#[^\n]*)
    |(?P<cont>\\[ \t\f]*\r?\n)
    )""",
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

    __slots__ = ("first_line", "text")

    def __init__(self, text: str, first_line: int = 1) -> None:
        self.text = text
        self.first_line = first_line


class Tok(tuple):  # type: ignore[type-arg]
    """A token: ``(type, value, start_pos, line, column, end_line, end_column)``.

    A ``lark.Token`` is a str subclass built by Python code (eight attribute stores per
    token); a tuple is built in C. The parser's callbacks index it; the attributes below
    (Lark's names) serve Lark's own parse loop, error messages and tests.
    """

    __slots__ = ()

    type = property(itemgetter(0))
    value = property(itemgetter(1))
    start_pos = property(itemgetter(2))
    line = property(itemgetter(3))
    column = property(itemgetter(4))
    end_line = property(itemgetter(5))
    end_column = property(itemgetter(6))

    @property
    def end_pos(self) -> int:
        return self[2] + len(self[1])  # type: ignore[no-any-return]

    def __str__(self) -> str:
        return self[1]  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"Tok({self[0]!r}, {self[1]!r}, line={self[3]}, column={self[4]})"


class TirLexer:
    """The TIR lexer: ``tokenize(text, first_line)``. Built from the grammar's terminals
    (``TirLexer(lexer_conf)``, as Lark does) or from saved tables (``from_tables``); Lark
    itself is handed ``lark_lexer()``, an adapter class, so using this one never imports Lark."""

    def __init__(self, lexer_conf: Any) -> None:
        self._set_terminals([(t.name, t.pattern.type, t.pattern.value) for t in lexer_conf.terminals])

    @classmethod
    def from_terminals(cls, terminals: list[tuple[str, str, str]]) -> TirLexer:
        """From (name, pattern type "str" or "re", pattern) of each terminal of the grammar."""
        lexer = cls.__new__(cls)
        lexer._set_terminals(terminals)
        return lexer

    def _set_terminals(self, terminals: list[tuple[str, str, str]]) -> None:
        self.literals: dict[str, str] = dict(_MULTI)
        self.keywords: dict[str, str] = {}
        for name, kind, value in terminals:
            if kind == "str" and value not in self.literals:
                if value.isidentifier():
                    self.keywords[value] = name
                else:
                    self.literals[value] = name

    def lex(self, lexer_state: Any, parser_state: Any) -> Iterator[Tok]:
        text: Any = getattr(lexer_state, "text", lexer_state)
        if isinstance(text, LexInput):  # custom input arrives wrapped in a LexerState
            return self.tokenize(text.text, text.first_line)
        return self.tokenize(text.text if hasattr(text, "text") else str(text), 1)

    def tokenize(self, text: str, first_line: int) -> Iterator[Tok]:
        match = TOKEN_RE.match
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
            m = match(text, pos)
            if m is None:
                start = pos
                while start < n and text[start] in " \t\f":
                    start += 1
                if start >= n:
                    pos = n  # blanks at the end
                    break
                if at_line_start and depth == 0 and text[start] == "\r":
                    # A line starting with a lone carriage return counts as blank.
                    nl = text.find("\n", start)
                    if nl < 0:
                        pos = n
                        break
                    pos = line_start = nl + 1
                    line += 1
                    continue
                kind = value = ""
            else:
                kind = m.lastgroup  # type: ignore[assignment]
                value = m.group(kind)
                pos = m.end()
                start = pos - len(value)
            if kind == "comment":
                continue
            if kind == "nl":
                if depth == 0:
                    if not last_nl:
                        yield Tok(("_NL", value, start, line, start - line_start + 1, line, start - line_start + 2))
                        last_nl = True
                    at_line_start = True
                line += 1
                line_start = pos
                continue
            col = start - line_start + 1
            if at_line_start and depth == 0:
                # The first token of a logical line: compare its indentation with the blocks'.
                at_line_start = False
                prefix = text[line_start:start]
                width = indent_width(prefix)
                if width > indents[-1]:
                    indents.append(width)
                    yield Tok(("_INDENT", "", start, line, col, line, col))
                elif width < indents[-1]:
                    while width < indents[-1]:
                        indents.pop()
                        yield Tok(("_DEDENT", "", start, line, col, line, col))
                    if width != indents[-1]:
                        raise LexError(line, 1, "unindent does not match any outer indentation level",
                                       "TIR002", col)
            if kind == "name":
                yield Tok((keywords.get(value, "NAME"), value, start, line, col, line, col + len(value)))
            elif kind == "op":
                if value in _OPEN:
                    depth += 1
                    opened.append((line, col, value))
                elif value in _CLOSE and depth > 0:
                    depth -= 1
                    opened.pop()
                yield Tok((literals[value], value, start, line, col, line, col + len(value)))
            elif kind == "number":
                yield Tok(("NUMBER", value, start, line, col, line, col + len(value)))
            elif kind == "string":
                if "\n" in value:
                    lines_in = value.count("\n")
                    end_col = len(value) - value.rfind("\n")
                    yield Tok(("STRING", value, start, line, col, line + lines_in, end_col))
                    line += lines_in
                    line_start = start + value.rfind("\n") + 1
                else:
                    yield Tok(("STRING", value, start, line, col, line, col + len(value)))
            elif kind == "cont":
                line += 1
                line_start = pos
                continue
            else:
                ch = text[start]
                if ch in "'\"":
                    raise LexError(line, col, "unterminated string", "TIR003",
                                   (text.find("\n", start) if "\n" in text[start:] else n) - line_start + 1)
                shown = repr(ch) if ch.isprintable() else f"U+{ord(ch):04X}"
                raise LexError(line, col, f"invalid character {shown}", "TIR003")
            last_nl = False
        if opened:
            bline, bcol, bracket = opened[-1]
            raise LexError(bline, bcol, f"'{bracket}' was never closed", "TIR001")
        col = pos - line_start + 1
        if not last_nl:
            yield Tok(("_NL", "", pos, line, col, line, col))
        while len(indents) > 1:
            indents.pop()
            yield Tok(("_DEDENT", "", pos, line, col, line, col))


_LARK_LEXER: type | None = None


def lark_lexer() -> type:
    """``TirLexer`` as a ``lark.lexer.Lexer`` subclass, for ``Lark(..., lexer=lark_lexer())``."""
    global _LARK_LEXER
    if _LARK_LEXER is None:
        from lark.lexer import Lexer

        # lex(state, parser_state), state being our LexInput. Lark pickles the class into
        # its cache by name: this module's __getattr__ finds it again.
        _LARK_LEXER = type("LarkTirLexer", (TirLexer, Lexer),
                           {"__future_interface__": 2, "__module__": __name__})
    return _LARK_LEXER


def __getattr__(name: str) -> Any:
    if name == "LarkTirLexer":
        return lark_lexer()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

def indent_width(prefix: str) -> int:
    """Indentation width of leading blanks, a tab reaching the next multiple of 8 (as Python)."""
    if "\t" not in prefix:
        return len(prefix)
    width = 0
    for c in prefix:
        width = (width // 8 + 1) * 8 if c == "\t" else width + 1
    return width
