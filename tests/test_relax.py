"""Modules mixing ``@R.function`` with ``@T.prim_func``, as TVM 0.27 prints them
(tests/data/relax, made by tests/data/relax/generate.py): they read without diagnostics,
print back to the same Relax text, and ``R.call_tir`` calls are checked against their PrimFunc."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from c_backend_harness import HAVE_GCC, run_kernel
from tvm_reference import tvm_python

from tir_lsp.compiler.analysis.run import analyze_text
from tir_lsp.compiler.executor.relax_entry import compile_entries
from tir_lsp.compiler.ir import relax as X
from tir_lsp.compiler.text.printer import print_module
from tir_lsp.compiler.text.reader import read_tir
from tir_lsp.compiler.text.relax_printer import print_relax_function, var_text

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "relax"
FIXTURES = sorted(DATA.glob("*.tir"))
# Fixtures whose PrimFuncs (not their Relax functions) hold TIR our builder does not read yet:
# `p0[()]` (a zero-dim buffer indexed by an empty tuple), loop vars of `T.grid(m, n)` over
# module-level size vars typed int32 where TVM has int64.
TIR_GAPS: set[str] = set()
# ...and one read clean but printed differently: `T.Buffer(("n * T.int64(2)",))` becomes a var.
TIR_PRINT_GAPS = TIR_GAPS | {"tvm_tvmscript_parser_4_Module.tir"}


def _fixture_params() -> list[object]:
    return [pytest.param(p, id=p.stem, marks=pytest.mark.xfail(strict=True, reason="TIR side, not Relax"))
            if p.name in TIR_GAPS else pytest.param(p, id=p.stem) for p in FIXTURES]


def _relax(text: str) -> X.RelaxFunction:
    funcs = read_tir(text).module.relax_functions
    assert len(funcs) >= 1
    return funcs[-1]


def test_the_fixture_set_is_there() -> None:
    assert len(FIXTURES) >= 20
    assert all("@R.function" in p.read_text() and "@T.prim_func" in p.read_text() for p in FIXTURES
               if p.name != "mlp_raw.tir")


@pytest.mark.parametrize("path", _fixture_params())
def test_tvm_printed_relax_module_reads_clean(path: Path) -> None:
    analysis = analyze_text(path.read_text(), str(path))
    assert [d.render() for d in analysis.diagnostics] == []
    assert analysis.result.module.relax_functions


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_relax_functions_print_back_as_tvm_wrote_them(path: Path) -> None:
    source = path.read_text()
    module = read_tir(source, str(path)).module
    source_lines = set(source.splitlines())
    for f in module.relax_functions:
        assert [line for line in print_relax_function(f, 1) if line not in source_lines] == []
    printed = print_module(module)
    again = read_tir(printed)
    assert print_module(again.module) == printed
    assert [f.name for f in again.module.relax_functions] == [f.name for f in module.relax_functions]


def test_module_keeps_both_kinds_of_function() -> None:
    module = read_tir((DATA / "features.tir").read_text()).module
    assert [f.name for f in module.functions] == ["add_one", "scale_inplace"]
    assert [f.name for f in module.relax_functions] == ["helper", "main"]
    helper, main = module.relax_functions
    assert helper.private and helper.decorator == "R.function(private=True)"
    assert main.decorator == "R.function(pure=False)"
    assert [var_text(p) for p in main.params] == [
        'x: R.Tensor((n, 4), dtype="float32")', 'v: R.Tensor((8,), dtype="float32")', "flag: T.bool", "o: R.Any"]


def test_unannotated_bindings_take_their_struct_info_from_the_call() -> None:
    main = read_tir((DATA / "features.tir").read_text()).module.relax_functions[1]
    flow = main.body[2]
    assert isinstance(flow, X.RDataflow)
    lv, lv1 = (b.var for b in flow.body if isinstance(b, X.RBinding))
    assert var_text(lv) == 'lv: R.Tensor((n, 4), dtype="float32")'
    assert var_text(lv1) == 'lv1: R.Tensor((n, 4), dtype="float32")'
    assert [o.var for o in flow.outputs] == [lv1]
    first = flow.body[0]
    assert isinstance(first, X.RBinding) and isinstance(first.value, X.RCall)
    call = first.value
    assert call.op == "R.call_tir" and call.span is not None and (call.span.line, call.span.column) == (41, 18)
    ref = call.args[0]
    assert isinstance(ref, X.RGlobalRef) and ref.name == "add_one"
    assert ref.span is not None and (ref.span.line, ref.span.column, ref.span.end_column) == (41, 33, 40)
    assert first.span is not None and first.span.line == 41 and lv.span is not None and lv.span.column == 13


def test_tuple_indexing_and_packed_calls_infer_struct_info() -> None:
    f = _relax('''
@I.ir_module
class Module:
    @R.function(pure=False)
    def main(x: R.Tensor((2, 3), dtype="float32")):
        t = (x, R.shape([2, 3]))
        a = t[1]
        b = R.call_packed("f", x, ty_args=(R.Tensor((6,), dtype="int8"),))
        c = t
        return b
''')
    names = {b.var.name: var_text(b.var) for b in f.body if isinstance(b, X.RBinding)}
    assert names == {
        "t": 't: R.Tuple(R.Tensor((2, 3), dtype="float32"), R.Shape([2, 3]))',
        "a": "a: R.Shape([2, 3])",
        "b": 'b: R.Tensor((6,), dtype="int8")',
        "c": 'c: R.Tuple(R.Tensor((2, 3), dtype="float32"), R.Shape([2, 3]))',
    }


BROKEN = '''# from tvm.script import ir as I
# from tvm.script import tirx as T
# from tvm.script import relax as R

@I.ir_module
class Module:
    @T.prim_func(private=True)
    def add(A: T.Buffer((4, 8), "float32"), B: T.Buffer((4, 8), "float32"), C: T.Buffer((4, 8), "float32")):
        for i, j in T.grid(4, 8):
            C[i, j] = A[i, j] + B[i, j]

    @R.function
    def main(x: R.Tensor((4, 8), dtype="float32"), y: R.Tensor((4, 8), dtype="float16"), z: R.Tensor((8, 4), dtype="float32")):
        cls = Module
        a = R.call_tir(cls.add, (x,), out_ty=R.Tensor((4, 8), dtype="float32"))
        b = R.call_tir(cls.add, (x, y), out_ty=R.Tensor((4, 8), dtype="float32"))
        c = R.call_tir(cls.add, (x, z), out_ty=R.Tensor((4, 8, 1), dtype="float32"))
        d = R.call_tir(cls.sub, (x, x), out_ty=R.Tensor((4, 8), dtype="float32"))
        e = R.call_tir(cls.add, (x, x), out_ty=R.Tensor((4, 8), dtype="float32"))
        return e
'''


def test_call_tir_that_does_not_fit_its_prim_func_is_TIR020() -> None:
    diags = analyze_text(BROKEN, "broken.tir").diagnostics
    assert [(d.code, d.span.line, d.span.column, d.message) for d in diags] == [
        ("TIR020", 15, 13, "R.call_tir passes 2 values (1 argument + 1 output) but 'add' takes 3 parameters"),
        ("TIR020", 16, 37, "argument 2 of R.call_tir has dtype float16, but buffer 'B' of 'add' is float32"),
        ("TIR020", 17, 37, "argument 2 of R.call_tir has shape (8, 4), but buffer 'B' of 'add' has shape (4, 8)"),
        ("TIR020", 17, 48, "output 1 of R.call_tir has rank 3, but buffer 'C' of 'add' has rank 2"),
        ("TIR010", 18, 28, "the module has no function 'sub'"),
    ]


def test_broken_copy_of_a_tvm_fixture_is_reported() -> None:
    text = (DATA / "convnet_fused.tir").read_text()
    broken = text.replace("(reshape, permute_dims, fc_bias)", "(reshape, permute_dims)")
    assert broken != text
    diags = analyze_text(broken, "b.tir").diagnostics
    assert [(d.code, d.message) for d in diags] == [
        ("TIR020", "R.call_tir passes 3 values (2 arguments + 1 output) but 'fused_matmul_add1' takes 4 parameters")]


def test_call_tir_inplace_and_tir_vars_count_their_parameters() -> None:
    assert analyze_text((DATA / "features.tir").read_text()).diagnostics == []  # call_tir_inplace: 1 param
    text = (DATA / "tvm_tvmscript_parser_4_Module.tir").read_text()
    # (x, n) + one output = the three parameters X, n, Y of `copy`.
    assert [d for d in analyze_text(text).diagnostics if d.code == "TIR020"] == []


def tirc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tir_lsp.compiler.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, check=False)


def test_tirc_lower_compiles_the_prim_funcs_and_notes_the_relax_ones() -> None:
    proc = tirc("lower", str(DATA / "mlp_legalized.tir"), "--emit", "tir")
    assert proc.returncode == 0, proc.stderr
    note = (f"{DATA / 'mlp_legalized.tir'}:70:9: info: Relax function 'main' is not compiled (parameter 'x' is "
            "not a tensor of static shape and dtype): tirc lowers the module's PrimFuncs and leaves it out of its "
            "output [TIR204]")
    assert proc.stderr.splitlines() == [note]
    assert "Traceback" not in proc.stderr
    assert "@R.function" not in proc.stdout and "def matmul1(" in proc.stdout
    c = tirc("lower", str(DATA / "mlp_legalized.tir"))
    assert c.returncode == 0 and "int32_t relu(" in c.stdout
    # A static chain of R.call_tir is compiled, with no note.
    c = tirc("lower", str(DATA / "convnet_fused.tir"), "--unpacked-api")
    assert c.returncode == 0 and c.stderr == ""
    assert "int32_t forward(float* x, float* conv_weight, float* conv_bias, float* fc_weight, float* fc_bias, " \
           "float* out)" in c.stdout.replace("const ", "")


def test_tirc_print_of_a_mixed_module_is_a_fixed_point() -> None:
    first = tirc("print", str(DATA / "features.tir"))
    assert first.returncode == 0, first.stderr
    assert "@R.function(pure=False)" in first.stdout and "@T.prim_func" in first.stdout
    again = subprocess.run([sys.executable, "-m", "tir_lsp.compiler.cli", "print", "-"], input=first.stdout,
                           capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)
    assert again.returncode == 0 and again.stdout == first.stdout


_EQUAL = r"""
import json, sys, tvm
out = []
for name, original, ours in json.load(sys.stdin):
    try:
        tvm.ir.assert_structural_equal(tvm.script.from_source(ours), tvm.script.from_source(original))
        out.append([name, "equal"])
    except Exception as exc:
        out.append([name, str(exc)[-400:]])
json.dump(out, sys.stdout)
"""


def test_tvm_reads_our_printing_as_the_same_module() -> None:
    py = tvm_python()
    if py is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install TVM 0.27 for the interop test (see .ci/run)")
        pytest.skip("no TVM 0.27 interpreter (set TIR_TVM_PYTHON)")
    items = [[p.name, p.read_text(), print_module(read_tir(p.read_text()).module)] for p in FIXTURES
             if "metadata[" not in p.read_text() and p.name not in TIR_PRINT_GAPS]
    assert len(items) >= 15
    proc = subprocess.run([py, "-c", _EQUAL], input=json.dumps(items), capture_output=True, text=True,
                          timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert [r for r in json.loads(proc.stdout) if r[1] != "equal"] == []


CLOSURE = '''# from tvm.script import ir as I
# from tvm.script import relax as R

@I.ir_module
class Module:
    @R.function
    def main(x: R.Tensor((2, 3), dtype="float32"), y: R.Shape(ndim=-1)) -> R.Tuple(R.Tensor((2, 3), dtype="float32"), R.Tensor((2, 3), dtype="float32", vdevice="llvm:0:global")):
        @R.function
        def inner(a: R.Tensor((2, 3), dtype="float32")) -> R.Tensor((2, 3), dtype="float32"):
            b: R.Tensor((2, 3), dtype="float32") = R.add(a, x)
            return b

        with R.dataflow():
            c: R.Tensor((2, 3), dtype="float32") = inner(x)
            R.output(c, inner)
        gv: R.Tuple(R.Tensor((2, 3), dtype="float32"), R.Tensor((2, 3), dtype="float32")) = c, x
        return gv
'''


def test_closures_bare_tuples_and_written_forms_print_back_as_written() -> None:
    result = read_tir(CLOSURE)
    assert result.diagnostics == []
    (main,) = result.module.relax_functions
    local = main.body[0]
    assert isinstance(local, X.RFunctionDef) and local.func.name == "inner"
    assert var_text(local.var) == 'inner: R.Callable((R.Tensor((2, 3), dtype="float32"),), R.Tensor((2, 3), dtype="float32"))'
    # `x` inside `inner` is main's parameter (a closure).
    add = local.func.body[0]
    assert isinstance(add, X.RBinding) and isinstance(add.value, X.RCall)
    assert isinstance(add.value.args[1], X.RVarRef) and add.value.args[1].var is main.params[0]
    assert print_module(result.module).split("class Module:\n")[1] == CLOSURE.split("class Module:\n")[1]


def test_call_tir_with_arguments_in_a_tuple_var_or_r_tuple() -> None:
    text = '''
@I.ir_module
class Module:
    @T.prim_func
    def zeros(x: T.Buffer((2,), "float32")):
        x[0] = T.float32(0)

    @R.function
    def main(t: R.Tuple(R.Tensor((2,), dtype="float32"))):
        cls = Module
        a = R.call_tir(cls.zeros, R.tuple(), out_ty=R.Tensor((2,), dtype="float32"))
        b = R.call_tir(cls.zeros, t, out_ty=R.Tensor((2,), dtype="float32"))
        return a
'''
    diags = analyze_text(text).diagnostics
    # R.tuple() passes nothing: fine. `t` holds one tensor (its struct info says so) + 1 output: two.
    assert [(d.code, d.span.line, d.message) for d in diags] == [
        ("TIR020", 12, "R.call_tir passes 2 values (1 argument + 1 output) but 'zeros' takes 1 parameter")]


def test_a_standalone_relax_function_prints_back() -> None:
    text = ('# from tvm.script import relax as R\n\n@R.function\n'
            'def main(x: R.Tensor((2,), dtype="float32")) -> R.Tensor((2,), dtype="float32"):\n'
            '    y: R.Tensor((2,), dtype="float32") = R.add(x, x)\n    return y\n')
    result = read_tir(text)
    assert result.diagnostics == [] and result.module.standalone
    assert print_module(result.module) == text


def test_an_undefined_name_in_a_relax_function_is_TIR010() -> None:
    text = '''
@I.ir_module
class Module:
    @R.function
    def main(x: R.Tensor(("n",), dtype="float32")) -> R.Tensor(("n",), dtype="float32"):
        @R.function
        def again(y: R.Tensor(("n",), dtype="float32")) -> R.Tensor(("n",), dtype="float32"):
            z = again(y)
            return z

        m = R.match_cast(x, R.Tensor((k,), dtype="float32"))
        s = R.shape([k])
        w = R.add(x, xx)
        return w
'''
    diags = analyze_text(text).diagnostics
    # `again` calls itself; `k` is defined by the match_cast; `xx` is a typo.
    assert [(d.code, d.span.line, d.span.column, d.message) for d in diags] == [
        ("TIR010", 13, 22, "undefined name 'xx'")]


def test_a_syntax_error_in_a_with_header_is_the_only_diagnostic() -> None:
    text = ('@I.ir_module\nclass Module:\n    @R.function\n    def main(x: R.Tensor((2,), dtype="float32")):\n'
            '        with R.dataflow()\n            y = R.add(x, x)\n            R.output(y)\n        return y\n')
    assert [(d.code, d.span.line) for d in analyze_text(text).diagnostics] == [("TIR001", 5)]


def _convnet_reference(x: np.ndarray, w: np.ndarray, b: np.ndarray, fw: np.ndarray, fb: np.ndarray) -> np.ndarray:
    """ConvNet of generate.py in numpy: conv 3x3 (padding 1) + bias, relu, flatten, linear."""
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    conv = np.zeros((1, 8, 8, 8), np.float32)
    for kh in range(3):
        for kw in range(3):
            conv += np.einsum("nchw,oc->nohw", xp[:, :, kh:kh + 8, kw:kw + 8], w[:, :, kh, kw])
    y = np.maximum(conv + b.reshape(1, 8, 1, 1), 0).reshape(1, 512)
    return (y @ fw.T + fb).astype(np.float32)


@pytest.mark.skipif(not HAVE_GCC, reason="needs gcc")
@pytest.mark.parametrize("packed", [False, True], ids=["unpacked", "packed"])
@pytest.mark.parametrize("name", ["convnet_legalized", "convnet_fused"])
def test_a_static_call_tir_chain_compiles_to_c_that_computes_the_model(tmp_path: Path, name: str, packed: bool) -> None:
    module = read_tir((DATA / f"{name}.tir").read_text()).module
    entry_module, left_out = compile_entries(module, packed=packed)
    assert left_out == [] and entry_module.relax_functions == ()
    if not packed:  # (T.call_cpacked of an unlowered operator is TIR102 unless the AOT options say so)
        assert analyze_text(print_module(entry_module)).diagnostics == []
    rng = np.random.default_rng(0)
    arrays = {"x": rng.standard_normal((1, 3, 8, 8)), "conv_weight": rng.standard_normal((8, 3, 3, 3)),
              "conv_bias": rng.standard_normal(8), "fc_weight": rng.standard_normal((10, 512)),
              "fc_bias": rng.standard_normal(10)}
    arrays = {k: v.astype(np.float32) for k, v in arrays.items()}
    run = run_kernel(entry_module, arrays, tmp_path, packed=packed, func="forward")
    assert run.returncode == 0, run.error
    np.testing.assert_allclose(run.arrays["out"], _convnet_reference(*arrays.values()), rtol=1e-4, atol=1e-4)


def test_relax_functions_that_are_not_static_chains_are_left_out_with_the_reason() -> None:
    module = read_tir((DATA / "features.tir").read_text()).module
    out, left_out = compile_entries(module, packed=True)
    assert [(f.name, why) for f, why in left_out] == [
        ("helper", "it does not end by returning one tensor"),
        ("main", "parameter 'x' is not a tensor of static shape and dtype")]
    assert out.relax_functions == () and [f.name for f in out.functions] == ["add_one", "scale_inplace"]


def test_extern_funcs_of_a_module_are_kept_and_name_functions() -> None:
    text = '''# from tvm.script import ir as I
# from tvm.script import tirx as T
# from tvm.script import relax as R

@I.ir_module
class Module:
    ext = R.ExternFunc("ext")
    @R.function
    def main(x: R.Tensor((2,), dtype="float32")) -> R.Tensor((2,), dtype="float32"):
        cls = Module
        y: R.Tensor((2,), dtype="float32") = cls.ext(x)
        return y
'''
    result = analyze_text(text)
    assert result.diagnostics == []
    assert print_module(result.result.module) == text
