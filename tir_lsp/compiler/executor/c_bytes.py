"""Bytes as the body of a C string literal, compact and written fast: every byte stands for
itself except those a literal cannot hold raw (NUL, newline, carriage return, ``"``,
backslash, a ``?`` after a ``?``, which could make a C99 trigraph, and 0xe2, which could
start a bidirectional control character gcc warns about), which become 3-digit octal
escapes (never swallowing the next character, as ``\\xNN`` would). Random float32 weights
grow by ~7% (``\\xNN`` escapes: 4x), so linking resnet50's 102 MB of weights writes ~110 MB of C that
gcc reads in seconds. Lines break every ``LINE`` bytes (adjacent literals concatenate).

``literal_pieces`` makes the text a block at a time from the bytes given in any pieces (the
weights themselves, with their padding), and ``literal_size`` its length beforehand: the
text is the same however the bytes are cut (a ``?`` at the end of one piece counts for the
next), so a big literal is never held whole.

The text holds bytes 0x80-0xff as they are: it is ``bytes``, not ``str``, and must be
written as such. gcc takes them unchanged in a narrow string literal (its input and
execution character sets are both UTF-8, so nothing is converted)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

LINE = 1024  # input bytes per line of the literal
_BLOCK = LINE * 256  # input bytes encoded per array operation (bounds the temporaries: ~40x this)
# 0xe2 starts every UTF-8 bidirectional control character, which gcc warns about
# (-Wbidi-chars, on by default) even inside a literal.
_ESCAPED = (0, ord("\n"), ord("\r"), ord('"'), ord("\\"), 0xE2)
_Q = ord("?")

_IS_ESCAPED: np.ndarray = np.zeros(256, dtype=bool)
_IS_ESCAPED[list(_ESCAPED)] = True
# The three octal digits of each byte, as ASCII.
_OCTAL = np.array([[ord("0") + (b >> 6), ord("0") + ((b >> 3) & 7), ord("0") + (b & 7)] for b in range(256)],
                  dtype=np.uint8)


def _escaped(data: np.ndarray, after_q: bool) -> np.ndarray:
    """Which bytes of ``data`` (uint8) become escapes; ``after_q``: the byte before
    ``data[0]`` is a ``?``."""
    esc: np.ndarray = _IS_ESCAPED[data]
    # "?" only after another "?": no two raw in a row, so no trigraph (float32 weights near
    # 1.0 have many 0x3f bytes: escaping them all would cost ~25%).
    q = data == _Q
    esc[1:] |= q[1:] & q[:-1]
    if after_q and len(data):
        esc[0] |= q[0]
    return esc


def _breaks(n: int, at: int) -> np.ndarray:
    """3 (``"``, newline, ``"``) in front of each of ``n`` bytes starting at offset ``at`` of
    the literal that begins a line (every ``LINE``, except the very first), else 0."""
    breaks: np.ndarray = np.zeros(n, dtype=np.int64)
    first = -at % LINE
    breaks[(first if at + first else first + LINE)::LINE] = 3
    return breaks


def _block(data: np.ndarray, at: int, after_q: bool) -> bytes:
    """The text of ``data`` (uint8), bytes ``at`` .. of the literal."""
    esc = _escaped(data, after_q)
    size: np.ndarray = 1 + 3 * esc.astype(np.int64)
    breaks = _breaks(len(data), at)
    ends = np.cumsum(size + breaks)
    starts = ends - size
    out: np.ndarray = np.empty(int(ends[-1]), dtype=np.uint8)
    raw = ~esc
    out[starts[raw]] = data[raw]
    at_esc = starts[esc]
    out[at_esc] = ord("\\")
    digits = _OCTAL[data[esc]]
    out[at_esc + 1], out[at_esc + 2], out[at_esc + 3] = digits[:, 0], digits[:, 1], digits[:, 2]
    b = starts[breaks > 0]
    out[b - 3], out[b - 2], out[b - 1] = ord('"'), ord("\n"), ord('"')
    return out.tobytes()


def _blocks(pieces: Iterable[bytes | memoryview | np.ndarray]) -> Iterator[tuple[np.ndarray, int, bool]]:
    """The bytes of ``pieces`` in blocks of at most ``_BLOCK``: (data, offset, after a ``?``)."""
    at, after_q = 0, False
    for piece in pieces:
        arr = np.frombuffer(piece, dtype=np.uint8) if not isinstance(piece, np.ndarray) else piece.reshape(-1).view(np.uint8)
        for lo in range(0, len(arr), _BLOCK):
            data = arr[lo:lo + _BLOCK]
            yield data, at, after_q
            at += len(data)
            after_q = bool(data[-1] == _Q)


def literal_pieces(pieces: Iterable[bytes | memoryview | np.ndarray]) -> Iterator[bytes]:
    """The C string literal of the bytes of ``pieces`` one after the other (quotes
    included), as text in blocks of ~``_BLOCK`` bytes: whatever the pieces, the text is
    ``c_string_literal`` of their concatenation, and no more than a block is held at once."""
    yield b'"'
    for data, at, after_q in _blocks(pieces):
        yield _block(data, at, after_q)
    yield b'"'


def literal_size(pieces: Iterable[bytes | memoryview | np.ndarray]) -> int:
    """``len`` of the text ``literal_pieces(pieces)`` yields, without making it."""
    n = 2
    for data, at, after_q in _blocks(pieces):
        n += len(data) + 3 * int(np.count_nonzero(_escaped(data, after_q))) + 3 * int(np.count_nonzero(_breaks(len(data), at)))
    return n


def c_string_literal(data: bytes | memoryview) -> bytes:
    """``data`` as one C string literal (quotes included), possibly over several lines."""
    return b"".join(literal_pieces([data]))
