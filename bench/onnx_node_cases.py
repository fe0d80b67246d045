"""The onnx package's operator test cases (``onnx.backend.test.case.node``, generated in
memory: the wheel ships no ``data/node``) through ``tirc build``'s front end and C.

Prints how many cases import, groups the import errors by reason, then compiles the selected
cases that import (AOT, typed C interface) in batches, each batch ONE gcc call with
AddressSanitizer and UndefinedBehaviorSanitizer, runs them on the case's first data set
and compares with its expected outputs (the case's rtol/atol, at least 1e-3 / 1e-6 for
float16's sake). By default only the cases that touch a non-float32 tensor or a dtype or
Gather operator are run; ``--all`` runs every case that imports (slow: minutes).

    .venv/bin/python bench/onnx_node_cases.py [--all] [--batch 60]
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

DTYPE_OPS = ("Gather", "Cast", "Where", "Equal", "Less", "Greater", "Not", "And", "Or", "Xor", "Sign", "Shrink")


def _array(v: Any) -> np.ndarray:
    from onnx import TensorProto, numpy_helper

    return numpy_helper.to_array(v) if isinstance(v, TensorProto) else np.asarray(v)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--all", action="store_true", help="run every case that imports, not only the dtype ones")
    ap.add_argument("--batch", type=int, default=60, help="cases per gcc call")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    from aot_models import run_models
    from onnx.backend.test.case import node

    from tir_lsp.compiler.diagnostics import CompilerError
    from tir_lsp.compiler.executor.build import compile_model
    from tir_lsp.compiler.executor.options import resolve
    from tir_lsp.compiler.frontend.onnx_import import import_onnx

    cases = node.collect_testcases("")
    reasons: collections.Counter[str] = collections.Counter()
    selected = {}
    for c in cases:
        try:
            g = import_onnx(c.model)
            compile_model(c.model, resolve({"executor": "aot", "interface-api": "c", "unpacked-api": True}, model_name="m"))
        except CompilerError as exc:
            reasons[re.sub(r"node \S+ \(", "(", exc.diagnostics[0].message.split("; supported:")[0])[:100]] += 1
            continue
        dtype_case = any(t.dtype != "float32" for t in g.tensors.values()) or any(
            n.op_type.startswith(DTYPE_OPS) for n in c.model.graph.node)
        if args.all or dtype_case:
            selected[c.name] = c
    imported = len(cases) - sum(reasons.values())
    print(f"{imported} of {len(cases)} node cases import; {len(selected)} selected to run")
    for reason, n in reasons.most_common(25):
        print(f"  {n:4d}  {reason}")
    names = sorted(selected)
    failed: list[str] = []
    for k in range(0, len(names), args.batch):
        batch = names[k:k + args.batch]
        models = {}
        for j, name in enumerate(batch):
            c = selected[name]
            inits = {i.name for i in c.model.graph.initializer}
            inputs = [vi.name for vi in c.model.graph.input if vi.name not in inits]
            models[f"m{j}"] = (c.model, {n: _array(v) for n, v in zip(inputs, c.data_sets[0][0])})
        work = Path(tempfile.mkdtemp(prefix="onnx_node_"))
        out = run_models(models, work, cflags=["-O1", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"])
        for j, name in enumerate(batch):
            c = selected[name]
            for vi, want in zip(c.model.graph.output, c.data_sets[0][1]):
                want = _array(want)
                got = out[f"m{j}"][vi.name].reshape(want.shape)
                try:
                    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), equal_nan=True,
                                               rtol=max(c.rtol, 1e-3), atol=max(c.atol, 1e-6))
                except AssertionError:
                    failed.append(name)
                    print(f"MISMATCH {name}")
    print(f"ran {len(names)}: {len(names) - len(failed)} match, {len(failed)} differ {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
