"""Mutations of TIR text (and of its bytes and JSON): each takes the text and a seeded
``random.Random`` and returns a new text, so a run is reproducible from its seed.

Line mutations break structure (indentation, blocks, scopes); token mutations break
expressions, calls and literals; splices bring in lines and tokens of another file so
names, builtins and statement forms meet in combinations no fixture has.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence

Mutator = Callable[[str, random.Random, Sequence[str]], str]

# Identifiers, numbers (with exponent and dot), strings, then any other single character.
_TOKEN = re.compile(r'[A-Za-z_][A-Za-z_0-9]*|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|"(?:[^"\\\n]|\\.)*"|\S')

# Tokens that tend to break a reader: brackets, operators, keywords, odd literals, odd characters.
INTERESTING = (
    "(", ")", "[", "]", "{", "}", ":", ",", ".", "=", "==", "-", "*", "**", "//", "%", "not", "and",
    "lambda", "yield", "return", "def", "class", "with", "for", "if", "else", "elif", "while", "pass",
    "as", "in", "is", "None", "True", "False", "T", "I", "T.", "T.int32", "T.float32", "T.Buffer",
    "T.grid", "T.sblock", "T.axis.remap", "T.reads", "T.writes", "T.init", "T.let", "T.handle",
    "T.call_extern", "T.call_packed", "T.allocate", "T.decl_buffer", "T.alloc_buffer",
    "T.match_buffer", "T.launch_thread", "T.attr", "T.func_attr", "T.ramp", "T.broadcast",
    "T.Shuffle", "T.Let", "T.Select", "T.Cast", "T.reinterpret", "T.uint8", "T.float16", "T.bool",
    "0", "-1", "1", "2147483648", "9223372036854775808", "340282366920938463463374607431768211456",
    "1e309", "-1e309", "0.0", "1.5", "0x10", "0b2", "1_000", "nan", "inf", '""', '"\\x00"', '"float32x4"',
    '"int"', '"bogus"', '"float8_e4m3fn"', '"handle"', '"global"', '"shared"', "\\", "#", "'", '"',
    "@", "@T.prim_func", "\t", "\r", "\x00", "\x0c", "\u00e9", "\ufeff", "\ud800", "\u200b", "...", ";",
)

# Numbers that stress constant folding, shapes and dtype ranges.
NUMBERS = ("0", "1", "-1", "2", "3", "7", "255", "256", "65536", "2147483647", "2147483648",
           "-2147483649", "4294967296", "9223372036854775807", "18446744073709551616", "10" * 30,
           "0.5", "1e38", "1e309", "-0.0", "nan")
DTYPES = ("float32", "float16", "float64", "int8", "int16", "int32", "int64", "uint8", "uint32",
          "bool", "handle", "float32x4", "int32x8", "bfloat16", "float8_e4m3fn", "int1", "uint1",
          "int0", "float7", "int65", "void", "", "x4", "floatx", "int32x0", "int32x-1")


_DTYPE_USE = re.compile(r'"((?:u?int|float|bfloat)\d+(?:x\d+)?|bool|handle)"|T\.((?:u?int|float|bfloat)\d+|bool)\b')


def tokens(text: str) -> list[tuple[int, int]]:
    """(start, end) of every token of ``text``."""
    return [m.span() for m in _TOKEN.finditer(text)]


def _lines(text: str) -> list[str]:
    return text.split("\n")


def delete_lines(text: str, rng: random.Random, _corpus: Sequence[str]) -> str:
    lines = _lines(text)
    i = rng.randrange(len(lines))
    n = rng.choice((1, 1, 1, 2, 3, 8))
    del lines[i:i + n]
    return "\n".join(lines)


def duplicate_lines(text: str, rng: random.Random, _corpus: Sequence[str]) -> str:
    lines = _lines(text)
    i = rng.randrange(len(lines))
    n = rng.choice((1, 1, 2, 4))
    at = rng.randrange(len(lines) + 1)
    lines[at:at] = lines[i:i + n]
    return "\n".join(lines)


def swap_lines(text: str, rng: random.Random, _corpus: Sequence[str]) -> str:
    lines = _lines(text)
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def splice_lines(text: str, rng: random.Random, corpus: Sequence[str]) -> str:
    """Lines of another file (kept with their own indentation) inserted at a random place."""
    lines = _lines(text)
    other = _lines(rng.choice(corpus)) if corpus else lines
    i = rng.randrange(len(other))
    piece = other[i:i + rng.choice((1, 2, 5, 12))]
    at = rng.randrange(len(lines) + 1)
    lines[at:at] = piece
    return "\n".join(lines)


def reindent(text: str, rng: random.Random, _corpus: Sequence[str]) -> str:
    """One line (or a run of lines) indented more or less, or with tabs."""
    lines = _lines(text)
    i = rng.randrange(len(lines))
    n = rng.choice((1, 1, 3, 10))
    how = rng.randrange(5)
    for k in range(i, min(i + n, len(lines))):
        line = lines[k]
        if how == 0:
            lines[k] = " " * rng.choice((1, 2, 4, 8)) + line
        elif how == 1:
            lines[k] = line[rng.choice((1, 2, 4)):] if line.startswith(" ") else line
        elif how == 2:
            lines[k] = line.lstrip(" ")
        elif how == 3:
            lines[k] = line.replace("    ", "\t")
        else:
            lines[k] = "\t" + line
    return "\n".join(lines)


def truncate(text: str, rng: random.Random, _corpus: Sequence[str]) -> str:
    return text[:rng.randrange(len(text) + 1)]


def _token_edit(text: str, rng: random.Random, edit: Callable[[list[tuple[int, int]], str], str]) -> str:
    toks = tokens(text)
    if not toks:
        return text + rng.choice(INTERESTING)
    return edit(toks, text)


def delete_token(text: str, rng: random.Random, _corpus: Sequence[str]) -> str:
    def edit(toks: list[tuple[int, int]], t: str) -> str:
        a, b = toks[rng.randrange(len(toks))]
        return t[:a] + t[b:]
    return _token_edit(text, rng, edit)


def duplicate_token(text: str, rng: random.Random, _corpus: Sequence[str]) -> str:
    def edit(toks: list[tuple[int, int]], t: str) -> str:
        a, b = toks[rng.randrange(len(toks))]
        c, _ = toks[rng.randrange(len(toks))]
        return t[:c] + t[a:b] + t[c:]
    return _token_edit(text, rng, edit)


def swap_tokens(text: str, rng: random.Random, _corpus: Sequence[str]) -> str:
    def edit(toks: list[tuple[int, int]], t: str) -> str:
        i = rng.randrange(len(toks))
        j = min(len(toks) - 1, i + rng.choice((1, 1, 2, 5, 50)))
        (a, b), (c, d) = sorted((toks[i], toks[j]))
        if b > c:
            return t
        return t[:a] + t[c:d] + t[b:c] + t[a:b] + t[d:]
    return _token_edit(text, rng, edit)


def splice_token(text: str, rng: random.Random, corpus: Sequence[str]) -> str:
    """A token replaced by one from another file or from the list of interesting ones."""
    def edit(toks: list[tuple[int, int]], t: str) -> str:
        a, b = toks[rng.randrange(len(toks))]
        if corpus and rng.random() < 0.5:
            other = rng.choice(corpus)
            otoks = tokens(other)
            c, d = otoks[rng.randrange(len(otoks))] if otoks else (0, 0)
            new = other[c:d]
        else:
            new = rng.choice(INTERESTING)
        if rng.random() < 0.3:  # insert rather than replace
            return t[:a] + new + " " + t[a:]
        return t[:a] + new + t[b:]
    return _token_edit(text, rng, edit)


def change_number(text: str, rng: random.Random, _corpus: Sequence[str]) -> str:
    spans = [m.span() for m in re.finditer(r"(?<![\w.])\d+(?:\.\d*)?(?:e[-+]?\d+)?", text)]
    if not spans:
        return text
    a, b = rng.choice(spans)
    return text[:a] + rng.choice(NUMBERS) + text[b:]


def change_dtype(text: str, rng: random.Random, _corpus: Sequence[str]) -> str:
    """A dtype (``"float32"`` or ``T.float32``) replaced by another, valid or not."""
    spans = [m.span(1) if m.group(1) else m.span(2) for m in _DTYPE_USE.finditer(text)]
    if not spans:
        return text
    a, b = rng.choice(spans)
    return text[:a] + rng.choice(DTYPES) + text[b:]


def nest_deeply(text: str, rng: random.Random, _corpus: Sequence[str]) -> str:
    """A token wrapped in many parentheses, minus signs or ``not``s."""
    def edit(toks: list[tuple[int, int]], t: str) -> str:
        a, b = toks[rng.randrange(len(toks))]
        n = rng.choice((10, 100, 1000, 5000))
        opener, closer = rng.choice((("(", ")"), ("-", ""), ("not ", ""), ("[", "]"), ("T.abs(", ")")))
        return t[:a] + opener * n + t[a:b] + closer * n + t[b:]
    return _token_edit(text, rng, edit)


TEXT_MUTATORS: tuple[Mutator, ...] = (
    delete_lines, duplicate_lines, swap_lines, splice_lines, reindent, truncate,
    delete_token, duplicate_token, swap_tokens, splice_token, splice_token, change_number, change_dtype,
    nest_deeply,
)
# Weights: token-level edits are the most productive, truncation and deep nesting the least.
_WEIGHTS = (4, 3, 2, 3, 3, 1, 5, 3, 3, 8, 8, 4, 3, 1)


def mutate(text: str, rng: random.Random, corpus: Sequence[str], rounds: int | None = None) -> str:
    """``text`` after one to four stacked mutations."""
    for _ in range(rounds or rng.choice((1, 1, 1, 2, 2, 3, 4))):
        (m,) = rng.choices(TEXT_MUTATORS, weights=_WEIGHTS)
        text = m(text, rng, corpus)
    return text


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    """Byte-level damage the text mutators cannot make: invalid UTF-8, NUL, CR, a BOM."""
    buf = bytearray(data)
    at = rng.randrange(len(buf) + 1)
    piece = rng.choice((b"\x00", b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\r", b"\r\n",
                        b"\xef\xbb\xbf", b"\xf4\x90\x80\x80", b"\xc0\xaf", bytes([rng.randrange(256)])))
    if rng.random() < 0.5 and buf:
        buf[at:at + 1] = piece
    else:
        buf[at:at] = piece
    return bytes(buf)


# ---------------------------------------------------------------------------------------------
# JSON: structured mutations of the parsed document (the text mutators cover its syntax).

_ODD_VALUES: tuple[object, ...] = (None, True, False, 0, -1, 1 << 70, 0.5, "nan", "", "x", "float32",
                                   [], {}, [0, 0, 0, 0], [[]], {"kind": "Var"}, 2 ** 31)


def mutate_json_value(obj: object, rng: random.Random) -> object:
    """``obj`` (a decoded JSON document, not modified) with one value replaced, one key
    dropped, or one list entry removed or duplicated, somewhere in the tree."""
    import copy

    doc = copy.deepcopy(obj)
    holders: list[tuple[object, object]] = []
    stack = [doc]
    while stack:
        cur = stack.pop()
        if isinstance(cur, dict):
            for k, v in cur.items():
                holders.append((cur, k))
                stack.append(v)
        elif isinstance(cur, list):
            for i, v in enumerate(cur):
                holders.append((cur, i))
                stack.append(v)
    if not holders:
        return rng.choice(_ODD_VALUES)
    holder, key = rng.choice(holders)
    how = rng.randrange(4)
    if how == 0 and isinstance(holder, dict):
        del holder[key]
    elif how == 1 and isinstance(holder, list):
        assert isinstance(key, int)
        holder.insert(key, copy.deepcopy(holder[key]))
    elif how == 2 and isinstance(holder, list):
        assert isinstance(key, int)
        del holder[key]
    elif isinstance(holder, dict):
        holder[key] = rng.choice(_ODD_VALUES)
    else:
        assert isinstance(holder, list) and isinstance(key, int)
        value = holder[key]
        holder[key] = value + rng.choice((1, -1, 1000)) if isinstance(value, int) and not isinstance(value, bool) \
            else rng.choice(_ODD_VALUES)
    return doc
