"""Relax + TIR modules as TVM 0.27 prints them: the fixtures of the Relax tests.

Run with TVM's Python (``/work/main/.tvm027/bin/python tests/data/relax/generate.py``); it
rewrites the ``*.tir`` files next to it. Each module is built here (hand-written Relax, or
through ``relax.frontend.nn``), optionally legalized and fused, and printed with ``.script()``.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import tvm
from tvm import relax
from tvm.script import ir as I
from tvm.script import relax as R
from tvm.script import tirx as T

HERE = Path(__file__).resolve().parent
# A git directory of apache/tvm: its Relax tests hold many small hand-written modules.
TVM_REPO = Path("/work/.mirror/apache+tvm/repo")
# (test file, how many of its modules to keep): fused and legalized modules with call_tir.
TVM_TESTS = (("tests/python/relax/test_transform_fuse_tir.py", 6),
             ("tests/python/relax/test_transform_legalize_ops_nn.py", 3),
             ("tests/python/relax/test_tvmscript_parser.py", 6))
HEADER = ("import numpy as np\nimport tvm\nfrom tvm import relax\nfrom tvm.script import ir as I\n"
          "from tvm.script import relax as R\nfrom tvm.script import tirx as T\n")


@I.ir_module
class MLP:
    @R.function
    def main(x: R.Tensor(("n", 784), dtype="float32"), w1: R.Tensor((784, 128), dtype="float32"),
             b1: R.Tensor((128,), dtype="float32"), w2: R.Tensor((128, 10), dtype="float32"),
             b2: R.Tensor((10,), dtype="float32")) -> R.Tensor(("n", 10), dtype="float32"):
        with R.dataflow():
            h = R.matmul(x, w1)
            h1 = R.add(h, b1)
            h2 = R.nn.relu(h1)
            o = R.matmul(h2, w2)
            o1 = R.add(o, b2)
            R.output(o1)
        return o1


@I.ir_module
class Features:
    @T.prim_func(private=True, s_tir=True)
    def add_one(a: T.handle, b: T.handle):
        n = T.int64()
        A = T.match_buffer(a, (n, 4), "float32")
        B = T.match_buffer(b, (n, 4), "float32")
        for i, j in T.grid(n, 4):
            with T.sblock("add"):
                vi, vj = T.axis.remap("SS", [i, j])
                B[vi, vj] = A[vi, vj] + T.float32(1)

    @T.prim_func(private=True, s_tir=True)
    def scale_inplace(A: T.Buffer((T.int64(8),), "float32")):
        for i in range(T.int64(8)):
            with T.sblock("scale"):
                vi = T.axis.spatial(T.int64(8), i)
                A[vi] = A[vi] * T.float32(2)

    @R.function(private=True)
    def helper(x: R.Tensor((8,), dtype="float32")) -> R.Tuple(R.Tensor((8,), dtype="float32"), R.Shape([8])):
        cls = Features
        y = R.call_tir_inplace(cls.scale_inplace, (x,), inplace_indices=[0],
                               out_ty=R.Tensor((8,), dtype="float32"))
        return (y, R.shape([8]))

    @R.function(pure=False)
    def main(x: R.Tensor(("n", 4), dtype="float32"), v: R.Tensor((8,), dtype="float32"),
             flag: R.Prim("bool"), o: R.Object) -> R.Tuple(R.Tensor(("n", 4), dtype="float32"), R.Tensor((8,), dtype="float32")):
        n = T.int64()
        R.func_attr({"num_input": 2})
        cls = Features
        with R.dataflow():
            lv = R.call_tir(cls.add_one, (x,), out_ty=R.Tensor((n, 4), dtype="float32"))
            lv1 = R.call_dps_packed("my_dps_func", (lv,), out_ty=R.Tensor((n, 4), dtype="float32"))
            R.output(lv1)
        t = cls.helper(v)
        y: R.Tensor((8,), dtype="float32") = t[0]
        c = R.const(np.arange(8, dtype="float32"))
        z = R.add(y, c)
        k = R.const(1.5, "float32")
        z1 = R.multiply(z, k)
        _p = R.call_packed("my_print", z1, ty_args=R.Object)
        if flag:
            r = z1
        else:
            r = y
        return (lv1, r)


def conv_net() -> tvm.IRModule:
    from tvm.relax.frontend import nn

    class ConvNet(nn.Module):
        def __init__(self) -> None:
            self.conv = nn.Conv2D(3, 8, 3, padding=1)
            self.fc = nn.Linear(8 * 8 * 8, 10)

        def forward(self, x: nn.Tensor) -> nn.Tensor:
            y = nn.op.relu(self.conv(x))
            y = nn.op.reshape(y, (1, 8 * 8 * 8))
            return self.fc(y)

    mod, _ = ConvNet().export_tvm(spec={"forward": {"x": nn.spec.Tensor((1, 3, 8, 8), "float32")}})
    return mod


def legalized(mod: tvm.IRModule) -> tvm.IRModule:
    return relax.transform.LegalizeOps()(mod)


def fused(mod: tvm.IRModule) -> tvm.IRModule:
    seq = tvm.transform.Sequential([
        relax.transform.LegalizeOps(),
        relax.transform.AnnotateTIROpPattern(),
        relax.transform.FoldConstant(),
        relax.transform.FuseOps(),
        relax.transform.FuseTIR(),
    ])
    return seq(mod)


def _ir_module_classes(source: str) -> list[tuple[str, str]]:
    """(name, source) of every ``@I.ir_module``/``@tvm.script.ir_module`` class, at any depth."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef) and any("ir_module" in ast.unparse(d) for d in node.decorator_list):
            text = ast.get_source_segment(source, node, padded=True) or ""
            first = node.decorator_list[0].lineno
            lines = source.splitlines()[first - 1:node.end_lineno]
            out.append((node.name, textwrap.dedent("\n".join(lines)) if lines else text))
    return out


def tvm_test_modules() -> dict[str, tvm.IRModule]:
    """Modules of TVM's own Relax tests that parse on their own (no outer variables)."""
    found: dict[str, tvm.IRModule] = {}
    if not TVM_REPO.exists():
        return found
    with tempfile.TemporaryDirectory() as tmp:
        for path, want in TVM_TESTS:
            source = subprocess.run(["git", "-C", str(TVM_REPO), "show", f"HEAD:{path}"],
                                    capture_output=True, text=True, check=True).stdout
            kept = 0
            for i, (name, cls_src) in enumerate(_ir_module_classes(source)):
                if kept == want:
                    break
                file = Path(tmp) / f"m{len(found)}_{i}.py"
                file.write_text(HEADER + cls_src + "\n")
                spec = importlib.util.spec_from_file_location(file.stem, file)
                assert spec is not None and spec.loader is not None
                module = importlib.util.module_from_spec(spec)
                sys.modules[file.stem] = module  # TVMScript reads the class's source through it
                try:
                    spec.loader.exec_module(module)
                    mod = getattr(module, name)
                    text = mod.script()
                except Exception:  # noqa: BLE001, S112 - a test module that needs its test's context
                    continue
                if "R.function" not in text or "T.prim_func" not in text:
                    continue
                stem = Path(path).stem.removeprefix("test_")
                found[f"tvm_{stem}_{kept}_{name}"] = mod
                kept += 1
    return found


def main() -> None:
    modules = {
        "mlp_raw": MLP,
        "mlp_legalized": legalized(MLP),
        "mlp_fused": fused(MLP),
        "features": Features,
        "convnet_legalized": legalized(conv_net()),
        "convnet_fused": fused(conv_net()),
    }
    modules.update(tvm_test_modules())
    for name, mod in modules.items():
        (HERE / f"{name}.tir").write_text(mod.script().rstrip("\n") + "\n")
        print("wrote", name)


if __name__ == "__main__":
    main()
