"""The printer: hand-built IR in, exact TVMScript out; TVM 0.27 must read the text back."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tvm_reference import tvm_python

from tir_lsp.compiler.ir import (
    Allocate,
    AllocateConst,
    AllocBuffer,
    AssertStmt,
    AttrStmt,
    Bind,
    BinOp,
    Broadcast,
    Buffer,
    BufferLoad,
    BufferRegion,
    BufferStore,
    Call,
    Cast,
    DataType,
    DeclBuffer,
    Evaluate,
    FloatImm,
    For,
    IfThenElse,
    IntImm,
    IRModule,
    IterVar,
    LaunchThread,
    Let,
    MatchBufferRegion,
    Not,
    PointerType,
    PrimFunc,
    Ramp,
    Range,
    SBlock,
    SBlockRealize,
    Select,
    SeqStmt,
    Shuffle,
    StringImm,
    TargetLiteral,
    TypeLiteral,
    Var,
    While,
)
from tir_lsp.compiler.ir.dtype import BOOL_T, FLOAT32, HANDLE_T, INT32, INT64
from tir_lsp.compiler.ir.structural import structural_diff
from tir_lsp.compiler.text.printer import format_float, print_expr, print_function, print_module
from tir_lsp.compiler.text.reader import read_tir as _read_tir

TVM_PYTHON = tvm_python() or "(no TVM 0.27 interpreter)"
F16 = DataType("float", 16)
I8 = DataType("int", 8)
TRUE = IntImm(BOOL_T, 1)


def i32(v: int) -> IntImm:
    return IntImm(INT32, v)


def f32(v: float) -> FloatImm:
    return FloatImm(FLOAT32, v)


def buf(name: str, shape: tuple[object, ...], dtype: DataType = FLOAT32, **kw: object) -> Buffer:
    scope = str(kw.get("scope", "global"))
    data = Var(name, HANDLE_T, PointerType(dtype, scope))
    dims = tuple(i32(s) if isinstance(s, int) else s for s in shape)
    return Buffer(name, data, dtype, dims, **kw)  # type: ignore[arg-type]


def point(b: Buffer, *idx: object) -> BufferRegion:
    return BufferRegion(b, tuple(Range(x, i32(1)) for x in idx))  # type: ignore[arg-type]


def add(a: object, b: object, dt: DataType = INT32) -> BinOp:
    return BinOp("add", a, b, dt)  # type: ignore[arg-type]


def mul(a: object, b: object, dt: DataType = INT32) -> BinOp:
    return BinOp("mul", a, b, dt)  # type: ignore[arg-type]


def lt(a: object, b: object) -> BinOp:
    return BinOp("lt", a, b, BOOL_T)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- fixtures
def matmul_module() -> IRModule:
    A, B, D, C = buf("A", (16, 16)), buf("B", (16, 16)), buf("D", (16, 16)), buf("C", (16, 16))
    pa, pb, pd = Var("A", HANDLE_T), Var("B", HANDLE_T), Var("D", HANDLE_T)
    i, j, k = Var("i", INT32), Var("j", INT32), Var("k", INT32)
    vi, vj, vk = Var("v_i", INT32), Var("v_j", INT32), Var("v_k", INT32)
    ld = lambda b, *ix: BufferLoad(b, ix, FLOAT32)
    blk_c = SBlock(
        "C", (IterVar(vi, i32(0), i32(16), "S"), IterVar(vj, i32(0), i32(16), "S"), IterVar(vk, i32(0), i32(16), "R")),
        (point(A, vi, vk), point(B, vk, vj)), (point(C, vi, vj),),
        BufferStore(C, add(ld(C, vi, vj), mul(ld(A, vi, vk), ld(B, vk, vj), FLOAT32), FLOAT32), (vi, vj)),
        init=BufferStore(C, f32(0.0), (vi, vj)))
    loop1 = For(i, i32(0), i32(16), "serial", For(j, i32(0), i32(16), "serial", For(
        k, i32(0), i32(16), "serial", SBlockRealize((i, j, k), TRUE, blk_c))))
    i2, j2, vi2, vj2 = Var("i", INT32), Var("j", INT32), Var("v_i", INT32), Var("v_j", INT32)
    blk_d = SBlock("D", (IterVar(vi2, i32(0), i32(16), "S"), IterVar(vj2, i32(0), i32(16), "S")),
                   (point(C, vi2, vj2),), (point(D, vi2, vj2),),
                   BufferStore(D, BinOp("max", ld(C, vi2, vj2), f32(0.0), FLOAT32), (vi2, vj2)))
    loop2 = For(i2, i32(0), i32(16), "serial", For(j2, i32(0), i32(16), "serial",
                                                   SBlockRealize((i2, j2), TRUE, blk_d)))
    root = SBlockRealize((), TRUE, SBlock("root", (), (), (), SeqStmt((loop1, loop2)), alloc_buffers=(C,)))
    f = PrimFunc("main", (pa, pb, pd), ((pa, A), (pb, B), (pd, D)), root,
                 attrs={"tirx.noalias": True}, s_tir=True)
    return IRModule((f,))


MATMUL_TEXT = '''\
# from tvm.script import ir as I
# from tvm.script import tirx as T

@I.ir_module
class Module:
    @T.prim_func(s_tir=True)
    def main(A: T.Buffer((16, 16), "float32"), B: T.Buffer((16, 16), "float32"), D: T.Buffer((16, 16), "float32")):
        T.func_attr({"tirx.noalias": True})
        # with T.sblock("root"):
        C = T.sblock_alloc_buffer((16, 16))
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
'''


def statements_module() -> IRModule:
    A = buf("A", (16,))
    pa, vb, n = Var("A", HANDLE_T), Var("var_B", HANDLE_T), Var("n", INT32)
    p = Var("p", HANDLE_T, PointerType(INT32))
    B = buf("B", (n,), F16)
    x, tx = Var("x", INT32), Var("x", INT32)
    s = buf("s", (1,), scope="local")
    iv = [Var("i", INT32) for _ in range(10)]
    i2 = Var("i", INT32)
    C = buf("C", (256,), I8, scope="local")
    Q = buf("Q", (3,), INT32, scope="local").with_(data=C.data)
    P2 = buf("P2", (3,), INT32, scope="local").with_(data=C.data)
    st = lambda b, v, *ix: BufferStore(b, v, ix)
    body = [
        Bind(x, add(n, i32(1))),
        AllocBuffer(s, scalar=True), st(s, f32(0.0), i32(0)),
        For(iv[0], i32(0), i32(16), "serial", st(s, add(BufferLoad(s, (i32(0),), FLOAT32), BufferLoad(A, (iv[0],), FLOAT32), FLOAT32), i32(0))),
        For(iv[1], i32(2), i32(8), "serial", st(A, BufferLoad(s, (i32(0),), FLOAT32), iv[1])),
        For(iv[2], i32(0), i32(16), "parallel", st(A, f32(1.0), iv[2])),
        For(iv[3], i32(0), i32(4), "vectorized", st(A, f32(1.0), iv[3])),
        For(iv[4], i32(0), i32(4), "unroll", st(A, f32(1.0), iv[4]), annotations={"pragma_x": 1}),
        For(iv[5], i32(0), i32(16), "thread_binding", st(A, f32(1.0), iv[5]), thread_binding="threadIdx.x"),
        For(iv[6], i32(0), i32(16), "serial", st(A, f32(1.0), iv[6]), annotations={"k": "v"}),
        For(iv[7], i32(0), i32(4), "serial", For(i2, i32(0), iv[7], "serial", st(A, f32(2.0), add(mul(iv[7], i32(4)), i2)))),
        For(iv[8], i32(0), i32(4), "serial", For(iv[9], i32(0), i32(4), "serial", st(A, f32(2.0), iv[9]))),
        While(lt(x, i32(3)), st(A, f32(2.0), i32(0))),
        IfThenElse(lt(x, i32(3)), st(A, f32(2.0), i32(0)),
                   IfThenElse(lt(x, i32(5)), st(A, f32(2.0), i32(1)), st(A, f32(2.0), i32(2)))),
        Evaluate(x),
        Evaluate(Call(INT32, "call_extern", (StringImm("foo"), x))),
        st(A, BufferLoad(A, (Ramp(i32(4), i32(1), 4),), FLOAT32.with_lanes(4)), Ramp(i32(0), i32(1), 4)),
        st(A, Broadcast(f32(1.0), 4), Ramp(i32(0), i32(2), 4)),
        st(A, Broadcast(f32(1.0), 4), Ramp(x, i32(1), 4)),
        AllocBuffer(C), AllocBuffer(buf("D", (256,), scope="shared"), annotations={"a": 1}),
        AllocBuffer(buf("E", (4, 4), scope="shared.dyn")),
        st(C, IntImm(I8, 1), i32(0)),
        DeclBuffer(Q), DeclBuffer(P2, form="view", view_of=Q),
        AttrStmt(i32(0), "pragma_x", i32(1)),
        AttrStmt(i32(0), "pragma_y", i32(1), body=Evaluate(i32(0))),
        AttrStmt(None, "", {"compute_scope": "x"}, body=Evaluate(i32(0))),
        LaunchThread(tx, "threadIdx.x", i32(16)),
        AssertStmt(BinOp("gt", tx, i32(0), BOOL_T), (StringImm("bad"),)),
        AssertStmt(BinOp("gt", x, i32(0), BOOL_T), (StringImm("a"), StringImm('b "q"\n')), kind="TypeError"),
        Evaluate(Call(INT32, "ret", (x,))),
    ]
    f = PrimFunc("f", (pa, vb, n, p), ((pa, A), (vb, B)), SeqStmt(tuple(body)), ret_type=INT32,
                 attrs={"tirx.noalias": True, "global_symbol": "f", "a": 1})
    return IRModule((f,), attrs={"executor": "aot"})


STATEMENTS_TEXT = '''\
# from tvm.script import ir as I
# from tvm.script import tirx as T

@I.ir_module
class Module:
    I.module_attrs({"executor": "aot"})
    @T.prim_func
    def f(A: T.Buffer((16,), "float32"), var_B: T.handle, n: T.int32, p: T.handle("int32", "global")) -> T.int32:
        T.func_attr({"a": 1, "global_symbol": "f", "tirx.noalias": True})
        B = T.match_buffer(var_B, (n,), "float16")
        x: T.let[T.int32] = n + 1
        s: T.float32 = T.float32(0.0)
        for i in range(16):
            s = s + A[i]
        for i in range(2, 10):
            A[i] = s
        for i in T.parallel(16):
            A[i] = T.float32(1.0)
        for i in T.vectorized(4):
            A[i] = T.float32(1.0)
        for i in T.unroll(4, annotations={"pragma_x": 1}):
            A[i] = T.float32(1.0)
        for i in T.thread_binding(16, thread="threadIdx.x"):
            A[i] = T.float32(1.0)
        for i in T.serial(16, annotations={"k": "v"}):
            A[i] = T.float32(1.0)
        for i in range(4):
            for i_1 in range(i):
                A[i * 4 + i_1] = T.float32(2.0)
        for i, i_1 in T.grid(4, 4):
            A[i_1] = T.float32(2.0)
        while x < 3:
            A[0] = T.float32(2.0)
        if x < 3:
            A[0] = T.float32(2.0)
        else:
            if x < 5:
                A[1] = T.float32(2.0)
            else:
                A[2] = T.float32(2.0)
        T.evaluate(x)
        T.call_extern("int32", "foo", x)
        A[T.Ramp(0, 1, 4)] = A[T.Ramp(4, 1, 4)]
        A[T.Ramp(0, 2, 4)] = T.Broadcast(T.float32(1.0), 4)
        A[T.Ramp(x, 1, 4)] = T.Broadcast(T.float32(1.0), 4)
        C = T.alloc_buffer((256,), "int8", scope="local")
        D = T.alloc_buffer((256,), scope="shared", annotations={"a": 1})
        E = T.alloc_buffer((4, 4), scope="shared.dyn")
        C[0] = T.int8(1)
        Q = T.decl_buffer((3,), "int32", data=C.data, scope="local")
        P2 = Q.view(3)
        T.attr(0, "pragma_x", 1)
        with T.attr(0, "pragma_y", 1):
            T.evaluate(0)
        with T.attr({"compute_scope": "x"}):
            T.evaluate(0)
        x_1 = T.launch_thread("threadIdx.x", 16)
        assert x_1 > 0, "bad"
        assert x > 0, ("TypeError", ["a", "b \\"q\\"\\n"])
        return x
'''


def block_function() -> PrimFunc:
    """A block with every optional part, a non-remappable axis and a region slice."""
    A = buf("A", (16, 16))
    pa = Var("A", HANDLE_T)
    i, j = Var("i", INT32), Var("j", INT32)
    vi, vj, vk = Var("vi", INT32), Var("vj", INT32), Var("vk", INT32)
    X, S = buf("X", (2,), INT32, scope="local"), buf("S", (16,), strides=(i32(1),), offset_factor=1,
                                                            # TVM's own offset var for an offset factor
                                                            elem_offset=Var("S_elem_offset", INT32))
    region = BufferRegion(A, (Range(vi, i32(1)), Range(i32(0), i32(16))))
    blk = SBlock("B", (IterVar(vi, i32(0), i32(16), "S"), IterVar(vj, i32(0), i32(16), "R"),
                       IterVar(vk, i32(0), i32(4), "O")),
                 (region,), (point(A, vi, vj),),
                 BufferStore(A, add(BufferLoad(A, (vi, vj), FLOAT32), f32(1.0), FLOAT32), (vi, vj)),
                 init=BufferStore(A, f32(0.0), (vi, vj)), alloc_buffers=(X,),
                 match_buffers=(MatchBufferRegion(S, region),), annotations={"x": 1, "a": "s"})
    realize = SBlockRealize((i, mul(j, i32(2)), i32(3)), lt(i, i32(8)), blk)
    loops = For(i, i32(0), i32(16), "serial", For(j, i32(0), i32(8), "serial", realize))
    root = SBlockRealize((), TRUE, SBlock("root", (), (), (), loops))
    return PrimFunc("g", (pa,), ((pa, A),), root, private=True, s_tir=True)


BLOCK_TEXT = '''\
# from tvm.script import tirx as T

@T.prim_func(private=True, s_tir=True)
def g(A: T.Buffer((16, 16), "float32")):
    # with T.sblock("root"):
    for i, j in T.grid(16, 8):
        with T.sblock("B"):
            vi = T.axis.spatial(16, i)
            vj = T.axis.reduce(16, j * 2)
            vk = T.axis.opaque(4, 3)
            T.where(i < 8)
            T.reads(A[vi, 0:16])
            T.writes(A[vi, vj])
            T.sblock_attr({"a": "s", "x": 1})
            X = T.sblock_alloc_buffer((2,), "int32", scope="local")
            S = T.match_buffer(A[vi, 0:16], (16,), strides=(1,), offset_factor=1)
            with T.init():
                A[vi, vj] = T.float32(0.0)
            A[vi, vj] = A[vi, vj] + T.float32(1.0)
'''


# ---------------------------------------------------------------------------- exact text
def test_matmul_prints_as_tvm_does() -> None:
    assert print_module(matmul_module()) == MATMUL_TEXT


def test_every_statement_form() -> None:
    assert print_module(statements_module()) == STATEMENTS_TEXT


def test_block_with_every_part() -> None:
    assert print_function(block_function()) == BLOCK_TEXT


def test_standalone_module_and_dump_header() -> None:
    f = block_function()
    text = print_module(IRModule((f,), standalone=True), header=["stage: 3 LowerInitBlock"])
    assert text == "# stage: 3 LowerInitBlock\n" + BLOCK_TEXT


def test_type_params_and_pointer_params() -> None:
    q = Var("q", HANDLE_T)
    m = Var("m", INT64)
    f = PrimFunc("h", (q, m), (), Evaluate(i32(0)), ret_type=BOOL_T, type_params=("M",))
    assert print_function(f).splitlines()[2:] == [
        "@T.prim_func",
        "def h[M](q: T.handle, m: T.int64) -> T.bool:",
        "    T.evaluate(0)",
    ]


def test_bind_of_pointer_and_handle_types() -> None:
    p = Var("p", HANDLE_T, PointerType(INT64))
    h = Var("h", HANDLE_T)
    args = Var("args", HANDLE_T)
    get = Call(HANDLE_T, "tvm_struct_get", (args, i32(0), i32(2)), PointerType(INT64))
    get2 = Call(HANDLE_T, "tvm_struct_get", (args, i32(0), i32(15)))
    f = PrimFunc("k", (args,), (), SeqStmt((Bind(p, get), Bind(h, get2))))
    assert print_function(f).splitlines()[4:] == [
        '    p: T.let[T.handle("int64", "global")] = T.tvm_struct_get(args, 0, 2, T.handle("int64", "global").ty)',
        "    h: T.let[T.handle] = T.tvm_struct_get(args, 0, 15, T.handle().ty)",
    ]


def test_target_attr_and_sorted_keys() -> None:
    f = PrimFunc("k", (), (), Evaluate(i32(0)),
                 attrs={"target": TargetLiteral({"kind": "c", "keys": ["cpu"], "tag": ""}), "calling_conv": 1})
    assert print_function(f).splitlines()[4] == (
        '    T.func_attr({"calling_conv": 1, "target": T.target({"keys": ["cpu"], "kind": "c", "tag": ""})})')


def test_scalar_without_initial_store_is_a_bare_annotation() -> None:
    s = buf("acc", (1,), scope="local")
    body = SeqStmt((AllocBuffer(s, scalar=True), BufferStore(s, f32(1.0), (i32(1 - 1),)).with_(indices=(i32(0),))))
    # The store right after the declaration folds into it ...
    assert print_function(PrimFunc("k", (), (), body)).splitlines()[-1] == "    acc: T.float32 = T.float32(1.0)"
    # ... and without one the declaration stands alone.
    body2 = SeqStmt((AllocBuffer(s, scalar=True), Evaluate(BufferLoad(s, (i32(0),), FLOAT32))))
    assert print_function(PrimFunc("k", (), (), body2)).splitlines()[-2:] == ["    acc: T.float32", "    T.evaluate(acc)"]


def test_allocate_and_allocate_const() -> None:
    p = Var("p", HANDLE_T, PointerType(FLOAT32))
    q = Var("q", HANDLE_T, PointerType(INT32))
    r = Var("r", HANDLE_T, PointerType(I8, "local"))
    body = SeqStmt((
        Allocate(p, FLOAT32, (i32(16),)),
        AllocateConst(q, INT32, (i32(3),), (1, 2, 3)),
        AllocateConst(q, FLOAT32, (i32(2),), None, metadata_ref=("tirx.AllocateConst", 0)),
        Allocate(r, I8, (i32(4),), body=Evaluate(i32(0))),
    ))
    assert print_function(PrimFunc("k", (), (), body)).splitlines()[4:] == [
        '    p = T.allocate([16], "float32", "global")',
        '    q = T.allocate_const([1, 2, 3], "int32", [3])',
        ('    q_1 = T.allocate_const([0.0, 0.0], "float32", [2])'
         "  # constant data omitted by TVM (tirx.AllocateConst[0]): printed as zeros"),
        '    with T.allocate([4], "int8", "local") as r:',
        "        T.evaluate(0)",
    ]


def test_names_are_deduplicated_only_while_live() -> None:
    a, b, c = Var("i", INT32), Var("i", INT32), Var("i", INT32)
    body = SeqStmt((
        For(a, i32(0), i32(2), "serial", For(b, i32(0), a, "serial", Evaluate(add(a, b)))),
        For(c, i32(0), i32(2), "serial", Evaluate(c)),
    ))
    assert print_function(PrimFunc("k", (), (), body)).splitlines()[4:] == [
        "    for i in range(2):",
        "        for i_1 in range(i):",
        "            T.evaluate(i + i_1)",
        "    for i in range(2):",
        "        T.evaluate(i)",
    ]


# ---------------------------------------------------------------------------- expressions
x, y, z = Var("x", INT32), Var("y", INT32), Var("z", INT32)
fv = Var("f", FLOAT32)
b, c = Var("b", BOOL_T), Var("c", BOOL_T)


def sub(a: object, b_: object) -> BinOp:
    return BinOp("sub", a, b_, INT32)  # type: ignore[arg-type]


def bcall(op: str, *args: object) -> Call:
    return Call(INT32, op, args)  # type: ignore[arg-type]


@pytest.mark.parametrize("expr, text", [
    # What TVM's parser would fold written as an operator keeps its node as a call, as TVM prints it.
    (mul(i32(0), i32(16)), "T.Mul(0, 16)"),
    (add(x, i32(0)), "T.Add(x, 0)"),
    (sub(x, i32(0)), "T.Sub(x, 0)"),
    (mul(i32(1), x), "T.Mul(1, x)"),
    (BinOp("floordiv", x, i32(1), INT32), "T.FloorDiv(x, 1)"),
    (BinOp("lt", i32(0), i32(1), BOOL_T), "T.LT(0, 1)"),
    (add(x, i32(1)), "x + 1"),
    (sub(i32(0), x), "0 - x"),
    (sub(x, sub(y, z)), "x - (y - z)"),
    (sub(sub(x, y), z), "x - y - z"),
    (mul(add(x, y), z), "(x + y) * z"),
    (mul(x, mul(y, z)), "x * (y * z)"),
    (BinOp("floordiv", x, mul(y, z), INT32), "x // (y * z)"),
    (BinOp("floordiv", mul(x, y), z, INT32), "x * y // z"),
    (BinOp("floormod", x, y, INT32), "x % y"),
    (BinOp("div", x, y, INT32), "T.Div(x, y)"),
    (BinOp("div", fv, mul(fv, fv, FLOAT32), FLOAT32), "f / (f * f)"),
    (BinOp("truncmod", x, y, INT32), "T.truncmod(x, y)"),
    (BinOp("min", x, y, INT32), "T.min(x, y)"),
    (BinOp("max", x, y, INT32), "T.max(x, y)"),
    (Not(BinOp("and", b, c, BOOL_T)), "not (b and c)"),
    (Not(BinOp("gt", x, y, BOOL_T)), "not x > y"),
    (Not(Not(b)), "not not b"),
    (BinOp("and", BinOp("or", b, c, BOOL_T), b, BOOL_T), "(b or c) and b"),
    (BinOp("or", b, BinOp("and", c, b, BOOL_T), BOOL_T), "b or c and b"),
    (BinOp("and", lt(x, y), Not(b), BOOL_T), "x < y and not b"),
    (BinOp("and", b, TRUE, BOOL_T), "T.And(b, T.bool(True))"),
    (BinOp("or", IntImm(BOOL_T, 0), b, BOOL_T), "T.Or(T.bool(False), b)"),
    (BinOp("eq", lt(x, y), c, BOOL_T), "(x < y) == c"),
    (BinOp("ne", b, BinOp("eq", x, y, BOOL_T), BOOL_T), "b != (x == y)"),
    (lt(x, add(y, z)), "x < y + z"),
    (add(x, i32(-1)), "x + -1"),
    (mul(i32(-1), x), "-1 * x"),
    (add(bcall("shift_left", x, y), z), "(x << y) + z"),
    (bcall("shift_left", x, add(y, z)), "x << y + z"),
    (bcall("bitwise_and", x, bcall("bitwise_or", y, z)), "x & (y | z)"),
    (bcall("bitwise_or", bcall("bitwise_and", x, y), z), "x & y | z"),
    (bcall("bitwise_xor", x, y), "x ^ y"),
    (bcall("shift_right", x, y), "x >> y"),
    (bcall("bitwise_not", add(x, y)), "~(x + y)"),
    (mul(x, bcall("bitwise_not", y)), "x * ~y"),
    (IntImm(INT64, 5), "T.int64(5)"),
    (IntImm(DataType("uint", 8), 3), "T.uint8(3)"),
    (IntImm(BOOL_T, 1), "T.bool(True)"),
    (FloatImm(F16, 1.5), "T.float16(1.5)"),
    (f32(float("inf")), 'T.float32("inf")'),
    (f32(float("-inf")), 'T.float32("-inf")'),
    (f32(float("nan")), 'T.float32("nan")'),
    (FloatImm(DataType("float", 64), 0.1), "T.float64(0.10000000000000001)"),
    (Cast(FLOAT32, x), 'T.Cast("float32", x)'),
    (Select(b, x, y), "T.Select(b, x, y)"),
    (Call(INT32, "if_then_else", (b, x, y)), "T.if_then_else(b, x, y)"),
    (Ramp(x, i32(1), 4), "T.Ramp(x, 1, 4)"),
    (Broadcast(fv, 4), "T.Broadcast(f, 4)"),
    (Shuffle((Ramp(x, i32(1), 4),), (i32(0), i32(1)), INT32.with_lanes(2)), "T.Shuffle([T.Ramp(x, 1, 4)], [0, 1])"),
    (Let(y, add(x, i32(1)), mul(y, i32(2))), "T.Let(y * 2, where={y: x + 1})"),
    (TypeLiteral(PointerType(FLOAT32)), 'T.handle("float32", "global").ty'),
    (TypeLiteral(HANDLE_T), "T.handle().ty"),
    (Call(FLOAT32, "exp", (fv,)), "T.exp(f)"),
    (Call(INT32, "call_extern", (StringImm("foo"), x)), 'T.call_extern("int32", "foo", x)'),
    (Call(INT32, "call_packed", (StringImm("foo"), x)), 'T.call_packed("foo", x)'),
    (Call(FLOAT32, "reinterpret", (x,)), 'T.reinterpret("float32", x)'),
    (Call(HANDLE_T, "reinterpret", (x,), PointerType(FLOAT32)), 'T.reinterpret(T.handle("float32", "global").ty, x)'),
    (Call(INT32, "tvm_struct_get", (x, i32(0), i32(13))), 'T.tvm_struct_get(x, 0, 13, "int32")'),
    (StringImm('say "hi"\n\\'), '"say \\"hi\\"\\n\\\\"'),
    (add(Select(b, x, y), i32(1)), "T.Select(b, x, y) + 1"),
])
def test_expression(expr: object, text: str) -> None:
    assert print_expr(expr) == text  # type: ignore[arg-type]


def test_buffer_loads_and_predicated_access() -> None:
    A = buf("A", (16, 16))
    assert print_expr(BufferLoad(A, (x, add(y, i32(1))), FLOAT32)) == "A[x, y + 1]"
    pred = Broadcast(TRUE, 4)
    load = BufferLoad(A, (x, Ramp(i32(0), i32(1), 4)), FLOAT32.with_lanes(4), predicate=pred)
    assert print_expr(load) == "A.vload([x, T.Ramp(0, 1, 4)], predicate=T.Broadcast(T.bool(True), 4))"


@pytest.mark.parametrize("value, text", [
    (0.0, "0.0"), (-0.0, "-0.0"), (1.5, "1.5"), (0.1, "0.10000000000000001"),
    (1e-7, "9.9999999999999995e-08"), (3.4e38, "339999999999999996123846586046231871488.0"),
    (12345678.1, "12345678.1"), (1e16, "10000000000000000.0"), (2.5e-5, "2.5000000000000001e-05"),
    (1 / 3, "0.33333333333333331"), (0.0001, "0.0001"),
])
def test_float_repr_matches_tvm(value: float, text: str) -> None:
    assert format_float(value) == text


# ---------------------------------------------------------------------------- round trip
def _reader():  # type: ignore[no-untyped-def]
    reader = pytest.importorskip("tir_lsp.compiler.text.reader", reason="the reader has not landed yet")
    return reader.read_tir


@pytest.mark.parametrize("make, renamed", [
    (matmul_module, False),
    # Shadowed names come back as i_1, x_1: equal up to names.
    (statements_module, True),
    (lambda: IRModule((block_function(),), standalone=True), False),
])
def test_round_trip_is_a_fixed_point_and_structurally_equal(make, renamed) -> None:  # type: ignore[no-untyped-def]
    from tir_lsp.compiler.ir.structural import structural_diff
    read_tir = _reader()
    mod = make()
    text = print_module(mod)
    result = read_tir(text)
    assert [d for d in result.diagnostics if getattr(d, "severity", "error") == "error"] == []
    assert print_module(result.module) == text
    assert structural_diff(mod, result.module, map_free_vars=renamed) is None


# ---------------------------------------------------------------------------- TVM interop
@pytest.mark.skipif(tvm_python() is None, reason="no TVM 0.27 interpreter")
@pytest.mark.parametrize("make", [matmul_module, statements_module,
                                  lambda: IRModule((block_function(),), standalone=True)])
def test_tvm_parses_printed_text(make) -> None:  # type: ignore[no-untyped-def]
    text = print_module(make())
    proc = subprocess.run([TVM_PYTHON, "-c", "import tvm, sys; tvm.script.from_source(sys.stdin.read())"],
                          input=text, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_free_vars_are_declared_up_front_as_tvm_does() -> None:
    n = Var("n", INT32)
    A = buf("A", (n,))
    pa = Var("A", HANDLE_T)
    k = Var("k", INT32)
    body = For(k, i32(0), n, "serial", BufferStore(A, f32(0.0), (k,)))
    assert print_function(PrimFunc("k", (pa,), ((pa, A),), body)).splitlines()[2:] == [
        "@T.prim_func",
        'def k(A: T.Buffer(("n",), "float32")):',
        "    n = T.int32()",
        "    for k in range(n):",
        "        A[k] = T.float32(0.0)",
    ]


def test_region_stop_read_back_as_a_difference_prints_as_written() -> None:
    A = buf("A", (16,))
    v = Var("v", INT32)
    start = mul(v, i32(4))
    extent = BinOp("sub", add(mul(v, i32(4)), i32(4)), mul(v, i32(4)), INT32)
    p = __import__("tir_lsp.compiler.text.printer", fromlist=["_Printer"])._Printer()
    assert p.region(BufferRegion(A, (Range(start, extent),))) == "A[v * 4:v * 4 + 4]"


FIXTURES = sorted(Path(__file__).parent.glob("fixtures/tvm/0.27*/*/*.tir"))


@pytest.mark.skipif(not FIXTURES, reason="no TVM fixture corpus")
def test_tvm_fixtures_round_trip() -> None:
    """Every 7th fixture of the corpus: read, print, read again, print: the same text and
    the same IR (up to the shadowed names the printer renames)."""
    from tir_lsp.compiler.ir.structural import structural_diff
    read_tir = _reader()
    failures = []
    for path in FIXTURES[::7]:
        first = read_tir(path.read_text())
        if any(d.severity == "error" for d in first.diagnostics):
            continue
        text = print_module(first.module)
        second = read_tir(text)
        diff = structural_diff(first.module, second.module, map_free_vars=True)
        if print_module(second.module) != text or (diff and "metadata" not in diff):
            failures.append(f"{path}: {diff}")
    assert failures == []


def test_an_indexed_store_to_a_scalar_keeps_its_index() -> None:
    # Found by the bounded fuzz run: the scalar shorthand (`x = v`) dropped `x[8 + j]`'s index.
    src = (
        "@T.prim_func\n"
        "def main(X: T.Buffer((8,), \"float32\")):\n"
        "    s: T.int32 = 0\n"
        "    for j in range(8):\n"
        "        s[8 + j] = T.Cast(\"int32\", X[j])\n"
    )
    first = _read_tir(src, "s.tir").module
    printed = print_module(first)
    assert "s[8 + j] = " in printed
    assert structural_diff(first, _read_tir(printed, "p.tir").module, map_free_vars=True) is None


# Texts TVM 0.27 prints that our printing changed: each must print back to itself, read back
# as the same IR, and (when TVM is at hand) be read by TVM as the IR of the original text.
_HEAD = "# from tvm.script import tirx as T\n\n"
_FIXED_POINTS = {
    # An explicit ``layout=None`` (no layout) is not the default layout TVM gives a buffer.
    "layout_none": _HEAD + (
        "@T.prim_func\n"
        'def main(A: T.Buffer((10, 11), "float16", layout=None), B: T.Buffer((10, 11), "float16")):\n'
        '    C = T.alloc_buffer((128, 512), "float16", scope="shared", layout=None)\n'
        "    T.evaluate(0)\n"),
    # TVM reads ``T.Let(..., where={x: v})`` only with ``x`` declared before it.
    "let_var_declared": _HEAD + (
        "@T.prim_func(private=True, s_tir=True)\n"
        'def main(A: T.Buffer((4, 4), "float32")):\n'
        "    x = T.float32()\n"
        "    for i, j in T.grid(4, 4):\n"
        '        A[i, j] = T.Let(T.float32(5.0) * x + T.Cast("float32", j), where={x: T.Cast("float32", i + 1)})\n'),
    # A root block around no block is explicit: without it the text reads back without a root.
    "explicit_empty_root": _HEAD + (
        "@T.prim_func(s_tir=True)\n"
        'def main(A: T.Buffer((4,), "float32")):\n'
        '    with T.sblock("root"):\n'
        "        for i in range(4):\n"
        "            A[i] = T.float32(0.0)\n"),
    "explicit_root_around_a_block_without_iterators": _HEAD + (
        "@T.prim_func(s_tir=True)\n"
        'def main(A: T.Buffer((4,), "float32")):\n'
        '    with T.sblock("root"):\n'
        '        with T.sblock("init"):\n'
        "            T.reads()\n"
        "            T.writes(A[0:4])\n"
        "            for i in range(4):\n"
        "                A[i] = T.float32(0.0)\n"),
    # One block without iterators is the function's body: TVM adds no root around it.
    "one_block_without_iterators_is_the_body": _HEAD + (
        "@T.prim_func(s_tir=True)\n"
        "def main():\n"
        '    with T.sblock(""):\n'
        "        T.reads()\n"
        "        T.writes()\n"
        '        T.sblock_attr({"key1": "block1", "key2": "block2"})\n'
        "        T.evaluate(0)\n"),
    # ``0 * 16`` would be folded to 0 when read: TVM prints the node as a call.
    "constant_operands": _HEAD + (
        "@T.prim_func\n"
        'def main(A: T.Buffer((16,), "float32")):\n'
        "    for i in range(16):\n"
        "        A[T.Mul(0, 16) + i] = T.float32(0.0)\n"
        "        A[T.Add(i, 0)] = A[T.FloorDiv(i, 1)]\n"),
    # With an allocation the root stays implicit, as TVM prints it.
    "implicit_root_with_an_allocation": _HEAD + (
        "@T.prim_func(s_tir=True)\n"
        'def main(A: T.Buffer((4,), "float32")):\n'
        '    # with T.sblock("root"):\n'
        "    B = T.sblock_alloc_buffer((4,))\n"
        "    for i in range(4):\n"
        "        B[i] = A[i]\n"),
}


@pytest.mark.parametrize("name", sorted(_FIXED_POINTS))
def test_tvm_printed_text_is_a_fixed_point(name: str) -> None:
    src = _FIXED_POINTS[name]
    first = _read_tir(src, f"{name}.tir")
    assert [d for d in first.diagnostics if d.severity == "error"] == []
    printed = print_module(first.module)
    assert printed == src
    assert structural_diff(first.module, _read_tir(printed, "p.tir").module) is None


_TVM_PRINTS = r"""
import json, sys
import tvm
json.dump({n: tvm.script.from_source(t, check_well_formed=False).script() for n, t in json.load(sys.stdin).items()},
          sys.stdout)
"""
_SAME_IR = r"""
import json, sys
import tvm, tvm_ffi
out = {}
for name, original, ours in json.load(sys.stdin):
    a = tvm.script.from_source(original, check_well_formed=False)
    b = tvm.script.from_source(ours, check_well_formed=False)
    out[name] = tvm_ffi.structural_equal(a, b, map_free_vars=True)
json.dump(out, sys.stdout)
"""


def _tvm(script: str, payload: object) -> object:
    import json
    proc = subprocess.run([TVM_PYTHON, "-c", script], input=json.dumps(payload), capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


@pytest.mark.skipif(tvm_python() is None, reason="no TVM 0.27 interpreter")
def test_tvm_reads_our_printing_of_its_own_text_as_the_same_ir() -> None:
    # TVM's own printing of each text (``T.reads()`` in an explicit root...), through our
    # reader and printer, and back to TVM.
    theirs = _tvm(_TVM_PRINTS, _FIXED_POINTS)
    assert isinstance(theirs, dict)
    items = [[name, text, print_module(_read_tir(text, f"{name}.tir").module)] for name, text in theirs.items()]
    assert _tvm(_SAME_IR, items) == dict.fromkeys(_FIXED_POINTS, True)
