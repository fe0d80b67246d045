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

    python bench/bench_build.py --models resnet50[,vgg19...] [--link-params-only]

builds real models instead: the light architectures the onnx package ships
(tests/light_models.py, seeded random weights), each with and without ``--link-params``,
as two processes: ``tirc build`` (``--executor aot --interface-api c --unpacked-api``), then
``gcc -std=c99 -O2 -c`` of every C file of the archive in one gcc command. Each row gives
wall and CPU seconds and the peak resident memory of the process tree (``wait4``). The
target for resnet50: each under 30 s wall and 1 GB.
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


MODEL_TARGET = (30.0, 1 << 30)  # seconds wall, bytes peak RSS, for build and gcc each


@dataclass
class ProcessRun:
    wall: float
    cpu: float
    peak_rss: int  # bytes
    stderr: str = ""


def run_measured(cmd: list[str], cwd: Path) -> ProcessRun:
    """Run ``cmd``; its wall time, and CPU time and peak RSS of it and its descendants.

    Linux keeps a process's peak RSS across fork and exec, so a child's figure is at least
    this process's own RSS when it started it: the models are made in a child of their own
    to keep that floor low (``render_models`` prints it)."""
    w0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - w0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:3]}... failed ({proc.returncode}): {err[-2000:]}")
    return ProcessRun(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, err)


@dataclass
class ModelRow:
    name: str
    link_params: bool
    weights: int  # bytes
    c_bytes: int
    build: ProcessRun
    gcc: ProcessRun


_MAKE_MODEL = ("import sys; sys.path.insert(0, 'tests'); import onnx; from light_models import with_weights; "
               "onnx.save(with_weights(sys.argv[1]), sys.argv[2])")


def model_rows(names: list[str], link_modes: tuple[bool, ...], work: Path) -> list[ModelRow]:
    """Build each light model (``tirc build`` then gcc, two processes) in each link mode."""
    import re
    import tarfile

    rows = []
    for name in names:
        path = work / f"{name}.onnx"
        subprocess.run([sys.executable, "-c", _MAKE_MODEL, name, str(path)], cwd=ROOT, check=True)
        for link in link_modes:
            out = work / f"{name}{'_lp' if link else ''}"
            out.mkdir()
            cmd = [sys.executable, "-c", "import sys; from tir_lsp.compiler.cli import main; sys.exit(main())", "build",
                   str(path), "-o", str(out / "a.tar"), "-f", "--no-progress",
                   *(f"--{k}={v}" if v is not True else f"--{k}" for k, v in OPTIONS.items())]
            build = run_measured(cmd + (["--link-params"] if link else []), ROOT)
            found = re.search(r"weights ([0-9]+) bytes", build.stderr)
            with tarfile.open(out / "a.tar") as tar:
                tar.extractall(out, filter="data") if hasattr(tarfile, "data_filter") else tar.extractall(out)
            srcs = sorted(str(p) for p in (out / "codegen/host/src").glob("*.c"))
            gcc = run_measured(["gcc", "-std=c99", "-O2", "-c", "-I", str(out / "codegen/host/include"), *srcs], out)
            rows.append(ModelRow(name, link, int(found[1]) if found else 0, sum(Path(p).stat().st_size for p in srcs),
                                 build, gcc))
            print(f"measured {name} link-params={link}: build {build.wall:.1f} s, gcc {gcc.wall:.1f} s", file=sys.stderr)
            for f in out.rglob("*"):
                if f.is_file():
                    f.unlink()
        path.unlink()
    return rows


def render_models(rows: list[ModelRow]) -> str:
    load = os.getloadavg()
    title = (f"## tirc build + gcc -O2 of real models (load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}, "
             f"{os.cpu_count()} CPUs)")
    head = ("| model | --link-params | weights MB | C MB | build wall s | build cpu s | build peak MB | gcc wall s | "
            "gcc cpu s | gcc peak MB |")
    floor = run_measured(["true"], ROOT).peak_rss
    lines = [title, "", f"(peak MB cannot be below {floor / 2**20:.0f}, this process's own RSS: see run_measured)", "",
             head, "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.name} | {'yes' if r.link_params else 'no'} | {r.weights / 1e6:.0f} | {r.c_bytes / 1e6:.1f} | "
                     f"{r.build.wall:.1f} | {r.build.cpu:.1f} | {r.build.peak_rss / 2**20:.0f} | {r.gcc.wall:.1f} | "
                     f"{r.gcc.cpu:.1f} | {r.gcc.peak_rss / 2**20:.0f} |")
    secs, mem = MODEL_TARGET
    for r in rows:
        if r.name == "resnet50":
            over = [f"{what} {run.wall:.1f} s" for what, run in (("build", r.build), ("gcc", r.gcc)) if run.wall >= secs]
            over += [f"{what} {run.peak_rss / 2**20:.0f} MB" for what, run in (("build", r.build), ("gcc", r.gcc))
                     if run.peak_rss >= mem]
            lines.append(f"\nresnet50{' --link-params' if r.link_params else ''}: "
                         + (f"OVER the {secs:.0f} s / 1 GB target: {', '.join(over)}" if over else
                            f"within the {secs:.0f} s / 1 GB target (build and gcc each)"))
    return "\n".join(lines)


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
    ap.add_argument("--models", metavar="NAME[,NAME]", help="build these light models (tests/light_models.py) instead")
    ap.add_argument("--link-params-only", action="store_true", help="with --models: only the --link-params builds")
    args = ap.parse_args(argv)
    if args.models:
        with tempfile.TemporaryDirectory() as tmp:
            modes = (True,) if args.link_params_only else (False, True)
            print(render_models(model_rows(args.models.split(","), modes, Path(tmp))))
        return 0
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
