"""Bytes as the body of a C string literal, compact and written fast: every byte stands for
itself except those a literal cannot hold raw (NUL, newline, carriage return, ``"``,
backslash, a ``?`` after a ``?``, which could make a C99 trigraph, and 0xe2, which could
start a bidirectional control character gcc warns about), which become 3-digit octal
escapes (never swallowing the next character, as ``\\xNN`` would). Random float32 weights
grow by ~7% (``\\xNN`` escapes: 4x), so linking resnet50's 102 MB of weights writes ~110 MB of C that
gcc reads in seconds. Lines break every ``LINE`` bytes (adjacent literals concatenate).

The text holds bytes 0x80-0xff as they are: it is ``bytes``, not ``str``, and must be
written as such. gcc takes them unchanged in a narrow string literal (its input and
execution character sets are both UTF-8, so nothing is converted)."""

from __future__ import annotations

import numpy as np

LINE = 1024  # input bytes per line of the literal
_BLOCK = LINE * 1024  # input bytes encoded per array operation (bounds the temporaries)
# 0xe2 starts every UTF-8 bidirectional control character, which gcc warns about
# (-Wbidi-chars, on by default) even inside a literal.
_ESCAPED = (0, ord("\n"), ord("\r"), ord('"'), ord("\\"), 0xE2)
_Q = ord("?")

_IS_ESCAPED = np.zeros(256, dtype=bool)
_IS_ESCAPED[list(_ESCAPED)] = True
# The three octal digits of each byte, as ASCII.
_OCTAL = np.array([[ord("0") + (b >> 6), ord("0") + ((b >> 3) & 7), ord("0") + (b & 7)] for b in range(256)],
                  dtype=np.uint8)


def _block(data: np.ndarray, first: bool) -> bytes:
    """One block of the literal: ``data`` (uint8), a line break in front of every ``LINE``
    bytes except the very first line of the literal."""
    esc = _IS_ESCAPED[data]
    # "?" only after another "?": no two raw in a row, so no trigraph (float32 weights near
    # 1.0 have many 0x3f bytes: escaping them all would cost ~25%).
    esc[1:] |= (data[1:] == _Q) & (data[:-1] == _Q)
    size = 1 + 3 * esc.astype(np.int64)
    breaks = np.zeros(len(data), dtype=np.int64)
    breaks[(LINE if first else 0)::LINE] = 3  # '"', '\n', '"' before the byte
    ends = np.cumsum(size + breaks)
    starts = ends - size
    out = np.empty(int(ends[-1]), dtype=np.uint8)
    raw = ~esc
    out[starts[raw]] = data[raw]
    at = starts[esc]
    out[at] = ord("\\")
    digits = _OCTAL[data[esc]]
    out[at + 1], out[at + 2], out[at + 3] = digits[:, 0], digits[:, 1], digits[:, 2]
    b = starts[breaks > 0]
    out[b - 3], out[b - 2], out[b - 1] = ord('"'), ord("\n"), ord('"')
    return out.tobytes()


def c_string_literal(data: bytes | memoryview) -> bytes:
    """``data`` as one C string literal (quotes included), possibly over several lines."""
    arr = np.frombuffer(data, dtype=np.uint8)
    parts = [b'"']
    for lo in range(0, len(arr), _BLOCK):
        parts.append(_block(arr[lo:lo + _BLOCK], lo == 0))
    parts.append(b'"')
    return b"".join(parts)
