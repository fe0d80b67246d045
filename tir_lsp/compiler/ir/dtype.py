"""Data types: scalar and vector types with bits and lanes, and pointer types with a scope."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Type codes in the order TVM's DLDataType uses for the first four.
INT, UINT, FLOAT, HANDLE, BFLOAT, BOOL, VOID = "int", "uint", "float", "handle", "bfloat", "bool", "void"

# The small floats TVM 0.27 knows, each a type code of its own, with its width in bits.
SMALL_FLOATS = {
    "float8_e3m4": 8, "float8_e4m3": 8, "float8_e4m3b11fnuz": 8, "float8_e4m3fn": 8,
    "float8_e4m3fnuz": 8, "float8_e5m2": 8, "float8_e5m2fnuz": 8, "float8_e8m0fnu": 8,
    "float6_e2m3fn": 6, "float6_e3m2fn": 6, "float4_e2m1fn": 4,
}
_DTYPE_RE = re.compile(
    r"^(?P<code>int|uint|float|bfloat|" + "|".join(sorted(SMALL_FLOATS, key=len, reverse=True))
    + r")(?P<bits>\d+)?(?:x(?P<vscale>vscalex)?(?P<lanes>\d+))?$"
)


class DTypeError(ValueError):
    """A string that is not a data type."""


@dataclass(frozen=True, slots=True)
class DataType:
    """A scalar or vector data type: ``code`` + ``bits`` x ``lanes``.

    A scalable vector (``float32xvscalex4``: ``4 * vscale`` lanes, known only at run time)
    has negative ``lanes`` (-4), as in TVM.
    """

    code: str
    bits: int
    lanes: int = 1

    @property
    def is_int(self) -> bool:
        return self.code == INT

    @property
    def is_uint(self) -> bool:
        return self.code == UINT

    @property
    def is_integer(self) -> bool:
        """int, uint or bool: the types index arithmetic uses."""
        return self.code in (INT, UINT, BOOL)

    @property
    def is_float(self) -> bool:
        return self.code in (FLOAT, BFLOAT) or self.code.startswith("float")

    @property
    def is_bool(self) -> bool:
        return self.code == BOOL

    @property
    def is_handle(self) -> bool:
        return self.code == HANDLE

    @property
    def is_void(self) -> bool:
        return self.code == VOID

    @property
    def bytes(self) -> int:
        """Storage size of one element of this type (all lanes), in bytes."""
        if self.code == BOOL:
            return self.lanes
        return (self.bits * self.lanes + 7) // 8

    def element_of(self) -> DataType:
        """The scalar type of one lane."""
        return self if self.lanes == 1 else DataType(self.code, self.bits, 1)

    def with_lanes(self, lanes: int) -> DataType:
        return DataType(self.code, self.bits, lanes)

    def __str__(self) -> str:
        if self.code in (HANDLE, VOID):
            return self.code
        if self.code == BOOL:
            base = "bool"
        elif self.code.startswith("float") and self.code != FLOAT:
            base = self.code
        else:
            base = f"{self.code}{self.bits}"
        if self.lanes < 0:
            return f"{base}xvscalex{-self.lanes}"
        return base if self.lanes == 1 else f"{base}x{self.lanes}"


@lru_cache(maxsize=512)
def parse_dtype(text: str) -> DataType:
    """Parse a dtype name such as ``float32``, ``int8x4``, ``bool``, ``handle``.

    Raises DTypeError for anything else.
    """
    if text == "bool":
        return DataType(BOOL, 1)
    if text.startswith("boolx") and text[5:].isdigit():
        return DataType(BOOL, 1, int(text[5:]))
    if text.startswith("boolxvscalex") and text[12:].isdigit():
        return DataType(BOOL, 1, -int(text[12:]))
    if text in (HANDLE, VOID):
        return DataType(text, 64 if text == HANDLE else 0)
    m = _DTYPE_RE.match(text)
    if not m:
        raise DTypeError(f"unknown data type '{text}'")
    code = m.group("code")
    lanes = int(m.group("lanes") or 1)
    if lanes < 1:
        raise DTypeError(f"unknown data type '{text}'")
    if m.group("vscale"):
        lanes = -lanes
    if code in SMALL_FLOATS:
        if m.group("bits"):
            raise DTypeError(f"unknown data type '{text}'")
        return DataType(code, SMALL_FLOATS[code], lanes)
    bits = int(m.group("bits") or (32 if code != BFLOAT else 16))
    if bits < 1:
        raise DTypeError(f"unknown data type '{text}'")
    if code in (INT, UINT) and bits not in (1, 2, 4, 8, 16, 32, 64, 128):
        raise DTypeError(f"unsupported integer width in '{text}'")
    if code == FLOAT and bits not in (16, 32, 64):
        raise DTypeError(f"unsupported float width in '{text}'")
    if code == BFLOAT and bits != 16:
        raise DTypeError(f"unsupported bfloat width in '{text}'")
    return DataType(code, bits, lanes)


def is_dtype_name(text: str) -> bool:
    """Whether ``text`` names a data type (``float32``, ``int8x4``, ``bool``, ``handle``...)."""
    try:
        parse_dtype(text)
    except DTypeError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class PointerType:
    """A pointer to elements of ``element`` in memory ``scope`` (``T.handle("float32", "global")``)."""

    element: DataType
    scope: str = "global"

    def __str__(self) -> str:
        return f'T.handle("{self.element}", "{self.scope}")'


Type = DataType | PointerType

INT32 = DataType(INT, 32)
INT64 = DataType(INT, 64)
BOOL_T = DataType(BOOL, 1)
FLOAT32 = DataType(FLOAT, 32)
HANDLE_T = DataType(HANDLE, 64)
VOID_T = DataType(VOID, 0)
UINT8 = DataType(UINT, 8)
