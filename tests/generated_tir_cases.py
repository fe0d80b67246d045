"""The models whose fused functions ``tests/data/generated_tir/`` keeps as TIR text: the first
model of each operator test file that uses an operator no earlier model does, plus one model
for the operators no test file uses. Shared by the test and the fixtures' generator."""

from __future__ import annotations

import numpy as np
import onnx
from aot_models import IR_VERSION, lenet, mlp, resblock
from onnx import TensorProto, helper, numpy_helper

from tir_lsp.compiler.frontend.onnx_import import import_onnx


def _uncovered() -> onnx.ModelProto:
    """Ceil, Floor, Greater, HardSigmoid, Identity, LessOrEqual, Log, Reciprocal and the
    reductions L1, Min, Prod and SumSquare, in one graph."""
    n = helper.make_node
    nodes = [n("Ceil", ["x"], ["a"]), n("Floor", ["a"], ["b"]), n("HardSigmoid", ["b"], ["c"], alpha=0.3),
             n("Reciprocal", ["c"], ["d"]), n("Log", ["d"], ["e"]), n("Identity", ["e"], ["f"]),
             n("Greater", ["f", "x"], ["g"]), n("LessOrEqual", ["f", "x"], ["h"]),
             n("ReduceL1", ["f"], ["r1"], axes=[1]), n("ReduceMin", ["f"], ["r2"], axes=[0]),
             n("ReduceProd", ["f"], ["r3"], keepdims=0), n("ReduceSumSquare", ["x"], ["r4"], axes=[1], keepdims=0)]
    outs = {"g": TensorProto.BOOL, "h": TensorProto.BOOL, "r1": TensorProto.FLOAT, "r2": TensorProto.FLOAT,
            "r3": TensorProto.FLOAT, "r4": TensorProto.FLOAT}
    g = helper.make_graph(nodes, "uncovered", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4])],
                          [helper.make_tensor_value_info(k, v, None) for k, v in outs.items()],
                          [numpy_helper.from_array(np.zeros(1, np.float32), "unused")])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], ir_version=IR_VERSION)


def cases() -> dict[str, onnx.ModelProto]:
    import test_model_operators
    import test_onnx_backend_models
    import test_onnx_dtypes
    import test_schedules
    import test_windowed_ops

    every: dict[str, onnx.ModelProto] = {"lenet": lenet(), "mlp": mlp(), "resblock": resblock()}
    every.update({f"ops_{k}": m for k, m in test_model_operators._cases().items()})
    every.update({f"dtypes_{k}": v[0] for k, v in test_onnx_dtypes.CASES.items()})
    every.update({f"schedules_{k}": m for k, m in test_schedules.CASES.items()})
    every.update({f"windowed_{k}": m for k, m in test_windowed_ops.CASES.items()})
    every.update({f"onnx_{k.removeprefix('m_')}": v[0] for k, v in test_onnx_backend_models.CASES.items()})
    every["uncovered"] = _uncovered()
    seen: set[str] = set()
    out: dict[str, onnx.ModelProto] = {}
    for name, model in every.items():
        ops = {n.op_type for n in import_onnx(model).nodes}
        if ops - seen or name.startswith(("schedules_", "windowed_")):
            seen |= ops
            out[name] = model
    return out
