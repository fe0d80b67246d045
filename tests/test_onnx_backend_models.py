"""The onnx package's small test models (``onnx/backend/test/data/{pytorch-converted,
pytorch-operator,simple}``): every one that imports is compiled into ONE program with
AddressSanitizer and UndefinedBehaviorSanitizer (one gcc call), run on its shipped
``test_data_set_0`` inputs and compared with the shipped expected outputs. The ones that
do not import are listed with the reason, so a change in coverage shows in the diff."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from aot_models import HAVE_GCC, run_models
from onnx import numpy_helper

from tir_lsp.compiler.diagnostics import CompilerError
from tir_lsp.compiler.frontend.onnx_import import import_onnx

DATA = Path(onnx.__file__).parent / "backend" / "test" / "data"
DIRS = ("pytorch-converted", "pytorch-operator", "simple")

# What keeps the others out: strings, sequences, training ops, dynamic shapes (Expand to a
# shape given at run time). onnx 1.23 ships 140 models here, 120 of which import;
# a lower bound, since other onnx versions ship other sets.
AT_LEAST_SUPPORTED = 115


def _tensor(path: Path) -> np.ndarray:
    t = onnx.TensorProto()
    t.ParseFromString(path.read_bytes())
    return numpy_helper.to_array(t)


def _cases() -> tuple[dict[str, tuple[onnx.ModelProto, dict[str, np.ndarray], list[tuple[str, np.ndarray]]]], dict[str, str]]:
    ok, skipped = {}, {}
    for sub in DIRS:
        for path in sorted((DATA / sub).glob("*/model.onnx")):
            name = "m_" + path.parent.name.replace("-", "_")
            model = onnx.load(str(path))
            try:
                import_onnx(model)
            except CompilerError as exc:
                skipped[name] = exc.diagnostics[0].message
                continue
            data = path.parent / "test_data_set_0"
            inits = {i.name for i in model.graph.initializer}
            names = [vi.name for vi in model.graph.input if vi.name not in inits]
            inputs = {n: _tensor(data / f"input_{k}.pb") for k, n in enumerate(names)}
            outputs = [(vi.name, _tensor(data / f"output_{k}.pb")) for k, vi in enumerate(model.graph.output)]
            ok[name] = (model, inputs, outputs)
    return ok, skipped


CASES, SKIPPED = _cases()


def test_coverage_of_the_small_models() -> None:
    assert len(CASES) >= AT_LEAST_SUPPORTED, sorted(SKIPPED.items())
    assert all(m.startswith("ONNX import: ") for m in SKIPPED.values())


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, np.ndarray]]:
    if not HAVE_GCC:
        pytest.skip("needs gcc")
    work = Path(tmp_path_factory.mktemp("backend"))
    return run_models({n: (m, x) for n, (m, x, _) in CASES.items()}, work)


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_the_shipped_outputs(name: str, results: dict[str, dict[str, np.ndarray]]) -> None:
    for tensor, want in CASES[name][2]:
        got = results[name][tensor].reshape(want.shape)
        # NaN where ONNX says NaN (sqrt and pow of negative numbers), else within 1e-4 relative.
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * max(1.0, float(np.nanmax(np.abs(want)))),
                                   equal_nan=True)
