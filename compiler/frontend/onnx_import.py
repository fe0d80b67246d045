"""ONNX -> ``Graph``: static shapes, constants folded in, every node checked against the
operator library. Anything unsupported is a CompilerError naming the node, op and attribute.

Errors use code TIR203 ("model import error: unsupported operator, attribute or shape") with
the message prefix ``ONNX import:``; a model file has no line numbers, so the span is the
file's start (``tirc build`` prints them as ``model.onnx: error: ...``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from compiler.diagnostics import CompilerError, Diagnostic
from compiler.frontend.graph import Graph, OpNode, TensorInfo
from compiler.frontend.operators import OPERATORS, OpError
from compiler.ir.span import Span

_NO_SPAN = Span(1, 1, 1, 1)
_FLOAT = 1  # onnx.TensorProto.FLOAT


IMPORT_ERROR = "TIR203"


def import_error(message: str) -> CompilerError:
    return CompilerError(Diagnostic(IMPORT_ERROR, f"ONNX import: {message}", _NO_SPAN))


def _node_label(node: Any, index: int) -> str:
    return f"node {node.name or f'#{index}'} ({node.op_type})"


def _static_shape(value_info: Any, what: str) -> tuple[int, ...]:
    t = value_info.type
    if not t.HasField("tensor_type"):
        raise import_error(f"{what} {value_info.name} is not a tensor")
    if t.tensor_type.elem_type != _FLOAT:
        raise import_error(f"{what} {value_info.name} has element type {t.tensor_type.elem_type}; only float32 (1) is supported")
    if not t.tensor_type.HasField("shape"):
        raise import_error(f"{what} {value_info.name} has no shape (unknown rank); only static shapes are supported")
    dims = []
    for d in t.tensor_type.shape.dim:
        if d.HasField("dim_value") and d.dim_value > 0:
            dims.append(int(d.dim_value))
        else:
            sym = d.dim_param or "?"
            raise import_error(f"{what} {value_info.name} has a dynamic shape (dimension {sym!r}); "
                               "only static shapes are supported")
    return tuple(dims) or (1,)


def _attr_value(attr: Any) -> object:
    import onnx

    v = onnx.helper.get_attribute_value(attr)
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, (list, tuple)):
        return [x.decode() if isinstance(x, bytes) else x for x in v]
    if isinstance(v, onnx.TensorProto):
        return onnx.numpy_helper.to_array(v)
    return v


def _constant_value(node: Any, label: str) -> np.ndarray:
    attrs = {a.name: _attr_value(a) for a in node.attribute}
    if "value" in attrs:
        return np.asarray(attrs["value"])
    for key, dtype in (("value_float", np.float32), ("value_floats", np.float32), ("value_int", np.int64),
                       ("value_ints", np.int64)):
        if key in attrs:
            return np.asarray(attrs[key], dtype=dtype)
    raise import_error(f"{label}: attribute {next(iter(attrs), '(none)')} is not supported")


def load_model(source: str | Path | Any) -> Any:
    """An ``onnx.ModelProto`` from a path or a ModelProto; unreadable files are errors."""
    import onnx

    if isinstance(source, onnx.ModelProto):
        model = source
    else:
        try:
            model = onnx.load(str(source))
        except Exception as exc:  # noqa: BLE001 - protobuf raises many kinds
            raise import_error(f"not an ONNX model ({type(exc).__name__}: {exc})") from None
    # Protobuf reads an empty file (and some other bytes) as an empty message.
    if not model.HasField("graph") or not model.graph.node:
        raise import_error("not an ONNX model (no graph with operators in it)")
    return model


def import_onnx(source: str | Path | Any) -> Graph:
    """The ``Graph`` of an ONNX model (path or ModelProto) with static float32 shapes."""
    import onnx.numpy_helper

    model = load_model(source)
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)
    g = model.graph
    constants: dict[str, np.ndarray] = {i.name: onnx.numpy_helper.to_array(i) for i in g.initializer}
    tensors: dict[str, TensorInfo] = {}
    inputs: list[str] = []
    for vi in g.input:
        if vi.name in constants:
            continue
        tensors[vi.name] = TensorInfo(vi.name, _static_shape(vi, "input"))
        inputs.append(vi.name)
    if not inputs:
        raise import_error("the model has no runtime inputs")
    nodes: list[OpNode] = []
    for index, n in enumerate(g.node):
        label = _node_label(n, index)
        if n.domain not in ("", "ai.onnx"):
            raise import_error(f"{label}: operator domain {n.domain!r} is not supported")
        if n.op_type == "Constant":
            constants[n.output[0]] = _constant_value(n, label)
            continue
        op = OPERATORS.get(n.op_type)
        if op is None:
            raise import_error(f"{label}: operator {n.op_type} is not supported; supported: {', '.join(sorted(OPERATORS))}")
        attrs: dict[str, object] = {}
        for a in n.attribute:
            if a.name not in op.attrs:
                raise import_error(f"{label}: attribute {a.name} is not supported")
            attrs[a.name] = _attr_value(a)
        if n.op_type == "Softmax":
            attrs["__opset"] = opset
            if opset < 13:
                attrs.setdefault("axis", 1)
        ins = tuple(n.input)
        if not op.min_inputs <= len([i for i in ins if i]) <= op.max_inputs and n.op_type != "Clip":
            raise import_error(f"{label}: takes {op.min_inputs}..{op.max_inputs} inputs, got {len(ins)}")
        node = OpNode(n.name or f"{n.op_type.lower()}_{index}", n.op_type, ins, tuple(n.output), attrs)
        try:
            if op.fold is not None:
                node, extra = op.fold(node, constants)
                for k, v in extra.items():
                    constants[k] = v
            if len(node.outputs) != 1:
                raise OpError(f"has {len(node.outputs)} outputs; only one is supported")
            shapes: list[tuple[int, ...]] = []
            const_in: dict[int, np.ndarray] = {}
            for pos, name in enumerate(node.inputs):
                if name in constants:
                    const_in[pos] = constants[name]
                    if name not in tensors:
                        arr = np.asarray(constants[name])
                        if pos not in op.const_inputs and arr.dtype != np.float32:
                            if arr.dtype.kind == "f":
                                constants[name] = arr.astype(np.float32)
                            else:
                                raise OpError(f"constant input {name} has dtype {arr.dtype}; only float32 is supported")
                        tensors[name] = TensorInfo(name, tuple(int(d) for d in arr.shape) or (1,))
                elif name not in tensors:
                    raise OpError(f"input {name} is not defined before this node")
                shapes.append(tensors[name].shape)
            for pos in op.const_inputs:
                if pos not in const_in:
                    raise OpError(f"input {node.inputs[pos]} must be a constant (dynamic shapes are not supported)")
            out_shape = op.infer(node, shapes, const_in)
        except OpError as exc:
            where = f"attribute {exc.attribute}: " if exc.attribute else ""
            raise import_error(f"{label}: {where}{exc}") from None
        except (ArithmeticError, IndexError, KeyError, TypeError, ValueError) as exc:
            # An attribute or input no check above foresaw: still this node's fault, not ours.
            raise import_error(f"{label}: malformed attributes or inputs ({type(exc).__name__}: {exc})") from None
        tensors[node.outputs[0]] = TensorInfo(node.outputs[0], tuple(out_shape))
        nodes.append(node)
    outputs = []
    for vi in g.output:
        if vi.name not in tensors or vi.name in inputs or vi.name in constants:
            raise import_error(f"output {vi.name} is not computed by any operator")
        declared = vi.type.tensor_type.shape.dim
        if declared and all(d.HasField("dim_value") for d in declared):
            want = tuple(int(d.dim_value) for d in declared) or (1,)
            if want != tensors[vi.name].shape:
                raise import_error(f"output {vi.name} is declared {want} but computes to {tensors[vi.name].shape}")
        outputs.append(vi.name)
    return Graph(g.name or "model", inputs, outputs, nodes, tensors, constants)
