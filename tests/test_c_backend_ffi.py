"""TVM's FFI packed ABI in the C backend: the text TVM prints after its MakePackedAPI
(``self_handle, args, num_args, result``; arguments read from a TVMFFIAny array) becomes C
that a caller drives with TVMFFIAny values, and the pieces of that text the rest of the
compiler must keep (``T.decl_buffer(..., data=<expr>)``, views of re-declared buffers)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from c_backend_harness import HAVE_GCC, TensorOverride, run_kernel

from tir_lsp.compiler.backend import emit_c
from tir_lsp.compiler.ir.function import IRModule
from tir_lsp.compiler.text.printer import print_module
from tir_lsp.compiler.text.reader import read_tir
from tir_lsp.compiler.transform import run_pipeline

# What TVM's MakePackedAPI prints for ``B[i] = A[i] * s`` (n symbolic), trimmed to the checks
# that matter here.
FFI_SCALE = """
@T.prim_func
def scale(self_handle: T.handle, args: T.handle, num_args: T.int32, result: T.handle) -> T.int32:
    T.func_attr({"calling_conv": 1, "global_symbol": "__tvm_ffi_scale", "tirx.noalias": True})
    assert num_args == 3, ("TypeError", ["Expected ", "3", " arguments"])
    A_type_index: T.let[T.int32] = T.tvm_struct_get(args, 0, 13, "int32")
    assert A_type_index == 7 or A_type_index == 70, ("TypeError", ["Mismatched type on argument #", "0"])
    A_handle: T.let[T.handle] = T.if_then_else(A_type_index == 70, T.handle_add_byte_offset(T.tvm_struct_get(args, 0, 15, T.handle().ty), 24), T.tvm_struct_get(args, 0, 15, T.handle().ty))
    B_handle: T.let[T.handle] = T.tvm_struct_get(args, 1, 15, T.handle().ty)
    s: T.let[T.float32] = T.Cast("float32", T.tvm_struct_get(args, 2, 15, "float64"))
    A_shape: T.let[T.handle("int64", "global")] = T.tvm_struct_get(A_handle, 0, 2, T.handle("int64", "global").ty)
    n: T.let[T.int32] = T.Cast("int32", T.tvm_struct_get(A_shape, 0, 17, "int64"))
    A = T.Buffer((n,))
    with T.attr(A, "storage_alignment", 64):
        A = T.decl_buffer((n,), data=T.reinterpret(T.handle("float32", "global").ty, T.tvm_struct_get(A_handle, 0, 1, T.handle().ty)))
        B = T.decl_buffer((n,), data=T.reinterpret(T.handle("float32", "global").ty, T.tvm_struct_get(B_handle, 0, 1, T.handle().ty)))
        for i in range(n):
            B[i] = A[i] * s
        return 0
"""

# The same kernel before any lowering: the parameters the test main passes.
UNLOWERED_SCALE = """
@T.prim_func
def scale(A: T.Buffer(("n",), "float32"), B: T.Buffer(("n",), "float32"), s: T.float32):
    n = T.int32()
    for i in range(n):
        B[i] = A[i] * s
"""

# TVM's packed text declares a 2-D parameter for an attr, re-declares it over the tensor's
# data, then reaches it through a flat view.
FFI_VIEW = """
@T.prim_func
def copy(self_handle: T.handle, args: T.handle, num_args: T.int32, result: T.handle) -> T.int32:
    T.func_attr({"calling_conv": 1, "global_symbol": "__tvm_ffi_copy"})
    A_handle: T.let[T.handle] = T.tvm_struct_get(args, 0, 15, T.handle().ty)
    B_handle: T.let[T.handle] = T.tvm_struct_get(args, 1, 15, T.handle().ty)
    A = T.Buffer((2, 3))
    with T.attr(A, "storage_alignment", 64):
        A = T.decl_buffer((2, 3), data=T.reinterpret(T.handle("float32", "global").ty, T.tvm_struct_get(A_handle, 0, 1, T.handle().ty)))
        B = T.decl_buffer((2, 3), data=T.reinterpret(T.handle("float32", "global").ty, T.tvm_struct_get(B_handle, 0, 1, T.handle().ty)))
        A_1 = A.view(6)
        B_1 = B.view(6)
        for i in range(6):
            B_1[i] = A_1[i]
        return 0
"""

UNLOWERED_COPY = """
@T.prim_func
def copy(A: T.Buffer((2, 3), "float32"), B: T.Buffer((2, 3), "float32")):
    for i, j in T.grid(2, 3):
        B[i, j] = A[i, j]
"""

# TVM's BF16ComputeLegalize reads bfloat16 memory as its uint16 bits.
BF16_BITS = """
@T.prim_func
def bits(A: T.Buffer((4,), "bfloat16"), B: T.Buffer((4,), "uint16"), C: T.Buffer((4,), "bfloat16")):
    for i in range(4):
        B[i] = T.reinterpret("uint16", A[i])
        C[i] = T.reinterpret("bfloat16", B[i] + T.uint16(1))
"""


def read(text: str) -> IRModule:
    result = read_tir(text, "test.py")
    errors = [d for d in result.diagnostics if d.severity == "error"]
    assert not errors, errors
    return result.module


def test_ffi_function_keeps_the_ffi_signature() -> None:
    source = emit_c(run_pipeline(read(FFI_SCALE)))
    assert "int32_t __tvm_ffi_scale(void* self_handle, void* args, int32_t num_args, void* result);" in source
    assert "int32_t A_type_index = (((TVMFFIAny*)(args))[0].type_index);" in source
    assert "(float)((((TVMFFIAny*)(args))[2].value.v_float64))" in source
    # The data pointer the decl_buffer binds is restrict, as for our own packed functions.
    assert "float* restrict A = ((float*)((((DLTensor*)(A_handle))[0].data)));" in source


def test_ffi_function_is_not_lowered_again() -> None:
    mod = read(FFI_SCALE)
    assert run_pipeline(mod).functions[0].params == mod.functions[0].params


@pytest.mark.skipif(not HAVE_GCC, reason="gcc is required to compile generated C")
def test_ffi_function_computes_from_tvmffiany_arguments(tmp_path: Path) -> None:
    a = np.arange(5, dtype="float32")
    res = run_kernel(read(UNLOWERED_SCALE), {"A": a}, tmp_path, packed=True, lowered=run_pipeline(read(FFI_SCALE)),
                     sizes={"n": 5}, scalars={"s": 2.5})
    assert res.returncode == 0, res.error
    np.testing.assert_array_equal(res.arrays["B"], a * np.float32(2.5))


@pytest.mark.skipif(not HAVE_GCC, reason="gcc is required to compile generated C")
def test_ffi_function_reports_a_wrong_type_index(tmp_path: Path) -> None:
    res = run_kernel(read(UNLOWERED_SCALE), {}, tmp_path, packed=True, lowered=run_pipeline(read(FFI_SCALE)),
                     sizes={"n": 5}, scalars={"s": 1.0}, overrides={"A": TensorOverride(type_code=1)})
    assert res.returncode == 2
    assert res.error == "TypeError: Mismatched type on argument #0"


def test_decl_buffer_data_value_is_printed() -> None:
    text = print_module(read(FFI_SCALE))
    assert ('A_1 = T.decl_buffer((n,), data=T.reinterpret(T.handle("float32", "global").ty, '
            "T.tvm_struct_get(A_handle, 0, 1, T.handle().ty)))") in text


@pytest.mark.skipif(not HAVE_GCC, reason="gcc is required to compile generated C")
def test_view_of_flattened_declaration_survives_printing(tmp_path: Path) -> None:
    lowered = run_pipeline(read(FFI_VIEW))
    text = print_module(lowered)
    # FlattenBuffer flattens the 2-D declarations in place; the views name the flat ones
    # (A_1 here; the first A is the attr's, which has no data).
    assert "A_1_1 = A_1.view(6)" in text
    a = np.arange(6, dtype="float32").reshape(2, 3)
    res = run_kernel(read(UNLOWERED_COPY), {"A": a}, tmp_path, packed=True, lowered=run_pipeline(read(text)))
    assert res.returncode == 0, res.error
    np.testing.assert_array_equal(res.arrays["B"], a)


@pytest.mark.skipif(not HAVE_GCC, reason="gcc is required to compile generated C")
def test_reinterpret_between_bfloat16_and_its_bits(tmp_path: Path) -> None:
    a = np.array([0x3F80, 0xC000, 0x0001, 0x7F7F], dtype="uint16")  # 1.0, -2.0, a denormal, the largest
    res = run_kernel(read(BF16_BITS), {"A": a}, tmp_path, packed=False)
    assert res.returncode == 0, res.error
    np.testing.assert_array_equal(res.arrays["B"], a)
    np.testing.assert_array_equal(res.arrays["C"], a + 1)
