"""Every kernel of TVM's fixture corpus, lowered by our pipeline from TVM's own text at two
stages (the input and the text after TVM's FlattenBuffer), with both calling conventions,
compiled with gcc -Werror and run on ref.npz inputs: the outputs must match TVM's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from c_backend_harness import HAVE_GCC, run_kernel

from compiler.diagnostics import CompilerError
from compiler.text.reader import read_tir

FIXTURES = Path(__file__).parent / "fixtures" / "tvm"


def _cases() -> list[tuple[str, str, str]]:
    out = []
    for version_dir in sorted(FIXTURES.glob("*")):
        for kernel in sorted(p for p in version_dir.iterdir() if (p / "meta.json").exists() and (p / "ref.npz").exists()):
            for stage in ("input", "FlattenBuffer"):
                out.append((version_dir.name, kernel.name, stage))
    return out


def _stage_file(kernel_dir: Path, stage: str) -> Path | None:
    if stage == "input":
        p = kernel_dir / "00_input.tir"
        return p if p.exists() else None
    found = sorted(kernel_dir.glob(f"*_{stage}.tir"))
    return found[0] if found else None


@pytest.mark.skipif(not HAVE_GCC, reason="gcc is required to compile generated C")
@pytest.mark.parametrize("packed", [False, True], ids=["unpacked", "packed"])
@pytest.mark.parametrize(("version", "kernel", "stage"), _cases())
def test_fixture_kernel_matches_tvm(tmp_path: Path, version: str, kernel: str, stage: str, packed: bool) -> None:
    kernel_dir = FIXTURES / version / kernel
    meta = json.loads((kernel_dir / "meta.json").read_text())
    path = _stage_file(kernel_dir, stage)
    assert path is not None, f"{kernel_dir} has no {stage} stage"
    read = read_tir(path.read_text(), str(path))
    assert not [d for d in read.diagnostics if d.severity == "error"], read.diagnostics
    ref = np.load(kernel_dir / "ref.npz")
    sizes = {k: int(v) for k, v in meta.get("shape_vars", {}).items()}
    inputs = {p["name"]: ref[p["name"]] for p in meta["params"] if not p["output"] and p["name"] in ref}
    scalars = {p["name"]: ref[p["name"]].item() for p in meta["params"] if p["name"] in ref and ref[p["name"]].ndim == 0}
    if not packed and sizes:
        # No DLTensor carries the shape through the unpacked API: the pass must say so.
        with pytest.raises(CompilerError) as info:
            run_kernel(read.module, inputs, tmp_path, packed=packed, sizes=sizes, scalars=scalars)
        assert info.value.diagnostics[0].code == "TIR201"
        assert "MakeUnpackedAPI: buffer" in info.value.diagnostics[0].message
        return
    res = run_kernel(read.module, inputs, tmp_path, packed=packed, sizes=sizes, scalars=scalars)
    assert res.returncode == 0, res.error
    for p in meta["params"]:
        if not p["output"]:
            continue
        got, want = res.arrays[p["name"]], ref[p["name"]]
        if want.dtype.kind == "f":
            np.testing.assert_allclose(got.astype("float64"), want.astype("float64"), rtol=1e-3, atol=1e-3)
        else:
            np.testing.assert_array_equal(got, want)
