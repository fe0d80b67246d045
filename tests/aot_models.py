"""Test models built with onnx.helper, and a runner that compiles an MLF archive's C with a
small main (gcc -std=c99 -O2 -Wall -Wextra -Werror), runs it and returns the outputs. Shared by the AOT and MLF
tests; references come from onnxruntime."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tir_lsp.compiler.executor.c_interface import c_type

HAVE_GCC = shutil.which("gcc") is not None
RNG_SEED = 0
# onnxruntime reads IR versions up to 13; onnx.helper writes its newest by default.
IR_VERSION = 8


def _model(nodes: list, name: str, inputs: list, outputs: list, inits: dict[str, np.ndarray], opset: int = 13) -> onnx.ModelProto:
    g = helper.make_graph(nodes, name, inputs, outputs,
                          [numpy_helper.from_array(v.astype(np.float32), k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=IR_VERSION)
    onnx.checker.check_model(m)
    return m


def _vi(name: str, shape: list[int]) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def inferred_model(nodes: list, name: str, inputs: dict[str, list[int]], inits: dict[str, np.ndarray]) -> onnx.ModelProto:
    """A float32 model of ``nodes`` with output ``y``, whose shape onnx's own shape inference
    states (so a test's expected shape is not ours)."""
    g = helper.make_graph(nodes, name, [_vi(k, v) for k, v in inputs.items()],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(v.astype(np.float32), k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], ir_version=IR_VERSION)
    m = onnx.shape_inference.infer_shapes(m, strict_mode=True)
    inferred = {v.name: v for v in m.graph.value_info}
    if "y" in inferred:
        m.graph.output[0].CopyFrom(inferred["y"])
    onnx.checker.check_model(m)
    return m


def mlp() -> onnx.ModelProto:
    r = np.random.default_rng(RNG_SEED)
    inits = {"w1": r.standard_normal((16, 32)) * 0.3, "b1": r.standard_normal((32,)),
             "w2": r.standard_normal((10, 32)) * 0.3, "b2": r.standard_normal((10,))}
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h"], name="fc1"),
        helper.make_node("Add", ["h", "b1"], ["h1"], name="bias1"),
        helper.make_node("Relu", ["h1"], ["a1"], name="relu1"),
        helper.make_node("Gemm", ["a1", "w2", "b2"], ["logits"], name="fc2", transB=1),
        helper.make_node("Sigmoid", ["logits"], ["y"], name="sig"),
    ]
    return _model(nodes, "mlp", [_vi("x", [2, 16])], [_vi("y", [2, 10])], inits)


def lenet() -> onnx.ModelProto:
    r = np.random.default_rng(RNG_SEED + 1)
    inits = {"c1w": r.standard_normal((6, 1, 5, 5)) * 0.2, "c1b": r.standard_normal((6,)) * 0.1,
             "c2w": r.standard_normal((16, 6, 5, 5)) * 0.1, "c2b": r.standard_normal((16,)) * 0.1,
             "f1w": r.standard_normal((64, 32)) * 0.1, "f1b": r.standard_normal((32,)) * 0.1,
             "f2w": r.standard_normal((32, 10)) * 0.2, "f2b": r.standard_normal((10,)) * 0.1,
             "lo": np.array(0.0), "hi": np.array(6.0), "shape": np.array([1, 64])}
    nodes = [
        helper.make_node("Conv", ["x", "c1w", "c1b"], ["c1"], name="conv1", pads=[2, 2, 2, 2]),
        helper.make_node("Tanh", ["c1"], ["t1"], name="tanh1"),
        helper.make_node("AveragePool", ["t1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "c2w", "c2b"], ["c2"], name="conv2"),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("MaxPool", ["r2"], ["p2"], name="pool2", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Reshape", ["p2", "shape"], ["f"], name="flatten"),
        helper.make_node("MatMul", ["f", "f1w"], ["m1"], name="fc1"),
        helper.make_node("Add", ["m1", "f1b"], ["a1"], name="fc1_bias"),
        helper.make_node("Clip", ["a1", "lo", "hi"], ["r3"], name="relu6"),
        helper.make_node("MatMul", ["r3", "f2w"], ["m2"], name="fc2"),
        helper.make_node("Add", ["m2", "f2b"], ["a2"], name="fc2_bias"),
        helper.make_node("Softmax", ["a2"], ["y"], name="softmax", axis=1),
    ]
    inits_fixed = {k: v.astype(np.float32) for k, v in inits.items() if k != "shape"}
    g = helper.make_graph(nodes, "lenet", [_vi("x", [1, 1, 16, 16])], [_vi("y", [1, 10])],
                          [numpy_helper.from_array(v, k) for k, v in inits_fixed.items()]
                          + [numpy_helper.from_array(np.array([1, 64], dtype=np.int64), "shape")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 11)], ir_version=IR_VERSION)
    onnx.checker.check_model(m)
    return m


def resblock() -> onnx.ModelProto:
    r = np.random.default_rng(RNG_SEED + 2)
    c = 4
    inits = {"w1": r.standard_normal((c, c, 3, 3)) * 0.3, "w2": r.standard_normal((c, c, 3, 3)) * 0.3,
             "g": r.uniform(0.5, 1.5, c), "b": r.standard_normal(c) * 0.1, "mu": r.standard_normal(c) * 0.1,
             "var": r.uniform(0.5, 2.0, c), "w3": r.standard_normal((c, 2 * c, 1, 1)) * 0.3,
             "scale": np.array([0.5])}
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c1", "g", "b", "mu", "var"], ["bn1"], name="bn1", epsilon=1e-3),
        helper.make_node("Relu", ["bn1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c2", "x"], ["s"], name="residual"),
        helper.make_node("Relu", ["s"], ["r2"], name="relu2"),
        helper.make_node("Concat", ["r2", "x"], ["cat"], name="concat", axis=1),
        helper.make_node("Conv", ["cat", "w3"], ["c3"], name="conv3"),
        helper.make_node("Mul", ["c3", "scale"], ["m"], name="scale"),
        helper.make_node("Sub", ["m", "x"], ["d"], name="sub"),
        helper.make_node("Transpose", ["d"], ["t"], name="nhwc", perm=[0, 2, 3, 1]),
        helper.make_node("GlobalAveragePool", ["d"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["f"], name="flatten"),
        helper.make_node("Div", ["f", "scale"], ["y2"], name="div"),
    ]
    return _model(nodes, "resblock", [_vi("x", [1, c, 6, 6])], [_vi("t", [1, 6, 6, c]), _vi("y2", [1, c])], inits)


MODELS = {"mlp": mlp, "lenet": lenet, "resblock": resblock}


def random_inputs(model: onnx.ModelProto, seed: int = 42) -> dict[str, np.ndarray]:
    r = np.random.default_rng(seed)
    init = {i.name for i in model.graph.initializer}
    out = {}
    for vi in model.graph.input:
        if vi.name in init:
            continue
        shape = [d.dim_value for d in vi.type.tensor_type.shape.dim]
        out[vi.name] = r.standard_normal(shape).astype(np.float32)
    return out


def reference(model: onnx.ModelProto, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.log_severity_level = 3  # no warnings about initializers the graph does not use
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    names = [o.name for o in model.graph.output]
    return dict(zip(names, sess.run(names, inputs)))


def extract_data(tar: tarfile.TarFile, into: Path) -> None:
    """``tar.extractall`` under the strict "data" filter. The filter came in Python 3.11.4 and
    3.10.12; on earlier patch releases (Debian 12's 3.11.2) the same refusals are made by hand:
    only files and folders, relative names, nothing through ``..``."""
    if hasattr(tarfile, "data_filter"):
        tar.extractall(into, filter="data")
        return
    for m in tar.getmembers():
        if not (m.isfile() or m.isdir()) or m.name.startswith("/") or ".." in m.name.split("/"):
            raise tarfile.TarError(f"refusing archive member {m.name!r} (type {m.type!r})")
    tar.extractall(into)  # every member was checked just above


def extract(archive: Path, into: Path) -> dict:
    with tarfile.open(archive) as tar:
        extract_data(tar, into)
    return json.loads((into / "metadata.json").read_text())


def run_archive(archive: Path, workdir: Path, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Compile the archive's C with a test main using the typed C interface (warnings are errors:
    linked params are ``static const`` and must reach the operators without a cast), run, read outputs."""
    meta = extract(archive, workdir)
    m = meta["model_name"]
    lines = ['#include "tir_runtime.h"', f'#include "tvmgen_{m}.h"', "#include <stdio.h>", "int main(void) {",
             f"  struct tvmgen_{m}_inputs in; struct tvmgen_{m}_outputs out; FILE* f;"]
    for k, t in enumerate(meta["inputs"]):
        n, ct, size = int(np.prod(t["shape"])), c_type(t["dtype"]), np.dtype(t["dtype"]).itemsize
        inputs[t["name"]].astype(t["dtype"]).tofile(workdir / f"in{k}.bin")
        lines += [f"  static {ct} in{k}[{n}] __attribute__((aligned(64))); f = fopen(\"in{k}.bin\", \"rb\");",
                  f"  if (!f || fread(in{k}, {size}, {n}, f) != {n}) {{ return 3; }} fclose(f); in.{t['c_name']} = in{k};"]
    for k, t in enumerate(meta["outputs"]):
        lines.append(f"  static {c_type(t['dtype'])} out{k}[{int(np.prod(t['shape']))}] __attribute__((aligned(64))); out.{t['c_name']} = out{k};")
    blob = workdir / f"parameters/{m}.params.bin"
    if blob.exists():  # weights not linked in: hand the model the blob
        n = blob.stat().st_size
        lines[0:0] = [f"static unsigned char params[{n}] __attribute__((aligned(64)));"]
        lines += [f"  f = fopen(\"parameters/{m}.params.bin\", \"rb\");",
                  f"  if (!f || fread(params, 1, {n}, f) != {n}) {{ return 3; }} fclose(f);",
                  f"  if (tvmgen_{m}_load_params(params, {n}) != 0) {{ fprintf(stderr, \"%s\\n\", TVMGetLastError()); return 1; }}"]
    lines.append(f"  if (tvmgen_{m}_run(&in, &out) != 0) {{ fprintf(stderr, \"%s\\n\", TVMGetLastError()); return 1; }}")
    for k, t in enumerate(meta["outputs"]):
        n = int(np.prod(t["shape"]))
        lines.append(f"  f = fopen(\"out{k}.bin\", \"wb\"); fwrite(out{k}, {np.dtype(t['dtype']).itemsize}, {n}, f); fclose(f);")
    lines += ["  return 0;", "}"]
    (workdir / "main.c").write_text("\n".join(lines) + "\n")
    srcs = sorted(str(p) for p in (workdir / "codegen/host/src").glob("*.c"))
    exe = workdir / "model"
    cc = subprocess.run(["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-I", str(workdir / "codegen/host/include"),
                         str(workdir / "main.c"), *srcs, "-o", str(exe), "-lm"], capture_output=True, text=True, check=False)
    assert cc.returncode == 0, cc.stderr
    run = subprocess.run([str(exe)], cwd=workdir, capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    return {t["name"]: np.fromfile(workdir / f"out{k}.bin", dtype=t["dtype"]).reshape(t["shape"])
            for k, t in enumerate(meta["outputs"])}


SANITIZE = ["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]


def run_models(models: dict[str, tuple[onnx.ModelProto, dict[str, np.ndarray]]], workdir: Path,
               cflags: list[str] | None = None, extra_c: str = "", link_params: bool = False) -> dict[str, dict[str, np.ndarray]]:
    """Compile every model (named by its key, which becomes its C model name) with the typed C
    interface, link them all with one test main in ONE gcc call (``cflags`` default to
    AddressSanitizer + UndefinedBehaviorSanitizer, warnings are errors), run the program once
    and return each model's outputs. ``extra_c`` goes into the test main (e.g. a malloc
    that aborts); it may define ``TIR_TEST_BEFORE_RUN()`` / ``TIR_TEST_AFTER_RUN()``, run
    around each ``tvmgen_<m>_run``."""
    from tir_lsp.compiler.executor.build import compile_model
    from tir_lsp.compiler.executor.options import resolve

    include = workdir / "include"
    include.mkdir(parents=True, exist_ok=True)
    srcs: list[str] = []
    lines = ['#include "tir_runtime.h"', "#include <stdio.h>"]
    body = ["int main(void) {", "  FILE* f;"]
    metas: dict[str, list[tuple[str, tuple[int, ...], str]]] = {}
    for m, (model, inputs) in models.items():
        c = compile_model(model, resolve({"executor": "aot", "interface-api": "c", "unpacked-api": True,
                                          "link-params": link_params or None}, model_name=m))
        for name, text in c.sources.items():
            (workdir / name).write_bytes(text if isinstance(text, bytes) else text.encode())
            srcs.append(str(workdir / name))
        for name, text in c.includes.items():
            (include / name).write_text(text)
        p = c.program
        lines.append(f'#include "tvmgen_{m}.h"')
        body.append(f"  {{ struct tvmgen_{m}_inputs in; struct tvmgen_{m}_outputs out;")
        for k, (t, cname) in enumerate(p.input_names.items()):
            info = p.graph.tensors[t]
            n, size = info.size, np.dtype(info.dtype).itemsize
            fname = f"{m}_in{k}.bin"
            np.asarray(inputs[t]).astype(info.dtype).tofile(workdir / fname)
            lines.append(f"static {c_type(info.dtype)} {m}_in{k}[{n}] __attribute__((aligned(64)));")
            body.append(f"    f = fopen(\"{fname}\", \"rb\"); if (!f || fread({m}_in{k}, {size}, {n}, f) != {n}) return 3; "
                        f"fclose(f); in.{cname} = {m}_in{k};")
        outs = []
        for k, (t, cname) in enumerate(p.output_names.items()):
            info = p.graph.tensors[t]
            lines.append(f"static {c_type(info.dtype)} {m}_out{k}[{info.size}] __attribute__((aligned(64)));")
            body.append(f"    out.{cname} = {m}_out{k};")
            outs.append((t, info.shape, info.dtype))
        if p.param_names and not link_params:
            from tir_lsp.compiler.executor.c_interface import params_blob

            blob = params_blob(p)
            (workdir / f"{m}.params.bin").write_bytes(blob)
            lines.append(f"static unsigned char {m}_params[{len(blob)}] __attribute__((aligned(64)));")
            body.append(f"    f = fopen(\"{m}.params.bin\", \"rb\"); if (!f || fread({m}_params, 1, {len(blob)}, f) != "
                        f"{len(blob)}) return 3; fclose(f);")
            body.append(f"    if (tvmgen_{m}_load_params({m}_params, {len(blob)}) != 0) {{ fprintf(stderr, \"{m}: %s\\n\", "
                        "TVMGetLastError()); return 1; }")
        body.append("    TIR_TEST_BEFORE_RUN();")
        body.append(f"    if (tvmgen_{m}_run(&in, &out) != 0) {{ fprintf(stderr, \"{m}: %s\\n\", TVMGetLastError()); return 1; }}")
        body.append("    TIR_TEST_AFTER_RUN();")
        for k, (t, _, dtype) in enumerate(outs):
            n = p.graph.tensors[t].size
            body.append(f"    f = fopen(\"{m}_out{k}.bin\", \"wb\"); fwrite({m}_out{k}, {np.dtype(dtype).itemsize}, {n}, f); "
                        "fclose(f);")
        body.append("  }")
        metas[m] = outs
    body += ["  return 0;", "}"]
    hooks = ["#ifndef TIR_TEST_BEFORE_RUN", "#define TIR_TEST_BEFORE_RUN()", "#define TIR_TEST_AFTER_RUN()", "#endif"]
    (workdir / "main.c").write_text("\n".join(lines + [extra_c] + hooks + body) + "\n")
    exe = workdir / "models"
    flags = SANITIZE if cflags is None else cflags
    cc = subprocess.run(["gcc", "-std=c99", *flags, "-Wall", "-Wextra", "-Werror", "-I", str(include),
                         str(workdir / "main.c"), *srcs, "-o", str(exe), "-lm"], capture_output=True, text=True, check=False)
    assert cc.returncode == 0, cc.stderr[-4000:]
    run = subprocess.run([str(exe)], cwd=workdir, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-4000:]
    return {m: {t: np.fromfile(workdir / f"{m}_out{k}.bin", dtype=dtype).reshape(shape)
                for k, (t, shape, dtype) in enumerate(outs)} for m, outs in metas.items()}
