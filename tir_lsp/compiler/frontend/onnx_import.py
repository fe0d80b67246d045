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

from tir_lsp.compiler.diagnostics import CompilerError, Diagnostic
from tir_lsp.compiler.frontend.const_fold import fold_node, int_attr, int_list
from tir_lsp.compiler.frontend.graph import ONNX_DTYPES, Graph, OpNode, TensorInfo, graph_dtype
from tir_lsp.compiler.frontend.operators import OPERATORS, OpError
from tir_lsp.compiler.frontend.operators.base import float32_only
from tir_lsp.compiler.ir.span import Span

_NO_SPAN = Span(1, 1, 1, 1)


IMPORT_ERROR = "TIR203"


def import_error(message: str) -> CompilerError:
    return CompilerError(Diagnostic(IMPORT_ERROR, f"ONNX import: {message}", _NO_SPAN))


def _node_label(node: Any, index: int) -> str:
    return f"node {node.name or f'#{index}'} ({node.op_type})"


def _elem_dtype(value_info: Any, what: str) -> str:
    t = value_info.type
    if not t.HasField("tensor_type"):
        raise import_error(f"{what} {value_info.name} is not a tensor")
    code = t.tensor_type.elem_type
    if code not in ONNX_DTYPES:
        import onnx

        name = onnx.TensorProto.DataType.Name(code) if code in onnx.TensorProto.DataType.values() else str(code)
        raise import_error(f"{what} {value_info.name} has element type {name} ({code}); supported: "
                           f"{', '.join(ONNX_DTYPES.values())}")
    return ONNX_DTYPES[code]


def _static_shape(value_info: Any, what: str) -> tuple[int, ...]:
    t = value_info.type
    _elem_dtype(value_info, what)
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


def _external_data_problem(path: Path) -> str | None:
    """Why the model at ``path`` cannot be loaded when the model itself reads but a weight kept
    in an external data file does not (a missing, unreadable or short file), else None."""
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:  # noqa: BLE001 - not even the model itself reads
        return None
    for init in model.graph.initializer:
        if init.data_location != onnx.TensorProto.EXTERNAL:
            continue
        info = {e.key: e.value for e in init.external_data}
        where = path.parent / info.get("location", "")
        try:
            need = int(info.get("offset", 0) or 0) + int(info.get("length", 0) or 0)
        except ValueError:  # a malformed offset or length: onnx's own message says so
            return None
        try:
            size = where.stat().st_size if where.is_file() else None
        except OSError:
            size = None
        if size is None:
            return (f"initializer {init.name!r}: its data is in the external file {info.get('location', '')!r} "
                    f"(looked for {where}), which is missing or not a regular file")
        if size < need:
            return (f"initializer {init.name!r}: its external file {info.get('location', '')!r} has {size} bytes, "
                    f"the model needs {need} (offset + length)")
    return None


def load_model(source: str | Path | Any) -> Any:
    """An ``onnx.ModelProto`` from a path or a ModelProto; unreadable files are errors."""
    import onnx

    if isinstance(source, onnx.ModelProto):
        model = source
    else:
        try:
            model = onnx.load(str(source))
        except Exception as exc:  # noqa: BLE001 - protobuf raises many kinds
            problem = _external_data_problem(Path(source))
            if problem is not None:
                raise import_error(problem) from None
            raise import_error(f"not an ONNX model ({type(exc).__name__}: {exc})") from None
    # Protobuf reads an empty file (and some other bytes) as an empty message.
    if not model.HasField("graph") or not model.graph.node:
        raise import_error("not an ONNX model (no graph with operators in it)")
    return model


# Operators that pass their (first) input through unchanged at inference.
NO_OPS = ("Dropout", "Identity")


def _split_nodes(node: OpNode, shape: tuple[int, ...], consts: dict[str, np.ndarray]) -> list[OpNode]:
    """``Split`` as one ``Slice`` per output (each operator here has one output)."""
    axis = int_attr(node.attrs.get("axis", 0), "axis")
    axis = axis + len(shape) if axis < 0 else axis
    if not 0 <= axis < len(shape):
        raise OpError(f"axis {axis} is out of range for rank {len(shape)}", "axis")
    if len(node.inputs) > 1 and node.inputs[1]:
        if node.inputs[1] not in consts:
            raise OpError(f"input {node.inputs[1]} (split sizes) must be a constant")
        sizes = [int(v) for v in consts[node.inputs[1]].reshape(-1)]
    elif node.attrs.get("split") is not None:
        sizes = int_list(node.attrs["split"], "split")
    else:
        k = len(node.outputs)
        sizes = [-(-shape[axis] // k)] * k
        sizes[-1] = shape[axis] - sizes[0] * (k - 1)
    if len(sizes) != len(node.outputs) or sum(sizes) != shape[axis] or min(sizes) < 0:
        raise OpError(f"split sizes {sizes} do not divide dimension {shape[axis]} into {len(node.outputs)} outputs", "split")
    out, start = [], 0
    for k, (name, size) in enumerate(zip(node.outputs, sizes)):
        out.append(OpNode(f"{node.name}_{k}", "Slice", node.inputs[:1], (name,),
                          {"starts": [start], "ends": [start + size], "axes": [axis]}))
        start += size
    return out


class _Importer:
    """One pass over the nodes in order: constants fold, no-ops alias their input, every
    other node is checked against the operator library and its output shape inferred.
    Problems are collected (one per node, nodes fed by a failed node are skipped) so one
    error report lists every unsupported node of the model."""

    def __init__(self, opset: int, constants: dict[str, np.ndarray], tensors: dict[str, TensorInfo]) -> None:
        self.opset = opset
        self.constants = constants
        self.tensors = tensors
        self.alias: dict[str, str] = {}
        self.failed: set[str] = set()
        self.errors: list[str] = []
        self.nodes: list[OpNode] = []

    def name(self, t: str) -> str:
        return self.alias.get(t, t)

    def node(self, n: Any, index: int) -> None:
        label = _node_label(n, index)
        ins = tuple(self.name(i) for i in n.input)
        if any(i in self.failed for i in ins):
            self.failed.update(n.output)
            return
        try:
            self._node(n, index, label, ins)
        except OpError as exc:
            where = f"attribute {exc.attribute}: " if exc.attribute else ""
            self.errors.append(f"{label}: {where}{exc}")
            self.failed.update(n.output)
        except (ArithmeticError, IndexError, KeyError, TypeError, ValueError) as exc:
            # An attribute or input no check above foresaw: still this node's fault, not ours.
            self.errors.append(f"{label}: malformed attributes or inputs ({type(exc).__name__}: {exc})")
            self.failed.update(n.output)

    def _node(self, n: Any, index: int, label: str, ins: tuple[str, ...]) -> None:
        if n.domain not in ("", "ai.onnx"):
            raise OpError(f"operator domain {n.domain!r} is not supported")
        if n.op_type == "Constant":
            self.constants[n.output[0]] = _constant_value(n, label)
            return
        raw = {a.name: _attr_value(a) for a in n.attribute}
        if n.op_type == "Shape" and ins[0] in self.tensors:
            shape = self.tensors[ins[0]].shape
            start, end = int_attr(raw.get("start", 0), "start"), raw.get("end")
            self.constants[n.output[0]] = np.asarray(shape[start:None if end is None else int_attr(end, "end")], np.int64)
            return
        if n.op_type == "Size" and ins[0] in self.tensors:  # every shape is static
            self.constants[n.output[0]] = np.asarray(self.tensors[ins[0]].size, np.int64)
            return
        if all(i in self.constants or not i for i in ins):
            folded = fold_node(n.op_type, [self.constants[i] if i else None for i in ins], raw)
            if folded is not None:
                for name, value in zip(n.output, folded):
                    self.constants[name] = value
                return
        if n.op_type in NO_OPS:
            # Dropout's mask output: a node reading it gets "input not defined".
            if n.op_type == "Dropout" and raw.get("training_mode", 0):
                raise OpError("training_mode=1 is not supported (inference only)")
            self.alias[n.output[0]] = ins[0]
            return
        op = OPERATORS.get(n.op_type)
        if op is None:
            raise OpError(f"operator {n.op_type} is not supported")
        attrs: dict[str, object] = {}
        for key, attr in raw.items():
            if key not in op.attrs:
                raise OpError(f"attribute {key} is not supported")
            attrs[key] = attr
        attrs["__opset"] = self.opset  # Softmax's axis default and semantics depend on it
        if not op.min_inputs <= len([i for i in ins if i]) <= op.max_inputs and n.op_type != "Clip":
            raise OpError(f"takes {op.min_inputs}..{op.max_inputs} inputs, got {len(ins)}")
        node = OpNode(n.name or f"{n.op_type.lower()}_{index}", n.op_type, ins, tuple(n.output), attrs)
        if n.op_type == "Split":
            if ins[0] not in self.tensors:
                self._define(ins[0])
            for part in _split_nodes(node, self.tensors[ins[0]].shape, self.constants):
                self._add(part, OPERATORS["Slice"])
            return
        if op.fold is not None:
            node, extra = op.fold(node, self.constants)
            self.constants.update(extra)
        if len(node.outputs) != 1 and any(node.outputs[1:]):
            raise OpError(f"has {len(node.outputs)} outputs; only one is supported")
        self._add(OpNode(node.name, node.op_type, node.inputs, node.outputs[:1], node.attrs), op)

    def _define(self, name: str) -> None:
        """Make constant ``name`` a tensor of the graph, of its own dtype."""
        arr = np.asarray(self.constants[name])
        dtype = graph_dtype(arr)
        if dtype is None:
            raise OpError(f"constant input {name} has dtype {arr.dtype}; only numbers and bool are supported")
        self.tensors[name] = TensorInfo(name, tuple(int(d) for d in arr.shape) or (1,), dtype)

    def _add(self, node: OpNode, op: Any) -> None:
        shapes: list[tuple[int, ...]] = []
        const_in: dict[int, np.ndarray] = {}
        for pos, name in enumerate(node.inputs):
            if not name:
                continue
            if name in self.constants:
                const_in[pos] = self.constants[name]
                if name not in self.tensors and pos not in op.const_inputs:
                    self._define(name)
            elif name not in self.tensors:
                raise OpError(f"input {name} is not defined before this node")
            if name in self.tensors:
                shapes.append(self.tensors[name].shape)
            else:
                shapes.append(tuple(int(d) for d in np.asarray(self.constants[name]).shape))
        for pos in op.const_inputs:
            if pos < len(node.inputs) and node.inputs[pos] and pos not in const_in:
                role = _input_role(node.op_type, self.opset, pos)
                raise OpError(f"input {node.inputs[pos]}{role} is computed at run time, so the output shape would be "
                              "dynamic, which the static memory plan cannot hold: it must be a constant, an "
                              "initializer, or computed from constants and initializers only (dynamic shapes are "
                              "not supported)")
        dtypes = [self.tensors[name].dtype if name and pos not in op.const_inputs else None
                  for pos, name in enumerate(node.inputs)]
        out_dtype = (op.dtypes or float32_only)(node, dtypes)
        out_shape = tuple(op.infer(node, shapes, const_in))
        if not out_shape or min(out_shape) <= 0:
            raise OpError(f"computes an empty tensor of shape {out_shape}; not supported")
        self.tensors[node.outputs[0]] = TensorInfo(node.outputs[0], out_shape, out_dtype)
        self.nodes.append(node)


def _input_role(op_type: str, opset: int, pos: int) -> str:
    """`` (its <name> input)`` from the operator's ONNX schema (``shape``, ``repeats``), or
    nothing when the schema does not say."""
    import onnx.defs

    try:
        inputs = onnx.defs.get_schema(op_type, opset).inputs
    except onnx.defs.SchemaError:
        return ""
    return f" (its {inputs[pos].name} input)" if pos < len(inputs) else ""


def import_onnx(source: str | Path | Any) -> Graph:
    """The ``Graph`` of an ONNX model (path or ModelProto) with static shapes and dtypes. A
    file's big weights are read in place (``onnx_mapped``), not copied."""
    import onnx.numpy_helper

    from tir_lsp.compiler.frontend.onnx_mapped import load_mapped

    mapped: dict[int, np.ndarray] = {}
    if not isinstance(source, onnx.ModelProto):
        found = load_mapped(source)
        if found is not None:
            source, mapped = found
    model = load_model(source)
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)
    g = model.graph
    constants: dict[str, np.ndarray] = {}
    for k, init in enumerate(g.initializer):
        try:
            constants[init.name] = mapped[k] if k in mapped else onnx.numpy_helper.to_array(init)
        except Exception as exc:  # noqa: BLE001 - data that does not fit its shape, a missing external file...
            raise import_error(f"initializer {init.name}: cannot read its data ({exc})") from None
    tensors: dict[str, TensorInfo] = {}
    inputs: list[str] = []
    for vi in g.input:
        if vi.name in constants:
            continue
        tensors[vi.name] = TensorInfo(vi.name, _static_shape(vi, "input"), _elem_dtype(vi, "input"))
        inputs.append(vi.name)
    if not inputs:
        raise import_error("the model has no runtime inputs")
    imp = _Importer(opset, constants, tensors)
    for index, n in enumerate(g.node):
        imp.node(n, index)
    if imp.errors:
        unsupported = sorted({e.split("operator ", 2)[-1].split(" ")[0] for e in imp.errors if "is not supported" in e
                              and ": operator " in e})
        tail = f"; supported: {', '.join(sorted(OPERATORS))}" if unsupported else ""
        msgs = list(imp.errors)
        msgs[-1] += tail
        raise CompilerError([Diagnostic(IMPORT_ERROR, f"ONNX import: {m}", _NO_SPAN) for m in msgs])
    outputs = []
    for vi in g.output:
        name = imp.name(vi.name)
        if name not in tensors or name in inputs or name in constants:
            raise import_error(f"output {vi.name} is not computed by any operator")
        declared = vi.type.tensor_type.shape.dim
        if declared and all(d.HasField("dim_value") for d in declared):
            want = tuple(int(d.dim_value) for d in declared) or (1,)
            if want != tensors[name].shape:
                raise import_error(f"output {vi.name} is declared {want} but computes to {tensors[name].shape}")
        if vi.type.tensor_type.elem_type and _elem_dtype(vi, "output") != tensors[name].dtype:
            raise import_error(f"output {vi.name} is declared {_elem_dtype(vi, 'output')} but computes to "
                               f"{tensors[name].dtype}")
        outputs.append(name)
    renamed = {imp.name(vi.name): vi.name for vi in g.output if imp.name(vi.name) != vi.name}
    if renamed:
        # A model output behind a no-op (Dropout, Identity): the producer writes it under the
        # output's own name, so the C interface names it as the model does.
        def rn(names: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(renamed.get(t, t) for t in names)

        imp.nodes = [OpNode(n.name, n.op_type, rn(n.inputs), rn(n.outputs), n.attrs) for n in imp.nodes]
        for old, new in renamed.items():
            tensors[new] = TensorInfo(new, tensors[old].shape, tensors[old].dtype)
        outputs = [renamed.get(t, t) for t in outputs]
    if len(set(outputs)) != len(outputs):
        raise import_error("two outputs are the same tensor; not supported")
    return Graph(g.name or "model", inputs, outputs, imp.nodes, tensors, constants)
