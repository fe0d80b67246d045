"""Constant folding at import: a node whose inputs are all known at compile time becomes a
constant. This is how shape subgraphs vanish (``Shape -> Gather -> Unsqueeze -> Concat ->
Reshape``), and how the ``ConstantOfShape`` weights of the onnx package's light models
become tensors. ``Shape`` folds even on a runtime tensor: every shape is static.

Each folder is numpy following the ONNX operator's definition for the inputs and
attributes it is given; a node no folder handles (or whose inputs are not all constant)
is left to the operator library.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Folder = Callable[[list[np.ndarray], dict[str, object]], list[np.ndarray]]


def int_list(v: object, key: str) -> list[int]:
    """An ONNX ``ints`` attribute (a list of Python ints once read); anything else is the
    model's fault, reported by the importer as a malformed attribute."""
    if not isinstance(v, (list, tuple)) or not all(isinstance(a, (int, np.integer)) for a in v):
        raise TypeError(f"attribute {key} must be a list of integers, got {v!r}")
    return [int(a) for a in v if isinstance(a, (int, np.integer))]


def int_attr(v: object, key: str) -> int:
    """An ONNX ``int`` attribute; anything else is reported as a malformed attribute."""
    if not isinstance(v, (int, np.integer)):
        raise TypeError(f"attribute {key} must be an integer, got {v!r}")
    return int(v)


def _axes(attrs: dict[str, object], ins: list[np.ndarray], pos: int) -> list[int] | None:
    if len(ins) > pos and ins[pos] is not None:
        return [int(a) for a in np.asarray(ins[pos]).reshape(-1)]
    v = attrs.get("axes")
    return None if v is None else int_list(v, "axes")


def _unsqueeze(ins: list[np.ndarray], attrs: dict[str, object]) -> list[np.ndarray]:
    x = ins[0]
    axes = _axes(attrs, ins, 1) or []
    rank = x.ndim + len(axes)
    out = x
    for a in sorted(a + rank if a < 0 else a for a in axes):
        out = np.expand_dims(out, a)
    return [out]


def _squeeze(ins: list[np.ndarray], attrs: dict[str, object]) -> list[np.ndarray]:
    axes = _axes(attrs, ins, 1)
    return [np.squeeze(ins[0], axis=None if axes is None else tuple(axes))]


def _constant_of_shape(ins: list[np.ndarray], attrs: dict[str, object]) -> list[np.ndarray]:
    value = np.asarray(attrs.get("value", np.zeros(1, np.float32))).reshape(-1)
    return [np.full([int(d) for d in ins[0].reshape(-1)], value[0], dtype=value.dtype)]


def _gather(ins: list[np.ndarray], attrs: dict[str, object]) -> list[np.ndarray]:
    return [np.take(ins[0], ins[1].astype(np.int64), axis=int_attr(attrs.get("axis", 0), "axis"))]


def _concat(ins: list[np.ndarray], attrs: dict[str, object]) -> list[np.ndarray]:
    return [np.concatenate(ins, axis=int_attr(attrs["axis"], "axis"))]


def _reshape(ins: list[np.ndarray], attrs: dict[str, object]) -> list[np.ndarray]:
    shape = [int(d) for d in (ins[1] if len(ins) > 1 else np.asarray(attrs["shape"])).reshape(-1)]
    shape = [ins[0].shape[i] if d == 0 and not attrs.get("allowzero", 0) else d for i, d in enumerate(shape)]
    return [ins[0].reshape(shape)]


def _slice(ins: list[np.ndarray], attrs: dict[str, object]) -> list[np.ndarray]:
    x = ins[0]
    if len(ins) > 1:
        starts, ends = ins[1].reshape(-1), ins[2].reshape(-1)
        axes = ins[3].reshape(-1) if len(ins) > 3 and ins[3] is not None else np.arange(len(starts))
        steps = ins[4].reshape(-1) if len(ins) > 4 and ins[4] is not None else np.ones(len(starts), np.int64)
    else:
        starts, ends = np.asarray(attrs["starts"]), np.asarray(attrs["ends"])
        axes = np.asarray(attrs.get("axes", list(range(len(starts)))))
        steps = np.ones(len(starts), np.int64)
    index = [slice(None)] * x.ndim
    for s, e, a, st in zip(starts, ends, axes, steps):
        index[int(a)] = slice(int(s), int(e), int(st))
    return [x[tuple(index)]]


def _cast(ins: list[np.ndarray], attrs: dict[str, object]) -> list[np.ndarray]:
    from onnx import helper

    from tir_lsp.compiler.frontend.graph import FLOAT8_MAX, ONNX_DTYPES

    to = int_attr(attrs["to"], "to")
    x = ins[0]
    top = FLOAT8_MAX.get(ONNX_DTYPES.get(to, ""))
    if top is not None and x.dtype != np.bool_ and int_attr(attrs.get("saturate", 1), "saturate"):
        # saturate=1 clamps to the largest finite float8 (NaN stays NaN), as the C does;
        # numpy's conversion would make NaN (or an infinity) of what lies beyond it.
        x = np.clip(x.astype(np.float64 if x.dtype == np.float64 else np.float32), -top, top)
    return [x.astype(helper.tensor_dtype_to_np_dtype(to))]


def _range(ins: list[np.ndarray], attrs: dict[str, object]) -> list[np.ndarray]:
    start, limit, delta = (np.asarray(v).reshape(-1)[0] for v in ins)
    return [np.arange(start, limit, delta, dtype=np.asarray(ins[0]).dtype)]


def _binary(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Folder:
    def fold(ins: list[np.ndarray], attrs: dict[str, object]) -> list[np.ndarray]:
        a, b = ins
        if attrs.get("broadcast") and "axis" in attrs and b.ndim < a.ndim:
            axis = int_attr(attrs["axis"], "axis")
            axis = axis + a.ndim if axis < 0 else axis
            b = b.reshape(b.shape + (1,) * (a.ndim - axis - b.ndim))
        out = fn(a, b)
        return [out.astype(a.dtype) if a.dtype == b.dtype else out]

    return fold


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out: np.ndarray = a // b if a.dtype.kind in "iu" else a / b
    return out


def _transpose(ins: list[np.ndarray], attrs: dict[str, object]) -> list[np.ndarray]:
    perm = attrs.get("perm")
    return [np.transpose(ins[0], None if perm is None else int_list(perm, "perm"))]


FOLDERS: dict[str, Folder] = {
    "ConstantOfShape": _constant_of_shape,
    "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze,
    "Gather": _gather,
    "Concat": _concat,
    "Reshape": _reshape,
    "Flatten": lambda ins, attrs: [ins[0].reshape(int(np.prod(ins[0].shape[:int_attr(attrs.get("axis", 1), "axis")])), -1)],
    "Slice": _slice,
    "Cast": _cast,
    "Range": _range,
    "Identity": lambda ins, attrs: [ins[0]],
    "Size": lambda ins, attrs: [np.asarray(ins[0].size, np.int64)],
    "Transpose": _transpose,
    "Add": _binary(np.add),
    "Sub": _binary(np.subtract),
    "Mul": _binary(np.multiply),
    "Div": _binary(_div),
    "Neg": lambda ins, attrs: [np.negative(ins[0])],
    "Sqrt": lambda ins, attrs: [np.sqrt(ins[0])],
    "Reciprocal": lambda ins, attrs: [np.reciprocal(ins[0])],
    "Equal": lambda ins, attrs: [np.equal(ins[0], ins[1])],
    "Where": lambda ins, attrs: [np.where(ins[0], ins[1], ins[2])],
    "Expand": lambda ins, attrs: [ins[0] * np.ones([int(d) for d in ins[1].reshape(-1)], dtype=ins[0].dtype)],
}


# Inputs a folder accepts omitted (None): it checks for them before reading.
_OPTIONAL_INPUTS: dict[str, tuple[int, ...]] = {"Unsqueeze": (1,), "Squeeze": (1,), "Slice": (3, 4)}


def fold_node(op_type: str, ins: list[np.ndarray | None], attrs: dict[str, object]) -> list[np.ndarray] | None:
    """The outputs of ``op_type`` on constant inputs (``None`` for an omitted optional
    input), or None when no folder handles the node."""
    folder = FOLDERS.get(op_type)
    if folder is None:
        return None
    missing = [pos for pos, v in enumerate(ins) if v is None and pos not in _OPTIONAL_INPUTS.get(op_type, ())]
    if missing:  # an empty input name where the operator needs a value: the model's fault
        raise ValueError(f"input {missing[0]} of {op_type} is empty but required")
    # None is left only at the positions _OPTIONAL_INPUTS lists, which those folders check.
    return [np.asarray(v) for v in folder(ins, attrs)]  # type: ignore[arg-type]
