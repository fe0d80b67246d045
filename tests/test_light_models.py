"""The nine real CNN architectures the onnx package ships (``data/light``): each imports
and lowers as shipped; the two smallest are compiled with gcc and run against onnxruntime
with seeded, calibrated weights, linked with a ``malloc`` that aborts while the models run
(no operator may use the heap). All nine compile and run in bench/bench_models.py."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from aot_models import HAVE_GCC, reference, run_models
from light_models import NAMES, NO_MALLOC, input_of, light_path, with_weights

from tir_lsp.compiler.executor.build import compile_model
from tir_lsp.compiler.executor.options import resolve

# The tolerance of the numeric comparison: outputs are softmax probabilities (densenet121:
# pooled logits); float32 sums in another order differ by a few ulps per layer.
ATOL = 1e-4



@pytest.mark.parametrize("name", NAMES)
def test_imports_and_lowers_as_shipped(name: str) -> None:
    c = compile_model(light_path(name), resolve({"executor": "aot", "interface-api": "c", "unpacked-api": True}))
    p = c.program
    assert p.graph.tensors[p.graph.outputs[0]].size == 1000
    lib1 = c.sources["default_lib1.c"]
    # No operator allocates: every buffer is in the planned pool.
    assert "TVMBackendAllocWorkspace" not in lib1 and "malloc" not in lib1
    assert p.plan.conflicts(p.lives) == []
    # The weights are not C text (resnet50's were 590 MB of it): one pointer line per weight.
    lib0 = c.sources["default_lib0.c"]
    assert len(lib0) < 100 * len(p.param_names) + 10_000
    assert not re.search(r"[0-9]\.[0-9]+(e[-+]?[0-9]+)?f\b", lib0)


def test_malloc_override_aborts_when_forbidden(tmp_path: Path) -> None:
    # The guard the model runs below rely on: a program that allocates while forbidden dies.
    if not HAVE_GCC:
        pytest.skip("needs gcc")
    import subprocess

    src = tmp_path / "m.c"
    src.write_text(NO_MALLOC + "int main(void) { void* volatile p; TIR_TEST_BEFORE_RUN(); p = malloc(16); free(p); return 0; }\n")
    subprocess.run(["gcc", "-std=c99", "-O1", str(src), "-o", str(tmp_path / "m")], check=True)
    assert subprocess.run([str(tmp_path / "m")], check=False).returncode != 0


@pytest.mark.skipif(not HAVE_GCC, reason="needs gcc")
def test_small_models_match_onnxruntime_without_heap(tmp_path: Path) -> None:
    models, refs = {}, {}
    for name in ("squeezenet", "shufflenet"):
        model = with_weights(name)
        x = input_of(model)
        models[name] = (model, x)
        refs[name] = reference(model, x)
    got = run_models(models, tmp_path, cflags=["-O1"], extra_c=NO_MALLOC)
    for name, want in refs.items():
        for k, v in want.items():
            np.testing.assert_allclose(got[name][k], v, rtol=0, atol=ATOL, err_msg=name)
            assert got[name][k].argmax() == v.argmax()
