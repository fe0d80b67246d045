"""The data-alignment promise of buffer parameters, shared by MakePackedAPI and MakeUnpackedAPI.

A buffer parameter's data pointer is aligned to ``Buffer.data_alignment`` bytes (its ``align``,
else 64 as in TVM). The API passes check that at the function's entry (a misaligned argument
is an error the caller sees, never a fault in a vector load), then state it with
``T.attr(A, "storage_alignment", 64)`` (flat: one statement each, not nested, so that a
function with hundreds of buffer parameters stays shallow), which the C backend turns into
``__builtin_assume_aligned`` so that gcc / clang may fold aligned loads into arithmetic.
"""

from __future__ import annotations

from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.dtype import BOOL_T, INT32, DataType
from tir_lsp.compiler.ir.expr import BinOp, Call, IntImm, StringImm
from tir_lsp.compiler.ir.stmt import AssertStmt, AttrStmt, Stmt

STORAGE_ALIGNMENT = "storage_alignment"
_UINT64 = DataType("uint", 64)


def promised(buf: Buffer) -> int | None:
    """The alignment ``buf``'s caller must give, or None when there is nothing to promise:
    no more than the element's own alignment, or a buffer of no elements."""
    align = buf.data_alignment
    if align <= max(buf.dtype.bytes, 1):
        return None
    if any(isinstance(d, IntImm) and d.value == 0 for d in buf.shape):
        return None
    return align


def alignment_check(function: str, where: str, buf: Buffer) -> AssertStmt | None:
    """``assert (uint64)A % 64 == 0, "f: argument #0 (A) expects data aligned to 64 bytes"``."""
    align = promised(buf)
    if align is None:
        return None
    address = Call(_UINT64, "reinterpret", (buf.data,))
    rest = BinOp("truncmod", address, IntImm(_UINT64, align), _UINT64)
    cond = BinOp("eq", rest, IntImm(_UINT64, 0), BOOL_T)
    message = f"{function}: {where} expects data aligned to {align} bytes"
    return AssertStmt(cond, (StringImm(message),), "ValueError")


def assume_aligned(buffers: list[Buffer]) -> list[Stmt]:
    """``T.attr(A.data, "storage_alignment", n)`` for each promised buffer: flat statements
    that hold for the rest of the function (TVM's reader nests what follows each one)."""
    out: list[Stmt] = []
    for buf in buffers:
        align = promised(buf)
        if align is not None:
            out.append(AttrStmt(buf.data, STORAGE_ALIGNMENT, IntImm(INT32, align)))
    return out
