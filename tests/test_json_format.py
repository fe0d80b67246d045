"""TIR as JSON: exact round trips, shared vars and buffers, constants, errors, schema."""

from __future__ import annotations

import dataclasses
import json
import math
import struct
import sys
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest

from tir_lsp.compiler import ir
from tir_lsp.compiler.backend import json_format
from tir_lsp.compiler.backend.json_format import dumps, json_schema, loads, module_from_json, module_to_json
from tir_lsp.compiler.diagnostics import CODES, CompilerError
from tir_lsp.compiler.ir import (
    Allocate,
    AllocateConst,
    AllocBuffer,
    ArrayExpr,
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
    GlobalCall,
    HintStmt,
    IfThenElse,
    IntImm,
    IRModule,
    IterVar,
    LambdaExpr,
    LaunchThread,
    Let,
    MatchBufferRegion,
    MetadataRef,
    Not,
    PointerType,
    PrimFunc,
    PyValue,
    Ramp,
    Range,
    RegionArg,
    SBlock,
    SBlockRealize,
    ScopeIdDef,
    Select,
    SeqStmt,
    Shuffle,
    Span,
    StringImm,
    TargetLiteral,
    TypeLiteral,
    Var,
    While,
    parse_dtype,
)
from tir_lsp.compiler.ir.node import Node, is_source_spans, node_fields
from tir_lsp.compiler.ir.structural import structural_diff, structural_equal

ROOT = Path(__file__).resolve().parent.parent
I32, F32, BOOL, HANDLE = (parse_dtype(t) for t in ("int32", "float32", "bool", "handle"))


def sp(line: int, col: int = 5) -> Span:
    return Span(line, col, line, col + 3)


def i32(v: int, line: int | None = None) -> IntImm:
    return IntImm(I32, v, span=sp(line) if line else None)


def kitchen_sink() -> IRModule:
    """One module holding every node kind, every optional field set somewhere, and spans."""
    n = Var("n", I32, span=sp(3, 20))
    a_handle = Var("A", HANDLE, span=sp(3, 10))
    a_data = Var("A_data", HANDLE, PointerType(F32, "global"), span=sp(4))
    A = Buffer("A", a_data, F32, (n, i32(16)), strides=(i32(16), i32(1)), elem_offset=i32(0),
               scope="global", align=64, offset_factor=1, buffer_type="auto", axis_separators=(1,),
               annotations={"layout": "NR", "bound": BinOp("add", n, i32(1), I32)}, span=sp(3, 13))
    x1 = Var("x", I32, span=sp(5))
    x2 = Var("x", I32, span=sp(6))  # shadows x1: same name, another var
    load = BufferLoad(A, (x1, x2), F32, predicate=IntImm(BOOL, 1), span=sp(7, 30))
    i = Var("i", I32, span=sp(8))
    B_data = Var("B_data", HANDLE, PointerType(F32, "local"))
    B = Buffer("B", B_data, F32, (i32(4),), scope="local")
    B_view = Buffer("B_1", B_data, F32, (i32(2), i32(2)), scope="local")
    tx = Var("threadIdx_x", I32)
    p = Var("p", HANDLE, PointerType(F32))
    c = Var("c", HANDLE, PointerType(F32))
    c2 = Var("c2", HANDLE, PointerType(I32))
    vi = Var("vi", I32)
    C = Buffer("C", Var("C_data", HANDLE, PointerType(F32)), F32, (i32(16),))
    S = Buffer("S", Var("S_data", HANDLE, PointerType(F32)), F32, (i32(1),))
    Xm = Buffer("X", Var("X_data", HANDLE, PointerType(F32)), F32, (i32(4),))
    lv = Var("y", I32)
    exprs = (
        FloatImm(F32, 0.1), FloatImm(F32, math.inf), FloatImm(parse_dtype("float64"), -math.inf),
        FloatImm(F32, math.nan), FloatImm(F32, -0.0), StringImm("hello", span=sp(9)),
        StringImm("<omitted>", MetadataRef("ir.StringImm", 1)),
        Not(BinOp("lt", x1, x2, BOOL)), Select(IntImm(BOOL, 1), x1, x2),
        Cast(parse_dtype("int64"), x1, span=sp(10)),
        Ramp(x1, i32(1), 4), Broadcast(FloatImm(F32, 1.0), 4),
        Shuffle((Ramp(x1, i32(1), 4),), (i32(0), i32(1)), parse_dtype("int32x2")),
        Let(lv, i32(3), BinOp("mul", lv, lv, I32)),
        Call(HANDLE, "reinterpret", (TypeLiteral(PointerType(F32, "shared")), TypeLiteral(F32)),
             ret_type=PointerType(F32, "shared")),
        Call(parse_dtype("float8_e4m3fn"), "exp", (load,)),
        IntImm(DataType("int", 128, 1), 2**100), IntImm(BOOL, True),
        # The TVM 0.27 dialect: call keywords, lists, None, lambdas, module calls, layouts, regions.
        Call(I32, "call_ffi_kernel", (StringImm("k"),), kwargs=(("launch_params", ArrayExpr((StringImm("x"),))),)),
        ArrayExpr((), "none"), ArrayExpr((i32(1),), "tuple"),
        LambdaExpr((lv,), ArrayExpr((lv,), "tuple")), GlobalCall(I32, "subroutine", (x1,)),
        PyValue("call", "T.TileLayout", (PyValue("index", "", (PyValue("name", "T.S"), PyValue(
            "slice", "", (i32(8), PyValue("op", "@", (i32(1), PyValue("name", "Axis.laneid"))), None)))),),
            (("swizzle", PyValue("dict", "", (), (("k", i32(1)),))),)),
        RegionArg(BufferRegion(C, (Range(i32(0), i32(4)),)), whole=True),
    )
    block = SBlock(
        "blk", (IterVar(vi, i32(0), i32(16), "S", span=sp(20)),),
        (BufferRegion(A, (Range(vi, i32(1)), Range(i32(0), i32(16)))),), None,
        BufferStore(C, FloatImm(F32, 0.0), (vi,)),
        init=BufferStore(C, FloatImm(F32, 1.5), (vi,)),
        alloc_buffers=(S,),
        match_buffers=(MatchBufferRegion(Xm, BufferRegion(C, (Range(i32(0), i32(4)),))),),
        annotations={"meta_schedule.unroll": i32(16)}, span=sp(19))
    body = SeqStmt((
        Bind(x1, i32(1, 5), span=sp(5, 1)),
        Bind(x2, BinOp("add", x1, i32(2), I32, span=sp(6, 12)), span=sp(6, 1)),
        BufferStore(A, load, (x1, x2), predicate=IntImm(BOOL, 1), span=sp(7, 1)),
        For(i, i32(0), n, "thread_binding", Evaluate(Call(I32, "tvm_warp", exprs)),
            thread_binding="threadIdx.y", annotations={"pragma": [1, 2.5, None, (3, "x")]},
            step=i32(2), span=sp(8, 1)),
        While(BinOp("lt", x1, i32(3), BOOL), Evaluate(i32(0))),
        IfThenElse(BinOp("eq", x1, x2, BOOL), Evaluate(i32(1)), Evaluate(i32(2))),
        IfThenElse(BinOp("ne", x1, x2, BOOL), Evaluate(i32(1))),
        AssertStmt(BinOp("ge", n, i32(0), BOOL), (StringImm("RuntimeError"), StringImm("n < 0")), kind="RuntimeError"),
        AssertStmt(IntImm(BOOL, 1), (StringImm("ok"),)),
        AttrStmt(A, "storage_alignment", i32(128)),
        AttrStmt(None, "", {"k": i32(1), "nested": {"deep": [x1]}, 2: "int key"}),
        AttrStmt(x1, "pragma_x", StringImm("v"), body=Evaluate(x1)),
        LaunchThread(tx, "threadIdx.x", i32(32)),
        LaunchThread(Var("bx", I32), "blockIdx.x", i32(2), body=Evaluate(i32(0))),
        AllocBuffer(B, annotations={"note": "scalar"}, scalar=True),
        DeclBuffer(B_view, form="view", view_of=B),
        DeclBuffer(Buffer("B_t", B_data, F32, (i32(2), i32(2)), scope="local"), form="permute", view_of=B, dims=(1, 0)),
        DeclBuffer(Buffer("D", a_data, F32, (i32(16),)), form="buffer"),
        DeclBuffer(Buffer("W", Var("W_data", HANDLE, PointerType(F32)), F32, (i32(8),)),
                   data_value=Call(HANDLE, "reinterpret", (TypeLiteral(PointerType(F32)), n))),
        Allocate(p, F32, (i32(16),), condition=IntImm(BOOL, 1), annotations={"a": 1}),
        Allocate(Var("q", HANDLE, PointerType(F32)), F32, (i32(4),), body=Evaluate(i32(0))),
        AllocateConst(c, F32, (i32(3),), (1.0, -2.5, math.nan), annotations={"x": 1.0}),
        AllocateConst(c2, I32, (i32(2),), (7, -(2**62)), body=Evaluate(i32(0))),
        AllocateConst(Var("m", HANDLE), F32, (i32(5),), None, metadata_ref=("tirx.NDArray", 0)),
        SBlockRealize((x1,), IntImm(BOOL, 1), block, span=sp(18)),
        ScopeIdDef((Var("bx", I32), Var("by", I32)), "cta_id", (i32(2), i32(4)), preferred=(i32(1), i32(1))),
        HintStmt("pipeline", (("depth", i32(4)),), body=Evaluate(i32(0))),
        DeclBuffer(Buffer("L", Var("L_data", HANDLE, PointerType(F32)), F32, (i32(8),),
                          layout=PyValue("name", "T.S"), allocated_addr=(i32(0),))),
    ), span=sp(5, 1))
    main = PrimFunc(
        "main", (a_handle, n), ((a_handle, A),), body, ret_type=I32,
        attrs={
            "global_symbol": "main", "tir.noalias": True,
            "target": TargetLiteral({"kind": "c", "keys": ["cpu"], "tag": ""}),
            "meta": MetadataRef("ir.StringImm", 3), "expr": BinOp("add", n, i32(1), I32),
            "list": [1, 2.5, "s", None, False, (1, 2)], "nan": math.nan, "dtype": F32,
            "nested": {"a": {"b": [n]}}, "ptr": PointerType(I32, "shared"),
        },
        s_tir=True, private=True, type_params=("M",), name_span=sp(3, 9), span=sp(2, 5))
    helper = PrimFunc("helper", (), (), Evaluate(i32(0)), ret_type=PointerType(F32),
                      attrs={"target": TargetLiteral("c")})
    return IRModule((main, helper), attrs={"system_lib_prefix": "", "runtime": {"name": "crt"}},
                    name="Mod", standalone=True, type_vars=("T",), span=sp(1, 1))


def walk(value: Any, out: list[Any]) -> list[Any]:
    """Every node, var and buffer reachable from ``value``, in field order, with repeats."""
    if isinstance(value, (Node, PointerType, TargetLiteral, MetadataRef)):
        out.append(value)
        names = node_fields(type(value)) if isinstance(value, Node) else value.__slots__
        for name in names:
            walk(getattr(value, name), out)
    elif isinstance(value, (tuple, list)):
        for v in value:
            walk(v, out)
    elif isinstance(value, dict):
        for k, v in value.items():
            walk(k, out)
            walk(v, out)
    return out


def roundtrip(mod: IRModule) -> IRModule:
    return loads(dumps(mod))


def load_error(doc: Any) -> str:
    with pytest.raises(CompilerError) as info:
        module_from_json(doc)
    (diag,) = info.value.diagnostics
    assert diag.code == "TIR007" and (diag.span.line, diag.span.column) == (1, 1)
    return diag.message


# ---------------------------------------------------------------------------------------------
# Round trips


def test_every_registered_kind_appears_in_the_kitchen_sink() -> None:
    # Guards the round-trip test itself: a new node class must be added to the fixture.
    seen = {type(v).__name__ for v in walk(kitchen_sink(), [])}
    assert set(json_format._REGISTRY) | {"Var", "Buffer"} <= seen


def test_kitchen_sink_sets_every_field_away_from_its_default_somewhere() -> None:
    unset = {(name, f.name) for name, cls in json_format._REGISTRY.items() | {("Var", Var), ("Buffer", Buffer)}
             for f in dataclasses.fields(cls) if f.name != "span" and not is_required(f)
             and f.name not in json_format._NOT_ENCODED.get(name, ()) and not is_source_spans(f)}
    for obj in walk(kitchen_sink(), []):
        for f in dataclasses.fields(obj):
            if not is_required(f) and getattr(obj, f.name) != default_of(f):
                unset.discard((type(obj).__name__, f.name))
    assert unset == set()


def is_required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def default_of(f: dataclasses.Field[Any]) -> Any:
    return f.default if f.default_factory is dataclasses.MISSING else f.default_factory()


def test_registry_holds_every_concrete_ir_node_class() -> None:
    def subclasses(cls: type) -> set[type]:
        return {cls, *(s for sub in cls.__subclasses__() for s in subclasses(sub))}

    # dataclass(slots=True) replaces each class; keep the one its module exports.
    ir_classes = {c for c in subclasses(Node)
                  if c.__module__.startswith("tir_lsp.compiler.ir.") and getattr(sys.modules[c.__module__], c.__name__) is c}
    abstract = {Node, ir.Expr, ir.Stmt}
    tables = {Var, Buffer}
    assert ir_classes - abstract - tables == {c for c in json_format._REGISTRY.values() if issubclass(c, Node)}


def test_kitchen_sink_round_trips_exactly() -> None:
    mod = kitchen_sink()
    back = roundtrip(mod)
    assert structural_diff(back, mod) is None
    assert structural_equal(back, mod)


def test_dumps_is_deterministic_byte_for_byte() -> None:
    mod = kitchen_sink()
    text = dumps(mod)
    assert dumps(kitchen_sink()) == text
    assert dumps(loads(text)) == text
    assert dumps(loads(dumps(mod, indent=2))) == text


def test_round_trip_preserves_every_span_and_value_type() -> None:
    mod = kitchen_sink()
    before, after = walk(mod, []), walk(roundtrip(mod), [])
    assert [type(x) for x in after] == [type(x) for x in before]
    assert [getattr(x, "span", None) for x in after] == [getattr(x, "span", None) for x in before]
    assert after[0].functions[0].name_span == Span(3, 9, 3, 12)
    # Lists stay lists and tuples stay tuples, in attributes and in fields alike.
    attrs = after[0].functions[0].attrs
    assert type(attrs["list"]) is list and attrs["list"][5] == (1, 2)
    assert math.isnan(attrs["nan"]) and attrs["dtype"] == F32
    assert attrs["target"] == TargetLiteral({"kind": "c", "keys": ["cpu"], "tag": ""})
    assert attrs["meta"] == MetadataRef("ir.StringImm", 3)
    dict_form = next(s for s in after[0].functions[0].body.stmts if isinstance(s, AttrStmt) and s.node is None)
    assert list(dict_form.value) == ["k", "nested", 2]


def test_spans_appear_in_json_as_four_integers() -> None:
    doc = module_to_json(kitchen_sink())
    func = doc["module"]["functions"][0]
    assert func["span"] == [2, 5, 2, 8]
    assert func["body"]["stmts"][0] == {
        "$kind": "Bind", "var": {"$var": "v3"}, "value": {"$kind": "IntImm", "dtype": "int32", "value": 1,
                                                          "span": [5, 5, 5, 8]},
        "span": [5, 1, 5, 4]}
    assert doc["vars"]["v3"] == {"name": "x", "dtype": "int32", "type_annotation": None, "span": [5, 5, 5, 8]}
    assert "span" not in doc["module"]["functions"][1]


# ---------------------------------------------------------------------------------------------
# Identity of vars and buffers


def test_shadowed_same_name_vars_stay_distinct_and_shared() -> None:
    back = roundtrip(kitchen_sink())
    bind1, bind2, store = back.functions[0].body.stmts[:3]
    x1, x2 = bind1.var, bind2.var
    assert x1.name == x2.name == "x" and x1 is not x2
    assert bind2.value.a is x1  # the use in x2's value is x1 itself
    assert store.indices[0] is x1 and store.indices[1] is x2
    assert store.value.indices == (x1, x2)


def test_buffers_and_their_data_vars_are_shared_objects() -> None:
    back = roundtrip(kitchen_sink())
    main = back.functions[0]
    (param, A), = main.buffer_map
    assert param is main.params[0]
    store = main.body.stmts[2]
    assert store.buffer is A and store.value.buffer is A
    decl = next(s for s in main.body.stmts if isinstance(s, DeclBuffer) and s.form == "buffer")
    assert decl.buffer.data is A.data  # two buffers over one pointer still alias
    alloc = next(s for s in main.body.stmts if isinstance(s, AllocBuffer))
    view = next(s for s in main.body.stmts if isinstance(s, DeclBuffer) and s.form == "view")
    assert view.view_of is alloc.buffer and view.buffer.data is alloc.buffer.data
    assert A.shape[0] is main.params[1]


def test_ids_are_numbered_in_first_use_order() -> None:
    doc = module_to_json(kitchen_sink())
    assert list(doc["vars"]) == [f"v{k}" for k in range(len(doc["vars"]))]
    assert list(doc["buffers"]) == [f"b{k}" for k in range(len(doc["buffers"]))]
    assert [v["name"] for v in list(doc["vars"].values())[:4]] == ["A", "n", "A_data", "x"]
    assert doc["module"]["functions"][0]["params"] == [{"$var": "v0"}, {"$var": "v1"}]


# ---------------------------------------------------------------------------------------------
# Constants


def const_module(dtype: str, data: tuple[int | float, ...]) -> IRModule:
    c = Var("c", HANDLE, PointerType(parse_dtype(dtype)))
    stmt = AllocateConst(c, parse_dtype(dtype), (i32(len(data)),), data)
    return IRModule((PrimFunc("f", (), (), SeqStmt((stmt, Evaluate(i32(0))))),))


def const_data(mod: IRModule) -> tuple[int | float, ...]:
    return mod.functions[0].body.stmts[0].data


def test_1000_float32_constants_survive_bit_exactly() -> None:
    values = np.random.default_rng(7).standard_normal(1000).astype(np.float32)
    values[:5] = [np.inf, -np.inf, np.nan, -0.0, np.finfo(np.float32).tiny / 2]  # incl. a subnormal
    data = tuple(float(v) for v in values)
    back = const_data(roundtrip(const_module("float32", data)))
    assert len(back) == 1000
    assert struct.pack("<1000f", *back) == values.tobytes()
    assert struct.pack("<1000d", *back) == struct.pack("<1000d", *data)


def test_float64_and_float16_constants_survive_bit_exactly() -> None:
    f64 = (0.1, 1 / 3, 5e-324, 1.7976931348623157e308, -0.0, math.pi)
    assert struct.pack("<6d", *const_data(roundtrip(const_module("float64", f64)))) == struct.pack("<6d", *f64)
    f16 = np.array([65504, 6e-8, -0.0, 0.333, np.inf, -np.inf], dtype=np.float16)
    back = const_data(roundtrip(const_module("float16", tuple(float(v) for v in f16))))
    assert np.array(back, dtype=np.float16).tobytes() == f16.tobytes()


def test_non_finite_constants_are_written_as_strings() -> None:
    mod = const_module("float32", (math.inf, -math.inf, math.nan, 2.0))
    doc = json.loads(dumps(mod))
    assert doc["module"]["functions"][0]["body"]["stmts"][0]["data"] == ["inf", "-inf", "nan", 2.0]
    back = const_data(loads(dumps(mod)))
    assert back[:2] == (math.inf, -math.inf) and math.isnan(back[2]) and back[3] == 2.0


def test_integer_constants_survive_exactly_and_stay_ints() -> None:
    data = (0, -1, 2**63 - 1, -(2**63), 2**64 + 5)
    back = const_data(roundtrip(const_module("int64", data)))
    assert back == data and all(type(v) is int for v in back)


def test_float_data_with_integral_values_stays_float() -> None:
    back = const_data(roundtrip(const_module("float32", (1.0, 2.0, 1e16))))
    assert back == (1.0, 2.0, 1e16) and all(type(v) is float for v in back)


# ---------------------------------------------------------------------------------------------
# Errors


def minimal_doc() -> dict[str, Any]:
    return module_to_json(IRModule((PrimFunc("f", (Var("n", I32),), (), SeqStmt((
        Evaluate(i32(0)), Evaluate(Var("n", I32)), Bind(Var("y", I32), i32(1)), Evaluate(i32(2))))),)))


def test_unknown_node_kind_names_its_path() -> None:
    doc = minimal_doc()
    doc["module"]["functions"][0]["body"]["stmts"][3] = {"$kind": "Foo"}
    assert load_error(doc) == 'module.functions[0].body.stmts[3]: unknown node kind "Foo"'


def test_var_written_inline_is_refused_with_a_hint() -> None:
    doc = minimal_doc()
    doc["module"]["functions"][0]["body"]["stmts"][0]["value"] = {"$kind": "Var", "name": "n", "dtype": "int32"}
    assert load_error(doc) == ('module.functions[0].body.stmts[0].value: unknown node kind "Var" '
                               "(vars and buffers are referenced by id)")


def test_missing_field_names_its_path() -> None:
    doc = minimal_doc()
    del doc["module"]["functions"][0]["body"]["stmts"][2]["value"]
    assert load_error(doc) == 'module.functions[0].body.stmts[2]: missing field "value" of Bind'


def test_unknown_field_is_refused() -> None:
    doc = minimal_doc()
    doc["module"]["functions"][0]["body"]["stmts"][0]["valu"] = 1
    assert load_error(doc) == 'module.functions[0].body.stmts[0]: unknown field "valu" in Evaluate'


def test_wrong_types_name_their_paths() -> None:
    doc = minimal_doc()
    doc["module"]["functions"][0]["body"]["stmts"][0]["value"]["value"] = "zero"
    assert load_error(doc) == 'module.functions[0].body.stmts[0].value.value: expected int, got string "zero"'
    doc = minimal_doc()
    doc["module"]["functions"][0]["body"]["stmts"][0]["value"] = {"$kind": "Evaluate", "value": {"$var": "v0"}}
    assert load_error(doc) == "module.functions[0].body.stmts[0].value: expected Expr, got Evaluate"
    doc = minimal_doc()
    doc["module"]["functions"][0]["params"] = {"$var": "v0"}
    assert load_error(doc) == "module.functions[0].params: expected tuple[Var, ...], got Var 'n'"
    doc = minimal_doc()
    doc["module"]["functions"][0]["body"]["stmts"][0]["value"]["dtype"] = "float33"
    assert load_error(doc) == ("module.functions[0].body.stmts[0].value.dtype: "
                               "unsupported float width in 'float33'")
    doc = minimal_doc()
    doc["module"]["functions"][0]["body"]["stmts"][0]["span"] = [1, 2]
    assert load_error(doc) == ("module.functions[0].body.stmts[0].span: "
                               "expected a span [line, col, end_line, end_col], got an array")
    doc = minimal_doc()
    doc["module"]["functions"][0]["attrs"] = []
    assert load_error(doc) == "module.functions[0].attrs: expected an object of attributes, got an array"


def test_dangling_ids_are_refused() -> None:
    doc = minimal_doc()
    doc["module"]["functions"][0]["body"]["stmts"][1]["value"] = {"$var": "v9"}
    assert load_error(doc) == 'module.functions[0].body.stmts[1].value: unknown var id "v9"'
    doc = minimal_doc()
    doc["module"]["functions"][0]["body"]["stmts"][1]["value"] = {"$kind": "BufferLoad", "buffer": {"$buffer": "b0"},
                                                                  "indices": [], "dtype": "int32"}
    assert load_error(doc) == 'module.functions[0].body.stmts[1].value.buffer: unknown buffer id "b0"'


def test_errors_inside_table_entries_name_the_table() -> None:
    doc = module_to_json(kitchen_sink())
    doc["vars"]["v1"]["dtype"] = 32
    assert load_error(doc) == "vars.v1.dtype: expected a dtype (a name or {code, bits, lanes}), got number 32"
    doc = module_to_json(kitchen_sink())
    doc["buffers"]["b0"]["shape"][0] = {"$kind": "Nope"}
    assert load_error(doc) == 'buffers.b0.shape[0]: unknown node kind "Nope"'
    doc = module_to_json(kitchen_sink())
    doc["buffers"]["b0"]["data"] = {"$buffer": "b0"}
    assert load_error(doc) == "buffers.b0.data: buffer b0 is defined in terms of itself"


def test_unused_malformed_table_entry_is_refused() -> None:
    doc = minimal_doc()
    doc["vars"]["v7"] = {"name": "z"}
    assert load_error(doc) == 'vars.v7: missing field "dtype" of Var'


def test_other_format_and_newer_version_are_refused() -> None:
    doc = minimal_doc()
    doc["format"] = "tvm.json"
    assert load_error(doc) == 'not a TIR JSON document: "format" is string "tvm.json", expected "tir-lsp.ir"'
    doc = minimal_doc()
    doc["version"] = 2
    assert load_error(doc) == "version: format version 2 is newer than this reader supports (1)"
    assert load_error([1]) == 'expected a JSON object with "format": "tir-lsp.ir", got an array'
    doc = minimal_doc()
    del doc["module"]
    assert load_error(doc) == 'missing key "module"'


def test_bad_tagged_values_name_their_paths() -> None:
    doc = minimal_doc()
    doc["module"]["attrs"] = {"x": {"$kind": "float", "value": "NaN"}}
    assert load_error(doc) == 'module.attrs.x: a float value is "inf", "-inf" or "nan", got string "NaN"'
    doc = minimal_doc()
    doc["module"]["attrs"] = {"x": {"$kind": "dict", "pairs": [[1, 2], [3]]}}
    assert load_error(doc) == "module.attrs.x.pairs[1]: expected a [key, value] pair, got an array"
    doc = minimal_doc()
    doc["module"]["attrs"] = {"x": {"$kind": "dict", "pairs": [[[1], 2]]}}
    assert load_error(doc) == "module.attrs.x.pairs[0]: unhashable dict key list"
    doc = minimal_doc()
    doc["module"]["attrs"] = {"a b": {"plain": 1}}
    assert load_error(doc) == ('module.attrs["a b"]: expected a node object with a "$kind" key '
                               'or a {"$var"}/{"$buffer"} reference')


def test_json_syntax_error_points_at_its_line_and_column() -> None:
    with pytest.raises(CompilerError) as info:
        loads('{"format": "tir-lsp.ir",\n  "version": 1,,}')
    (diag,) = info.value.diagnostics
    assert diag.code == "TIR007" and diag.message == "invalid JSON: Expecting property name enclosed in double quotes"
    assert (diag.span.line, diag.span.column) == (2, 16)


def test_nan_literal_is_not_json() -> None:
    with pytest.raises(CompilerError) as info:
        loads('{"format": "tir-lsp.ir", "version": 1, "module": NaN}')
    assert info.value.diagnostics[0].message.startswith("invalid JSON: NaN is not JSON")


def test_unencodable_value_is_reported_with_its_path() -> None:
    mod = IRModule((PrimFunc("f", (), (), Evaluate(i32(0)), attrs={"s": {1, 2}}),))
    with pytest.raises(CompilerError) as info:
        dumps(mod)
    assert info.value.diagnostics[0].message == (
        "cannot encode module: module.functions[0].attrs.s: cannot encode a value of type set")


def test_tir007_is_a_known_code() -> None:
    assert CODES["TIR007"].title == "invalid JSON IR"


# ---------------------------------------------------------------------------------------------
# Schema


def test_schema_file_is_the_generated_schema() -> None:
    # After an IR change: python3 -m tir_lsp.compiler.backend.json_format --schema > docs/tir-ir.schema.json
    on_disk = json.loads((ROOT / "docs" / "tir-ir.schema.json").read_text())
    assert on_disk == json_schema()


def test_dumps_validate_against_the_schema() -> None:
    validator = jsonschema.Draft202012Validator(json_schema())
    validator.check_schema(json_schema())
    for mod in (kitchen_sink(), const_module("float32", (1.0, math.nan)), loads(json.dumps(minimal_doc()))):
        errors = list(validator.iter_errors(json.loads(dumps(mod))))
        assert errors == []


def test_schema_rejects_an_unknown_kind_and_a_missing_field() -> None:
    validator = jsonschema.Draft202012Validator(json_schema())
    doc = minimal_doc()
    doc["module"]["functions"][0]["body"]["stmts"][3] = {"$kind": "Foo"}
    assert not validator.is_valid(doc)
    doc = minimal_doc()
    del doc["module"]["functions"][0]["body"]["stmts"][2]["value"]
    assert not validator.is_valid(doc)


# ---------------------------------------------------------------------------------------------
# Performance


def big_module(lines: int) -> IRModule:
    """A function of ``lines`` statements, one per line, each with a few expression nodes."""
    n = Var("n", I32)
    A = Buffer("A", Var("A_data", HANDLE, PointerType(F32)), F32, (i32(lines),))
    stmts: list[ir.Stmt] = []
    for k in range(0, lines, 2):
        x = Var("x", I32, span=sp(k + 3))  # x: T.let[T.int32] = n * k
        stmts.append(Bind(x, BinOp("mul", n, i32(k), I32), span=sp(k + 3, 1)))
        value = BinOp("add", BufferLoad(A, (x,), F32, span=sp(k + 4, 20)), FloatImm(F32, k * 0.5), F32)
        stmts.append(BufferStore(A, value, (x,), span=sp(k + 4, 1)))  # A[x] = A[x] + T.float32(k / 2)
    return IRModule((PrimFunc("main", (n,), (), SeqStmt(tuple(stmts))),))


def test_10000_line_module_round_trips() -> None:
    # Its speed is measured by bench/bench_json.py (timed assertions are flaky on a busy machine).
    mod = big_module(10_000)
    assert structural_equal(loads(dumps(mod)), mod)


# ---------------------------------------------------------------------------------------------
# Real TVM output


FIXTURES = ROOT / "tests" / "fixtures" / "tvm" / "0.27.0.post1"
FIXTURE_KERNELS = ("matmul_f32", "const_vector_f32", "dyn_rows_softmax_f32", "muladd_bf16",
                   "sched_compute_at_f32", "tvmscript_while_if_i32")


@pytest.mark.parametrize("kernel", FIXTURE_KERNELS)
def test_every_stage_of_a_tvm_fixture_round_trips_with_its_spans(kernel: str) -> None:
    from tir_lsp.compiler.text.reader import read_tir_file

    stages = sorted((FIXTURES / kernel).glob("*.tir"))
    assert len(stages) > 5
    spanned = 0
    for path in stages:
        mod = read_tir_file(path).module
        text = dumps(mod)
        back = loads(text)
        assert structural_diff(back, mod) is None, path.name
        assert dumps(back) == text, path.name
        spans = [getattr(x, "span", None) for x in walk(mod, [])]
        assert [getattr(x, "span", None) for x in walk(back, [])] == spans, path.name
        spanned += sum(s is not None for s in spans)
    assert spanned > 100


def test_the_example_in_the_docs_loads_and_dumps_back() -> None:
    doc = (ROOT / "docs" / "json-schema.md").read_text()
    example = doc.split("```json\n")[-1].split("```")[0]
    mod = loads(example)
    assert mod.functions[0].body.body.value.value == math.inf
    assert json.loads(dumps(mod)) == json.loads(example)


def test_spans_of_attribute_values_and_call_arguments_stay_out_of_the_json() -> None:
    # They point the server at values as written; the JSON carries the IR, with one span per node.
    from tir_lsp.compiler.text.reader import read_tir

    mod = read_tir(
        "@T.prim_func\n"
        "def f(a: T.handle(\"float32\")) -> T.int32:\n"
        "    T.func_attr({\"calling_conv\": 0, \"global_symbol\": \"f\"})\n"
        "    T.evaluate(T.call_extern(\"int32\", \"g\", a, 1))\n"
        "    return 0\n").module
    (f,) = mod.functions
    assert f.attr_spans["calling_conv"] == ir.Span(3, 34, 3, 35)
    text = dumps(mod)
    assert "attr_spans" not in text and "arg_spans" not in text
    back = loads(text)
    assert structural_equal(back, mod)
    assert back.functions[0].attr_spans == {}
    loop = read_tir(
        "@T.prim_func\n"
        "def g(A: T.Buffer((4,), \"float32\")):\n"
        "    for i in T.serial(4, annotations={\"pragma_unroll\": 1}):\n"
        "        T.attr(A, \"storage_alignment\", 64)\n"
        "        A[i] = T.float32(0.0)\n").module
    assert loop.functions[0].body.attr_spans and loop.functions[0].body.body.stmts[0].attr_spans
    text = dumps(loop)
    assert "attr_spans" not in text and structural_equal(loads(text), loop)
