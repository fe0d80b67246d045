"""What TVM 0.25-0.27 prints for TIR reads without a false report, with TVM's meaning, and
prints back as a fixed point (issue #12, the TIR dialect).

The reference files in tests/data/dialect were printed by TVM 0.27 (make_reference.py there);
the snippets below are small TIR in, an exact answer out.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tir_lsp.compiler.analysis.run import analyze_text
from tir_lsp.compiler.ir.dtype import INT32, INT64, parse_dtype
from tir_lsp.compiler.ir.expr import ArrayExpr, BufferLoad, Call, GlobalCall, IntImm, LambdaExpr, Ramp, Var
from tir_lsp.compiler.ir.stmt import (
    AllocBuffer,
    BufferStore,
    DeclBuffer,
    Evaluate,
    For,
    ScopeIdDef,
    flatten_seq,
)
from tir_lsp.compiler.ir.visitor import walk
from tir_lsp.compiler.text.printer import print_module
from tir_lsp.compiler.text.reader import read_tir

DATA = Path(__file__).parent / "data" / "dialect"
HEAD = "# from tvm.script import tirx as T\n\n@T.prim_func\n"


def diagnostics(text: str) -> list[tuple[str, int, str]]:
    return [(d.code, d.span.line, d.message) for d in analyze_text(text, "t.py").diagnostics]


def reprint(text: str) -> str:
    return print_module(read_tir(text, "t.py").module)


def nodes_of(text: str, cls: type) -> list[object]:
    found: list[object] = []
    for f in read_tir(text, "t.py").module.functions:
        walk(f.body, lambda n: found.append(n) if isinstance(n, cls) else None)
    return found


# ---------------------------------------------------------------------------- TVM's own text
@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.tir")))
def test_tvm_reference_reads_clean_and_prints_a_fixed_point(name: str) -> None:
    text = (DATA / name).read_text()
    assert diagnostics(text) == []
    once = reprint(text)
    assert diagnostics(once) == []
    assert reprint(once) == once


# ---------------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("text, bits, lanes", [
    ("float8_e4m3", 8, 1), ("float8_e4m3fn", 8, 1), ("float8_e4m3fnx4", 8, 4), ("float8_e5m2fnuz", 8, 1),
    ("float8_e4m3b11fnuz", 8, 1), ("float8_e8m0fnu", 8, 1), ("float8_e3m4", 8, 1), ("float6_e2m3fn", 6, 1),
    ("float6_e3m2fn", 6, 1), ("float4_e2m1fn", 4, 1), ("float4_e2m1fnx2", 4, 2),
    ("float32xvscalex4", 32, -4), ("uint1xvscalex4", 1, -4), ("boolxvscalex8", 1, -8),
])
def test_every_dtype_tvm_027_knows_reads_and_prints_as_itself(text: str, bits: int, lanes: int) -> None:
    dt = parse_dtype(text)
    assert (dt.bits, dt.lanes, str(dt)) == (bits, lanes, text)


def test_small_float_buffers_keep_their_dtypes() -> None:
    mod = read_tir((DATA / "small_floats.tir").read_text()).module
    assert [str(b.dtype) for _, b in mod.functions[0].buffer_map] == [
        "float8_e4m3fn", "float8_e5m2fnuzx4", "float8_e8m0fnu", "float4_e2m1fn", "float6_e3m2fn"]


# ---------------------------------------------------------------------------- dynamic shapes
def test_typevar_sizes_are_int64_as_in_tvm() -> None:
    text = (DATA / "dynamic_typevar.tir").read_text()
    f = read_tir(text).module.functions[0]
    n = f.buffer_map[0][1].shape[0]
    assert isinstance(n, Var) and (n.name, n.dtype) == ("n", INT64)
    # Each loop of T.grid(n, 16) takes the dtype of its extent, as in TVM.
    loops = {(x.name, x.dtype) for x in nodes_of(text, Var) if x.name in ("i", "j")}  # type: ignore[attr-defined]
    assert loops == {("i", INT64), ("j", INT32)}


def test_type_params_are_int64_and_print_back_as_type_params() -> None:
    text = HEAD + "def f[n](A: T.Buffer((n,), \"float32\")):\n    for i in range(n):\n        A[i] = T.float32(0.0)\n"
    assert diagnostics(text) == []
    assert read_tir(text).module.functions[0].buffer_map[0][1].shape[0].dtype == INT64
    assert reprint(text) == text


def test_size_vars_declared_in_one_tuple_assignment() -> None:
    text = HEAD + ("def f(a: T.handle):\n    n, m = T.int32(), T.int64()\n"
                   "    A = T.match_buffer(a, (n, m))\n    A[0, 0] = T.float32(0.0)\n")
    assert diagnostics(text) == []
    shape = read_tir(text).module.functions[0].buffer_map[0][1].shape
    assert [(v.name, v.dtype) for v in shape] == [("n", INT32), ("m", INT64)]  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------- buffers
def test_buffer_attributes_mean_what_tvm_reads() -> None:
    text = (DATA / "buffer_attributes.tir").read_text()
    call = next(c for c in nodes_of(text, Call) if c.op == "ptx_legacy.ldmatrix")  # type: ignore[attr-defined]
    offset = call.args[4].a  # warp.elem_offset + 8 * tx
    assert isinstance(offset, Var) and offset.name == "warp_elem_offset"  # TVM's var for offset_factor
    stride = call.args[6].a.a  # shared.strides[0] * (tx % 16)
    assert isinstance(stride, Var) and stride.name == "s0"
    assert "warp.elem_offset + 8 * tx" in reprint(text)


def test_shape_entry_and_a_missing_stride() -> None:
    text = HEAD + ("def f(A: T.Buffer((4, 16), \"float32\")):\n"
                   "    T.evaluate(T.call_extern(\"int32\", \"g\", A.shape[1], A.strides[0]))\n")
    assert diagnostics(text) == [("TIR014", 5, "'A.strides' has 0 entries")]
    call = nodes_of(HEAD + "def f(A: T.Buffer((4, 16), \"float32\")):\n    T.evaluate(A.shape[1])\n", IntImm)
    assert [c.value for c in call] == [16]  # type: ignore[attr-defined]


def test_zero_dimensional_buffer_is_indexed_by_an_empty_tuple() -> None:
    text = (DATA / "zero_dim.tir").read_text()
    loads = [x for x in nodes_of(text, BufferLoad) if x.buffer.name == "B"]  # type: ignore[attr-defined]
    assert loads and all(x.indices == () for x in loads)  # type: ignore[attr-defined]
    assert "T.writes(B[()])" in reprint(text)


def test_scalar_source_is_its_buffer_in_a_region() -> None:
    text = ("# from tvm.script import tirx as T\n\n@T.prim_func(s_tir=True)\n"
            "def f(A: T.Buffer((16,), \"float32\")):\n"
            "    # with T.sblock(\"root\"):\n"
            "    lo: T.float32 = T.float32(-5.0)\n"
            "    for i in range(16):\n"
            "        with T.sblock(\"b\"):\n"
            "            vi = T.axis.spatial(16, i)\n"
            "            T.reads(lo.source[0])\n"
            "            T.writes(A[vi])\n"
            "            A[vi] = lo\n")
    assert diagnostics(text) == []
    assert reprint(text) == text


def test_scalar_buffers_tvm_prints() -> None:
    text = HEAD + ("def f(A: T.Buffer((16,), \"float32\"), p: T.handle(\"float32\", \"global\")):\n"
                   "    D = T.decl_scalar(T.float32, data=p, elem_offset=0, scope=\"global\")\n"
                   "    S = T.alloc_scalar(T.float32, scope=\"shared\")\n"
                   "    S = D + T.float32(1.0)\n"
                   "    A[0] = S\n")
    assert diagnostics(text) == []
    assert reprint(text) == text
    stores = [s.buffer.name for s in nodes_of(text, BufferStore)]  # type: ignore[attr-defined]
    assert stores == ["S", "A"]


def test_seed_era_allocate_const_is_indexed_directly_and_buffer_decl() -> None:
    text = ("# from tvm.script import tir as T\n\n@T.prim_func\n"
            "def f(A: T.Buffer((10,), \"int32\")):\n"
            "    K = T.allocate_const([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], \"int32\", [10])\n"
            "    for x in range(10):\n"
            "        A[x] = K[x]\n"
            "    B = T.buffer_decl([10], \"int32\", data=A.data)\n"
            "    B[0] = 1\n")
    assert diagnostics(text) == []
    load = next(x for x in nodes_of(text, BufferLoad) if x.buffer.name == "K")  # type: ignore[attr-defined]
    assert str(load.buffer.dtype) == "int32" and [e.value for e in load.buffer.shape] == [10]  # type: ignore[attr-defined]
    assert [d.form for d in nodes_of(text, DeclBuffer)] == ["decl_buffer"]  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------- threads and kernels
def test_thread_ids_of_the_kernel_dialect_bind_their_names() -> None:
    text = (DATA / "thread_ids.tir").read_text()
    ids = nodes_of(text, ScopeIdDef)
    assert [(s.kind, [v.name for v in s.vars]) for s in ids] == [("cta_id", ["bx"]), ("thread_id", ["tx"])]  # type: ignore[attr-defined]
    two = HEAD + "def f(A: T.Buffer((2, 4), \"int32\")):\n    bx, by = T.cta_id([2, 4])\n    A[bx, by] = 1\n"
    assert diagnostics(two) == []
    assert reprint(two) == two
    wrong = HEAD + "def f(A: T.Buffer((2, 4), \"int32\")):\n    bx, by = T.cta_id([2])\n    A[bx, by] = 1\n"
    assert diagnostics(wrong)[0] == ("TIR012", 5, "T.cta_id defines 1 id(s), assigned to 2 name(s)")


def test_launched_thread_vars_are_defined() -> None:
    text = HEAD + ("def f(A: T.Buffer((128,), \"float32\")):\n"
                   "    with T.launch_thread(\"blockIdx.x\", 4) as blockIdx_x:\n"
                   "        threadIdx_x = T.launch_thread(\"threadIdx.x\", 32)\n"
                   "        tx = T.env_thread(\"threadIdx.y\")\n"
                   "        T.launch_thread(tx, 2)\n"
                   "        A[blockIdx_x * 32 + threadIdx_x + tx] = T.float32(0.0)\n")
    assert diagnostics(text) == []


def test_kernel_launch_keeps_its_keyword_arguments() -> None:
    text = (DATA / "lowered_gpu_kernel.tir").read_text()
    line = next(ln.strip() for ln in reprint(text).splitlines() if "T.call_ffi_kernel" in ln)
    assert line == ('T.call_ffi_kernel("main_kernel", A_1.data, B_1.data, 4, 32, '
                    'launch_params=["blockIdx.x", "threadIdx.x"], ret_ty="int32")')


def test_call_of_a_module_function() -> None:
    text = (DATA / "private_call.tir").read_text()
    calls = nodes_of(text, GlobalCall)
    assert [(c.callee, len(c.args)) for c in calls] == [("subroutine", 2)]  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------- TIR105
def test_void_function_with_pointer_params_is_no_error_before_lowering() -> None:
    # A subroutine as TVM prints it before any lowering: in no calling convention yet.
    assert diagnostics((DATA / "private_call.tir").read_text()) == []


def test_void_function_called_unpacked_must_return_int32() -> None:
    text = ("# from tvm.script import ir as I\n# from tvm.script import tirx as T\n\n@I.ir_module\nclass Module:\n"
            "    @T.prim_func\n    def g(A: T.handle(\"float32\")):\n"
            "        A_1 = T.decl_buffer((16,), data=A)\n        A_1[0] = T.float32(0.0)\n\n"
            "    @T.prim_func\n    def main(A: T.handle(\"float32\")) -> T.int32:\n"
            "        T.call_extern(\"int32\", \"g\", A)\n        return 0\n")
    assert [(c, ln) for c, ln, _ in diagnostics(text)] == [("TIR105", 7)]


# ---------------------------------------------------------------------------- expressions
def test_lists_tuples_none_and_lambdas_as_call_arguments() -> None:
    text = HEAD + ("def f(A: T.Buffer((16,), \"float32\")):\n"
                   "    T.cuda.func_call(\"g\", [1, 2], (A.data,), None, lambda i, j: (j, i))\n")
    assert diagnostics(text) == []
    assert reprint(text) == text
    call = next(c for c in nodes_of(text, Call) if c.op == "cuda.func_call")  # type: ignore[attr-defined]
    kinds = [type(a).__name__ + ":" + getattr(a, "kind", "") for a in call.args[1:]]  # type: ignore[attr-defined]
    assert kinds == ["ArrayExpr:list", "ArrayExpr:tuple", "ArrayExpr:none", "LambdaExpr:"]
    lam = call.args[4]  # type: ignore[attr-defined]
    assert isinstance(lam, LambdaExpr) and isinstance(lam.body, ArrayExpr)
    assert lam.body.elements == (lam.params[1], lam.params[0])


def test_storage_sync_takes_up_to_three_arguments() -> None:
    text = HEAD + "def f():\n    T.tvm_storage_sync(\"global\", T.bool(True), 4)\n"
    assert diagnostics(text) == []
    assert reprint(text) == text


def test_scalable_vectors() -> None:
    text = ("# from tvm.script import tirx as T\n\n@T.prim_func(s_tir=True)\n"
            "def f(A: T.Buffer((128, 128), \"float32\"), B: T.Buffer((128,), \"float32\")):\n"
            "    A.vstore([0, T.Ramp(0, 2, T.vscale() * 4)], A.vload([0, T.Ramp(0, 4, T.vscale() * 4)], "
            "predicate=T.get_active_lane_mask(\"uint1xvscalex4\", 0, 13)), "
            "predicate=T.get_active_lane_mask(\"uint1xvscalex4\", 0, 13))\n"
            "    B[T.Ramp(0, 1, T.vscale() * 4)] = T.Broadcast(T.float32(1.0), T.vscale() * 4)\n")
    assert diagnostics(text) == []
    assert reprint(text) == text
    ramps = nodes_of(text, Ramp)
    assert {str(r.dtype) for r in ramps} == {"int32xvscalex4"}  # type: ignore[attr-defined]
    sliced = HEAD + "def f(B: T.Buffer((128,), \"float32\")):\n    B[0:T.vscale() * 4] = T.Broadcast(T.float32(1.0), T.vscale() * 4)\n"
    assert diagnostics(sliced) == []


def test_vector_slice_with_a_typed_length() -> None:
    text = HEAD + ("def f(A: T.Buffer((T.int64(64),), \"float32\"), i: T.int64):\n"
                   "    A[i * T.int64(8):i * T.int64(8) + T.int64(8)] = T.Broadcast(T.float32(0.0), 8)\n")
    assert diagnostics(text) == []
    store = nodes_of(text, BufferStore)[0]
    assert isinstance(store.indices[0], Ramp) and store.indices[0].lanes == 8  # type: ignore[attr-defined]


def test_registered_operators_are_known_and_made_up_ones_are_not() -> None:
    text = HEAD + ("def f():\n    T.cuda.iket.mark(\"a\")\n    T.ptx.cp(\"async\", \"commit_group\", \"\")\n"
                   "    T.tvm_fill_fragment(T.handle().ty, 16, 16, 16, 0, T.float32(0.0))\n    T.not_an_op(1)\n")
    assert diagnostics(text) == [("TIR004", 8, "unknown builtin T.not_an_op")]
    evals = nodes_of(text, Evaluate)
    assert len(evals) == 4


def test_scalar_sugar_needs_no_alloc_statement_of_its_own() -> None:
    text = HEAD + "def f(A: T.Buffer((1,), \"float32\")):\n    acc: T.float32 = T.float32(0.0)\n    A[0] = acc\n"
    allocs = nodes_of(text, AllocBuffer)
    assert [a.scalar for a in allocs] == [True]  # type: ignore[attr-defined]
    body = flatten_seq(read_tir(text).module.functions[0].body)
    assert [type(s).__name__ for s in body] == ["AllocBuffer", "BufferStore", "BufferStore"]
    assert reprint(text) == text  # the alloc and its first store print back as one line


# ---------------------------------------------------------------------------- lowered text
def test_integer_condition_is_true_when_nonzero() -> None:
    text = HEAD + "def f(A: T.Buffer((4,), \"int32\"), n: T.int32):\n    if n:\n        A[0] = 1\n"
    assert diagnostics(text) == []


def test_target_and_iter_var_as_attribute_nodes() -> None:
    text = HEAD + ("def f(A: T.Buffer((4,), \"float32\")):\n"
                   "    i = T.int32()\n"
                   "    T.attr(T.target({\"keys\": [\"cpu\"], \"kind\": \"llvm\", \"tag\": \"\"}), \"target\", 0)\n"
                   "    T.attr(T.iter_var(i, None, \"DataPar\", \"\"), \"pragma_parallel_launch_point\", 1)\n"
                   "    A[0] = T.float32(0.0)\n")
    assert diagnostics(text) == []
    assert reprint(text) == text


def test_void_extern_call_expects_no_status() -> None:
    text = ("# from tvm.script import ir as I\n# from tvm.script import tirx as T\n\n@I.ir_module\nclass Module:\n"
            "    @T.prim_func\n    def g(A: T.handle(\"float32\")):\n"
            "        A_1 = T.decl_buffer((16,), data=A)\n        A_1[0] = T.float32(0.0)\n\n"
            "    @T.prim_func\n    def main(A: T.Buffer((16,), \"float32\")):\n"
            "        T.call_extern(\"void\", \"g\", A.data)\n")
    assert diagnostics(text) == []


def test_clz_counts_in_int32() -> None:
    text = HEAD + "def f(B: T.Buffer((4,), \"int32\"), i: T.int64):\n    B[0] = T.clz(i)\n"
    assert diagnostics(text) == []
    assert next(c for c in nodes_of(text, Call) if c.op == "clz").dtype == INT32  # type: ignore[attr-defined]


def test_strided_scalable_slice() -> None:
    text = HEAD + ("def f(A: T.Buffer((200,), \"float32\")):\n"
                   "    A[11:11 + T.vscale() * 4 * 2:2] = T.Broadcast(T.float32(125.0), T.vscale() * 4)\n")
    assert diagnostics(text) == []
    ramp = nodes_of(text, Ramp)[0]
    assert (ramp.lanes, str(ramp.dtype)) == (-4, "int32xvscalex4")  # type: ignore[attr-defined]


def test_size_declared_inside_the_loop_that_uses_it() -> None:
    text = HEAD + "def f(A: T.Buffer((25,), \"int32\")):\n    for j in T.vectorized(n):\n        n = T.int32()\n        A[j] = 3\n"
    assert diagnostics(text) == []
    assert reprint(text) == HEAD + "def f(A: T.Buffer((25,), \"int32\")):\n    n = T.int32()\n    for j in T.vectorized(n):\n        A[j] = 3\n"


def test_layouts_tile_primitives_and_local_views() -> None:
    head = HEAD.replace("as T\n", "as T\n# from tvm.tirx.layout import Axis\n")
    text = head + ("def f(A: T.Buffer((4, 8), \"float16\"), B: T.Buffer((4, 8), \"float16\")):\n"
                   "    T.attr({\"tirx.device_entry\": T.bool(True)})\n"
                   "    tid = T.thread_id([32])\n"
                   "    R = T.alloc_buffer((4, 8), \"float16\", scope=\"local\", "
                   "layout=T.TileLayout(T.S[(4, 8):(1 @ Axis.laneid, 1)]))\n"
                   "    T.warp.copy(R[0:4, 0:8], A[0:4, 0:8])\n"
                   "    r = R.local()\n"
                   "    with T.hint(\"software pipeline\", depth=4):\n"
                   "        for e in range(8):\n"
                   "            B[tid % 4, e] = r[e]\n")
    assert diagnostics(text) == []
    assert reprint(text) == text
    local = next(d for d in nodes_of(text, DeclBuffer) if d.form == "local")  # type: ignore[attr-defined]
    assert [e.value for e in local.buffer.shape] == [8]  # type: ignore[attr-defined]


def test_local_view_of_a_laid_out_view_and_its_own_layout() -> None:
    # TVM: ``A.view(..., layout=L)`` carries L; ``.local()`` is the span of L's memory part
    # (offset included), ``.local(layout=M)`` its size.
    head = HEAD.replace("as T\n", "as T\n# from tvm.tirx.layout import Axis\n")
    text = head + ("def f():\n"
                   "    T.attr({\"tirx.device_entry\": T.bool(True)})\n"
                   "    A = T.alloc_buffer((6,), scope=\"local\")\n"
                   "    B = A.view(32, 2, layout=T.TileLayout(T.S[(32, 2):(1 @ Axis.laneid, 2)] + 3))\n"
                   "    B_flat = B.local()\n"
                   "    B_storage = B.local(layout=T.TileLayout(T.S[2:2] + 3))\n"
                   "    B_flat[5] = T.float32(1.0)\n"
                   "    B_storage[1] = T.float32(3.0)\n")
    assert diagnostics(text) == []
    assert reprint(text) == text
    shapes = {d.buffer.name: [e.value for e in d.buffer.shape] for d in nodes_of(text, DeclBuffer)}  # type: ignore[attr-defined]
    assert shapes["B_flat"] == [6] and shapes["B_storage"] == [2]


def test_permuted_buffer() -> None:
    text = HEAD + ("def f():\n"
                   "    A = T.alloc_buffer((8, 4), \"float16\", scope=\"local\")\n"
                   "    B = A.permute(1, 0)\n"
                   "    B[3, 7] = T.float16(0.0)\n")
    assert diagnostics(text) == []
    assert reprint(text) == text
    perm = next(d for d in nodes_of(text, DeclBuffer) if d.form == "permute")  # type: ignore[attr-defined]
    assert [e.value for e in perm.buffer.shape] == [4, 8]  # type: ignore[attr-defined]
    bad = diagnostics(text.replace("permute(1, 0)", "permute(0, 0)"))
    assert bad[0][0] == "TIR012" and "dimensions of 'A' once" in bad[0][2]


def test_uint32_loop_and_elect_sync_have_tvm_dtypes() -> None:
    # TVM: ``range(T.uint32(4))`` counts in uint32, and T.cuda.elect_sync() is uint32; mixing
    # them with uint32 values is no implicit conversion.
    text = HEAD + ("def f(A: T.Buffer((32,), \"int32\")):\n"
                   "    T.attr({\"tirx.device_entry\": T.bool(True)})\n"
                   "    tx = T.thread_id([128], dtype=\"uint32\")\n"
                   "    for k in range(T.uint32(4)):\n"
                   "        T.evaluate(tx + k)\n"
                   "    if T.cuda.elect_sync() != T.uint32(0):\n"
                   "        A[0] = 1\n")
    assert diagnostics(text) == []
    loop = nodes_of(text, For)[0]
    assert str(loop.loop_var.dtype) == "uint32" and str(loop.min.dtype) == "uint32"  # type: ignore[attr-defined]
    elect = next(c for c in nodes_of(text, Call) if c.op == "cuda.elect_sync")
    assert str(elect.dtype) == "uint32"  # type: ignore[attr-defined]
    assert [d[0] for d in diagnostics(text.replace("T.uint32(4)", "4"))] == ["TIR017"]


def test_one_element_buffer_by_its_bare_name() -> None:
    text = HEAD + ("def f(A: T.Buffer((1,), \"float32\"), B: T.Buffer((1,), \"float32\", offset_factor=16)):\n"
                   "    A = B[0] + T.float32(1.0)\n"
                   "    T.call_extern(\"int32\", \"g\", A.source.data, A)\n")
    assert diagnostics(text) == []
    call = next(c for c in nodes_of(text, Call) if c.op == "call_extern")
    assert isinstance(call.args[2], BufferLoad) and call.args[2].buffer.name == "A"  # type: ignore[attr-defined]
    assert isinstance(call.args[1], Var) and call.args[1].dtype.is_handle  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------- printing for TVM
def test_int64_sizes_of_a_signature_print_as_typevars() -> None:
    # A quoted "n" would read back in TVM as an int32 size.
    text = (DATA / "dynamic_typevar.tir").read_text()
    out = reprint(text)
    assert out.splitlines()[:4] == ["# from typing import TypeVar", "# from tvm.script import tirx as T", "",
                                    'n = TypeVar("n")']
    assert "def dynamic_typevar(A: T.Buffer((n, 16), \"float32\")" in out


def test_quoted_size_expression_is_an_expression() -> None:
    text = ("# from typing import TypeVar\n# from tvm.script import tirx as T\n\n"
            "M = TypeVar(\"M\")\nN = TypeVar(\"N\")\n@T.prim_func\n"
            "def f(A: T.Buffer((M, N), \"float32\"), B: T.Buffer((\"M * N\",), \"float32\")):\n"
            "    B[0] = A[0, 0]\n")
    assert diagnostics(text) == []
    assert 'B: T.Buffer((M * N,), "float32")' in reprint(text)


def test_scalar_param_used_by_an_earlier_buffer_is_quoted_once() -> None:
    text = HEAD + "def f(A: T.Buffer((n,), \"int32\"), B: T.Buffer((n,), \"int32\"), n: T.int32):\n    A[0] = B[0]\n"
    assert diagnostics(text) == []
    assert 'def f(A: T.Buffer(("n",), "int32"), B: T.Buffer((n,), "int32"), n: T.int32):' in reprint(text)


def test_size_first_used_inside_an_expression_quotes_the_whole_entry() -> None:
    text = HEAD + "def f(A: T.Buffer((\"x * 8\",), \"float32\")):\n    x = T.int32()\n    A[0] = T.float32(0.0)\n"
    assert diagnostics(text) == []
    assert reprint(text) == text
