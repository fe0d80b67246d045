"""Calling-convention rules TIR101..TIR109 (/work/shared/CALLING_CONVENTION.md): a failing and
a passing example file per rule in tests/data/diagnostics, exact code, line and message."""

from __future__ import annotations

from pathlib import Path

import pytest

from tir_lsp.compiler.analysis.calling_convention import (
    C_RUNTIME_ABI,
    FFI_ABI,
    PACKED,
    UNLOWERED,
    UNPACKED,
    classify,
)
from tir_lsp.compiler.analysis.fixes import Fix, quick_fixes
from tir_lsp.compiler.analysis.run import analyze_function, analyze_text
from tir_lsp.compiler.diagnostics import CODES
from tir_lsp.compiler.ir.span import Span
from tir_lsp.compiler.text.reader import read_tir

DATA = Path(__file__).parent / "data" / "diagnostics"


def diagnostics_of(name: str) -> list[tuple[str, int, str, str]]:
    a = analyze_text((DATA / name).read_text(), name)
    return [(d.code, d.span.line, d.severity, d.message) for d in a.diagnostics]


EXPECTED: dict[str, list[tuple[str, int, str, str]]] = {
    'TIR101_extern_of_packed.tir': [
        ('TIR101', 18, 'error',
         'T.call_extern("int32", "add", ...) in \'main\' calls \'add\' (line 7), which is packed (C-runtime ABI, "calling_conv": 1): a packed function cannot be called directly with C arguments; use T.call_cpacked("add", ...) or make \'add\' unpacked'),
    ],
    'TIR102_packed_call_of_unpacked.tir': [
        ('TIR102', 16, 'error',
         'T.call_cpacked("scale", ...) in \'main\' calls \'scale\' (line 7), which is unpacked (typed pointer params, returns T.int32), not packed: use T.call_extern("int32", "scale", ...)'),
    ],
    'TIR103_argument_count.tir': [
        ('TIR103', 26, 'error',
         'T.call_extern("int32", "scale", ...) in \'main\' passes 2 argument(s), but \'scale\' (line 7) takes 3 params'),
        ('TIR103', 27, 'error',
         'T.call_cpacked("add", ...) in \'main\' passes 3 argument(s) (the last argument of call_cpacked is the resource handle), but \'add\' (line 15) takes 2 as its num_args check says'),
    ],
    'TIR104_tensor_vs_pointer.tir': [
        ('TIR104', 26, 'error',
         'T.call_extern("int32", "scale", ...) in \'main\' passes T.tvm_stack_make_array(...) as argument #0, a DLTensor handle, but \'scale\' (line 7) takes a raw data pointer (float32*) for \'A\': pass the buffer\'s .data'),
        ('TIR104', 27, 'error',
         'T.call_extern("int32", "scale", ...) in \'main\' passes \'c.data\', a pointer to int8, as argument #0, but \'scale\' (line 7) takes a pointer to float32 for \'A\''),
        ('TIR104', 28, 'error',
         'T.call_cpacked("add", ...) in \'main\' passes \'a.data\', a raw data pointer, as argument #0, but \'add\' (line 15) is packed and expects a DLTensor handle there: pass the tensor handle or T.tvm_stack_make_array(...)'),
    ],
    'TIR105_signature.tir': [
        ('TIR105', 7, 'error',
         'function \'packed\' has "calling_conv": 1 (packed) but its params (args: T.handle, num_args: T.int32) match neither packed ABI: the C-runtime ABI takes (args: T.handle, arg_type_ids: T.handle("int32"), num_args: T.int32, out_ret_value: T.handle, out_ret_tcode: T.handle("int32"), resource_handle: T.handle), the FFI ABI (self_handle: T.handle, args: T.handle, num_args: T.int32, result: T.handle)'),
        ('TIR105', 12, 'error',
         'unpacked function \'unpacked\' (pointer params, no "calling_conv") returns nothing; an unpacked function returns T.int32 (0 on success): add -> T.int32 and return 0'),
    ],
    'TIR106_calling_conv.tir': [
        ('TIR106', 8, 'error',
         '"calling_conv": 5 in function \'f\' is not a calling convention: use 0 (default), 1 (packed) or 2 (device kernel launch)'),
        ('TIR106', 13, 'error',
         '"calling_conv": 2 (device kernel launch) in function \'g\', which is a host function (target c): use 0 or 1, or give it a device target'),
    ],
    'TIR107_aot_c_packed_ops.tir': [
        ('TIR107', 6, 'error',
         '"interface-api" is "c" (in I.module_attrs), "executor" is "aot" (in I.module_attrs) and "unpacked-api" is False (the default): the typed C entry point calls operators directly, so they must be unpacked. Set "unpacked-api": True'),
    ],
    'TIR107_c_cpp.tir': [
        ('TIR107', 6, 'error',
         '"interface-api" is "c" (in I.module_attrs) and "runtime" is "cpp" (in I.module_attrs): the C interface needs the C runtime. Use "runtime": "crt", or "interface-api": "packed"'),
    ],
    'TIR107_conflict.tir': [
        ('TIR107', 10, 'error',
         '"unpacked-api" is True in I.module_attrs but False in the target string of function \'scale\': make them agree'),
        ('TIR109', 10, 'warning',
         'executor options in a target string are deprecated (-executor=aot -unpacked-api=0); they mean the same as I.module_attrs({"executor": "aot", "unpacked-api": False}): write them there'),
    ],
    'TIR107_graph_c.tir': [
        ('TIR107', 6, 'error',
         '"interface-api" is "c" (in I.module_attrs) and "executor" is "graph" (in I.module_attrs): the C interface exists only for the aot executor. Use "executor": "aot", or "interface-api": "packed"'),
    ],
    'TIR107_graph_unpacked.tir': [
        ('TIR107', 6, 'error',
         '"unpacked-api" is True (in I.module_attrs) and "executor" is "graph" (in I.module_attrs): the graph executor invokes operators through packed functions only, so unpacked operators could never be called. Use "executor": "aot", or drop "unpacked-api"'),
    ],
    'TIR108_entry_packed_under_c.tir': [
        ('TIR108', 19, 'error',
         'entry function \'main\' is packed (FFI ABI, "calling_conv": 1), but "interface-api" is "c" (in I.module_attrs) demands an unpacked entry with a typed C signature: make it unpacked, or set "interface-api": "packed"'),
    ],
    'TIR108_entry_unpacked_under_packed.tir': [
        ('TIR108', 9, 'error',
         'entry function \'__tvm_main__\' is unpacked (typed pointer params, returns T.int32), but "interface-api" is "packed" (in I.module_attrs) demands a packed entry ("calling_conv": 1) that the runtime calls like any packed function: make it packed, or set "interface-api": "c"'),
    ],
    'TIR109_target_string_options.tir': [
        ('TIR109', 8, 'warning',
         'executor options in a target string are deprecated (-executor=aot -unpacked-api=1); they mean the same as I.module_attrs({"executor": "aot", "unpacked-api": True}): write them there'),
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_failing_example(name: str) -> None:
    assert diagnostics_of(name) == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("ok_*.tir")))
def test_passing_example(name: str) -> None:
    assert diagnostics_of(name) == []


def test_every_rule_has_a_failing_example() -> None:
    codes = {c for c in CODES if c.startswith("TIR1")}
    assert codes == {"TIR101", "TIR102", "TIR103", "TIR104", "TIR105", "TIR106", "TIR107", "TIR108", "TIR109"}
    for code in codes:
        assert any(d[0] == code for name in EXPECTED for d in EXPECTED[name] if name.startswith(code)), code


def test_call_diagnostic_points_at_the_callee_definition() -> None:
    text = (DATA / "TIR101_extern_of_packed.tir").read_text()
    (d,) = analyze_text(text, "m.tir").diagnostics
    assert d.span == Span(18, 20, 18, 65)
    (rel,) = d.related
    assert (rel.span.line, rel.span.column, rel.file) == (7, 9, "m.tir")
    assert rel.message == "'add' is defined here as packed (C-runtime ABI, \"calling_conv\": 1)"


CALLER = """# from tvm.script import tirx as T

@T.prim_func
def main(a: T.handle("float32"), b: T.handle("float32")) -> T.int32:
    T.evaluate(T.call_extern("int32", "add", a, b))
    return 0
"""


def test_cross_file_callee_is_found_in_the_workspace() -> None:
    packed = read_tir((DATA / "TIR101_extern_of_packed.tir").read_text(), "lib.tir").module
    (d,) = analyze_text(CALLER, "main.tir", files={"lib.tir": packed}).diagnostics
    assert (d.code, d.span.line, d.file) == ("TIR101", 5, "main.tir")
    assert "'add' (line 7 in lib.tir)" in d.message
    assert (d.related[0].file, d.related[0].span.line) == ("lib.tir", 7)
    assert analyze_text(CALLER, "main.tir").diagnostics == []  # unknown callee: an external C function


def test_states_are_read_from_the_text() -> None:
    def states(name: str) -> dict[str, tuple[str, str | None, int | None]]:
        mod = read_tir((DATA / name).read_text()).module
        return {f.name: (classify(f).state, classify(f).abi, classify(f).arity) for f in mod.functions}

    assert states("ok_signatures.tir") == {"ffi": (PACKED, FFI_ABI, 0), "add": (PACKED, C_RUNTIME_ABI, 2),
                                           "scale": (UNPACKED, None, 3)}
    assert states("ok_cpacked_of_packed.tir")["main"] == (UNLOWERED, None, 2)


def test_tvm_027_make_packed_api_output_is_valid_packed() -> None:
    path = Path(__file__).parent / "fixtures" / "tvm" / "0.27.0.post1" / "add_f32" / "50_MakePackedAPI.tir"
    a = analyze_text(path.read_text(), str(path))
    (f,) = a.result.module.functions
    assert (classify(f).state, classify(f).abi, classify(f).arity) == (PACKED, FFI_ABI, 3)
    assert a.diagnostics == []


def test_analyze_function_rechecks_one_function() -> None:
    text = (DATA / "TIR103_argument_count.tir").read_text()
    mod = read_tir(text, "m.tir").module
    main = mod.get("main")
    assert main is not None
    got = [(d.code, d.span.line) for d in analyze_function(main, mod, "m.tir")]
    assert got == [("TIR103", 26), ("TIR103", 27)]
    scale = mod.get("scale")
    assert scale is not None and analyze_function(scale, mod, "m.tir") == []


def _fixes(name: str, code: str) -> tuple[str, list[Fix]]:
    text = (DATA / name).read_text()
    a = analyze_text(text, name)
    (d,) = [d for d in a.diagnostics if d.code == code]
    return text, quick_fixes(d, a.result.module, a.result.index, text)


def _apply(text: str, fix: Fix) -> str:
    lines = text.split("\n")
    s = fix.span
    assert s.line == s.end_line
    line = lines[s.line - 1]
    lines[s.line - 1] = line[:s.column - 1] + fix.new_text + line[s.end_column - 1:]
    return "\n".join(lines)


def test_quick_fix_tir101_respells_the_call_as_call_cpacked() -> None:
    text, (fix,) = _fixes("TIR101_extern_of_packed.tir", "TIR101")
    null = "T.reinterpret(T.handle().ty, T.uint64(0))"
    # The packed callee reads DLTensors: each buffer's data pointer becomes one over its buffer.
    assert fix.new_text == (
        f'T.call_cpacked("add", T.tvm_stack_make_array(A.data, T.tvm_stack_make_shape(16), {null}, 1, T.float32(0), 0), '
        f'T.tvm_stack_make_array(B.data, T.tvm_stack_make_shape(16), {null}, 1, T.float32(0), 0), {null})')
    assert analyze_text(_apply(text, fix), "m.tir").diagnostics == []


def test_quick_fix_tir101_makes_dltensors_over_declared_buffers() -> None:
    text = CALLER.replace(
        '    T.evaluate(T.call_extern("int32", "add", a, b))',
        '    A = T.decl_buffer((2, 3), "int8", data=a)\n    B = T.decl_buffer((4,), "int8", data=b)\n'
        '    T.evaluate(T.call_extern("int32", "add", a, b))').replace('"float32"', '"int8"')
    packed = read_tir((DATA / "TIR101_extern_of_packed.tir").read_text().replace("float32", "int8"), "lib.tir").module
    a = analyze_text(text, "main.tir", files={"lib.tir": packed})
    (d,) = a.diagnostics
    (fix,) = quick_fixes(d, text, files={"lib.tir": packed})  # the callee in another file
    null = "T.reinterpret(T.handle().ty, T.uint64(0))"
    assert fix.new_text == (
        f'T.call_cpacked("add", T.tvm_stack_make_array(a, T.tvm_stack_make_shape(2, 3), {null}, 2, T.int8(0), 0), '
        f'T.tvm_stack_make_array(b, T.tvm_stack_make_shape(4), {null}, 1, T.int8(0), 0), {null})')


def test_quick_fix_tir101_is_not_offered_when_no_dltensor_can_be_made() -> None:
    # Raw pointers of no known buffer: the shape a DLTensor needs is unknown, and a call that
    # still passes a pointer where the callee reads a tensor would not be a fix.
    packed = read_tir((DATA / "TIR101_extern_of_packed.tir").read_text(), "lib.tir").module
    a = analyze_text(CALLER, "main.tir", files={"lib.tir": packed})
    (d,) = a.diagnostics
    assert quick_fixes(d, CALLER, files={"lib.tir": packed}) == []


def test_quick_fix_tir102_respells_the_call_as_call_extern() -> None:
    text, (fix,) = _fixes("TIR102_packed_call_of_unpacked.tir", "TIR102")
    assert fix.new_text == 'T.call_extern("int32", "scale", a.data, b.data, 16)'
    assert analyze_text(_apply(text, fix), "m.tir").diagnostics == []


def test_quick_fix_tir106_sets_the_calling_conv_the_params_call_for() -> None:
    text = (DATA / "TIR106_calling_conv.tir").read_text()
    a = analyze_text(text, "m.tir")
    first = a.diagnostics[0]
    (fix,) = quick_fixes(first, a.result.module, a.result.index, text)
    assert (fix.span, fix.new_text) == (Span(8, 38, 8, 39), "0")
    assert [d.line for d in (x.span for x in analyze_text(_apply(text, fix), "m.tir").diagnostics)] == [13]


def test_quick_fixes_from_text_alone_as_the_server_calls_them() -> None:
    text = (DATA / "TIR106_calling_conv.tir").read_text()
    d = analyze_text(text, "m.tir").diagnostics[0]
    (fix,) = quick_fixes(d, text)
    assert fix.edits == ((Span(8, 38, 8, 39), "0"),)


AOT_BEFORE_PACKING = """# from tvm.script import ir as I
# from tvm.script import tirx as T

@I.ir_module
class Module:
    I.module_attrs({OPTIONS})

    @T.prim_func
    def add(A: T.Buffer((4,), "float32"), B: T.Buffer((4,), "float32")):
        for i in range(4):
            B[i] = A[i] + T.float32(1)

    @T.prim_func
    def main(A: T.Buffer((4,), "float32"), B: T.Buffer((4,), "float32")):
        T.evaluate(T.call_cpacked("add", A, B, T.int32(0)))
"""


@pytest.mark.parametrize(("options", "codes"), [
    # The module's options say its operators will be lowered packed ("unpacked-api" False,
    # spelled or by default): an AOT main calling them with call_cpacked before MakePackedAPI
    # (TVM's own AOT output looks the same) is consistent.
    ('I.module_attrs({"executor": "aot", "unpacked-api": False})', []),
    ('I.module_attrs({"executor": "aot"})', []),
    # Unpacked operators, or no options at all: an unlowered callee of call_cpacked is a mistake.
    ('I.module_attrs({"executor": "aot", "unpacked-api": True})', ["TIR102"]),
    ("", ["TIR102"]),
])
def test_call_cpacked_of_an_unlowered_operator_depends_on_the_options(options: str, codes: list[str]) -> None:
    text = AOT_BEFORE_PACKING.replace("I.module_attrs({OPTIONS})", options)
    got = [d.code for d in analyze_text(text, "m.tir").diagnostics if d.code.startswith("TIR1")]
    assert got == codes


def test_trn_is_a_device_target_for_a_kernel_launch() -> None:
    # TVM registers "trn" with kDLTrn: a device kernel (calling_conv 2) may target it; "c" may not.
    text = (DATA / "TIR106_calling_conv.tir").read_text()
    trn = text.replace('T.target("c")', 'T.target({"kind": "trn", "keys": []})')
    assert [d.span.line for d in analyze_text(trn, "m.tir").diagnostics] == [8]
    assert [d.span.line for d in analyze_text(text, "m.tir").diagnostics] == [8, 13]


SAME_WORDS_TWICE = """# from tvm.script import ir as I
# from tvm.script import tirx as T

@I.ir_module
class Module:
    I.module_attrs({"target": T.target({"kind": "c", "executor": "graph"}), "executor": "aot"})

    @T.prim_func
    def f(A: T.handle("float32")) -> T.int32:
        T.func_attr({"global_symbol": "calling_conv", "calling_conv": 5})
        return 0
"""


def test_attribute_diagnostics_point_at_the_value_not_at_the_same_words_earlier_on_the_line() -> None:
    # Spans of attribute values come from the IR: a search of the text for '"calling_conv"' or
    # '"executor"' found the global_symbol's value and the key inside the target first.
    by_code = {d.code: d for d in analyze_text(SAME_WORDS_TWICE, "m.tir").diagnostics}
    assert by_code["TIR106"].span == Span(10, 71, 10, 72)  # the 5
    conflict = by_code["TIR107"]
    assert conflict.span == Span(6, 31, 6, 75)  # the T.target(...) holding "graph"
    assert conflict.related[0].span == Span(6, 89, 6, 94)  # "aot"
    assert by_code["TIR109"].span == conflict.span
    (fix,) = quick_fixes(by_code["TIR106"], SAME_WORDS_TWICE)
    assert fix.edits == ((Span(10, 71, 10, 72), "0"),)


def test_argument_diagnostic_points_at_the_argument() -> None:
    text = (DATA / "TIR104_tensor_vs_pointer.tir").read_text()
    lines = text.split("\n")
    d = next(d for d in analyze_text(text, "m.tir").diagnostics if d.code == "TIR104" and d.span.line == 28)
    assert d.span.line == d.span.end_line
    assert lines[27][d.span.column - 1:d.span.end_column - 1] == "a.data"  # not the whole call


def test_quick_fix_keeps_arguments_as_written_when_one_repeats_another() -> None:
    # The arguments are read at their spans: a text split would work too, but no search.
    text = (DATA / "TIR102_packed_call_of_unpacked.tir").read_text()
    d = next(d for d in analyze_text(text, "m.tir").diagnostics if d.code == "TIR102")
    line = text.split("\n")[d.span.line - 1]
    call = line[d.span.column - 1:d.span.end_column - 1]
    twice = call.replace("b.data", "a.data")
    text2 = text.replace(call, twice)
    d2 = next(d for d in analyze_text(text2, "m.tir").diagnostics if d.code == "TIR102")
    (fix,) = quick_fixes(d2, text2)
    assert fix.new_text == 'T.call_extern("int32", "scale", a.data, a.data, 16)'
