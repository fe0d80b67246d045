"""Each lowering pass on a small TIR snippet: exact printed result, idempotence, and the
TIR201 error for IR the pass cannot handle; plus the pipeline's order, hooks and resumption."""

from __future__ import annotations

from pathlib import Path

import pytest

from tir_lsp.compiler.backend import emit_c
from tir_lsp.compiler.diagnostics import CompilerError
from tir_lsp.compiler.ir.function import IRModule
from tir_lsp.compiler.text.printer import print_module
from tir_lsp.compiler.text.reader import read_tir
from tir_lsp.compiler.transform import PipelineOptions, list_passes, run_pipeline
from tir_lsp.compiler.transform.registry import get_pass


def read(text: str) -> IRModule:
    result = read_tir(text)
    assert not result.diagnostics, result.diagnostics
    return result.module


def apply(name: str, text: str, **options: object) -> IRModule:
    return get_pass(name).apply(read(text), PipelineOptions(**options))  # type: ignore[arg-type]


def body_of(printed: str) -> str:
    """The printed module without the import comment lines."""
    return "\n".join(line for line in printed.splitlines() if not line.startswith("# from")).strip() + "\n"

SNIPPETS: dict[str, tuple[str, str]] = {
    "LowerInitBlock": (
        """
@T.prim_func
def f(A: T.Buffer((4, 8), "float32"), B: T.Buffer((4,), "float32")):
    for i, k in T.grid(4, 8):
        with T.sblock("B"):
            v_i, v_k = T.axis.remap("SR", [i, k])
            with T.init():
                B[v_i] = T.float32(0.0)
            B[v_i] = B[v_i] + A[v_i, v_k]
""",
        """\
@T.prim_func(s_tir=True)
def f(A: T.Buffer((4, 8), "float32"), B: T.Buffer((4,), "float32")):
    # with T.sblock("root"):
    for i, k in T.grid(4, 8):
        with T.sblock("B"):
            v_i, v_k = T.axis.remap("SR", [i, k])
            if v_k == 0:
                B[v_i] = T.float32(0.0)
            B[v_i] = B[v_i] + A[v_i, v_k]
""",
    ),
    "LowerOpaqueBlock": (
        """
@T.prim_func
def f(A: T.Buffer((10,), "float32"), B: T.Buffer((10,), "float32")):
    for io, ii in T.grid(3, 4):
        with T.sblock("B"):
            v = T.axis.spatial(10, io * 4 + ii)
            T.where(io * 4 + ii < 10)
            T.reads(A[v])
            T.writes(B[v])
            tmp = T.sblock_alloc_buffer((1,))
            tmp[0] = A[v] * T.float32(2.0)
            B[v] = tmp[0]
""",
        """\
@T.prim_func
def f(A: T.Buffer((10,), "float32"), B: T.Buffer((10,), "float32")):
    for io, ii in T.grid(3, 4):
        tmp = T.alloc_buffer((1,))
        if io * 4 + ii < 10:
            tmp[0] = A[io * 4 + ii] * T.float32(2.0)
            B[io * 4 + ii] = tmp[0]
""",
    ),
    "FlattenBuffer": (
        """
@T.prim_func
def f(A: T.Buffer((4, 8), "float32"), B: T.Buffer((4, 8), "float32")):
    C = T.alloc_buffer((4, 8))
    for i, j in T.grid(4, 8):
        C[i, j] = A[i, j]
    for i, j in T.grid(4, 8):
        B[i, j] = C[i, j]
""",
        """\
@T.prim_func
def f(A: T.Buffer((4, 8), "float32"), B: T.Buffer((4, 8), "float32")):
    A_1 = A.view(32)
    B_1 = B.view(32)
    C = T.alloc_buffer((32,))
    for i, j in T.grid(4, 8):
        C[i * 8 + j] = A_1[i * 8 + j]
    for i, j in T.grid(4, 8):
        B_1[i * 8 + j] = C[i * 8 + j]
""",
    ),
    "Simplify": (
        """
@T.prim_func
def f(A: T.Buffer((64,), "float32"), B: T.Buffer((64,), "float32")):
    for i, j in T.grid(4, 16):
        if i < 4:
            B[(i * 16 + j) // 16 * 16 + (i * 16 + j) % 16 + 0] = A[i * 16 * 1 + j // 16 + j % 16]
        if j >= 16:
            B[0] = T.float32(0.0)
""",
        """\
@T.prim_func
def f(A: T.Buffer((64,), "float32"), B: T.Buffer((64,), "float32")):
    for i, j in T.grid(4, 16):
        B[i * 16 + j] = A[i * 16 + j]
""",
    ),
    "CompactBufferAllocation": (
        # C is used per row i: allocated in the i loop, one row. D's index i // 2 is not
        # affine: D stays as it is.
        """
@T.prim_func
def f(A: T.Buffer((8, 8), "float32"), B: T.Buffer((8, 8), "float32")):
    C = T.alloc_buffer((8, 8), scope="local")
    D = T.alloc_buffer((8,), scope="local")
    for i in range(8):
        for j in range(8):
            C[i, j] = A[i, j] * T.float32(2.0)
        for j in range(2, 8):
            B[i, j] = C[i, j - 2] + C[i, j]
    for i in range(8):
        D[i // 2] = A[i, 0]
        B[i, 0] = D[i // 2]
""",
        """\
@T.prim_func
def f(A: T.Buffer((8, 8), "float32"), B: T.Buffer((8, 8), "float32")):
    D = T.alloc_buffer((8,), scope="local")
    for i in range(8):
        C = T.alloc_buffer((1, 8), scope="local")
        for j in range(8):
            C[0, j] = A[i, j] * T.float32(2.0)
        for j in range(2, 8):
            B[i, j] = C[0, j - 2] + C[0, j]
    for i in range(8):
        D[i // 2] = A[i, 0]
        B[i, 0] = D[i // 2]
""",
    ),
    "HoistReductionInit": (
        # Two reduction loops: the init leaves both. It stays where its index uses k, and
        # where something before it in the loop body touches the buffer.
        """
@T.prim_func
def f(A: T.Buffer((64,), "float32"), W: T.Buffer((8,), "float32"), B: T.Buffer((4,), "float32"), D: T.Buffer((4,), "float32")):
    for i, r, s in T.grid(4, 4, 2):
        if r == 0 and s == 0:
            B[i] = T.float32(0.0)
        B[i] = B[i] + A[i * 16 + r * 2 + s] * W[r * 2 + s]
    for i, k in T.grid(4, 4):
        if k == 0:
            D[k] = T.float32(0.0)
        D[i] = D[i] + A[i * 16 + k]
    for i, k in T.grid(4, 4):
        D[i] = D[i] + T.float32(1.0)
        if k == 0:
            D[i] = T.float32(0.0)
""",
        """\
@T.prim_func
def f(A: T.Buffer((64,), "float32"), W: T.Buffer((8,), "float32"), B: T.Buffer((4,), "float32"), D: T.Buffer((4,), "float32")):
    for i in range(4):
        B[i] = T.float32(0.0)
        for r, s in T.grid(4, 2):
            B[i] = B[i] + A[i * 16 + r * 2 + s] * W[r * 2 + s]
    for i, k in T.grid(4, 4):
        if k == 0:
            D[k] = T.float32(0.0)
        D[i] = D[i] + A[i * 16 + k]
    for i, k in T.grid(4, 4):
        D[i] = D[i] + T.float32(1.0)
        if k == 0:
            D[i] = T.float32(0.0)
""",
    ),
    "VectorizeLoop": (
        """
@T.prim_func
def f(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
    for i in range(4):
        for j in T.vectorized(4):
            B[i * 4 + j] = A[i * 4 + j] + T.float32(1.0)
    for j in T.vectorized(4):
        B[j + 1] = B[j]
""",
        """\
@T.prim_func
def f(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
    for i in range(4):
        B[T.Ramp(i * 4, 1, 4)] = A[T.Ramp(i * 4, 1, 4)] + T.Broadcast(T.float32(1.0), 4)
    for j in range(4):
        B[j + 1] = B[j]
""",
    ),
    "UnrollLoop": (
        """
@T.prim_func
def f(A: T.Buffer((3,), "int32")):
    for i in T.unroll(3):
        A[i] = i * 2
    for i in T.unroll(32):
        A[0] = A[0] + i
""",
        """\
@T.prim_func
def f(A: T.Buffer((3,), "int32")):
    A[0] = 0
    A[1] = 2
    A[2] = 4
    for i in T.unroll(32):
        A[0] = A[0] + i
""",
    ),
    "StorageRewrite": (
        """
@T.prim_func
def f(A: T.Buffer((512,), "float32")):
    small = T.alloc_buffer((4,))
    big = T.alloc_buffer((512,))
    for i in range(4):
        small[i] = T.float32(1.0)
    for i in range(512):
        big[i] = small[i % 4]
        A[i] = big[i]
""",
        """\
@T.prim_func
def f(A: T.Buffer((512,), "float32")):
    small = T.alloc_buffer((4,))
    big: T.let[T.handle("float32", "global")] = T.TVMBackendAllocWorkspace(1, 0, T.uint64(2048), 2, 32)
    if T.isnullptr(big):
        T.tvm_throw_last_error()
    big_1 = T.decl_buffer((512,), data=big)
    for i in range(4):
        small[i] = T.float32(1.0)
    for i in range(512):
        big_1[i] = small[i % 4]
        A[i] = big_1[i]
    if T.TVMBackendFreeWorkspace(1, 0, big) != 0:
        T.tvm_throw_last_error()
""",
    ),
    "MakeUnpackedAPI": (
        """
@T.prim_func
def f(A: T.Buffer((8,), "float32"), n: T.int32):
    for i in range(8):
        A[i] = T.Cast("float32", n)
""",
        """\
@T.prim_func
def f(A: T.handle("float32", "global"), n: T.int32) -> T.int32:
    T.func_attr({"global_symbol": "f"})
    assert T.truncmod(T.reinterpret("uint64", A), T.uint64(64)) == T.uint64(0), ("ValueError", ["f: argument #0 (A) expects data aligned to 64 bytes"])
    T.attr(A, "storage_alignment", 64)
    A_1 = T.decl_buffer((8,), data=A)
    for i in range(8):
        A_1[i] = T.Cast("float32", n)
    return 0
""",
    ),
    "LowerIntrin": (
        """
@T.prim_func
def f(A: T.Buffer((8,), "float32"), B: T.Buffer((8,), "float64")):
    for i in range(8):
        A[i] = T.exp(A[i]) + T.sigmoid(A[i])
        B[i] = T.sqrt(B[i])
""",
        """\
@T.prim_func
def f(A: T.Buffer((8,), "float32"), B: T.Buffer((8,), "float64")):
    for i in range(8):
        A[i] = T.call_pure_extern("float32", "expf", A[i]) + T.float32(1.0) / (T.float32(1.0) + T.call_pure_extern("float32", "expf", T.float32(0.0) - A[i]))
        B[i] = T.call_pure_extern("float64", "sqrt", B[i])
""",
    ),
}

ERRORS: dict[str, tuple[str, str, int]] = {
    "LowerInitBlock": (
        """
@T.prim_func
def f(B: T.Buffer((4,), "float32")):
    for i in range(4):
        with T.sblock("B"):
            v_i = T.axis.spatial(4, i)
            with T.init():
                B[v_i] = T.float32(0.0)
            B[v_i] = B[v_i] + T.float32(1.0)
""",
        'LowerInitBlock: block B has T.init() but no reduction iterator',
        8,
    ),
    "LowerOpaqueBlock": (
        """
@T.prim_func
def f(A: T.Buffer((4, 4), "float32")):
    for i in range(4):
        with T.sblock("B"):
            v_i = T.axis.spatial(4, i)
            X = T.match_buffer(A[v_i, 0:4], (4,))
            X[0] = T.float32(0.0)
""",
        'LowerOpaqueBlock: block B uses T.match_buffer, which is not supported yet',
        5,
    ),
    "FlattenBuffer": (
        """
@T.prim_func
def f(A: T.Buffer((4, 4), "float32", axis_separators=[1])):
    for i, j in T.grid(4, 4):
        A[i, j] = T.float32(0.0)
""",
        'FlattenBuffer: cannot flatten buffer A with axis_separators (multi-dimensional physical memory)',
        3,
    ),
    "Simplify": (
        """
@T.prim_func
def f(A: T.Buffer((4,), "int32")):
    for i in range(4):
        A[i] = i // 0
""",
        'Simplify: integer division by zero',
        5,
    ),
    "VectorizeLoop": (
        """
@T.prim_func
def f(A: T.Buffer((16,), "float32")):
    for i in T.vectorized(4):
        for j in T.parallel(4):
            A[i * 4 + j] = T.float32(0.0)
""",
        'VectorizeLoop: cannot vectorize loop i around parallel loop j',
        5,
    ),
    "UnrollLoop": (
        """
@T.prim_func
def f(A: T.Buffer((16,), "float32")):
    for i in T.unroll(4):
        for t in T.thread_binding(4, thread="threadIdx.x"):
            A[i * 4 + t] = T.float32(0.0)
""",
        'UnrollLoop: cannot unroll loop i around thread-bound loop t',
        5,
    ),
    "StorageRewrite": (
        """
@T.prim_func
def f(A: T.Buffer((4,), "float32")):
    S = T.alloc_buffer((4,), scope="shared")
    for i in range(4):
        S[i] = A[i]
        A[i] = S[i]
""",
        "StorageRewrite: cannot place S in memory scope 'shared' on a C target",
        4,
    ),
    "MakePackedAPI": (
        """
@T.prim_func
def f(A: T.handle("float32")) -> T.int32:
    A_1 = T.decl_buffer((4,), data=A)
    A_1[0] = T.float32(0.0)
    return 0
""",
        'MakePackedAPI: function f is already lowered to the unpacked API',
        3,
    ),
    "MakeUnpackedAPI": (
        """
@T.prim_func
def f(a: T.handle):
    n = T.int32()
    A = T.match_buffer(a, (n,))
    for i in range(n):
        A[i] = T.float32(0.0)
""",
        'MakeUnpackedAPI: buffer A has symbolic shape n that no scalar parameter provides; use the packed API or pass it as a parameter',
        5,
    ),
    "LowerIntrin": (
        """
@T.prim_func
def f(A: T.Buffer((4,), "int32")):
    for i in range(4):
        A[i] = T.exp(A[i])
""",
        'LowerIntrin: T.exp of non-float type int32 has no C library function',
        5,
    ),
}


@pytest.mark.parametrize("name", list(SNIPPETS))
def test_pass_output(name: str) -> None:
    text, expected = SNIPPETS[name]
    assert body_of(print_module(apply(name, text, unpacked_api=True))) == expected


@pytest.mark.parametrize("name", list(SNIPPETS))
def test_pass_is_idempotent(name: str) -> None:
    text, _ = SNIPPETS[name]
    once = apply(name, text, unpacked_api=True)
    twice = get_pass(name).apply(once, PipelineOptions(unpacked_api=True))
    # Past its stage a pass changes nothing: the very same module comes back.
    assert twice is once


@pytest.mark.parametrize("name", list(ERRORS))
def test_pass_error_is_tir201_with_span(name: str) -> None:
    text, message, line = ERRORS[name]
    with pytest.raises(CompilerError) as info:
        apply(name, text)
    (diag,) = info.value.diagnostics
    assert diag.code == "TIR201"
    assert diag.message == message
    assert diag.message.startswith(name + ": ")
    assert diag.span.line == line


def test_every_pass_has_a_snippet_and_an_error_case() -> None:
    assert set(list_passes()) - {"MakePackedAPI"} == set(SNIPPETS)
    # HoistReductionInit and CompactBufferAllocation only rewrite the patterns they
    # recognize: no input makes them fail.
    assert set(list_passes()) - {"HoistReductionInit", "CompactBufferAllocation"} == set(ERRORS)


def test_list_passes_is_the_declared_order() -> None:
    assert list_passes() == [
        "LowerInitBlock", "LowerOpaqueBlock", "CompactBufferAllocation", "FlattenBuffer", "Simplify", "HoistReductionInit", "VectorizeLoop",
        "UnrollLoop",
        "StorageRewrite", "MakePackedAPI", "MakeUnpackedAPI", "LowerIntrin",
    ]


def test_every_pass_documents_what_it_expects() -> None:
    for name in list_passes():
        doc = type(get_pass(name)).__doc__ or ""
        assert "Expects" in doc or "expects" in doc, name


def test_packed_api_prologue_checks_each_argument() -> None:
    text = SNIPPETS["MakeUnpackedAPI"][0]
    printed = print_module(apply("MakePackedAPI", text))
    assert "def f(args: T.handle(\"void\", \"global\"), arg_type_ids: T.handle(\"int32\", \"global\"), num_args: T.int32, " \
        "out_ret_value: T.handle(\"void\", \"global\"), out_ret_tcode: T.handle(\"int32\", \"global\"), " \
        "resource_handle: T.handle) -> T.int32:" in printed
    assert 'T.func_attr({"calling_conv": 1, "global_symbol": "f"})' in printed
    assert 'assert num_args == 2, ("TypeError", ["f: expected 2 arguments"])' in printed
    assert "n: T.let[T.int32] = T.Cast(\"int32\", T.tvm_struct_get(args, 1, 12, \"int64\"))" in printed
    assert 'assert T.tvm_struct_get(A_handle, 0, 4, "int32") == 1, ("ValueError", ["f: argument #0 (A) expects ndim 1"])' in printed
    assert "A_1 = T.decl_buffer((8,), data=A)" in printed
    assert printed.rstrip().endswith("return 0")


def test_packed_api_binds_symbolic_shape_from_dltensor() -> None:
    text, _, _ = ERRORS["MakeUnpackedAPI"]
    printed = print_module(apply("MakePackedAPI", text))
    assert 'n: T.let[T.int32] = T.Cast("int32", A_shape_1[0])' in printed


def test_stop_after_and_stage_hooks() -> None:
    seen: list[tuple[str, str]] = []
    opts = PipelineOptions(
        print_before={"FlattenBuffer"}, print_after="all", stop_after="FlattenBuffer",
        on_stage=lambda name, mod, when: seen.append((name, when)),
    )
    mod = run_pipeline(read(SNIPPETS["FlattenBuffer"][0]), opts)
    assert seen == [
        ("LowerInitBlock", "after"), ("LowerOpaqueBlock", "after"), ("CompactBufferAllocation", "after"),
        ("FlattenBuffer", "before"), ("FlattenBuffer", "after"),
    ]
    assert "A_1 = A.view(32)" in print_module(mod)


def test_unknown_stop_after_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown pass 'Flatten'"):
        run_pipeline(read(SNIPPETS["FlattenBuffer"][0]), PipelineOptions(stop_after="Flatten"))


MATMUL = Path(__file__).parent / "fixtures" / "tvm" / "0.27.0.post1" / "matmul_f32" / "00_input.tir"
RESUME_KERNELS = [
    SNIPPETS["LowerInitBlock"][0], SNIPPETS["LowerOpaqueBlock"][0], SNIPPETS["HoistReductionInit"][0],
    SNIPPETS["StorageRewrite"][0],
    SNIPPETS["VectorizeLoop"][0], SNIPPETS["UnrollLoop"][0], SNIPPETS["LowerIntrin"][0],
]


@pytest.mark.parametrize("unpacked", [True, False], ids=["unpacked", "packed"])
@pytest.mark.parametrize("kernel", range(len(RESUME_KERNELS) + 1))
def test_lowering_the_dump_of_stage_k_gives_identical_c(kernel: int, unpacked: bool) -> None:
    text = RESUME_KERNELS[kernel] if kernel < len(RESUME_KERNELS) else MATMUL.read_text()
    dumps: dict[str, str] = {}
    opts = PipelineOptions(unpacked_api=unpacked, print_after="all",
                           on_stage=lambda name, mod, when: dumps.__setitem__(name, print_module(mod)))
    full = emit_c(run_pipeline(read(text), opts))
    assert len(dumps) == len(list_passes()) - 1
    for stage, dump in dumps.items():
        resumed = emit_c(run_pipeline(read(dump), PipelineOptions(unpacked_api=unpacked)))
        assert resumed == full, f"resuming after {stage} changed the C"
