"""The nine real CNN architectures the onnx package ships under
``onnx/backend/test/data/light/`` (graphs whose weights are ``ConstantOfShape`` fills), and
the same graphs with random-but-seeded, calibrated weights for numeric comparisons.

Calibration keeps activations O(1) through 20-120 layers so that float32 differences
mean something: convolution and dense weights are He-scaled (std sqrt(2 / fan_in), the
last dense layer sqrt(1 / fan_in)), biases and shifts are small, batch-norm statistics are
near (0, 1), and the batch norm that ends a residual branch (its output feeds Sum / Add)
gets a small scale so that residual sums do not double the variance at every block.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

LIGHT_DIR = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"
# A malloc/calloc/realloc that abort while a model runs (between TIR_TEST_BEFORE_RUN and
# TIR_TEST_AFTER_RUN): the generated C must need no heap. Linked into the test and bench programs.
NO_MALLOC = """
#include <stdlib.h>
extern void* __libc_malloc(size_t n);
extern void* __libc_calloc(size_t n, size_t m);
extern void* __libc_realloc(void* p, size_t n);
static int forbid_malloc;
void* malloc(size_t n) { if (forbid_malloc) abort(); return __libc_malloc(n); }
void* calloc(size_t n, size_t m) { if (forbid_malloc) abort(); return __libc_calloc(n, m); }
void* realloc(void* p, size_t n) { if (forbid_malloc) abort(); return __libc_realloc(p, n); }
#define TIR_TEST_BEFORE_RUN() (forbid_malloc = 1)
#define TIR_TEST_AFTER_RUN() (forbid_malloc = 0)
"""

NAMES = ["bvlc_alexnet", "densenet121", "inception_v1", "inception_v2", "resnet50", "shufflenet", "squeezenet",
         "vgg19", "zfnet512"]
PASS_THROUGH = ("Unsqueeze", "Reshape", "Squeeze", "Identity")


def light_path(name: str) -> Path:
    return LIGHT_DIR / f"light_{name}.onnx"


def load_light(name: str) -> onnx.ModelProto:
    """The model as shipped (weights as ``ConstantOfShape`` fills)."""
    return onnx.load(str(light_path(name)))


def _consumer(model: onnx.ModelProto, tensor: str) -> tuple[onnx.NodeProto | None, int, onnx.NodeProto | None]:
    """The first real consumer of ``tensor`` (through shape-only ops), the input position
    there, and the consumer of that node's output (to spot residual branches)."""
    by_input: dict[str, list[tuple[onnx.NodeProto, int]]] = {}
    for n in model.graph.node:
        for pos, i in enumerate(n.input):
            by_input.setdefault(i, []).append((n, pos))
    t = tensor
    for _ in range(4):
        uses = by_input.get(t, [])
        if not uses:
            return None, 0, None
        n, pos = uses[0]
        if n.op_type in PASS_THROUGH:
            t = n.output[0]
            continue
        after = by_input.get(n.output[0], [])
        return n, pos, after[0][0] if after else None
    return None, 0, None


def _weight(model: onnx.ModelProto, name: str, shape: list[int], r: np.random.Generator, last_dense: str) -> np.ndarray:
    node, pos, after = _consumer(model, name)
    op = node.op_type if node is not None else ""
    if op == "Conv" and pos == 1:
        return r.standard_normal(shape) * np.sqrt(2.0 / max(1, int(np.prod(shape[1:]))))
    if op == "Gemm" and pos == 1:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}  # type: ignore[union-attr]
        fan_in = shape[1] if attrs.get("transB", 0) else shape[0]
        gain = 1.0 if node.name == last_dense or node.output[0] == last_dense else 2.0  # type: ignore[union-attr]
        return r.standard_normal(shape) * np.sqrt(gain / fan_in)
    if op == "BatchNormalization":
        residual = after is not None and after.op_type in ("Sum", "Add")
        if pos == 1:
            return r.uniform(0.2, 0.4, shape) if residual else r.uniform(0.8, 1.2, shape)
        if pos in (2, 3):
            return r.standard_normal(shape) * 0.05
        return r.uniform(0.8, 1.2, shape)
    if op == "Mul":
        return r.uniform(0.8, 1.2, shape)
    return r.standard_normal(shape) * 0.05


def with_weights(name: str, seed: int = 0) -> onnx.ModelProto:
    """The model with every ``ConstantOfShape`` weight replaced by a seeded, calibrated
    initializer (the graph is otherwise as shipped), its logits scaled to std 3 on the
    input ``input_of`` gives (``calibrate_logits``)."""
    model = load_light(name)
    r = np.random.default_rng(seed)
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    gemms = [n for n in model.graph.node if n.op_type == "Gemm"]
    last_dense = gemms[-1].output[0] if gemms else ""
    keep, new_inits = [], []
    for n in model.graph.node:
        if n.op_type == "ConstantOfShape" and n.input[0] in inits:
            shape = [int(d) for d in inits[n.input[0]].reshape(-1)]
            node, _, _ = _consumer(model, n.output[0])
            dense = node is not None and node.output[0] == last_dense
            value = _weight(model, n.output[0], shape, r, last_dense if dense else "")
            new_inits.append(numpy_helper.from_array(value.astype(np.float32), n.output[0]))
            continue
        keep.append(n)
    del model.graph.node[:]
    model.graph.node.extend(keep)
    used = {i for n in keep for i in n.input}
    kept_inits = [i for i in model.graph.initializer if i.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept_inits + new_inits)
    names = {i.name for i in model.graph.initializer}
    graph_inputs = [vi for vi in model.graph.input if vi.name in names or vi.name in used]
    del model.graph.input[:]
    model.graph.input.extend(graph_inputs)
    return calibrate_logits(model, input_of(model))


def calibrate_logits(model: onnx.ModelProto, inputs: dict[str, np.ndarray], target_std: float = 3.0) -> onnx.ModelProto:
    """Scale the last weighted layer (Conv or Gemm; the layers after it are linear or
    positively homogeneous) so the values entering the final Softmax have std
    ``target_std``: probabilities that are neither uniform nor one-hot, so a wrong number
    shows in them. One onnxruntime run reads the pre-softmax tensor."""
    import onnxruntime as ort

    softmax = [n for n in model.graph.node if n.op_type == "Softmax"]
    logits = softmax[-1].input[0] if softmax else model.graph.output[0].name
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    if logits not in {o.name for o in probe.graph.output}:
        probe.graph.output.append(onnx.helper.make_tensor_value_info(logits, onnx.TensorProto.FLOAT, None))
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(probe.SerializeToString(), so, providers=["CPUExecutionProvider"])
    std = float(np.std(sess.run([logits], inputs)[0]))
    last = [n for n in model.graph.node if n.op_type in ("Conv", "Gemm")][-1]
    producer = {o: n for n in model.graph.node for o in n.output}
    sources = set()
    for name in last.input[1:]:
        while name in producer and producer[name].op_type in PASS_THROUGH:  # a reshaped weight
            name = producer[name].input[0]
        sources.add(name)
    scale = target_std / std if std > 0 else 1.0
    for init in model.graph.initializer:
        if init.name in sources:
            init.CopyFrom(numpy_helper.from_array((numpy_helper.to_array(init) * scale).astype(np.float32), init.name))
    return model


def input_of(model: onnx.ModelProto, seed: int = 1) -> dict[str, np.ndarray]:
    init = {i.name for i in model.graph.initializer}
    r = np.random.default_rng(seed)
    out = {}
    for vi in model.graph.input:
        if vi.name not in init:
            shape = [d.dim_value for d in vi.type.tensor_type.shape.dim]
            out[vi.name] = r.standard_normal(shape).astype(np.float32)
    return out
