"""The imported model: tensors with static shapes, constants and operator nodes in order.

This is the one structure between the ONNX reader and the rest of the compiler: fusion,
the executors and the memory planner read it, never ONNX itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# The element types a tensor of the graph may have: ONNX TensorProto element type -> TIR
# dtype name. float16 and bfloat16 live in C as uint16_t and are computed in float (rounded
# after every operation), as TVM's C backend does; bool is C's one-byte ``bool``.
ONNX_DTYPES: dict[int, str] = {1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32",
                               7: "int64", 9: "bool", 10: "float16", 11: "float64", 12: "uint32", 13: "uint64",
                               16: "bfloat16", 17: "float8_e4m3fn", 18: "float8_e4m3fnuz", 19: "float8_e5m2",
                               20: "float8_e5m2fnuz"}
DTYPE_BYTES: dict[str, int] = {"bool": 1, "int8": 1, "uint8": 1, "int16": 2, "uint16": 2, "float16": 2, "int32": 4,
                               "uint32": 4, "float32": 4, "int64": 8, "uint64": 8, "float64": 8, "bfloat16": 2,
                               "float8_e4m3fn": 1, "float8_e4m3fnuz": 1, "float8_e5m2": 1, "float8_e5m2fnuz": 1}
FLOATS = ("float16", "float32", "float64", "bfloat16")
# The 16-bit floats: computed in float32, reductions and products accumulated in float32.
HALF_FLOATS = ("float16", "bfloat16")
# ONNX's 8-bit floats: uint8_t in C, computed in float; only converted (Cast) and moved, as
# ONNX allows, never computed with. The largest finite value of each (Cast's saturate=1).
FLOAT8S = ("float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz")
FLOAT8_MAX = {"float8_e4m3fn": 448.0, "float8_e4m3fnuz": 240.0, "float8_e5m2": 57344.0, "float8_e5m2fnuz": 57344.0}
# The dtypes numpy knows through the ml_dtypes package (a dependency of onnx).
_ML_DTYPES = ("bfloat16", *FLOAT8S)
INTS = ("int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64")
NUMBERS = FLOATS + INTS


def numpy_dtype(dtype: str) -> np.dtype:
    """The numpy dtype of a graph dtype name (the same spelling)."""
    if dtype in _ML_DTYPES:
        import ml_dtypes

        found: np.dtype = np.dtype(getattr(ml_dtypes, dtype))
        return found
    return np.dtype(dtype)


def graph_dtype(arr: np.ndarray) -> str | None:
    """The graph dtype of a numpy array's dtype, or None if the graph has no such type."""
    name = "bool" if arr.dtype == np.bool_ else arr.dtype.name
    return name if name in DTYPE_BYTES else None


@dataclass(frozen=True, slots=True)
class TensorInfo:
    """A value of the graph: its name, static shape and dtype (a name of ``DTYPE_BYTES``)."""

    name: str
    shape: tuple[int, ...]
    dtype: str = "float32"

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def nbytes(self) -> int:
        return self.size * DTYPE_BYTES[self.dtype]


@dataclass(frozen=True, slots=True)
class OpNode:
    """One operator application. ``attrs`` holds the ONNX attributes, already checked."""

    name: str
    op_type: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attrs: dict[str, object] = field(default_factory=dict)


@dataclass
class Graph:
    """Inputs, outputs, constants (initializers and Constant nodes) and nodes in a valid
    topological order; ``tensors`` gives every value's shape and dtype. A constant's
    array has its tensor's dtype."""

    name: str
    inputs: list[str]
    outputs: list[str]
    nodes: list[OpNode]
    tensors: dict[str, TensorInfo]
    constants: dict[str, np.ndarray]
