"""A generated file too big to hold as one string (the linked weights: hundreds of MB): its
size, known in advance, and its bytes in pieces made on demand, so that the archive writer
copies it into the output a block at a time and the build needs ~one block of memory for
it, not a copy of it per step (text, join, archive member, tar, output)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO


@dataclass(frozen=True)
class StreamedFile:
    """``size`` bytes, made by ``pieces()`` (each call makes them afresh, in order)."""

    size: int
    pieces: Callable[[], Iterable[bytes | memoryview]]

    def to_bytes(self) -> bytes:
        """The whole file in memory (small models, tests)."""
        data = b"".join(self.pieces())
        self._check(len(data))
        return data

    def write_to(self, out: BinaryIO) -> None:
        n = 0
        for piece in self.pieces():
            out.write(piece)
            n += len(piece)
        self._check(n)

    def reader(self) -> BinaryIO:
        """A file object reading the bytes (for ``tarfile.addfile``)."""
        return io.BufferedReader(_PieceReader(self), buffer_size=1 << 20)

    def _check(self, n: int) -> None:
        if n != self.size:  # a bug of whoever made the pieces, never the user's
            raise AssertionError(f"streamed file made {n} bytes, announced {self.size}")


class _PieceReader(io.RawIOBase):
    def __init__(self, f: StreamedFile) -> None:
        self.file = f
        self.it: Iterator[bytes | memoryview] = iter(f.pieces())
        self.rest = memoryview(b"")
        self.done = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf: memoryview) -> int:  # type: ignore[override]
        while not self.rest:
            piece = next(self.it, None)
            if piece is None:
                self.file._check(self.done)
                return 0
            self.rest = memoryview(piece).cast("B")
        n = min(len(buf), len(self.rest))
        buf[:n] = self.rest[:n]
        self.rest = self.rest[n:]
        self.done += n
        return n


def file_size(data: str | bytes | StreamedFile) -> int:
    """The size of a generated file in bytes (a ``str`` is written as UTF-8)."""
    if isinstance(data, StreamedFile):
        return data.size
    return len(data.encode() if isinstance(data, str) else data)


def write_file(out: BinaryIO, data: str | bytes | StreamedFile) -> None:
    """Write a generated file to ``out`` (a ``str`` as UTF-8, ``bytes`` as they are)."""
    if isinstance(data, StreamedFile):
        data.write_to(out)
    else:
        out.write(data.encode() if isinstance(data, str) else data)
