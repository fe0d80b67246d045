"""The C backend's vector-extension branch: contiguous vector stores as GCC vector types.

Each generated function with such a store has two bodies: ``#ifdef TIR_VEC_BYTES`` (vector
types in TIR_VB-byte pieces) and the plain C99 lane loops. tir_runtime.h defines
TIR_VEC_BYTES on AVX targets (and the C of ``tirc build`` on SSE2 ones too); here it is forced
with ``-DTIR_VEC_BYTES=16/32/64`` so the branch runs on any x86 CI machine, and
``-DTIR_NO_VECTOR_EXT`` (or no AVX, for ``tirc lower``'s C) compiles the fallback.
``gcc -E`` shows which body a set of flags compiles; every body must give numpy's numbers,
also under ``-fsanitize=address,undefined``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from c_backend_harness import HAVE_GCC, run_kernel

from tir_lsp.compiler.backend import emit_c, runtime_header
from tir_lsp.compiler.ir.function import IRModule
from tir_lsp.compiler.text.reader import read_tir
from tir_lsp.compiler.transform import PipelineOptions, run_pipeline

pytestmark = pytest.mark.skipif(not HAVE_GCC, reason="gcc is required to compile generated C")

RNG = np.random.default_rng(7)
SANITIZE = ("-O1", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer")


def _gcc_defines(macro: str) -> bool:
    """Whether this gcc defines ``macro`` without flags (``__AVX__``: tir_runtime.h then turns
    the branch on; ``__SSE2__``: the C of ``tirc build`` does)."""
    if not HAVE_GCC:
        return False
    proc = subprocess.run(["gcc", "-dM", "-E", "-x", "c", "-"], input="", capture_output=True, text=True, check=False)
    return f"#define {macro} 1" in proc.stdout


# (name, extra gcc flags, whether the vector body is the one compiled)
BUILDS = [
    ("plain", (), _gcc_defines("__AVX__")),  # baseline x86-64 has no AVX: the fallback
    ("vec16", ("-DTIR_VEC_BYTES=16",), True),
    ("vec32", ("-DTIR_VEC_BYTES=32",), True),
    ("vec32-asan", ("-DTIR_VEC_BYTES=32", *SANITIZE), True),
]
MORE_BUILDS = [
    ("vec64", ("-DTIR_VEC_BYTES=64",), True),
    ("off", ("-DTIR_VEC_BYTES=32", "-DTIR_NO_VECTOR_EXT"), False),
    ("off-asan", ("-DTIR_NO_VECTOR_EXT", *SANITIZE), False),
]


def read(text: str) -> IRModule:
    result = read_tir(text)
    assert not result.diagnostics, result.diagnostics
    return result.module


def lower_c(text: str) -> str:
    return emit_c(run_pipeline(read(text), PipelineOptions(unpacked_api=True)))


def compiled_body(source: str, tmp_path: Path, flags: tuple[str, ...]) -> str:
    """The C after the preprocessor with ``flags`` (the header's own lines dropped)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "tir_runtime.h").write_text(runtime_header())
    (tmp_path / "k.c").write_text(source)
    proc = subprocess.run(["gcc", "-std=c99", "-E", "-P", *flags, "k.c"], cwd=tmp_path, capture_output=True,
                          text=True, check=True)
    return proc.stdout[proc.stdout.index("int32_t"):]


def check_builds(text: str, arrays: dict[str, np.ndarray], want: dict[str, np.ndarray], tmp_path: Path,
                 builds: list[tuple[str, tuple[str, ...], bool]], vector_marker: str) -> None:
    source = lower_c(text)
    for name, flags, vector in builds:
        body = compiled_body(source, tmp_path / f"{name}-E", flags)
        assert (vector_marker in body) == vector, (name, body)
        res = run_kernel(read(text), arrays, tmp_path / name, packed=False, extra_flags=flags)
        assert res.returncode == 0, (name, res.error)
        for key, value in want.items():
            np.testing.assert_array_equal(res.arrays[key], value, err_msg=name)


ELEMENTWISE = """
@T.prim_func
def ew(A: T.Buffer((8, 16), "float32"), B: T.Buffer((8, 16), "float32"), C: T.Buffer((8, 16), "float32"), D: T.Buffer((8, 16), "float32")):
    T.func_attr({"tirx.noalias": True})
    for i in range(8):
        for j in T.vectorized(16):
            C[i, j] = A[i, j] * B[i, j] + A[i, j] - T.float32(2.5)
        for j in T.vectorized(16):
            D[i, j] = C[i, j] / B[i, j] * A[i, 0]
"""


def test_contiguous_float_stores_become_vector_types(tmp_path: Path) -> None:
    source = lower_c(ELEMENTWISE)
    assert "typedef float tir_vf32x16 __attribute__((vector_size(TIR_VB(64))));" in source
    assert "typedef float tir_uf32x16 __attribute__((vector_size(TIR_VB(64)), aligned(4), may_alias));" in source
    assert "#pragma GCC unroll 4\n    for (int32_t c = 0; c < 64 / TIR_VB(64); ++c) {" in source
    assert "*(tir_uf32x16*)&C[((i * 16) + (c * (TIR_VB(64) / 4)))] = ((((*(const tir_uf32x16*)&A[" in source
    # The scalar A[i, 0] is broadcast: s - {0} is s in every lane, -0.0 and NaN included.
    assert "((float)(A[(i * 16)]) - (tir_vf32x16){0})" in source
    # The fallback body is the plain lane loops, as without the vector branch.
    assert "#ifdef TIR_VEC_BYTES" in source and "#else" in source
    assert "for (int32_t l = 0; l < 16; ++l) {" in source
    a = RNG.standard_normal((8, 16)).astype("float32")
    a[0, 0], a[1, 3], a[2, 5] = -0.0, np.nan, np.inf
    b = RNG.uniform(0.5, 2.0, (8, 16)).astype("float32")
    c = a * b + a - np.float32(2.5)
    d = c / b * a[:, :1]
    check_builds(ELEMENTWISE, {"A": a, "B": b}, {"C": c, "D": d}, tmp_path, BUILDS + MORE_BUILDS, "tir_uf32x16")


MIXED = """
@T.prim_func
def mixed(A: T.Buffer((32,), "int8"), B: T.Buffer((32,), "int8"), C: T.Buffer((32,), "int8"),
          X: T.Buffer((16,), "int32"), Y: T.Buffer((16,), "int32"),
          U: T.Buffer((16,), "uint16"), V: T.Buffer((16,), "uint16"),
          F: T.Buffer((8,), "float64"), G: T.Buffer((8,), "float64"),
          H: T.Buffer((4,), "int64")):
    T.func_attr({"tirx.noalias": True})
    for i in T.vectorized(32):
        C[i] = A[i] * B[i] + A[i] - T.int8(100)
    for i in T.vectorized(32):
        B[i] = A[i]
    for i in range(2):
        for j in T.vectorized(8):
            Y[i * 8 + j] = X[i * 8 + j] * X[i * 8 + j] - X[i * 8] + T.int32(7)
    for i in T.vectorized(16):
        V[i] = U[i] * U[i] + U[i] - T.uint16(3)
    for i in T.vectorized(8):
        G[i] = F[i] / F[0] - F[i] * T.float64(0.25)
    for i in T.vectorized(4):
        H[i] = T.Cast("int64", X[i]) * T.int64(3)
"""


def test_int_and_float_element_types_wrap_and_round_as_the_lane_loops(tmp_path: Path) -> None:
    source = lower_c(MIXED)
    # int32 vectors compute as uint32 ones: the arithmetic wraps, as the lane loops' does.
    for name in ("tir_uu32x8", "tir_uu16x16", "tir_uf64x8"):
        assert f"*({name}*)&" in source, name
    # A cast is not an operation of the vector branch: that store stays a lane loop. Nor is
    # int8 arithmetic (C wraps it in int; int8 vectors would overflow): only the copy is.
    assert "tir_uu64x4" not in source
    assert "*(tir_uu8x32*)&B[(c * TIR_VB(32))] = (*(const tir_uu8x32*)&A[(c * TIR_VB(32))]);" in source
    assert "*(tir_uu8x32*)&C" not in source
    a = RNG.integers(-128, 128, 32).astype("int8")
    b = RNG.integers(-128, 128, 32).astype("int8")
    x = RNG.integers(-40000, 40000, 16).astype("int32")
    u = RNG.integers(0, 46341, 16).astype("uint16")
    f = RNG.standard_normal(8)
    f[0] = 0.75
    with np.errstate(over="ignore"):
        want = {
            "B": a,
            "C": (a * b + a - np.int8(100)).astype("int8"),
            "Y": x * x - np.repeat(x[::8], 8) + np.int32(7),
            "V": (u.astype("uint32") * u + u - 3).astype("uint16"),
            "G": f / f[0] - f * 0.25,
            "H": x[:4].astype("int64") * 3,
        }
    check_builds(MIXED, {"A": a, "B": b, "X": x, "U": u, "F": f}, want, tmp_path, BUILDS, "tir_uu8x32")


FALLBACKS = """
@T.prim_func
def fb(A: T.Buffer((64,), "float32"), B: T.Buffer((64,), "float32"), C: T.Buffer((64,), "float32"), D: T.Buffer((8,), "float32")):
    T.func_attr({"tirx.noalias": True})
    for i in range(4):
        for j in T.vectorized(3):
            B[i * 3 + j] = A[i * 3 + j] + T.float32(1.0)
    for i in range(2):
        for j in T.vectorized(6):
            B[20 + i * 6 + j] = A[20 + i * 6 + j] * T.float32(2.0)
    for j in T.vectorized(8):
        C[j] = A[j * 2] + A[j]
    for j in T.vectorized(2):
        C[32 + j] = A[32 + j] - T.float32(3.0)
    D[T.Ramp(1, 1, 4)] = D[T.Ramp(0, 1, 4)]
    for j in T.vectorized(4):
        C[40 + j] = T.max(A[40 + j], T.float32(0.0))
"""


def test_odd_widths_strided_and_overlapping_stores_fall_back(tmp_path: Path) -> None:
    source = lower_c(FALLBACKS)
    # Three and six lanes are not a power of two, A[j * 2] is not contiguous, D[1:5] = D[0:4]
    # reads what another piece writes, T.max has no vector-extension operator: all keep
    # their lane loops (or temporary array). Two lanes of float32 are one 8-byte vector.
    assert "tir_vf32x2" in source and "*(tir_uf32x2*)&C[(32 + (c * (TIR_VB(8) / 4)))]" in source
    for name in ("x3", "x6", "x8", "x4"):
        assert f"tir_uf32{name}" not in source, name
    assert "float vec" in source  # the shift's temporary array
    a = RNG.standard_normal(64).astype("float32")
    d = np.arange(8, dtype="float32")
    b = np.zeros(64, "float32")
    b[:12] = a[:12] + 1
    b[20:32] = a[20:32] * 2
    c = np.zeros(64, "float32")
    c[:8] = a[0:16:2] + a[:8]
    c[32:34] = a[32:34] - 3
    c[40:44] = np.maximum(a[40:44], 0)
    want = {"B": b, "C": c, "D": np.array([0, 0, 1, 2, 3, 5, 6, 7], "float32")}
    check_builds(FALLBACKS, {"A": a, "D": d}, want, tmp_path, BUILDS, "tir_uf32x2")


def test_functions_without_contiguous_vector_stores_have_one_body() -> None:
    source = lower_c("""
@T.prim_func
def s(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
    for i in range(16):
        B[i] = A[i] + T.float32(1.0)
""")
    assert "TIR_VEC_BYTES" not in source and "#else" not in source


LOCAL_TILE = """
@T.prim_func
def mm(A: T.Buffer((32, 32), "float32"), B: T.Buffer((32, 32), "float32"), C: T.Buffer((32, 32), "float32")):
    T.func_attr({"tirx.noalias": True})
    C_local = T.sblock_alloc_buffer((32, 32), scope="local")
    for i_0, j_0 in T.grid(8, 2):
        for i_1_init in T.unroll(4):
            for j_1_init in T.vectorized(16):
                with T.sblock("C_init"):
                    v_i = T.axis.spatial(32, i_0 * 4 + i_1_init)
                    v_j = T.axis.spatial(32, j_0 * 16 + j_1_init)
                    T.reads()
                    T.writes(C_local[v_i, v_j])
                    C_local[v_i, v_j] = T.float32(0.0)
        for k_0 in range(8):
            for k_1 in T.unroll(4):
                for i_1 in T.unroll(4):
                    for j_1 in T.vectorized(16):
                        with T.sblock("C_update"):
                            v_i = T.axis.spatial(32, i_0 * 4 + i_1)
                            v_j = T.axis.spatial(32, j_0 * 16 + j_1)
                            v_k = T.axis.reduce(32, k_0 * 4 + k_1)
                            T.reads(C_local[v_i, v_j], A[v_i, v_k], B[v_k, v_j])
                            T.writes(C_local[v_i, v_j])
                            C_local[v_i, v_j] = C_local[v_i, v_j] + A[v_i, v_k] * B[v_k, v_j]
        for ax0 in range(4):
            for ax1 in T.vectorized(16):
                with T.sblock("C_local"):
                    v0 = T.axis.spatial(32, i_0 * 4 + ax0)
                    v1 = T.axis.spatial(32, j_0 * 16 + ax1)
                    T.reads(C_local[v0, v1])
                    T.writes(C[v0, v1])
                    C[v0, v1] = C_local[v0, v1]
"""


def test_register_tile_matmul_is_exact_in_every_body(tmp_path: Path) -> None:
    # The schedule of bench_matmul_256_local at 32 x 32: the 4 x 16 accumulator tile is
    # stored and read through vector types, in the same order of additions as the lane loops.
    source = lower_c(LOCAL_TILE)
    assert "*(tir_uf32x16*)&C_local[(16 + (c * (TIR_VB(64) / 4)))] = ((*(const tir_uf32x16*)&C_local[" in source
    a = RNG.standard_normal((32, 32)).astype("float32")
    b = RNG.standard_normal((32, 32)).astype("float32")
    want = np.zeros((32, 32), "float32")
    for k in range(32):
        want = want + a[:, k:k + 1] * b[k:k + 1, :]
    check_builds(LOCAL_TILE, {"A": a, "B": b}, {"C": want}, tmp_path, BUILDS, "tir_uf32x16")


MIN_MAX = """
@T.prim_func
def mm(A: T.Buffer((12,), "float32"), B: T.Buffer((12,), "float32"), C: T.Buffer((12,), "float32"), D: T.Buffer((12,), "float32"),
       X: T.Buffer((12,), "float64"), Y: T.Buffer((12,), "float64"), Z: T.Buffer((12,), "float64"), R: T.Buffer((12,), "float32")):
    for i in range(12):
        C[i] = T.max(A[i], B[i])
        D[i] = T.min(A[i], B[i])
        Z[i] = T.max(X[i], Y[i]) + T.min(X[i], Y[i])
        R[i] = T.max(A[i] + B[i], T.float32(0.0))
"""


def test_float_min_max_are_branch_free_and_bit_exact(tmp_path: Path) -> None:
    # a > b ? a : b with NaN on either side, both zeros and infinities, bit for bit.
    source = lower_c(MIN_MAX)
    assert "tir_maxf(A[i], B[i])" in source and "tir_minf(A[i], B[i])" in source
    assert "tir_max_f64(X[i], Y[i])" in source and "tir_maxf((A[i] + B[i]), 0.0f)" in source
    special = [np.nan, 0.0, -0.0, np.inf, -np.inf, 1.5]
    a = np.array(special + [-0.0, 0.0, 2.0, np.nan, -1.0, 3.0], "float32")
    b = np.array([0.0, np.nan, 0.0, -0.0, 1.0, -np.inf, 0.0, -0.0, np.nan, np.nan, -1.0, -3.0], "float32")
    x, y = a.astype("float64"), b.astype("float64")
    with np.errstate(invalid="ignore"):
        want = {
            "C": np.where(a > b, a, b), "D": np.where(a < b, a, b),
            "Z": np.where(x > y, x, y) + np.where(x < y, x, y),
            "R": np.where(a + b > 0, a + b, np.float32(0.0)),
        }
    for flags in [(), SANITIZE]:
        res = run_kernel(read(MIN_MAX), {"A": a, "B": b, "X": x, "Y": y}, tmp_path / str(len(flags)), packed=False,
                         extra_flags=flags)
        assert res.returncode == 0, res.error
        for key, value in want.items():
            got = res.arrays[key]
            assert got.tobytes() == value.astype(got.dtype).tobytes(), (key, got, value)


VECTOR_SCHEDULE_CASES = ["conv3x3_rem", "conv_stride_dil_asym", "conv_end_pads", "conv_group", "conv1x1_group_batch",
                         "gemm_tA_tB", "matmul_batch"]


@pytest.fixture(scope="module")
def schedule_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Seven of tests/test_schedules.py's conv / GEMM models (register tiles, remainders,
    groups, strides, end pads, batches) built with the vector branch forced on, under ASan and
    UBSan (one gcc call)."""
    from aot_models import reference, run_models
    from test_schedules import CASES, SANITIZE_O0

    work = Path(tmp_path_factory.mktemp("vector_schedules"))
    models, refs = {}, {}
    for k, name in enumerate(VECTOR_SCHEDULE_CASES):
        model = CASES[name]
        rng = np.random.default_rng(300 + k)
        inputs = {i.name: rng.standard_normal([d.dim_value for d in i.type.tensor_type.shape.dim]).astype(np.float32)
                  for i in model.graph.input}
        models[name] = (model, inputs)
        refs[name] = reference(model, inputs)
    got = run_models(models, work, cflags=[*SANITIZE_O0, "-DTIR_VEC_BYTES=32"])
    return {name: (got[name]["y"], refs[name]["y"]) for name in VECTOR_SCHEDULE_CASES}


def test_scheduled_models_match_onnxruntime_through_the_vector_branch(schedule_results: dict) -> None:
    for name, (got, want) in schedule_results.items():
        assert got.shape == want.shape, name
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4, err_msg=name)


def test_the_schedules_c_has_vector_stores() -> None:
    # The micro-kernel's tile is what the vector branch is for: the test above runs it.
    from test_schedules import CASES

    from tir_lsp.compiler.executor.build import compile_model
    from tir_lsp.compiler.executor.options import resolve

    c = compile_model(CASES["conv3x3_rem"], resolve({"executor": "aot", "interface-api": "c", "unpacked-api": True},
                                                    model_name="m"))
    text = "".join(t if isinstance(t, str) else t.decode() for t in c.sources.values())
    assert "#ifdef TIR_VEC_BYTES" in text and "*(tir_uf32x8*)&" in text


@pytest.mark.skipif(not _gcc_defines("__SSE2__"), reason="needs a gcc that targets SSE2 by default (x86-64)")
def test_model_c_takes_the_vector_branch_on_baseline_x86_64_and_kernel_c_does_not(tmp_path: Path) -> None:
    # tirc build's operators keep their GEMM tiles in vector types on SSE2 (1.2-1.4x faster
    # models); tirc lower's C leaves the lane loops to gcc there (faster on the held-out
    # scheduled kernels). -DTIR_NO_VECTOR_EXT turns the model's branch off.
    from test_schedules import CASES

    from tir_lsp.compiler.executor.build import compile_model
    from tir_lsp.compiler.executor.options import resolve

    c = compile_model(CASES["conv3x3_rem"], resolve({"executor": "aot", "interface-api": "c", "unpacked-api": True},
                                                    model_name="m"))
    (tmp_path / "tir_runtime.h").write_text(runtime_header())
    (tmp_path / "m.c").write_text(str(c.sources["m_lib1.c"]))
    (tmp_path / "k.c").write_text(lower_c(LOCAL_TILE))

    def vector_body(name: str, *flags: str) -> bool:
        proc = subprocess.run(["gcc", "-std=c99", "-E", "-P", *flags, name], cwd=tmp_path, capture_output=True,
                              text=True, check=False)
        assert proc.returncode == 0, proc.stderr
        return "*(tir_uf32x" in proc.stdout

    if not _gcc_defines("__AVX__"):
        assert vector_body("m.c") and not vector_body("k.c")
    assert not vector_body("m.c", "-DTIR_NO_VECTOR_EXT")
    assert vector_body("k.c", "-DTIR_VEC_BYTES=16")
