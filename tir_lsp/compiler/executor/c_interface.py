"""The typed C interface of an AOT model (``interface-api c``), as TVM's MLF spells it:

    include/tvmgen_<model>.h   struct tvmgen_<model>_inputs / _outputs (one typed pointer per
                               tensor, named after the tensor, C-safe: ``float*``,
                               ``int64_t*``, ``bool*``..., ``uint16_t*`` for float16), size
                               macros, and
                               int32_t tvmgen_<model>_run(struct tvmgen_<model>_inputs*,
                                                          struct tvmgen_<model>_outputs*);
    src/<model>_lib0.c         tvmgen_<model>_run: the static workspace pool, the weights
                               (without link-params) and the call of __tvm_main__.

and the packed entry (``interface-api packed``), as TVM's CRT names it:

    include/tvmgen_<model>.h   the same size macros and
                               int32_t tvmgen_<model>_run(void* args, int32_t* arg_type_ids,
                                   int32_t num_args, void* out_ret_value,
                                   int32_t* out_ret_tcode, void* resource_handle);
    src/<model>_lib0.c         tvmgen_<model>_run with the C-runtime packed ABI: the inputs then
                               the outputs as DLTensors. It adds the weights and the workspace
                               and calls __tvm_main__ in its own convention: packed (the
                               DLTensors passed on; main checks them) or unpacked (checked
                               here, then their data pointers).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Protocol

import numpy as np

from tir_lsp.compiler.backend.c_codegen import storage_type
from tir_lsp.compiler.backend.runtime_header import HEADER_NAME
from tir_lsp.compiler.executor.aot import AotProgram
from tir_lsp.compiler.executor.c_bytes import literal_pieces, literal_size
from tir_lsp.compiler.executor.options import ExecutorOptions
from tir_lsp.compiler.executor.streamed import StreamedFile
from tir_lsp.compiler.frontend.graph import FLOAT8S, Graph, numpy_dtype
from tir_lsp.compiler.ir.buffer import DEFAULT_DATA_ALIGNMENT
from tir_lsp.compiler.ir.dtype import parse_dtype


class WithWeights(Protocol):
    """A compiled program of either executor, as far as its weights go."""

    graph: Graph
    options: ExecutorOptions
    param_names: dict[str, str]  # constant tensor -> C name


def c_type(dtype: str) -> str:
    """The C type of one element of a tensor of ``dtype`` (float16: its uint16_t bits)."""
    return storage_type(parse_dtype(dtype))


def dl_dtype(dtype: str) -> str:
    """``dtype`` as a DLDataType initializer (code, bits, lanes); bool is kDLBool, 8 bits."""
    d = parse_dtype(dtype)
    code = {"int": 0, "uint": 1, "float": 2, "bfloat": 4, "bool": 6, "float8_e4m3fn": 10, "float8_e4m3fnuz": 11,
            "float8_e5m2": 12, "float8_e5m2fnuz": 13}[d.code]  # DLPack 1.1's codes
    return f"{{{code}, {8 if d.is_bool else d.bits}, 1}}"


def header_name(model: str) -> str:
    return f"tvmgen_{model}.h"


PACKED_PARAMS = ("void* args, int32_t* arg_type_ids, int32_t num_args, void* out_ret_value, int32_t* out_ret_tcode, "
                 "void* resource_handle")


def interface_header(p: AotProgram) -> str:
    """``include/tvmgen_<model>.h``: size macros and the entry, typed (``interface-api c``)
    or packed."""
    m = p.options.model_name
    if p.options.interface_api == "packed":
        return _header(p, [
            f"/* Runs model \"{m}\" through the C-runtime packed ABI: args are the inputs, then the outputs,",
            " * as DLTensors (type code kTVMDLTensorHandle) in the order of the size macros above. Returns 0",
            " * on success, -1 on error (message in TVMGetLastError()). */",
            f"int32_t tvmgen_{m}_run({PACKED_PARAMS});",
        ])
    structs: list[str] = []
    for kind, names in (("inputs", p.input_names), ("outputs", p.output_names)):
        structs.append(f"/* {kind.capitalize()} of model \"{m}\", one data pointer per tensor, each "
                       f"{DEFAULT_DATA_ALIGNMENT}-byte aligned */")
        structs.append(f"/* (e.g. __attribute__((aligned({DEFAULT_DATA_ALIGNMENT})))): a misaligned one is an error. */")
        structs.append(f"struct tvmgen_{m}_{kind} {{")
        for t, c in names.items():
            info = p.graph.tensors[t]
            note = f"  /* {info.dtype} bits */" if info.dtype in ("float16", "bfloat16", *FLOAT8S) else ""
            structs.append(f"  {c_type(info.dtype)}* {c};{note}")
        structs.append("};")
        structs.append("")
    return _header(p, structs + [
        f"/* Runs model \"{m}\"; returns 0 on success, -1 on error (message in TVMGetLastError()). */",
        f"int32_t tvmgen_{m}_run(struct tvmgen_{m}_inputs* inputs, struct tvmgen_{m}_outputs* outputs);",
    ])


def _header(p: AotProgram, entry: list[str]) -> str:
    m = p.options.model_name
    guard = f"TVMGEN_{m.upper()}_H_"
    lines = [f"/* Generated by tir-lsp's compiler: C interface of model \"{m}\". */", f"#ifndef {guard}",
             f"#define {guard}", "", "#include <stdbool.h>", "#include <stddef.h>", "#include <stdint.h>", "", "#ifdef __cplusplus", "extern \"C\" {", "#endif", ""]
    for kind, names in (("Input", p.input_names), ("Output", p.output_names)):
        for t, c in names.items():
            lines.append(f"/* {kind} tensor {t} size (in bytes) for model \"{m}\" */")
            lines.append(f"#define TVMGEN_{m.upper()}_{c.upper()}_SIZE {p.graph.tensors[t].nbytes}")
    lines.append("/* Workspace pool size (in bytes): all the memory the model needs besides its inputs, outputs")
    lines.append(" * and weights (no operator allocates) */")
    lines.append(f"#define TVMGEN_{m.upper()}_WORKSPACE_SIZE {p.plan.pool_size}")
    if p.param_names and not p.options.link_params:
        lines.append(f"/* Weights size (in bytes): parameters/{m}.params.bin */")
        lines.append(f"#define TVMGEN_{m.upper()}_PARAMS_SIZE {params_layout(p)[1]}")
        lines += ["", f"/* Hands model \"{m}\" its weights: the bytes of parameters/{m}.params.bin ({PARAMS_ALIGN}-byte aligned),",
                  " * read in place for as long as the model runs (nothing is copied or allocated). Returns 0, or -1",
                  " * if the size or alignment is wrong. Call once before tvmgen_" + m + "_run. */",
                  f"int32_t tvmgen_{m}_load_params(const void* data, size_t nbytes);"]
    lines.append("")
    lines += entry
    lines += ["", "#ifdef __cplusplus", "}", "#endif", "", f"#endif  /* {guard} */", ""]
    return "\n".join(lines)


def interface_source(p: AotProgram) -> str:
    """``<model>_lib0.c``: ``tvmgen_<model>_run`` over the unpacked ``__tvm_main__``."""
    m = p.options.model_name
    ctypes = {c: c_type(p.graph.tensors[t].dtype) for t, c in [*p.input_names.items(), *p.output_names.items(),
                                                               *p.param_names.items()]}
    args = [f"{ctypes[c]}* {c}" for c in [*p.input_names.values(), *p.output_names.values()]]
    call = [f"({ctypes[c]}*)inputs->{c}" for c in p.input_names.values()]
    call += [f"({ctypes[c]}*)outputs->{c}" for c in p.output_names.values()]
    lines = [f"/* Generated by tir-lsp's compiler: entry point of model \"{m}\". */", f'#include "{HEADER_NAME}"',
             f'#include "{header_name(m)}"', ""]
    weights, pool = _static_data(p, lines)
    args += [f"{ctypes[c]}* {c}" for c, _, _ in weights]
    call += [f"({ctypes[c]}*){arr}" for c, arr, _ in weights]
    if pool:
        args.append("uint8_t* global_workspace")
        call.append(pool)
    lines += [
        f"int32_t {p.main_symbol}({', '.join(args)});", "",
        f"int32_t tvmgen_{m}_run(struct tvmgen_{m}_inputs* inputs, struct tvmgen_{m}_outputs* outputs) {{",
        *_params_check(p),
        f"  return {p.main_symbol}({', '.join(call)});", "}", "",
    ]
    return "\n".join(lines)


# Every weight of the parameter blob starts at a multiple of this: the operators' buffer
# parameters promise it (and check it).
PARAMS_ALIGN = DEFAULT_DATA_ALIGNMENT


def params_layout(p: WithWeights) -> tuple[dict[str, int], int]:
    """Offset of each weight (by C name) in the parameter blob, and the blob's size."""
    offsets, size = {}, 0
    for t, c in p.param_names.items():
        offsets[c] = size
        size += -(-p.graph.tensors[t].nbytes // PARAMS_ALIGN) * PARAMS_ALIGN
    return offsets, size


def weight_view(p: WithWeights, tensor: str) -> np.ndarray:
    """The bytes of weight ``tensor`` as the C reads them (little-endian, in its dtype), as
    uint8: a view of the constant, not a copy, when it is already laid out so."""
    dt = numpy_dtype(p.graph.tensors[tensor].dtype).newbyteorder("<")
    arr = np.ascontiguousarray(p.graph.constants[tensor], dtype=dt)
    flat: np.ndarray = arr.reshape(-1).view(np.uint8)
    return flat


def weight_bytes(p: WithWeights, tensor: str) -> bytes:
    """The bytes of weight ``tensor`` as the C reads them (little-endian, in its dtype)."""
    return weight_view(p, tensor).tobytes()


def params_pieces(p: WithWeights, names: list[str] | None = None) -> Iterator[memoryview | bytes]:
    """The bytes of the parameter blob (``params_layout``) from the first weight of ``names``
    (C names, consecutive in the layout; default all) to the start of the weight after the
    last: each weight (a view, when it can be) and the zeros that pad it."""
    offsets, size = params_layout(p)
    order = list(offsets)
    ends = {c: offsets[order[k + 1]] if k + 1 < len(order) else size for k, c in enumerate(order)}
    tensor_of = {c: t for t, c in p.param_names.items()}
    for c in order if names is None else names:
        data = weight_view(p, tensor_of[c]).data  # the bytes, viewed
        yield data
        if ends[c] - offsets[c] > len(data):
            yield bytes(ends[c] - offsets[c] - len(data))


def params_blob(p: WithWeights) -> bytes:
    """The weights as one little-endian blob (each weight in its dtype) laid out by
    ``params_layout``: the file
    ``parameters/<model>.params.bin`` that ``tvmgen_<model>_load_params`` takes."""
    return b"".join(params_pieces(p))


def params_file(p: WithWeights) -> StreamedFile:
    """``params_blob`` made a block at a time, for the archive."""
    return StreamedFile(params_layout(p)[1], lambda: params_pieces(p))


CHUNK_BYTES = 32 << 20  # linked weights per generated C file (gcc needs ~7x in memory)


def params_chunks(p: WithWeights) -> list[list[str]]:
    """The weights (C names) of each linked-params file: consecutive, at most CHUNK_BYTES
    each unless one weight alone is larger."""
    offsets, size = params_layout(p)
    chunks: list[list[str]] = [[]]
    start = 0
    names = list(offsets)
    for k, c in enumerate(names):
        end = offsets[names[k + 1]] if k + 1 < len(names) else size
        if chunks[-1] and end - start > CHUNK_BYTES:
            chunks.append([])
            start = offsets[c]
        chunks[-1].append(c)
    return [c for c in chunks if c]


def linked_params_sources(p: WithWeights, stream: bool = False) -> tuple[dict[str, bytes | StreamedFile],
                                                                         dict[str, bytes | StreamedFile]]:
    """With link-params, the files that hold the weights, one per ``params_chunks`` chunk,
    each defining ``const unsigned char tvmgen_<model>_params<k>[]`` (64-byte aligned, laid
    out as ``params_layout``): (C sources, data files that ship next to them).

    ``link-params-format c``: ``<model>_params<k>.c``, the array initialised from a string
    literal of its bytes (``c_bytes``): ~1.07 bytes of C per byte of weight, portable C, read
    by gcc far faster and in far less memory than numbers (still ~6.5x the largest file).
    ``incbin``: ``<model>_params<k>.c`` is a few lines of top-level assembly that include the
    raw bytes of ``<model>_params<k>.c.bin`` (``.incbin``, GNU as or clang on ELF targets):
    the compiler reads the file once, in ~its size of memory.

    The C text is ``bytes`` (it holds raw bytes 0x80-0xff): write it as it is. With
    ``stream`` the big files are ``StreamedFile``s, made a block at a time as they are
    written; without, ``bytes`` (the same bytes)."""
    m = p.options.model_name
    fmt = p.options.link_params_format
    offsets, size = params_layout(p)
    names = list(offsets)
    sources: dict[str, bytes | StreamedFile] = {}
    data_files: dict[str, bytes | StreamedFile] = {}
    for k, chunk in enumerate(params_chunks(p)):
        lo = offsets[chunk[0]]
        nxt = names.index(chunk[-1]) + 1
        hi = offsets[names[nxt]] if nxt < len(names) else size

        def pieces(chunk: list[str] = chunk) -> Iterator[memoryview | bytes]:
            return params_pieces(p, chunk)

        what = f"{', '.join(chunk[:3])}{', ...' if len(chunk) > 3 else ''}"
        sym = f"tvmgen_{m}_params{k}"
        if fmt == "incbin":
            name = f"{m}_params{k}.c"
            sources[name] = _incbin_source(m, sym, name, what, hi - lo, pieces)
            data = StreamedFile(hi - lo, pieces)
            data_files[f"{name}.bin"] = data if stream else data.to_bytes()
            continue
        head = (f"/* Generated by tir-lsp's compiler: weights of model \"{m}\" ({what}), little-endian bytes. */\n"
                f"const unsigned char {sym}[{hi - lo}] __attribute__((aligned({PARAMS_ALIGN}))) =\n").encode()

        def text(head: bytes = head, pieces: Callable[[], Iterator[memoryview | bytes]] = pieces) -> Iterator[bytes]:
            yield head
            yield from literal_pieces(pieces())
            yield b";\n"

        c_file = StreamedFile(len(head) + literal_size(pieces()) + 2, text) if stream else None
        sources[f"{m}_params{k}.c"] = c_file if c_file is not None else b"".join(text())
    return sources, data_files


def _incbin_source(m: str, sym: str, name: str, what: str, size: int,
                   pieces: Callable[[], Iterator[memoryview | bytes]]) -> bytes:
    """``<model>_params<k>.c`` for ``link-params-format incbin``: ``sym`` is the bytes of
    ``<name>.bin``, found next to this file through ``__FILE__`` (so compile it by its path,
    whatever the working directory). The digest of the bytes is part of the text, so a build
    cache keyed on the preprocessed source sees new weights; the assembler stops if the
    file does not hold exactly ``size`` bytes."""
    digest = hashlib.sha256()
    for piece in pieces():
        digest.update(piece)
    lines = [
        f"/* Generated by tir-lsp's compiler: weights of model \"{m}\" ({what}), little-endian bytes: the {size} bytes",
        f" * of {name}.bin, which the assembler includes (.incbin: GNU as or clang, ELF targets). Compile this",
        " * file by its path (its own directory holds the .bin: __FILE__ \".bin\" names it). */",
        "__asm__(",
        f'    "\\t.pushsection .rodata.{sym},\\"a\\",%progbits\\n"',
        f'    "\\t.balign {PARAMS_ALIGN}\\n"',
        f'    "\\t.globl {sym}\\n"',
        f'    "\\t.type {sym}, %object\\n"',
        f'    "{sym}:\\n"',
        '    "\\t.incbin \\"" __FILE__ ".bin\\"\\n"',
        f'    "\\t.if . - {sym} - {size}\\n"',
        f'    "\\t.error \\"{name}.bin must hold the {size} bytes of the weights (sha256 {digest.hexdigest()})\\"\\n"',
        '    "\\t.endif\\n"',
        f'    "\\t.size {sym}, {size}\\n"',
        '    "\\t.popsection\\n");',
        "",
    ]
    return "\n".join(lines).encode()


def linked_param_pointers(p: WithWeights, lines: list[str]) -> dict[str, str]:
    """With link-params: append the ``extern`` declarations of the weight arrays to
    ``lines``; return the C pointer expression (``const unsigned char*``) of each weight by
    C name."""
    m = p.options.model_name
    offsets, _ = params_layout(p)
    where: dict[str, str] = {}
    for k, chunk in enumerate(params_chunks(p)):
        lo = offsets[chunk[0]]
        lines.append(f"extern const unsigned char tvmgen_{m}_params{k}[];")
        for c in chunk:
            where[c] = f"(tvmgen_{m}_params{k} + {offsets[c] - lo})"
    return where


def _static_data(p: AotProgram, lines: list[str]) -> tuple[list[tuple[str, str, tuple[int, ...]]], str | None]:
    """Append the weights' declarations and the workspace pool to ``lines``; return (C
    name, C pointer expression, shape) of each weight main takes, and the pool's C name.

    Without link-params the weights are the blob ``parameters/<model>.params.bin`` that the
    application hands to ``tvmgen_<model>_load_params`` (from flash, a file, anywhere: the
    model keeps only the pointer); with link-params they are compiled in
    (``<model>_params<k>.c``)."""
    m = p.options.model_name
    weights: list[tuple[str, str, tuple[int, ...]]] = []
    offsets, size = params_layout(p)
    if p.param_names and p.options.link_params:
        weights = [(c, expr, ()) for c, expr in linked_param_pointers(p, lines).items()]
    elif p.param_names:
        lines += [
            f"static const unsigned char* tvmgen_{m}_params = NULL;", "",
            f"int32_t tvmgen_{m}_load_params(const void* data, size_t nbytes) {{",
            f"  if (data == NULL || nbytes != TVMGEN_{m.upper()}_PARAMS_SIZE || ((uintptr_t)data % {PARAMS_ALIGN}) != 0) {{",
            f"    TVMAPISetLastError(\"tvmgen_{m}_load_params: expects the {size} bytes of {m}.params.bin, {PARAMS_ALIGN}-byte aligned\");",
            "    return -1;", "  }",
            f"  tvmgen_{m}_params = (const unsigned char*)data;", "  return 0;", "}", ""]
        for c in offsets:
            weights.append((c, f"(tvmgen_{m}_params + {offsets[c]})", ()))
    shapes = {c: tuple(p.graph.tensors[t].shape) for t, c in p.param_names.items()}
    weights = [(c, expr, shapes[c]) for c, expr, _ in weights]
    pool = None
    if p.plan.pool_size:
        pool = f"tvmgen_{m}_global_workspace"
        lines.append(f"static uint8_t {pool}[{p.plan.pool_size}] __attribute__((aligned({DEFAULT_DATA_ALIGNMENT})));")
    return weights, pool


def _params_check(p: AotProgram) -> list[str]:
    """The first statements of ``tvmgen_<model>_run``: weights must be loaded."""
    if not p.param_names or p.options.link_params:
        return []
    m = p.options.model_name
    return [f"  if (tvmgen_{m}_params == NULL) {{",
            f"    TVMAPISetLastError(\"tvmgen_{m}_run: no weights; call tvmgen_{m}_load_params first\");",
            "    return -1;", "  }"]


def _shape_init(shape: tuple[int, ...]) -> str:
    # A zero-length array is not C99; a 0-d tensor's shape array is never read.
    return "{" + ", ".join(map(str, shape or (1,))) + "}"


_TENSOR_ARG = """\
/* The data of packed argument i, if it is a compact CPU DLTensor of dtype ``dtype`` (named
 * ``dtype_name``) and shape ``shape``; else NULL, with the error set. */
static void* tvmgen_{m}_tensor_arg(const TVMValue* args, const int32_t* codes, int32_t i, const char* name,
                                   DLDataType dtype, const char* dtype_name, int32_t ndim, const int64_t* shape) {{
  char msg[256];
  const DLTensor* t = (const DLTensor*)args[i].v_handle;
  int64_t expect = 1;
  int32_t d;
  if (codes[i] != kTVMDLTensorHandle && codes[i] != kTVMNDArrayHandle) {{
    snprintf(msg, sizeof msg, "TypeError: tvmgen_{m}_run: argument #%d (%s) expects a DLTensor handle (type code 7)", (int)i, name);
  }} else if (t == NULL || t->data == NULL) {{
    snprintf(msg, sizeof msg, "TypeError: tvmgen_{m}_run: argument #%d (%s) is NULL", (int)i, name);
  }} else if (t->device.device_type != kDLCPU) {{
    snprintf(msg, sizeof msg, "ValueError: tvmgen_{m}_run: argument #%d (%s) expects a CPU tensor", (int)i, name);
  }} else if (t->dtype.code != dtype.code || t->dtype.bits != dtype.bits || t->dtype.lanes != 1) {{
    snprintf(msg, sizeof msg, "TypeError: tvmgen_{m}_run: argument #%d (%s) expects dtype %s", (int)i, name, dtype_name);
  }} else if (t->ndim != ndim) {{
    snprintf(msg, sizeof msg, "ValueError: tvmgen_{m}_run: argument #%d (%s) expects ndim %d, got %d", (int)i, name, (int)ndim,
             (int)t->ndim);
  }} else {{
    for (d = 0; d < ndim; ++d) {{
      if (t->shape[d] != shape[d]) {{
        snprintf(msg, sizeof msg, "ValueError: tvmgen_{m}_run: argument #%d (%s) expects shape[%d] == %lld, got %lld", (int)i, name,
                 (int)d, (long long)shape[d], (long long)t->shape[d]);
        TVMAPISetLastError(msg);
        return NULL;
      }}
    }}
    for (d = ndim - 1; t->strides != NULL && d >= 0; --d) {{
      if (t->strides[d] != expect && shape[d] != 1) {{
        snprintf(msg, sizeof msg, "ValueError: tvmgen_{m}_run: argument #%d (%s) expects compact strides", (int)i, name);
        TVMAPISetLastError(msg);
        return NULL;
      }}
      expect *= shape[d];
    }}
    return (void*)((char*)t->data + t->byte_offset);
  }}
  TVMAPISetLastError(msg);
  return NULL;
}}
"""


def packed_entry_source(p: AotProgram) -> str:
    """``<model>_lib0.c`` for ``interface-api packed``: ``tvmgen_<model>_run`` with the
    C-runtime packed ABI over ``__tvm_main__``, packed or unpacked."""
    m = p.options.model_name
    tensors = [*p.input_names.items(), *p.output_names.items()]
    n = len(tensors)
    names = ", ".join(c for _, c in tensors)
    lines = [f"/* Generated by tir-lsp's compiler: packed entry point of model \"{m}\". */", "#include <stdio.h>",
             f'#include "{HEADER_NAME}"', f'#include "{header_name(m)}"', ""]
    weights, pool = _static_data(p, lines)
    check = [
        f"int32_t tvmgen_{m}_run({PACKED_PARAMS}) {{",
        *_params_check(p),
        f"  if (num_args != {n}) {{",
        f"    TVMAPISetLastError(\"TypeError: tvmgen_{m}_run: expected {n} arguments ({names}: the inputs, then the outputs)\");",
        "    return -1;", "  }",
    ]
    if p.options.unpacked_api:
        ctypes = {c: c_type(p.graph.tensors[t].dtype) for t, c in [*tensors, *p.param_names.items()]}
        params = [f"{ctypes[c]}* {c}" for _, c in tensors] + [f"{ctypes[c]}* {c}" for c, _, _ in weights]
        params += ["uint8_t* global_workspace"] if pool else []
        lines += [f"int32_t {p.main_symbol}({', '.join(params)});", "", _TENSOR_ARG.format(m=m), *check]
        lines.append("  (void)out_ret_value; (void)out_ret_tcode; (void)resource_handle;")
        for i, (t, c) in enumerate(tensors):
            shape = tuple(p.graph.tensors[t].shape)
            # Locals are prefixed so that no tensor name can shadow a parameter.
            lines.append(f"  static const int64_t s_{c}[] = {_shape_init(shape)};")
            dtype = p.graph.tensors[t].dtype
            lines.append(f"  static const DLDataType d_{c} = {dl_dtype(dtype)};")
            lines.append(f"  {ctypes[c]}* t_{c} = ({ctypes[c]}*)tvmgen_{m}_tensor_arg((const TVMValue*)args, arg_type_ids, {i}, "
                         f"\"{c}\", d_{c}, \"{dtype}\", {len(shape)}, s_{c});")
            lines.append(f"  if (t_{c} == NULL) return -1;")
        call = [f"t_{c}" for _, c in tensors] + [f"({ctypes[c]}*){arr}" for c, arr, _ in weights] + ([pool] if pool else [])
        lines += [f"  return {p.main_symbol}({', '.join(call)});", "}", ""]
        return "\n".join(lines)
    # Packed main: pass the caller's DLTensors on and add the weights and pool as DLTensors.
    total = n + len(weights) + (1 if pool else 0)
    lines += [f"int32_t {p.main_symbol}({PACKED_PARAMS});", "", *check]
    lines += [f"  TVMValue values[{total}];", f"  int32_t codes[{total}];", "  int32_t i;",
              f"  for (i = 0; i < {n}; ++i) {{", "    values[i] = ((TVMValue*)args)[i];", "    codes[i] = arg_type_ids[i];",
              "  }"]
    dtypes = {c: p.graph.tensors[t].dtype for t, c in p.param_names.items()}
    extra = [(c, arr, shape, dl_dtype(dtypes[c])) for c, arr, shape in weights]
    if pool:
        extra.append(("global_workspace", pool, (p.plan.pool_size,), "{kDLUInt, 8, 1}"))
    for k, (c, arr, shape, dtype) in enumerate(extra):
        lines.append(f"  static int64_t s_{c}[] = {_shape_init(shape)};")
        lines.append(f"  DLTensor t_{c} = {{(void*){arr}, {{kDLCPU, 0}}, {len(shape)}, {dtype}, s_{c}, NULL, 0}};")
        lines.append(f"  values[{n + k}].v_handle = &t_{c};")
        lines.append(f"  codes[{n + k}] = kTVMDLTensorHandle;")
    lines += [f"  return {p.main_symbol}(values, codes, {total}, out_ret_value, out_ret_tcode, resource_handle);", "}", ""]
    return "\n".join(lines)
