"""Writes the reference files of tests/test_tvm_dialect.py: small functions printed by TVM 0.27.

Run with the reference TVM:
    /work/main/.tvm027/bin/python tests/data/dialect/make_reference.py
Each ``<name>.tir`` is exactly what ``script()`` prints for the function or module below.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import tvm
from tvm.script import ir as I
from tvm.script import tirx as T

OUT = Path(__file__).resolve().parent
n = TypeVar("n")


@T.prim_func
def small_floats(A: T.Buffer((16,), "float8_e4m3fn"), B: T.Buffer((4,), "float8_e5m2fnuzx4"),
                 C: T.Buffer((16,), "float8_e8m0fnu"), D: T.Buffer((16,), "float4_e2m1fn"),
                 E: T.Buffer((16,), "float6_e3m2fn")):
    for i in range(16):
        C[i] = T.Cast("float8_e8m0fnu", A[i])
        D[i] = T.Cast("float4_e2m1fn", E[i])


@T.prim_func
def dynamic_typevar(A: T.Buffer((n, 16), "float32"), B: T.Buffer((n, 16), "float32")):
    for i, j in T.grid(n, 16):
        B[i, j] = A[i, j] + T.float32(1)


@T.prim_func
def dynamic_int32(a: T.handle, b: T.handle):
    m = T.int32()
    k = T.int32()
    A = T.match_buffer(a, (m, k))
    B = T.match_buffer(b, (m, k))
    for i, j in T.grid(m, k):
        B[i, j] = A[i, j]


@T.prim_func
def scalars(A: T.Buffer((16,), "float32"), p: T.handle("float32")):
    S = T.alloc_buffer((1,), "float32", scope="local")
    D = T.decl_buffer((1,), "float32", data=p)
    S[0] = T.float32(0)
    for i in range(16):
        S[0] = S[0] + A[i] + D[0]
    A[0] = S[0]


@T.prim_func(s_tir=True)
def zero_dim(A: T.Buffer((16,), "float32"), B: T.Buffer((), "float32")):
    for i in range(16):
        with T.sblock("sum"):
            vi = T.axis.reduce(16, i)
            T.reads(A[vi])
            T.writes(B[()])
            with T.init():
                B[()] = T.float32(0)
            B[()] = B[()] + A[vi]


@T.prim_func(s_tir=True)
def buffer_attributes(warp: T.Buffer((32, 8), "float16", scope="warp", offset_factor=16),
                      shared: T.Buffer((16, 16), "float16", strides=("s0", "s1"), scope="shared", offset_factor=16)):
    with T.sblock("root"):
        T.reads(shared[0:16, 0:16])
        T.writes(warp[0:32, 0:8])
        for tx in T.thread_binding(32, thread="threadIdx.x"):
            T.evaluate(T.ptx_legacy.ldmatrix(
                T.bool(False), 4, ".b16", warp.data, warp.elem_offset + 8 * tx,
                T.tvm_access_ptr(T.type_annotation("float16"), shared.data, shared.elem_offset,
                                 shared.strides[0] * 16, 1),
                shared.strides[0] * (tx % 16) + 8 * (tx // 16)))


@T.prim_func
def thread_ids(out: T.Buffer((4, 32), "int32")):
    T.attr({"tirx.device_entry": T.bool(True)})
    bx = T.cta_id([4])
    tx = T.thread_id([32])
    out[bx, tx] = tx + 1


@I.ir_module
class private_call:
    @T.prim_func(private=True)
    def subroutine(A_data: T.handle("float32"), B_data: T.handle("float32")):
        A = T.decl_buffer((16, 16), data=A_data)
        B = T.decl_buffer((16,), data=B_data)
        for i in range(16):
            B[i] = T.float32(0)
            for j in range(16):
                B[i] = B[i] + A[i, j]

    @T.prim_func
    def main(A: T.Buffer((80, 16), "float32"), B: T.Buffer((64, 16), "float32")):
        for i in range(64):
            private_call.subroutine(T.address_of(A[i, 0]), T.address_of(B[i, 0]))


@I.ir_module
class gpu_kernel:
    @T.prim_func
    def main(A: T.Buffer((128,), "float32"), B: T.Buffer((128,), "float32")):
        for bx in T.thread_binding(4, thread="blockIdx.x"):
            for tx in T.thread_binding(32, thread="threadIdx.x"):
                B[bx * 32 + tx] = A[bx * 32 + tx] * T.float32(2)


def lowered_gpu_kernel() -> tvm.IRModule:
    """The kernel after TVM's default pipeline and SplitHostDevice: a device function with
    launch_thread, and a host function calling it with T.call_ffi_kernel."""
    target = tvm.target.Target("cuda", host="llvm")
    mod = tvm.tirx.transform.BindTarget(target)(gpu_kernel)
    mod = tvm.tirx.get_tir_pipeline("default")[0](mod)
    return tvm.tirx.transform.SplitHostDevice()(mod)


def main() -> None:
    items = {
        "small_floats": small_floats, "dynamic_typevar": dynamic_typevar, "dynamic_int32": dynamic_int32,
        "scalars": scalars, "zero_dim": zero_dim, "buffer_attributes": buffer_attributes,
        "thread_ids": thread_ids, "private_call": private_call, "lowered_gpu_kernel": lowered_gpu_kernel(),
    }
    for name, obj in items.items():
        (OUT / f"{name}.tir").write_text(obj.script() + "\n")
        print("wrote", name)


if __name__ == "__main__":
    main()
