"""The imported model: tensors with static shapes, constants and operator nodes in order.

This is the one structure between the ONNX reader and the rest of the compiler: fusion,
the executors and the memory planner read it, never ONNX itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, slots=True)
class TensorInfo:
    """A value of the graph: its name, static shape and dtype (only float32 for now)."""

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
        return self.size * 4


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
    topological order; ``tensors`` gives every value's shape."""

    name: str
    inputs: list[str]
    outputs: list[str]
    nodes: list[OpNode]
    tensors: dict[str, TensorInfo]
    constants: dict[str, np.ndarray]
