"""Compile lowered TIR to C with gcc, call it from a generated test main, read the results.

Shared by tests/test_c_backend.py and the fixture-corpus test: the kernel's parameters come
from the *unlowered* function (names, dtypes, shapes), the numbers from numpy arrays. The main
calls the lowered function with the ABI it has (``abi_of``): unpacked pointers, our packed
TVMValue array, or TVM's FFI TVMFFIAny array. ``run_variants`` runs many lowered versions of
one kernel with a single gcc call and process.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tir_lsp.compiler.backend import emit_c, runtime_header
from tir_lsp.compiler.backend.c_codegen import c_symbol, storage_type
from tir_lsp.compiler.ir.dtype import DataType
from tir_lsp.compiler.ir.expr import IntImm, Var
from tir_lsp.compiler.ir.function import IRModule, PrimFunc
from tir_lsp.compiler.transform import PipelineOptions, run_pipeline
from tir_lsp.compiler.transform.make_packed_api import dl_bits, dl_type_code

GCC_FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2"]
HAVE_GCC = shutil.which("gcc") is not None


@dataclass
class Param:
    name: str
    dtype: DataType
    shape: tuple[int, ...] | None  # None: a scalar


@dataclass
class TensorOverride:
    """Lies the test main tells about one tensor argument (to test argument checking)."""

    type_code: int | None = None
    ndim: int | None = None
    dtype: tuple[int, int, int] | None = None
    shape: tuple[int, ...] | None = None


@dataclass
class RunResult:
    returncode: int
    error: str
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


def params_of(f: PrimFunc, sizes: dict[str, int] | None = None) -> list[Param]:
    """The parameters of unlowered ``f``; symbolic dims take their value from ``sizes``."""
    sizes = sizes or {}
    out = []
    for p in f.params:
        buf = f.buffer_of(p)
        if buf is None:
            out.append(Param(p.name, p.dtype, None))
            continue
        shape = []
        for e in buf.shape:
            if isinstance(e, IntImm):
                shape.append(e.value)
            elif isinstance(e, Var):
                shape.append(sizes[e.name])
            else:
                raise TypeError(f"cannot size {buf.name}: dimension {e} is neither a constant nor a var")
        out.append(Param(buf.name, buf.dtype, tuple(shape)))
    return out


def numpy_dtype(dtype: DataType) -> np.dtype:
    if dtype.code == "float" and dtype.bits == 16:
        return np.dtype("float16")
    if dtype.code == "bfloat":
        return np.dtype("uint16")
    if dtype.is_bool:
        return np.dtype("bool")
    return np.dtype(f"{dtype.code}{dtype.bits}")


def _scalar_literal(value: object, dtype: DataType) -> str:
    if dtype.is_float:
        return repr(float(value))  # type: ignore[arg-type]
    return str(int(value))  # type: ignore[call-overload]


def abi_of(f: PrimFunc) -> str:
    """How C calls lowered ``f``: ``unpacked`` (pointers and scalars), ``packed`` (our
    MakePackedAPI: TVMValue array + type codes) or ``ffi`` (TVM's MakePackedAPI: TVMFFIAny
    array)."""
    if f.attrs.get("calling_conv") != 1:
        return "unpacked"
    return "ffi" if len(f.params) == 4 else "packed"


_PRELUDE = [
    "#define _POSIX_C_SOURCE 200112L",
    '#include "tir_runtime.h"',
    "#include <stdio.h>",
    # 64-byte aligned: what a buffer parameter promises (Buffer.data_alignment).
    "static void* load(const char* path, size_t n) {",
    "  void* p = NULL;",
    "  if (posix_memalign(&p, 64, n ? n : 1) != 0) p = NULL;",
    "  FILE* f = fopen(path, \"rb\");",
    "  if (!p || !f || fread(p, 1, n, f) != n) { fprintf(stderr, \"cannot read %s\\n\", path); exit(3); }",
    "  fclose(f);",
    "  return p;",
    "}",
    "static void save(const char* path, const void* p, size_t n) {",
    "  FILE* f = fopen(path, \"wb\");",
    "  if (!f || fwrite(p, 1, n, f) != n) { fprintf(stderr, \"cannot write %s\\n\", path); exit(3); }",
    "  fclose(f);",
    "}",
]


def _prototype(symbol: str, params: list[Param], abi: str) -> str:
    if abi == "packed":
        return f"int32_t {symbol}(void*, int32_t*, int32_t, void*, int32_t*, void*);"
    if abi == "ffi":
        return f"int32_t {symbol}(void*, void*, int32_t, void*);"
    decl = [f"{storage_type(p.dtype)}*" if p.shape is not None else storage_type(p.dtype) for p in params]
    return f"int32_t {symbol}({', '.join(decl) or 'void'});"


def _call_block(symbol: str, params: list[Param], scalars: dict[str, object], abi: str,
                overrides: dict[str, TensorOverride], num_args: int | None, out: str, failure: str) -> list[str]:
    """A C block that loads the inputs (``arg<i>.bin``), calls ``symbol`` with ``abi``, saves
    the buffers to ``<out><i>.bin``; a nonzero return prints ``failure`` and the last error."""
    lines = ["{"]
    call_args: list[str] = []
    n = len(params)
    if abi == "packed":
        lines.append(f"  TVMValue values[{max(n, 1)}]; int32_t codes[{max(n, 1)}];")
    elif abi == "ffi":
        lines.append(f"  TVMFFIAny values[{max(n, 1)}]; TVMFFIAny result;")
        lines.append("  memset(values, 0, sizeof(values)); memset(&result, 0, sizeof(result));")
    for i, p in enumerate(params):
        if p.shape is None:
            value = _scalar_literal(scalars[p.name], p.dtype)
            if abi == "packed":
                member = "v_float64" if p.dtype.is_float else "v_int64"
                lines.append(f"  values[{i}].{member} = {value}; codes[{i}] = {2 if p.dtype.is_float else 0};")
            elif abi == "ffi":
                member, index = ("v_float64", "kTVMFFIFloat") if p.dtype.is_float else ("v_int64", "kTVMFFIInt")
                if p.dtype.is_bool:
                    index = "kTVMFFIBool"
                lines.append(f"  values[{i}].value.{member} = {value}; values[{i}].type_index = {index};")
            else:
                call_args.append(value)
            continue
        nbytes = int(np.prod(p.shape)) * numpy_dtype(p.dtype).itemsize
        lines.append(f"  void* a{i} = load(\"arg{i}.bin\", {nbytes});")
        if abi == "unpacked":
            call_args.append(f"({storage_type(p.dtype)}*)a{i}")
            continue
        o = overrides.get(p.name, TensorOverride())
        shape = o.shape if o.shape is not None else p.shape
        ndim = o.ndim if o.ndim is not None else len(shape)
        code, bits, lanes = o.dtype or (dl_type_code(p.dtype), dl_bits(p.dtype), p.dtype.lanes)
        dims = ", ".join(str(d) for d in shape) or "0"
        lines.append(f"  int64_t shape{i}[] = {{{dims}}};")
        lines.append(f"  DLTensor t{i} = {{a{i}, {{1, 0}}, {ndim}, {{{code}, {bits}, {lanes}}}, shape{i}, NULL, 0}};")
        if abi == "packed":
            type_code = o.type_code if o.type_code is not None else 7
            lines.append(f"  values[{i}].v_handle = &t{i}; codes[{i}] = {type_code};")
        else:
            type_index = o.type_code if o.type_code is not None else "kTVMFFIDLTensorPtr"
            lines.append(f"  values[{i}].value.v_ptr = &t{i}; values[{i}].type_index = {type_index};")
    count = n if num_args is None else num_args
    if abi == "packed":
        lines.append(f"  int32_t rc = {symbol}(values, codes, {count}, NULL, NULL, NULL);")
    elif abi == "ffi":
        lines.append(f"  int32_t rc = {symbol}(NULL, values, {count}, &result);")
    else:
        lines.append(f"  int32_t rc = {symbol}({', '.join(call_args)});")
    lines.append(f"  if (rc != 0) {{ printf(\"%s%s\", {failure}, TVMGetLastError()); return 2; }}")
    for i, p in enumerate(params):
        if p.shape is not None:
            nbytes = int(np.prod(p.shape)) * numpy_dtype(p.dtype).itemsize
            lines.append(f"  save(\"{out}{i}.bin\", a{i}, {nbytes}); free(a{i});")
    lines.append("}")
    return lines


def _main_source(symbol: str, params: list[Param], scalars: dict[str, object], abi: str,
                 overrides: dict[str, TensorOverride], num_args: int | None) -> str:
    lines = [*_PRELUDE, _prototype(symbol, params, abi), "int main(void) {"]
    lines.extend("  " + x for x in _call_block(symbol, params, scalars, abi, overrides, num_args, "out", '""'))
    lines.extend(["  return 0;", "}"])
    return "\n".join(lines) + "\n"


def compile_c(c_source: str, main_source: str, workdir: Path, extra_flags: tuple[str, ...] = ()) -> Path:
    """Write and build the kernel + test main with the required flags (and ``extra_flags``
    after them); raise on any warning."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "tir_runtime.h").write_text(runtime_header())
    (workdir / "kernel.c").write_text(c_source)
    (workdir / "main.c").write_text(main_source)
    exe = workdir / "kernel_test"
    proc = subprocess.run(
        ["gcc", *GCC_FLAGS, *extra_flags, "-o", str(exe), "kernel.c", "main.c", "-lm"],
        cwd=workdir, capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        raise AssertionError(f"gcc failed:\n{proc.stderr}\n--- kernel.c ---\n{c_source}")
    return exe


def run_kernel(
    unlowered: IRModule,
    arrays: dict[str, np.ndarray],
    workdir: Path,
    *,
    packed: bool,
    lowered: IRModule | None = None,
    scalars: dict[str, object] | None = None,
    sizes: dict[str, int] | None = None,
    overrides: dict[str, TensorOverride] | None = None,
    num_args: int | None = None,
    func: str | None = None,
    extra_flags: tuple[str, ...] = (),
) -> RunResult:
    """Lower (unless ``lowered`` is given), compile (gcc flags GCC_FLAGS + ``extra_flags``),
    run; buffers not in ``arrays`` start at 0."""
    f = unlowered.get(func) if func else unlowered.functions[0]
    assert f is not None
    params = params_of(f, sizes)
    mod = lowered if lowered is not None else run_pipeline(unlowered, PipelineOptions(unpacked_api=not packed))
    target = mod.get(f.name) or mod.functions[0]
    main = _main_source(c_symbol(target), params, scalars or {}, abi_of(target), overrides or {}, num_args)
    exe = compile_c(emit_c(mod), main, workdir, extra_flags)
    _write_inputs(params, arrays, workdir)
    proc = subprocess.run([str(exe)], cwd=workdir, capture_output=True, text=True, timeout=60, check=False)
    result = RunResult(proc.returncode, proc.stdout)
    if proc.returncode == 0:
        result.arrays = _read_outputs(params, workdir, "out")
    return result


def _write_inputs(params: list[Param], arrays: dict[str, np.ndarray], workdir: Path) -> None:
    for i, p in enumerate(params):
        if p.shape is None:
            continue
        data = arrays.get(p.name)
        if data is None:
            data = np.zeros(p.shape, numpy_dtype(p.dtype))
        (workdir / f"arg{i}.bin").write_bytes(np.ascontiguousarray(data, numpy_dtype(p.dtype)).tobytes())


def _read_outputs(params: list[Param], workdir: Path, out: str) -> dict[str, np.ndarray]:
    arrays = {}
    for i, p in enumerate(params):
        if p.shape is not None:
            raw = (workdir / f"{out}{i}.bin").read_bytes()
            arrays[p.name] = np.frombuffer(raw, numpy_dtype(p.dtype)).reshape(p.shape)
    return arrays


@dataclass
class Variant:
    """One lowered module to run: its C and how to call its entry function."""

    c_source: str
    symbol: str
    abi: str
    symbols: tuple[str, ...]  # every function the C defines, renamed apart per variant


def variant_of(lowered: IRModule, func: str | None = None) -> Variant:
    """The Variant of ``lowered`` whose entry is ``func`` (else its first function)."""
    target = (lowered.get(func) if func else None) or lowered.functions[0]
    return Variant(emit_c(lowered), c_symbol(target), abi_of(target), tuple(c_symbol(f) for f in lowered.functions))


def run_variants(params: list[Param], variants: list[Variant], arrays: dict[str, np.ndarray], workdir: Path,
                 *, scalars: dict[str, object] | None = None) -> list[RunResult]:
    """Run every variant on the same inputs with one gcc call and one process.

    One translation unit includes each variant's C with its symbols renamed by macros
    (``tir_v<k>_<symbol>``), and a main calls them in order, each on inputs freshly read from
    disk. A gcc error raises (its messages name ``v<k>.c``); a variant that returns nonzero
    or crashes gets that failure, and the variants after it are not run.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "tir_runtime.h").write_text(runtime_header())
    lines = list(_PRELUDE)
    for k, v in enumerate(variants):
        (workdir / f"v{k}.c").write_text(v.c_source)
        renames = [(s, f"tir_v{k}_{s}") for s in v.symbols]
        lines.extend(f"#define {s} {r}" for s, r in renames)
        lines.append(f'#include "v{k}.c"')
        lines.extend(f"#undef {s}" for s, _ in renames)
    lines.append("int main(void) {")
    for k, v in enumerate(variants):
        block = _call_block(f"tir_v{k}_{v.symbol}", params, scalars or {}, v.abi, {}, None, f"v{k}_out", f'"v{k}: "')
        lines.extend("  " + x for x in block)
    lines.extend(["  return 0;", "}"])
    (workdir / "all.c").write_text("\n".join(lines) + "\n")
    exe = workdir / "variants_test"
    proc = subprocess.run(["gcc", *GCC_FLAGS, "-o", str(exe), "all.c", "-lm"],
                          cwd=workdir, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"gcc failed in {workdir}:\n{proc.stderr}")
    _write_inputs(params, arrays, workdir)
    proc = subprocess.run([str(exe)], cwd=workdir, capture_output=True, text=True, timeout=120, check=False)
    results: list[RunResult] = []
    failed = False
    for k in range(len(variants)):
        if not failed and all((workdir / f"v{k}_out{i}.bin").exists() for i, p in enumerate(params) if p.shape is not None):
            results.append(RunResult(0, "", _read_outputs(params, workdir, f"v{k}_out")))
        elif not failed:
            failed = True
            results.append(RunResult(proc.returncode, proc.stdout + proc.stderr))
        else:
            results.append(RunResult(-1, "not run: an earlier variant failed"))
    return results
