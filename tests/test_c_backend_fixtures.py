"""Every kernel of TVM's fixture corpus, lowered by our pipeline from TVM's own text at EVERY
stage in the corpus, with both calling conventions, compiled with gcc -Werror and run on the
ref.npz inputs: the outputs must match TVM's.

The stages before TVM's MakePackedAPI (input, BindTarget, LowerInitBlock, ..., FlattenBuffer,
..., CommonSubexprElim, AnnotateEntryFunc) are lowered to either convention. From
MakePackedAPI on (MakePackedAPI, the host Filter, LowerTVMBuiltin, LowerIntrin; the device
Filter's module is empty on a C target and gives C without functions) TVM's text is already
packed, with TVM's FFI ABI (``self_handle, args, num_args, result``, args an array of
TVMFFIAny): the packed run calls it that way; the unpacked one must fail with TIR201 (the
function is already packed), as must every stage of a kernel with a symbolic shape (no
DLTensor carries the shape through the unpacked API).

Cost is bounded by deduplication: for one (kernel, convention) many stages give byte-identical
C, which computes identical numbers, so only distinct C is compiled and run (all of one test's
in a single gcc call and process, see ``run_variants``). Identical C on identical inputs
seen by an earlier test (the other TVM version) reuses its outputs; they are still compared
with this version's ref.npz.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from c_backend_harness import HAVE_GCC, Variant, params_of, run_variants, variant_of

from tir_lsp.compiler.backend import emit_c
from tir_lsp.compiler.diagnostics import CompilerError
from tir_lsp.compiler.ir.function import IRModule
from tir_lsp.compiler.text.reader import read_tir
from tir_lsp.compiler.transform import PipelineOptions, run_pipeline

FIXTURES = Path(__file__).parent / "fixtures" / "tvm"

# Outputs of C already run, keyed by (C, call, inputs) digest: identical C on identical inputs
# computes identical numbers, whichever version's stage produced it.
_OUTPUTS: dict[str, dict[str, np.ndarray]] = {}


def _kernels() -> list[tuple[str, str]]:
    out = []
    for version_dir in sorted(p for p in FIXTURES.glob("*") if p.is_dir()):
        for kernel in sorted(p for p in version_dir.iterdir() if (p / "meta.json").exists() and (p / "ref.npz").exists()):
            out.append((version_dir.name, kernel.name))
    return out


def _packed_api_number(version_dir: Path) -> int:
    """The stage number of TVM's MakePackedAPI in that version's pipeline.txt."""
    for line in (version_dir / "pipeline.txt").read_text().splitlines():
        number, _, name = line.partition(" ")
        if name.endswith("MakePackedAPI"):
            return int(number)
    raise AssertionError(f"{version_dir}/pipeline.txt names no MakePackedAPI")


def _read(path: Path) -> IRModule:
    read = read_tir(path.read_text(), str(path))
    errors = [d for d in read.diagnostics if d.severity == "error"]
    assert not errors, f"{path.name}: {errors}"
    return read.module


@functools.lru_cache(maxsize=1)
def _stages(kernel_dir: Path) -> tuple[tuple[Path, IRModule], ...]:
    """Every stage file of a kernel, read; the two conventions' tests run one after the other
    and share it (IR is immutable), which halves the reading, the file's largest cost."""
    return tuple((p, _read(p)) for p in sorted(kernel_dir.glob("[0-9][0-9]_*.tir")))


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.hexdigest()


@pytest.mark.skipif(not HAVE_GCC, reason="gcc is required to compile generated C")
@pytest.mark.parametrize("packed", [False, True], ids=["unpacked", "packed"])
@pytest.mark.parametrize(("version", "kernel"), _kernels())
def test_every_stage_matches_tvm(tmp_path: Path, version: str, kernel: str, packed: bool) -> None:
    kernel_dir = FIXTURES / version / kernel
    meta = json.loads((kernel_dir / "meta.json").read_text())
    packed_api = _packed_api_number(kernel_dir.parent)
    stages = _stages(kernel_dir)
    names = [p.name for p, _ in stages]
    assert names[0] == "00_input.tir" and any(int(n[:2]) >= packed_api for n in names), names
    ref = np.load(kernel_dir / "ref.npz")
    sizes = {k: int(v) for k, v in meta.get("shape_vars", {}).items()}
    inputs = {p["name"]: ref[p["name"]] for p in meta["params"] if not p["output"] and p["name"] in ref}
    scalars = {p["name"]: ref[p["name"]].item() for p in meta["params"] if p["name"] in ref and ref[p["name"]].ndim == 0}
    # The kernel's parameters (names, dtypes, shapes) come from the unlowered input.
    entry = stages[0][1].functions[0]
    params = params_of(entry, sizes)

    by_c: dict[str, list[str]] = {}  # C source -> the stages that lower to it
    variants: dict[str, Variant] = {}
    for path, mod in stages:
        if not mod.functions:
            # The device half of TVM's host/device split (the second Filter): nothing to run
            # on a C target; it lowers to C without functions.
            assert "int32_t" not in emit_c(run_pipeline(mod, PipelineOptions(unpacked_api=not packed))), path.name
            continue
        already_packed = int(path.name[:2]) >= packed_api
        if not packed and (already_packed or sizes):
            with pytest.raises(CompilerError) as info:
                run_pipeline(mod, PipelineOptions(unpacked_api=True))
            diag = info.value.diagnostics[0]
            assert diag.code == "TIR201", f"{path.name}: {diag}"
            expected = "is already lowered to the packed API" if already_packed else "MakeUnpackedAPI: buffer"
            assert expected in diag.message, f"{path.name}: {diag.message}"
            continue
        variant = variant_of(run_pipeline(mod, PipelineOptions(unpacked_api=not packed)), entry.name)
        assert variant.abi == ("ffi" if already_packed else "packed" if packed else "unpacked"), path.name
        by_c.setdefault(variant.c_source, []).append(path.name)
        variants.setdefault(variant.c_source, variant)
    if not by_c:
        return

    input_digest = _digest(*(np.ascontiguousarray(a).tobytes() for a in inputs.values()),
                           repr(sorted(inputs)).encode(), repr(sorted(scalars.items())).encode(), repr(params).encode())
    keys = {c: _digest(c.encode(), v.symbol.encode(), v.abi.encode(), input_digest.encode()) for c, v in variants.items()}
    todo = [c for c in by_c if keys[c] not in _OUTPUTS]
    if todo:
        try:
            results = run_variants(params, [variants[c] for c in todo], inputs, tmp_path, scalars=scalars)
        except AssertionError as e:  # gcc failed: its messages name v<k>.c, say which stages those are
            legend = "\n".join(f"v{k}.c: stages {', '.join(by_c[c])}" for k, c in enumerate(todo))
            raise AssertionError(f"{e}\n{legend}") from None
        for k, (c, res) in enumerate(zip(todo, results)):
            assert res.returncode == 0, f"v{k}.c (stages {', '.join(by_c[c])}) failed: {res.error}"
            _OUTPUTS[keys[c]] = res.arrays

    for c, group in by_c.items():
        got_all = _OUTPUTS[keys[c]]
        for p in meta["params"]:
            if not p["output"]:
                continue
            got, want = got_all[p["name"]], ref[p["name"]]
            where = f"{p['name']} after stages {', '.join(group)}"
            if want.dtype.kind == "f":
                np.testing.assert_allclose(got.astype("float64"), want.astype("float64"), rtol=1e-3, atol=1e-3, err_msg=where)
            else:
                np.testing.assert_array_equal(got, want, err_msg=where)
