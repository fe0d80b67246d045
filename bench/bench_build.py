"""Build speed: ``tirc build`` of a 50-operator CNN, and workspace pool size against its bound.

    python bench/bench_build.py [--reps 3] [--size full|tiny] [--no-process] [--profile N [--link-params]]

The model is a small ResNet/Inception-style CNN written with ``onnx.helper`` (convolutions,
batch norm, relu, max pool, residual adds, concats, global average pool, two dense layers and
a softmax; 50 ONNX nodes, static shapes, random weights). It is built to a Model Library
Format archive the way ``tirc build`` does (``compile_model`` + ``archive_bytes``), each phase
timed from the progress callback the CLI uses, with and without ``--link-params``; two more
rows time whole ``tirc build`` processes (start-up and imports included; CPU time of the
child). Wall and CPU time (``time.process_time``) are medians of ``--reps`` builds, the
configurations alternating; the target is every build under 5 s.

The second table gives, for each test model (tests/aot_models.py) and the 50-operator model,
the workspace pool the memory planner chose against the lower bound (the largest sum of
buffers live at one step) and their ratio: 1.00 is optimal.

``--size tiny`` builds the same graph with fewer channels and a smaller image (the smoke
test uses it); ``--profile N`` prints the N most expensive functions of one build (cProfile).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tir_lsp.compiler.executor.build import compile_model
from tir_lsp.compiler.executor.mlf import archive_bytes
from tir_lsp.compiler.executor.options import resolve

OPTIONS = {"executor": "aot", "interface-api": "c", "unpacked-api": True}
SIZES = {"full": (32, 16), "tiny": (8, 4)}  # (image side, base channels)
TARGET_SECONDS = 5.0


class _Net:
    """Appends nodes and random initializers; names every node after its role."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []

    def weight(self, name: str, shape: tuple[int, ...], scale: float = 0.2) -> str:
        self.inits.append(numpy_helper.from_array((self.rng.standard_normal(shape) * scale).astype(np.float32), name))
        return name

    def node(self, op: str, inputs: list[str], name: str, **attrs: Any) -> str:
        self.nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def conv(self, x: str, cin: int, cout: int, k: int, name: str) -> str:
        w = self.weight(f"{name}_w", (cout, cin, k, k), 0.3 / k)
        b = self.weight(f"{name}_b", (cout,), 0.1)
        return self.node("Conv", [x, w, b], name, pads=[k // 2] * 4)

    def residual(self, x: str, c: int, name: str) -> str:
        h = self.node("Relu", [self.conv(x, c, c, 3, f"{name}_conv1")], f"{name}_relu1")
        h = self.conv(h, c, c, 3, f"{name}_conv2")
        return self.node("Relu", [self.node("Add", [h, x], f"{name}_add")], f"{name}_relu2")

    def inception(self, x: str, c: int, name: str) -> str:
        a = self.node("Relu", [self.conv(x, c, c // 2, 1, f"{name}_1x1")], f"{name}_relu_a")
        b = self.node("Relu", [self.conv(x, c, c // 2, 3, f"{name}_3x3")], f"{name}_relu_b")
        return self.node("Concat", [a, b], f"{name}_concat", axis=1)

    def pool(self, x: str, name: str) -> str:
        return self.node("MaxPool", [x], name, kernel_shape=[2, 2], strides=[2, 2])


def cnn50(size: str = "full", seed: int = 0) -> onnx.ModelProto:
    """The 50-node CNN (``size`` "full": 1x3x32x32, 16..32 channels; "tiny": 1x3x8x8, 4..8)."""
    side, c = SIZES[size]
    n = _Net(seed)
    h = n.conv("x", 3, c, 3, "stem_conv")
    g, b = n.weight("stem_bn_g", (c,), 0.1) , n.weight("stem_bn_b", (c,), 0.1)
    mu, var = n.weight("stem_bn_mu", (c,), 0.1), "stem_bn_var"
    n.inits.append(numpy_helper.from_array(n.rng.uniform(0.5, 2.0, c).astype(np.float32), var))
    h = n.node("BatchNormalization", [h, g, b, mu, var], "stem_bn")
    h = n.node("Mul", [h, n.weight("stem_scale", (1,), 1.0)], "stem_scale_mul")
    h = n.node("Relu", [h], "stem_relu")
    h = n.residual(h, c, "res1")
    h = n.pool(h, "pool1")
    h = n.residual(h, c, "res2")
    h = n.inception(h, c, "inc1")
    h = n.residual(h, c, "res3")
    h = n.pool(h, "pool2")
    h = n.node("Relu", [n.conv(h, c, 2 * c, 1, "widen_conv")], "widen_relu")
    h = n.residual(h, 2 * c, "res4")
    h = n.inception(h, 2 * c, "inc2")
    h = n.residual(h, 2 * c, "res5")
    h = n.pool(h, "pool3")
    h = n.node("GlobalAveragePool", [h], "gap")
    h = n.node("Flatten", [h], "flatten")
    h = n.node("Gemm", [h, n.weight("fc1_w", (4 * c, 2 * c)), n.weight("fc1_b", (4 * c,))], "fc1", transB=1)
    h = n.node("Relu", [h], "fc1_relu")
    h = n.node("Gemm", [h, n.weight("fc2_w", (10, 4 * c)), n.weight("fc2_b", (10,))], "fc2", transB=1)
    n.node("Softmax", [h], "y", axis=1)
    graph = helper.make_graph(n.nodes, "cnn50", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, side, side])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], n.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    onnx.checker.check_model(model)
    return model


@dataclass
class BuildTiming:
    wall: float
    cpu: float
    phases: dict[str, float] = field(default_factory=dict)  # phase -> wall seconds
    size: int = 0  # archive bytes
    operators: int = 0


def build_once(model: onnx.ModelProto, link_params: bool = False) -> BuildTiming:
    """One ``tirc build`` of ``model`` (compile + archive), timed per phase."""
    phases: dict[str, float] = {}
    mark = [time.perf_counter(), ""]

    def progress(phase: str, done: int, total: int, what: str) -> None:
        now = time.perf_counter()
        if mark[1]:
            phases[str(mark[1])] = phases.get(str(mark[1]), 0.0) + now - float(mark[0])
        mark[0], mark[1] = now, phase

    w0, c0 = time.perf_counter(), time.process_time()
    compiled = compile_model(model, resolve({**OPTIONS, "link-params": link_params}), progress=progress)
    progress("archive", 0, 1, "")
    data = archive_bytes(compiled)
    progress("", 0, 0, "")
    return BuildTiming(time.perf_counter() - w0, time.process_time() - c0, phases, len(data), len(compiled.program.fused))


def memory_rows(models: dict[str, onnx.ModelProto]) -> list[tuple[str, int, int, int]]:
    """(model, pool bytes, lower bound, naive bytes) for each model."""
    from tir_lsp.compiler.executor.aot import build_aot
    from tir_lsp.compiler.frontend.onnx_import import import_onnx

    rows = []
    for name, model in models.items():
        plan = build_aot(import_onnx(model), resolve(OPTIONS)).plan
        rows.append((name, plan.pool_size, plan.peak_live, plan.naive_size))
    return rows


PHASES = ("import", "generate", "lower", "emit", "archive")


def build_process(model_path: Path, out: Path, link_params: bool = False) -> tuple[float, float]:
    """(wall, cpu of the child) of one ``tirc build`` process, start-up and imports included."""
    cmd = [sys.executable, "-c", "import sys; from tir_lsp.compiler.cli import main; sys.exit(main())", "build",
           str(model_path), "-o", str(out), "-f", *(f"--{k}={v}" if v is not True else f"--{k}" for k, v in OPTIONS.items())]
    if link_params:
        cmd.append("--link-params")
    before = os.times()
    w0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
    wall = time.perf_counter() - w0
    after = os.times()
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def render(rows: dict[str, list[BuildTiming]], mem: list[tuple[str, int, int, int]], nodes: int, reps: int) -> str:
    load = os.getloadavg()[0]
    first = next(iter(rows.values()))[0]
    lines = [f"## tirc build: {nodes} ONNX nodes -> {first.operators} fused operators (median of {reps}, load {load:.1f})", "",
             "| build | " + " | ".join(PHASES) + " | wall s | cpu s |", "|---|" + "---|" * (len(PHASES) + 2)]
    for name, timings in rows.items():
        phases = [f"{statistics.median(t.phases.get(ph, 0.0) for t in timings):.3f}" if timings[0].phases else "" for ph in PHASES]
        wall = statistics.median(t.wall for t in timings)
        cpu = statistics.median(t.cpu for t in timings)
        lines.append(f"| {name} | " + " | ".join(phases) + f" | {wall:.3f} | {cpu:.3f} |")
    slowest = max(statistics.median(t.wall for t in ts) for ts in rows.values())
    verdict = "within" if slowest < TARGET_SECONDS else "OVER"
    lines += ["", f"slowest build: {slowest:.3f} s wall ({verdict} the {TARGET_SECONDS:.0f} s target)", "",
              "| model | workspace bytes | lower bound (peak live) | pool / bound | naive bytes |", "|---|---|---|---|---|"]
    for name, pool, peak, naive in mem:
        ratio = pool / peak if peak else 1.0
        lines.append(f"| {name} | {pool} | {peak} | {ratio:.2f} | {naive} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--size", choices=sorted(SIZES), default="full")
    ap.add_argument("--no-process", action="store_true", help="skip the rows that time a whole tirc process")
    ap.add_argument("--profile", type=int, default=0, metavar="N", help="print the N most expensive functions of one build")
    ap.add_argument("--link-params", action="store_true", help="with --profile: profile the --link-params build")
    args = ap.parse_args(argv)
    from aot_models import MODELS

    model = cnn50(args.size)
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        build_once(model, args.link_params)
        prof.disable()
        pstats.Stats(prof, stream=sys.stdout).sort_stats("cumulative").print_stats(args.profile)
        return 0
    rows: dict[str, list[BuildTiming]] = {"in process": [], "in process, --link-params": []}
    if not args.no_process:
        rows["tirc build process"] = []
        rows["tirc build process, --link-params"] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cnn50.onnx"
        onnx.save(model, str(path))
        # Alternate the configurations so each sees the same machine load.
        for _ in range(args.reps):
            rows["in process"].append(build_once(model))
            rows["in process, --link-params"].append(build_once(model, link_params=True))
            if not args.no_process:
                for link in (False, True):
                    wall, cpu = build_process(path, Path(tmp) / "out.tar", link)
                    rows["tirc build process" + (", --link-params" if link else "")].append(BuildTiming(wall, cpu))
    models = {name: make() for name, make in MODELS.items()}
    models[f"cnn50 ({args.size})"] = model
    print(render(rows, memory_rows(models), len(model.graph.node), args.reps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
