"""Windowed operators at the input's edges: every pad side (begin only, end only,
asymmetric), auto_pad, ceil_mode, strides and dilations, 1-D and 2-D. All cases are
compiled into ONE program with AddressSanitizer and UndefinedBehaviorSanitizer (one gcc
call), run once, and each output is compared with onnxruntime: a guard that misses a pad
side reads past a row (a wrong number) or past the buffer (a sanitizer report)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from aot_models import HAVE_GCC, inferred_model, reference, run_models
from onnx import helper

pytestmark = pytest.mark.skipif(not HAVE_GCC, reason="needs gcc")

END = [0, 0, 1, 1]
ASYM = [1, 0, 0, 2]
BEGIN = [2, 1, 0, 0]


def _model(nodes: list, name: str, x: list[int], inits: dict[str, np.ndarray]) -> onnx.ModelProto:
    """A one-input model whose output shape onnx's own shape inference states."""
    return inferred_model(nodes, name, {"x": x}, inits)


def _conv(x: list[int], w: list[int], seed: int, bias: bool = True, **attrs: object) -> onnx.ModelProto:
    r = np.random.default_rng(seed)
    inits = {"w": r.standard_normal(w)}
    ins = ["x", "w"]
    if bias:
        inits["b"] = r.standard_normal(w[0])
        ins.append("b")
    node = helper.make_node("Conv", ins, ["y"], **attrs)
    return _model([node], "conv", x, inits)


def _pool(op: str, x: list[int], **attrs: object) -> onnx.ModelProto:
    node = helper.make_node(op, ["x"], ["y"], **attrs)
    return _model([node], op.lower(), x, {})


def _cases() -> dict[str, onnx.ModelProto]:
    k3 = {"kernel_shape": [3, 3]}
    cases: dict[str, onnx.ModelProto] = {
        "conv_end": _conv([1, 2, 7, 6], [3, 2, 3, 3], 1, pads=END),
        "conv_end_s2": _conv([1, 2, 8, 7], [3, 2, 3, 3], 2, pads=END, strides=[2, 2]),
        "conv_asym": _conv([1, 2, 6, 7], [3, 2, 3, 2], 3, pads=ASYM),
        "conv_begin": _conv([1, 2, 5, 5], [2, 2, 3, 3], 4, bias=False, pads=BEGIN),
        "conv_dil_end": _conv([1, 2, 7, 7], [2, 2, 3, 3], 5, pads=[0, 1, 3, 2], dilations=[2, 2]),
        "conv_group_end": _conv([1, 4, 6, 6], [4, 2, 3, 3], 6, pads=END, group=2),
        "conv_depthwise_asym": _conv([1, 3, 5, 6], [3, 1, 3, 3], 7, pads=ASYM, group=3, strides=[2, 1]),
        "conv_same_upper": _conv([1, 2, 7, 8], [2, 2, 4, 3], 8, auto_pad="SAME_UPPER", strides=[2, 2]),
        "conv_same_lower": _conv([1, 2, 7, 8], [2, 2, 4, 3], 9, auto_pad="SAME_LOWER", strides=[2, 2]),
        "conv_valid": _conv([1, 2, 7, 8], [2, 2, 3, 3], 10, auto_pad="VALID", strides=[2, 2]),
        "conv1d_end": _conv([1, 2, 9], [3, 2, 3], 11, pads=[0, 2], strides=[2]),
        "conv1d_asym": _conv([1, 2, 9], [3, 2, 4], 12, pads=[2, 1], dilations=[2]),
        "maxpool_end": _pool("MaxPool", [1, 2, 8, 8], **k3, strides=[2, 2], pads=END),
        "maxpool_asym": _pool("MaxPool", [1, 2, 7, 6], **k3, pads=ASYM),
        "maxpool_begin": _pool("MaxPool", [1, 2, 6, 6], **k3, strides=[2, 2], pads=BEGIN),
        "maxpool_ceil": _pool("MaxPool", [1, 2, 8, 9], **k3, strides=[2, 2], ceil_mode=1),
        "maxpool_ceil_pads": _pool("MaxPool", [1, 2, 7, 7], kernel_shape=[2, 2], strides=[2, 2], pads=[1, 0, 0, 1],
                                   ceil_mode=1),
        "maxpool_same_upper": _pool("MaxPool", [1, 2, 7, 8], kernel_shape=[2, 3], strides=[2, 2], auto_pad="SAME_UPPER"),
        "maxpool_same_lower": _pool("MaxPool", [1, 2, 7, 8], kernel_shape=[2, 3], strides=[2, 2], auto_pad="SAME_LOWER"),
        "maxpool_dil_end": _pool("MaxPool", [1, 1, 8, 8], **k3, dilations=[2, 2], pads=END),
        "maxpool1d_end": _pool("MaxPool", [1, 2, 9], kernel_shape=[3], strides=[2], pads=[0, 1]),
        "avgpool_end": _pool("AveragePool", [1, 2, 8, 8], **k3, strides=[2, 2], pads=END),
        "avgpool_end_incl": _pool("AveragePool", [1, 2, 8, 8], **k3, strides=[2, 2], pads=END, count_include_pad=1),
        "avgpool_asym": _pool("AveragePool", [1, 2, 7, 6], **k3, pads=ASYM),
        "avgpool_asym_incl": _pool("AveragePool", [1, 2, 7, 6], **k3, pads=ASYM, count_include_pad=1),
        "avgpool_begin": _pool("AveragePool", [1, 2, 6, 6], **k3, strides=[2, 2], pads=BEGIN),
        "avgpool_ceil": _pool("AveragePool", [1, 2, 8, 9], **k3, strides=[2, 2], ceil_mode=1),
        "avgpool_same_upper": _pool("AveragePool", [1, 2, 7, 8], kernel_shape=[2, 3], strides=[2, 2],
                                    auto_pad="SAME_UPPER"),
        "avgpool_same_lower_incl": _pool("AveragePool", [1, 2, 7, 8], kernel_shape=[3, 3], strides=[2, 2],
                                         auto_pad="SAME_LOWER", count_include_pad=1),
        "avgpool1d_asym": _pool("AveragePool", [1, 2, 9], kernel_shape=[3], pads=[2, 1]),
    }
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[dict[str, np.ndarray], dict[str, np.ndarray]]]:
    work = Path(tmp_path_factory.mktemp("windowed"))
    models = {}
    refs = {}
    for k, (name, model) in enumerate(CASES.items()):
        shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
        x = np.random.default_rng(100 + k).standard_normal(shape).astype(np.float32)
        models[name] = (model, {"x": x})
        refs[name] = reference(model, {"x": x})
    got = run_models(models, work)
    return {name: (got[name], refs[name]) for name in CASES}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_onnxruntime_under_sanitizers(name: str, results: dict) -> None:
    got, want = results[name]
    assert got["y"].shape == want["y"].shape
    np.testing.assert_allclose(got["y"], want["y"], rtol=1e-5, atol=1e-5)
