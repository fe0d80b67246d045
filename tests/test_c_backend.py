"""C backend end to end: TIR text -> pipeline -> C -> gcc -Wall -Wextra -Werror -> run -> numpy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from c_backend_harness import HAVE_GCC, TensorOverride, run_kernel

from tir_lsp.compiler.backend import emit_c, runtime_header
from tir_lsp.compiler.diagnostics import CompilerError
from tir_lsp.compiler.ir.function import IRModule
from tir_lsp.compiler.text.reader import read_tir
from tir_lsp.compiler.transform import PipelineOptions, run_pipeline

pytestmark = pytest.mark.skipif(not HAVE_GCC, reason="gcc is required to compile generated C")

RNG = np.random.default_rng(0)


def read(text: str) -> IRModule:
    result = read_tir(text)
    assert not result.diagnostics, result.diagnostics
    return result.module


VECTOR_ADD = """
@T.prim_func
def vadd(A: T.Buffer((128,), "float32"), B: T.Buffer((128,), "float32"), C: T.Buffer((128,), "float32")):
    for i in range(128):
        C[i] = A[i] + B[i]
"""

MATMUL_RELU = """
@T.prim_func
def main(A: T.Buffer((16, 16), "float32"), B: T.Buffer((16, 16), "float32"), D: T.Buffer((16, 16), "float32")):
    T.func_attr({"tirx.noalias": True})
    C = T.alloc_buffer((16, 16))
    for i, j, k in T.grid(16, 16, 16):
        with T.sblock("C"):
            v_i, v_j, v_k = T.axis.remap("SSR", [i, j, k])
            T.reads(A[v_i, v_k], B[v_k, v_j])
            T.writes(C[v_i, v_j])
            with T.init():
                C[v_i, v_j] = T.float32(0.0)
            C[v_i, v_j] = C[v_i, v_j] + A[v_i, v_k] * B[v_k, v_j]
    for i, j in T.grid(16, 16):
        with T.sblock("D"):
            v_i, v_j = T.axis.remap("SS", [i, j])
            T.reads(C[v_i, v_j])
            T.writes(D[v_i, v_j])
            D[v_i, v_j] = T.max(C[v_i, v_j], T.float32(0.0))
"""

INT8_OPS = """
@T.prim_func
def int8_ops(A: T.Buffer((64,), "int8"), B: T.Buffer((64,), "int8"), C: T.Buffer((64,), "int32"), D: T.Buffer((64,), "int8")):
    for i in range(64):
        C[i] = T.Cast("int32", A[i]) * T.Cast("int32", B[i]) + T.Cast("int32", A[i]) // 3 - T.Cast("int32", B[i]) % 5
        D[i] = A[i] + B[i]
"""

FLOAT16 = """
@T.prim_func
def half_kernel(A: T.Buffer((32,), "float16"), B: T.Buffer((32,), "float16"), C: T.Buffer((32,), "float16")):
    for i in range(32):
        C[i] = A[i] * B[i] + T.float16(1.5)
"""

PARALLEL = """
@T.prim_func
def par(A: T.Buffer((8, 32), "float32"), B: T.Buffer((8, 32), "float32")):
    for i in T.parallel(8):
        for j in range(32):
            B[i, j] = A[i, j] * T.float32(2.0) + T.float32(1.0)
"""

VECTORIZED = """
@T.prim_func
def vec(A: T.Buffer((64,), "float32"), B: T.Buffer((64,), "float32"), C: T.Buffer((64,), "float32")):
    for i in range(16):
        for j in T.vectorized(4):
            C[i * 4 + j] = A[i * 4 + j] * B[i * 4 + j] + T.float32(0.5)
"""

UNROLLED = """
@T.prim_func
def unr(A: T.Buffer((4, 8), "float32"), B: T.Buffer((8,), "float32")):
    for j in range(8):
        B[j] = T.float32(0.0)
        for i in T.unroll(4):
            B[j] = B[j] + A[i, j]
"""

ALLOCATE_CONST = """
@T.prim_func
def consts(A: T.Buffer((4,), "float32"), B: T.Buffer((4,), "float32")):
    K = T.allocate_const([1.0, 2.0, 3.0, 4.0], "float32", [4])
    K_1 = T.decl_buffer((4,), data=K)
    for i in range(4):
        B[i] = A[i] * K_1[i]
"""

ASSERT = """
@T.prim_func
def checked(A: T.Buffer((4,), "int32"), B: T.Buffer((4,), "int32")):
    for i in range(4):
        assert A[i] >= 0, "A must be non-negative"
        B[i] = A[i] * 2
"""

MATH = """
@T.prim_func
def math_kernel(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32"), C: T.Buffer((16,), "float64")):
    for i in range(16):
        B[i] = T.exp(A[i]) + T.sqrt(T.fabs(A[i])) + T.tanh(A[i])
        C[i] = T.exp(T.Cast("float64", A[i]))
"""


@pytest.mark.parametrize("packed", [False, True], ids=["unpacked", "packed"])
def test_vector_add(tmp_path: Path, packed: bool) -> None:
    a, b = RNG.standard_normal(128).astype("float32"), RNG.standard_normal(128).astype("float32")
    res = run_kernel(read(VECTOR_ADD), {"A": a, "B": b}, tmp_path, packed=packed)
    assert res.returncode == 0, res.error
    np.testing.assert_allclose(res.arrays["C"], a + b, rtol=1e-6)


@pytest.mark.parametrize("packed", [False, True], ids=["unpacked", "packed"])
def test_matmul_relu_with_blocks_and_init(tmp_path: Path, packed: bool) -> None:
    a = RNG.standard_normal((16, 16)).astype("float32")
    b = RNG.standard_normal((16, 16)).astype("float32")
    res = run_kernel(read(MATMUL_RELU), {"A": a, "B": b}, tmp_path, packed=packed)
    assert res.returncode == 0, res.error
    np.testing.assert_allclose(res.arrays["D"], np.maximum(a @ b, 0), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("packed", [False, True], ids=["unpacked", "packed"])
def test_int8_ops_wrap_and_floor_semantics(tmp_path: Path, packed: bool) -> None:
    a = RNG.integers(-128, 128, 64).astype("int8")
    b = RNG.integers(-128, 128, 64).astype("int8")
    res = run_kernel(read(INT8_OPS), {"A": a, "B": b}, tmp_path, packed=packed)
    assert res.returncode == 0, res.error
    a32, b32 = a.astype("int32"), b.astype("int32")
    np.testing.assert_array_equal(res.arrays["C"], a32 * b32 + a32 // 3 - b32 % 5)
    np.testing.assert_array_equal(res.arrays["D"], (a32 + b32).astype("int8"))


@pytest.mark.parametrize("packed", [False, True], ids=["unpacked", "packed"])
def test_float16_kernel(tmp_path: Path, packed: bool) -> None:
    a = RNG.standard_normal(32).astype("float16")
    b = RNG.standard_normal(32).astype("float16")
    res = run_kernel(read(FLOAT16), {"A": a, "B": b}, tmp_path, packed=packed)
    assert res.returncode == 0, res.error
    np.testing.assert_array_equal(res.arrays["C"], a * b + np.float16(1.5))


@pytest.mark.parametrize("packed", [False, True], ids=["unpacked", "packed"])
def test_parallel_loop(tmp_path: Path, packed: bool) -> None:
    a = RNG.standard_normal((8, 32)).astype("float32")
    res = run_kernel(read(PARALLEL), {"A": a}, tmp_path, packed=packed)
    assert res.returncode == 0, res.error
    np.testing.assert_allclose(res.arrays["B"], a * 2 + 1, rtol=1e-6)
    assert "#pragma omp parallel for" in (tmp_path / "kernel.c").read_text()


@pytest.mark.parametrize("packed", [False, True], ids=["unpacked", "packed"])
def test_vectorized_loop(tmp_path: Path, packed: bool) -> None:
    a, b = RNG.standard_normal(64).astype("float32"), RNG.standard_normal(64).astype("float32")
    res = run_kernel(read(VECTORIZED), {"A": a, "B": b}, tmp_path, packed=packed)
    assert res.returncode == 0, res.error
    np.testing.assert_allclose(res.arrays["C"], a * b + np.float32(0.5), rtol=1e-6)


@pytest.mark.parametrize("packed", [False, True], ids=["unpacked", "packed"])
def test_unrolled_loop(tmp_path: Path, packed: bool) -> None:
    a = RNG.standard_normal((4, 8)).astype("float32")
    res = run_kernel(read(UNROLLED), {"A": a}, tmp_path, packed=packed)
    assert res.returncode == 0, res.error
    np.testing.assert_allclose(res.arrays["B"], a.sum(axis=0), rtol=1e-5)


@pytest.mark.parametrize("packed", [False, True], ids=["unpacked", "packed"])
def test_allocate_const_is_a_static_array(tmp_path: Path, packed: bool) -> None:
    a = RNG.standard_normal(4).astype("float32")
    res = run_kernel(read(ALLOCATE_CONST), {"A": a}, tmp_path, packed=packed)
    assert res.returncode == 0, res.error
    np.testing.assert_allclose(res.arrays["B"], a * np.array([1, 2, 3, 4], "float32"), rtol=1e-6)
    assert "static const float K[4] = {1.0f, 2.0f, 3.0f, 4.0f};" in (tmp_path / "kernel.c").read_text()


@pytest.mark.parametrize("packed", [False, True], ids=["unpacked", "packed"])
def test_assert_becomes_error_return(tmp_path: Path, packed: bool) -> None:
    good = np.array([1, 2, 3, 4], "int32")
    res = run_kernel(read(ASSERT), {"A": good}, tmp_path / "good", packed=packed)
    assert res.returncode == 0, res.error
    np.testing.assert_array_equal(res.arrays["B"], good * 2)
    bad = np.array([1, -2, 3, 4], "int32")
    res = run_kernel(read(ASSERT), {"A": bad}, tmp_path / "bad", packed=packed)
    assert res.returncode == 2
    assert res.error == "A must be non-negative"


@pytest.mark.parametrize("packed", [False, True], ids=["unpacked", "packed"])
def test_math_intrinsics_use_libm(tmp_path: Path, packed: bool) -> None:
    a = RNG.standard_normal(16).astype("float32")
    res = run_kernel(read(MATH), {"A": a}, tmp_path, packed=packed)
    assert res.returncode == 0, res.error
    np.testing.assert_allclose(res.arrays["B"], np.exp(a) + np.sqrt(np.abs(a)) + np.tanh(a), rtol=1e-5)
    np.testing.assert_allclose(res.arrays["C"], np.exp(a.astype("float64")), rtol=1e-12)
    source = (tmp_path / "kernel.c").read_text()
    assert "expf(" in source and "tanhf(" in source and " exp(" in source


@pytest.mark.parametrize(
    ("override", "num_args", "message"),
    [
        ({"B": TensorOverride(ndim=1, shape=(256,))}, None, "ValueError: main: argument #1 (B) expects ndim 2"),
        ({"A": TensorOverride(dtype=(0, 32, 1))}, None, "TypeError: main: argument #0 (A) expects dtype float32"),
        ({"D": TensorOverride(shape=(16, 8))}, None, "ValueError: main: argument #2 (D) expects shape[1] == 16"),
        ({"A": TensorOverride(type_code=0)}, None,
         "TypeError: main: argument #0 (A) expects a DLTensor handle (type code 7)"),
        ({}, 2, "TypeError: main: expected 3 arguments"),
    ],
    ids=["ndim", "dtype", "shape", "type_code", "num_args"],
)
def test_packed_function_names_the_wrong_argument(
    tmp_path: Path, override: dict[str, TensorOverride], num_args: int | None, message: str
) -> None:
    res = run_kernel(read(MATMUL_RELU), {}, tmp_path, packed=True, overrides=override, num_args=num_args)
    assert res.returncode == 2
    assert res.error == message


def test_unpacked_signature_is_typed_pointers() -> None:
    source = emit_c(run_pipeline(read(INT8_OPS), PipelineOptions(unpacked_api=True)))
    # A and B are only read: const, so callers may pass constant data.
    assert "int32_t int8_ops(const int8_t* A, const int8_t* B, int32_t* C, int8_t* D);" in source


def test_packed_signature_is_the_c_runtime_abi() -> None:
    source = emit_c(run_pipeline(read(VECTOR_ADD), PipelineOptions(unpacked_api=False)))
    assert ("int32_t vadd(void* args, int32_t* arg_type_ids, int32_t num_args, void* out_ret_value, "
            "int32_t* out_ret_tcode, void* resource_handle);") in source


def test_function_called_main_gets_a_c_safe_symbol() -> None:
    source = emit_c(run_pipeline(read(MATMUL_RELU), PipelineOptions(unpacked_api=True)))
    assert "int32_t main_func(const float* restrict A, const float* restrict B, float* restrict D)" in source
    assert "int32_t main(" not in source


def test_unlowered_function_is_rejected_with_tir202() -> None:
    with pytest.raises(CompilerError) as info:
        emit_c(read(VECTOR_ADD))
    (diag,) = info.value.diagnostics
    assert diag.code == "TIR202"
    assert "run MakePackedAPI or MakeUnpackedAPI first" in diag.message


def test_runtime_header_is_standalone(tmp_path: Path) -> None:
    (tmp_path / "tir_runtime.h").write_text(runtime_header())
    (tmp_path / "t.c").write_text('#include "tir_runtime.h"\nint main(void) { return (int)sizeof(TVMValue) - 8; }\n')
    import subprocess

    proc = subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "t.c", "-o", "t"],
                          cwd=tmp_path, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert subprocess.run([str(tmp_path / "t")], check=False).returncode == 0


# ---- code the C compiler optimizes well: restrict, lane loops, hoisted reduction init ----

def lower_c(text: str, packed: bool = False) -> str:
    return emit_c(run_pipeline(read(text), PipelineOptions(unpacked_api=not packed)))


CONST_PARAMS = """
@T.prim_func
def f(A: T.Buffer((4,), "float32"), B: T.Buffer((4,), "float32"), C: T.Buffer((4,), "float32"), D: T.Buffer((4,), "float32")):
    for i in range(4):
        D[i] = A[i] + B[i] + C[i]
    T.evaluate(T.call_extern("int32", "fill", B.data))
    T.evaluate(T.call_extern("int32", "fill", T.address_of(C[0])))
"""


def test_only_pointers_that_are_only_read_are_const() -> None:
    # A is only loaded from; B is passed on and C's address is taken (either may be written
    # through), D is stored to.
    source = lower_c(CONST_PARAMS)
    assert "int32_t f(const float* A, float* B, float* C, float* D);" in source


def test_noalias_buffer_pointers_are_restrict() -> None:
    unpacked = lower_c(MATMUL_RELU)
    assert "int32_t main_func(const float* restrict A, const float* restrict B, float* restrict D);" in unpacked
    packed = lower_c(MATMUL_RELU, packed=True)
    # The packed ABI's argument arrays stay plain; the DLTensor data pointers are restrict.
    assert "int32_t main_func(void* args, int32_t* arg_type_ids, int32_t num_args," in packed
    assert "  float* restrict A = (float*)((((DLTensor*)(A_handle))[0].data));" in packed
    assert "  float* restrict D = (float*)((((DLTensor*)(D_handle))[0].data));" in packed
    # Without tirx.noalias the buffers may overlap: no promise.
    assert "restrict" not in lower_c(VECTOR_ADD) and "restrict" not in lower_c(VECTOR_ADD, packed=True)


ACCUMULATE = """
@T.prim_func
def acc(A: T.Buffer((4, 16), "float32"), C: T.Buffer((16,), "float32")):
    T.func_attr({"tirx.noalias": True})
    for j in T.vectorized(16):
        C[j] = T.float32(0.0)
    for k in range(4):
        for j in T.vectorized(16):
            C[j] = C[j] + A[k, j]
"""


@pytest.mark.parametrize("packed", [False, True], ids=["unpacked", "packed"])
def test_vector_store_reading_only_its_own_elements_is_a_lane_loop(tmp_path: Path, packed: bool) -> None:
    source = lower_c(ACCUMULATE, packed)
    assert "  for (int32_t l = 0; l < 16; ++l) {\n    C[l] = 0.0f;\n  }\n" in source
    assert ("    for (int32_t l = 0; l < 16; ++l) {\n      C[l] = (C[l] + A[((k * 16) + l)]);\n    }\n") in source
    assert "float vec" not in source  # no temporary array (the #else body of the vector branch)
    a = RNG.standard_normal((4, 16)).astype("float32")
    res = run_kernel(read(ACCUMULATE), {"A": a}, tmp_path, packed=packed)
    assert res.returncode == 0, res.error
    np.testing.assert_allclose(res.arrays["C"], a.sum(axis=0), rtol=1e-5, atol=1e-6)


SHIFT = """
@T.prim_func
def shift(B: T.Buffer((8,), "float32")):
    T.func_attr({"tirx.noalias": True})
    B[T.Ramp(1, 1, 4)] = B[T.Ramp(0, 1, 4)]
"""


@pytest.mark.parametrize("packed", [False, True], ids=["unpacked", "packed"])
def test_vector_store_reading_other_elements_of_its_buffer_reads_all_lanes_first(tmp_path: Path, packed: bool) -> None:
    # Lane 1 reads B[1], which lane 0 writes: a lane loop would copy B[0] into all four.
    source = lower_c(SHIFT, packed)
    assert "float vec1[4];" in source and "for (int32_t l" not in source
    b = np.arange(8, dtype="float32")
    res = run_kernel(read(SHIFT), {"B": b}, tmp_path, packed=packed)
    assert res.returncode == 0, res.error
    np.testing.assert_array_equal(res.arrays["B"], np.array([0, 0, 1, 2, 3, 5, 6, 7], dtype="float32"))


def test_vector_store_reading_a_buffer_that_may_overlap_keeps_the_temporary_array() -> None:
    # Without tirx.noalias, A or B may be C shifted by a few elements.
    assert "float vec1[4];" in lower_c(VECTORIZED) and "for (int32_t l" not in lower_c(VECTORIZED)
    with_noalias = VECTORIZED.replace("    for i in range(16):", '    T.func_attr({"tirx.noalias": True})\n    for i in range(16):')
    assert "for (int32_t l = 0; l < 4; ++l) {" in lower_c(with_noalias)


def test_reduction_init_is_stored_before_the_reduction_loop() -> None:
    source = lower_c(MATMUL_RELU)
    assert ("      C[((i * 16) + j)] = 0.0f;\n"
            "      for (int32_t k = 0; k < (16); ++k) {\n") in source
    assert "if ((k == 0))" not in source


TWO_STORES = """
@T.prim_func
def two(A: T.Buffer((16,), "float32"), C: T.Buffer((9,), "float32")):
    T.func_attr({"tirx.noalias": True})
    C[T.Ramp(0, 1, 8)] = C[T.Ramp(0, 1, 8)] + A[T.Ramp(0, 1, 8)]
    C[T.Ramp(0, 1, 8)] = C[T.Ramp(0, 1, 8)] * A[T.Ramp(8, 1, 8)]
    C[T.Ramp(1, 1, 8)] = C[T.Ramp(1, 1, 8)] + T.Broadcast(T.float32(1.0), 8)
"""


@pytest.mark.parametrize("packed", [False, True], ids=["unpacked", "packed"])
def test_vector_stores_in_a_row_to_the_same_elements_share_a_lane_loop(tmp_path: Path, packed: bool) -> None:
    source = lower_c(TWO_STORES, packed)
    assert ("  for (int32_t l = 0; l < 8; ++l) {\n"
            "    C[l] = (C[l] + A[l]);\n"
            "    C[l] = (C[l] * A[(8 + l)]);\n"
            "  }\n"
            # The third store is shifted by one element: lane 0 of it reads C[1], which lane 1
            # of the others writes, so it waits for all their lanes.
            "  for (int32_t l = 0; l < 8; ++l) {\n"
            "    C[(1 + l)] = (C[(1 + l)] + 1.0f);\n"
            "  }\n") in source
    a = RNG.standard_normal(16).astype("float32")
    c = RNG.standard_normal(9).astype("float32")
    res = run_kernel(read(TWO_STORES), {"A": a, "C": c}, tmp_path, packed=packed)
    assert res.returncode == 0, res.error
    want = c.copy()
    want[:8] = (want[:8] + a[:8]) * a[8:]
    want[1:] += np.float32(1.0)
    np.testing.assert_allclose(res.arrays["C"], want, rtol=1e-6)


ROWS = """
@T.prim_func
def rows(A: T.Buffer((16,), "float32"), C: T.Buffer((20,), "float32")):
    T.func_attr({"tirx.noalias": True})
    C[T.Ramp(0, 1, 8)] = C[T.Ramp(0, 1, 8)] + A[T.Ramp(0, 1, 8)]
    C[T.Ramp(8, 1, 8)] = C[T.Ramp(8, 1, 8)] * A[T.Ramp(8, 1, 8)]
    C[T.Ramp(12, 1, 8)] = C[T.Ramp(12, 1, 8)] + T.Broadcast(T.float32(1.0), 8)
"""


@pytest.mark.parametrize("packed", [False, True], ids=["unpacked", "packed"])
def test_vector_stores_to_disjoint_rows_share_a_lane_loop(tmp_path: Path, packed: bool) -> None:
    # Rows 0..7 and 8..15 have no element in common: one loop (the rows of a register tile).
    # Row 12..19 overlaps 8..15 four lanes later: lane 0 of it must see lane 4 of the second.
    source = lower_c(ROWS, packed)
    assert ("  for (int32_t l = 0; l < 8; ++l) {\n"
            "    C[l] = (C[l] + A[l]);\n"
            "    C[(8 + l)] = (C[(8 + l)] * A[(8 + l)]);\n"
            "  }\n"
            "  for (int32_t l = 0; l < 8; ++l) {\n"
            "    C[(12 + l)] = (C[(12 + l)] + 1.0f);\n"
            "  }\n") in source
    a = RNG.standard_normal(16).astype("float32")
    c = RNG.standard_normal(20).astype("float32")
    res = run_kernel(read(ROWS), {"A": a, "C": c}, tmp_path, packed=packed)
    assert res.returncode == 0, res.error
    want = c.copy()
    want[:8] += a[:8]
    want[8:16] *= a[8:]
    want[12:] += np.float32(1.0)
    np.testing.assert_allclose(res.arrays["C"], want, rtol=1e-6)


VECTOR_LOCAL = """
@T.prim_func
def vlocal(A: T.Buffer((32,), "float32"), B: T.Buffer((32,), "float32")):
    T.func_attr({"tirx.noalias": True})
    acc = T.alloc_buffer((2,), "float32x16", scope="local")
    acc[0] = A[T.Ramp(0, 1, 16)] * T.Broadcast(T.float32(2.0), 16)
    acc[1] = A[T.Ramp(16, 1, 16)] + acc[0]
    B[T.Ramp(0, 1, 16)] = acc[1]
    B[T.Ramp(16, 1, 16)] = acc[0]
"""


@pytest.mark.parametrize("packed", [False, True], ids=["unpacked", "packed"])
def test_buffer_of_vectors_holds_every_lane(tmp_path: Path, packed: bool) -> None:
    # TVM's StorageRewrite text keeps tiles as ``float32x16`` elements; element i is lanes
    # i * 16 .. i * 16 + 15 of the C array.
    assert "float acc[32];" in lower_c(VECTOR_LOCAL, packed)
    a = RNG.standard_normal(32).astype("float32")
    res = run_kernel(read(VECTOR_LOCAL), {"A": a}, tmp_path, packed=packed)
    assert res.returncode == 0, res.error
    np.testing.assert_allclose(res.arrays["B"], np.concatenate([a[16:] + 2 * a[:16], 2 * a[:16]]), rtol=1e-6)


ESCAPING_ARRAY = """
@T.prim_func
def fill(X: T.Buffer((10,), "float32")):
    for i in range(10):
        X[i] = T.float32(1.0)

@T.prim_func
def outer(Y: T.Buffer((10,), "float32")):
    tmp = T.alloc_buffer((10,), "float32")
    T.evaluate(T.call_extern("int32", "fill", tmp.data))
    for i in range(10):
        Y[i] = tmp[i] * T.float32(2.0)
"""


@pytest.mark.skipif(not HAVE_GCC, reason="needs gcc")
def test_arrays_passed_on_and_workspace_memory_are_64_byte_aligned(tmp_path: Path) -> None:
    # A local array whose address goes to a call meets the callee's alignment check; one only
    # indexed stays a plain array.
    source = emit_c(run_pipeline(read(ESCAPING_ARRAY), PipelineOptions(unpacked_api=True)))
    assert "float tmp[10] TIR_ALIGNED(64);" in source
    run = run_kernel(read(ESCAPING_ARRAY), {"Y": np.zeros(10, np.float32)}, tmp_path / "k", packed=False, func="outer")
    assert run.returncode == 0, run.error
    np.testing.assert_array_equal(run.arrays["Y"], np.full(10, 2.0, np.float32))
    # The runtime's workspace allocator: aligned starts, the whole block usable, freed cleanly
    # (AddressSanitizer reports a wrong free or an overrun).
    (tmp_path / "tir_runtime.h").write_text(runtime_header())
    (tmp_path / "ws.c").write_text(
        '#include "tir_runtime.h"\n#include <stdio.h>\nint main(void) {\n'
        "  for (uint64_t n = 0; n < 300; n += 37) {\n"
        "    unsigned char* p = (unsigned char*)TVMBackendAllocWorkspace(1, 0, n, 2, 32);\n"
        "    if (p == NULL || (uintptr_t)p % 64 != 0) return 1;\n"
        "    for (uint64_t i = 0; i < n; ++i) p[i] = (unsigned char)i;\n"
        "    if (TVMBackendFreeWorkspace(1, 0, p) != 0) return 2;\n"
        "  }\n  return 0;\n}\n")
    import subprocess

    cc = subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-fsanitize=address,undefined",
                         "-fno-sanitize-recover=all", "-o", str(tmp_path / "ws"), str(tmp_path / "ws.c")],
                        capture_output=True, text=True, check=False)
    assert cc.returncode == 0, cc.stderr
    ran = subprocess.run([str(tmp_path / "ws")], capture_output=True, text=True, timeout=60, check=False)
    assert ran.returncode == 0, ran.stderr


WRAPPING = """
@T.prim_func
def wrapping(A: T.Buffer((8,), "int32"), I: T.Buffer((8,), "int32"), B: T.Buffer((8,), "int32"),
             F: T.Buffer((8,), "float32"), C: T.Buffer((8,), "int64")):
    for i in range(8):
        B[i] = A[I[i] + 1 - 1] * A[i] + (0 - A[i * 1 + 0]) - A[i] // A[i]
    for i in range(8):
        x: T.int32 = A[i] + 1
        C[i] = T.Cast("int64", x * x) + T.Cast("int64", F[i] + T.float32(1))
"""


def test_signed_tensor_arithmetic_wraps_and_index_arithmetic_stays_plain() -> None:
    """int32 / int64 arithmetic on values read from buffers is done in the unsigned type of
    its width (two's complement wrap-around, not undefined), and so is arithmetic on a value
    stored in a local; the arithmetic of an index (here I[i] + 1 - 1, a gathered index) stays
    plain C; a float converted to an integer goes through the defined helper."""
    source = lower_c(WRAPPING)
    assert "A[((I[i] + 1) - 1)]" in source
    assert "((int32_t)((uint32_t)(A[((I[i] + 1) - 1)]) * (uint32_t)(A[i])))" in source
    assert "(uint32_t)(0) - (uint32_t)(A[i])" in source
    assert "((int32_t)tir_floordiv((int64_t)(A[i]), (int64_t)(A[i])))" in source  # INT_MIN // -1 defined there
    assert "x[0] = ((int32_t)((uint32_t)(A[i_1]) + (uint32_t)(1)));" in source
    assert "((int32_t)((uint32_t)(x[0]) * (uint32_t)(x[0])))" in source
    assert "tir_f64_to_i64((F[i_1] + 1.0f))" in source
    assert "for (int32_t i = 0; i < (8); ++i) {" in source  # loops: plain
