"""Run an MLF archive through the C-runtime packed ABI from Python: its C is compiled into a
shared library (gcc -O1) and called with ctypes, DLTensors built over numpy arrays.

``run_packed_entry`` calls the AOT packed entry ``tvmgen_<model>_run`` (inputs, then
outputs). ``run_graph`` is a small graph executor: it reads ``graph.json`` and the params,
allocates one buffer per storage id, and calls each ``tvm_op`` node's packed function (from
``tvmgen_<model>_get_function``) in node order, as TVM's graph executor does."""

from __future__ import annotations

import ctypes
import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
from aot_models import extract

K_DLTENSOR = 7
DTYPES = {"float32": (2, 32), "uint8": (1, 8)}


class DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", DLDevice), ("ndim", ctypes.c_int32), ("dtype", DLDataType),
                ("shape", ctypes.POINTER(ctypes.c_int64)), ("strides", ctypes.POINTER(ctypes.c_int64)),
                ("byte_offset", ctypes.c_uint64)]


class TVMValue(ctypes.Union):
    _fields_ = [("v_int64", ctypes.c_int64), ("v_float64", ctypes.c_double), ("v_handle", ctypes.c_void_p)]


PACKED_FUNC = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.POINTER(ctypes.c_int32), ctypes.c_int32,
                               ctypes.c_void_p, ctypes.POINTER(ctypes.c_int32), ctypes.c_void_p)


def build_library(workdir: Path) -> ctypes.CDLL:
    """The archive extracted in ``workdir`` compiled into one shared library."""
    srcs = sorted(str(p) for p in (workdir / "codegen/host/src").glob("*.c"))
    lib = workdir / "model.so"
    cc = subprocess.run(["gcc", "-std=c99", "-O1", "-Wall", "-Werror", "-shared", "-fPIC", "-I",
                         str(workdir / "codegen/host/include"), *srcs, "-o", str(lib), "-lm"],
                        capture_output=True, text=True, check=False)
    assert cc.returncode == 0, cc.stderr
    return ctypes.CDLL(str(lib))


def aligned(arr: np.ndarray, alignment: int = 64) -> np.ndarray:
    """A C-contiguous copy of ``arr`` whose data starts at a multiple of ``alignment`` bytes
    (what the operators' buffer parameters promise and check)."""
    arr = np.asarray(arr)
    raw = np.empty(arr.nbytes + alignment, dtype=np.uint8)
    start = -raw.ctypes.data % alignment
    out: np.ndarray = raw[start:start + arr.nbytes].view(arr.dtype).reshape(arr.shape)
    out[...] = arr
    return out


def dltensor(arr: np.ndarray, keep: list[Any], misaligned_ok: bool = False) -> DLTensor:
    """A DLTensor over ``arr`` (contiguous, 64-byte aligned unless ``misaligned_ok``: see
    ``aligned``); ``keep`` holds what must outlive the call."""
    assert arr.flags.c_contiguous
    assert misaligned_ok or arr.ctypes.data % 64 == 0 or arr.nbytes == 0, \
        "pass aligned(arr): buffer parameters promise 64-byte aligned data"
    code, bits = DTYPES[str(arr.dtype)]
    shape = (ctypes.c_int64 * max(arr.ndim, 1))(*arr.shape)
    keep += [arr, shape]
    return DLTensor(arr.ctypes.data, DLDevice(1, 0), arr.ndim, DLDataType(code, bits, 1), shape, None, 0)


def call_packed(func: Any, tensors: list[DLTensor]) -> int:
    """Call a packed C function with ``tensors`` as DLTensor arguments; its return code."""
    n = len(tensors)
    values = (TVMValue * max(n, 1))()
    for i, t in enumerate(tensors):
        values[i].v_handle = ctypes.cast(ctypes.pointer(t), ctypes.c_void_p)
    codes = (ctypes.c_int32 * max(n, 1))(*([K_DLTENSOR] * n))
    ret, ret_code = TVMValue(), ctypes.c_int32()
    return int(func(ctypes.cast(values, ctypes.c_void_p), codes, n, ctypes.cast(ctypes.pointer(ret), ctypes.c_void_p),
                    ctypes.byref(ret_code), None))


def last_error(lib: ctypes.CDLL) -> str:
    return (ctypes.c_char * 512).in_dll(lib, "TIRLastError").value.decode()


def entry_function(lib: ctypes.CDLL, model: str) -> Any:
    return PACKED_FUNC((f"tvmgen_{model}_run", lib))


def load_archive(archive: Path, workdir: Path) -> tuple[dict[str, Any], ctypes.CDLL]:
    """The archive's metadata and its C as a loaded shared library."""
    meta = extract(archive, workdir)
    lib = build_library(workdir)
    blob = workdir / f"parameters/{meta['model_name']}.params.bin"
    if blob.exists() and meta["executor"] == "aot":
        # Weights not linked in: the model reads them in place, so the buffer lives with lib.
        data = np.frombuffer(blob.read_bytes(), dtype=np.uint8)
        buf = np.empty(len(data) + 64, dtype=np.uint8)
        start = -buf.ctypes.data % 64
        buf[start:start + len(data)] = data
        lib.tir_params = buf  # type: ignore[attr-defined]
        load = getattr(lib, f"tvmgen_{meta['model_name']}_load_params")
        assert load(ctypes.c_void_p(buf.ctypes.data + start), ctypes.c_size_t(len(data))) == 0, last_error(lib)
    return meta, lib


def run_packed_entry(meta: dict[str, Any], lib: ctypes.CDLL, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Outputs of the AOT packed entry ``tvmgen_<model>_run`` on ``inputs``."""
    keep: list[Any] = []
    outs = {t["name"]: aligned(np.zeros(t["shape"], dtype=np.float32)) for t in meta["outputs"]}
    args = [dltensor(aligned(np.asarray(inputs[t["name"]], dtype=np.float32)), keep) for t in meta["inputs"]]
    args += [dltensor(outs[t["name"]], keep) for t in meta["outputs"]]
    rc = call_packed(entry_function(lib, meta["model_name"]), args)
    assert rc == 0, last_error(lib)
    return outs


def run_graph(meta: dict[str, Any], lib: ctypes.CDLL, workdir: Path, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Outputs of the archive's ``graph.json`` (extracted in ``workdir``) run node by node."""
    m = meta["model_name"]
    graph = json.loads((workdir / "executor-config/graph/graph.json").read_text())
    params = dict(np.load(workdir / f"parameters/{m}.params.npz"))
    attrs = graph["attrs"]
    shapes, dtypes, sids = attrs["shape"][1], attrs["dltype"][1], attrs["storage_id"][1]
    sizes: dict[int, int] = {}
    for shape, dtype, sid in zip(shapes, dtypes, sids):
        sizes[sid] = max(sizes.get(sid, 0), int(np.prod(shape)) * np.dtype(dtype).itemsize)
    storage = {sid: aligned(np.zeros(n, dtype=np.uint8)) for sid, n in sizes.items()}

    def entry(e: int) -> np.ndarray:
        n = int(np.prod(shapes[e])) * np.dtype(dtypes[e]).itemsize
        view: np.ndarray = storage[sids[e]][:n].view(dtypes[e]).reshape(shapes[e])
        return view

    row = graph["node_row_ptr"]
    get_linked = getattr(lib, f"tvmgen_{m}_get_linked_param", None)
    if get_linked is not None:
        get_linked.restype = ctypes.c_void_p
    for nid in graph["arg_nodes"]:
        name = graph["nodes"][nid]["name"]
        view = entry(row[nid])
        if name in inputs:
            view[...] = inputs[name]
        elif get_linked is not None:
            ptr = get_linked(name.encode())
            assert ptr, f"no linked param {name}"
            view[...] = np.ctypeslib.as_array(ctypes.cast(ptr, ctypes.POINTER(ctypes.c_float)), shape=view.shape)
        else:
            view[...] = params[name]
    lookup = getattr(lib, f"tvmgen_{m}_get_function")
    lookup.restype = ctypes.c_void_p
    for nid, node in enumerate(graph["nodes"]):
        if node["op"] != "tvm_op":
            continue
        ptr = lookup(node["attrs"]["func_name"].encode())
        assert ptr, node["attrs"]["func_name"]
        keep: list[Any] = []
        args = [dltensor(entry(row[i] + k), keep) for i, k, _ in node["inputs"]]
        args += [dltensor(entry(row[nid] + k), keep) for k in range(int(node["attrs"]["num_outputs"]))]
        rc = call_packed(PACKED_FUNC(ptr), args)
        assert rc == 0, last_error(lib)
    names = [t["name"] for t in meta["outputs"]]
    return {name: entry(row[nid] + k).copy() for name, (nid, k, _) in zip(names, graph["heads"])}


def run_graph_in_c(meta: dict[str, Any], workdir: Path, inputs: dict[str, np.ndarray], extra_c: str = "",
                   cflags: list[str] | None = None) -> dict[str, np.ndarray]:
    """Outputs of the archive's ``graph.json`` (extracted in ``workdir``) run by a C program:
    a generated graph walker with one static array per storage id (nothing allocated), linked
    with the archive's C. Inputs and weights (``parameters/<model>.params.npz``, or the
    library's linked weights when it has them) are read before ``TIR_TEST_BEFORE_RUN()``;
    every operator runs between it and ``TIR_TEST_AFTER_RUN()``, which ``extra_c`` may define
    (e.g. a malloc that aborts)."""
    m = meta["model_name"]
    graph = json.loads((workdir / "executor-config/graph/graph.json").read_text())
    attrs = graph["attrs"]
    shapes, dtypes, sids = attrs["shape"][1], attrs["dltype"][1], attrs["storage_id"][1]
    sizes: dict[int, int] = {}
    for shape, dtype, sid in zip(shapes, dtypes, sids):
        sizes[sid] = max(sizes.get(sid, 0), int(np.prod(shape)) * np.dtype(dtype).itemsize)
    row = graph["node_row_ptr"]
    linked = f"tvmgen_{m}_get_linked_param" in (workdir / f"codegen/host/src/{m}_lib0.c").read_text()
    params = {} if linked else dict(np.load(workdir / f"parameters/{m}.params.npz"))
    lines = ['#include <stdio.h>', '#include <string.h>', f'#include "tvmgen_{m}.h"', extra_c,
             "#ifndef TIR_TEST_BEFORE_RUN", "#define TIR_TEST_BEFORE_RUN()", "#define TIR_TEST_AFTER_RUN()", "#endif"]
    lines += [f"static unsigned char s{sid}[{n or 1}] __attribute__((aligned(64)));" for sid, n in sorted(sizes.items())]
    for e, (shape, dtype) in enumerate(zip(shapes, dtypes)):
        code, bits = DTYPES[dtype]
        lines.append(f"static int64_t shape{e}[] = {{{', '.join(map(str, shape or [1]))}}};")
        lines.append(f"static DLTensor t{e} = {{s{sids[e]}, {{kDLCPU, 0}}, {len(shape)}, {{{code}, {bits}, 1}}, shape{e}, NULL, 0}};")
    body = ["int main(void) {", "  FILE* f;", "  TVMValue v[64]; int32_t c[64]; TVMValue ret; int32_t ret_code;",
            "  TVMBackendPackedCFunc fn;"]

    def read(e: int, path: str, nbytes: int) -> None:
        body.extend([f'  f = fopen("{path}", "rb");', f"  if (!f || fread(s{sids[e]}, 1, {nbytes}, f) != {nbytes}) return 2;",
                     "  fclose(f);"])

    for nid in graph["arg_nodes"]:
        name, e = graph["nodes"][nid]["name"], row[nid]
        nbytes = int(np.prod(shapes[e])) * np.dtype(dtypes[e]).itemsize
        if name in inputs:
            np.ascontiguousarray(inputs[name], dtype=dtypes[e]).tofile(workdir / f"in_{e}.bin")
            read(e, f"in_{e}.bin", nbytes)
        elif linked:
            body.append(f'  memcpy(s{sids[e]}, tvmgen_{m}_get_linked_param("{name}"), {nbytes});')
        else:
            np.ascontiguousarray(params[name], dtype=dtypes[e]).tofile(workdir / f"in_{e}.bin")
            read(e, f"in_{e}.bin", nbytes)
    body.append("  TIR_TEST_BEFORE_RUN();")
    for nid, node in enumerate(graph["nodes"]):
        if node["op"] != "tvm_op":
            continue
        args = [row[i] + k for i, k, _ in node["inputs"]] + [row[nid] + k for k in range(int(node["attrs"]["num_outputs"]))]
        assert len(args) <= 64
        for i, e in enumerate(args):
            body.append(f"  v[{i}].v_handle = &t{e}; c[{i}] = kTVMDLTensorHandle;")
        body += [f'  fn = tvmgen_{m}_get_function("{node["attrs"]["func_name"]}");',
                 f"  if (fn == NULL || fn(v, c, {len(args)}, &ret, &ret_code, NULL) != 0) return 3;"]
    body.append("  TIR_TEST_AFTER_RUN();")
    outs = [t["name"] for t in meta["outputs"]]
    for k, (nid, i, _) in enumerate(graph["heads"]):
        e = row[nid] + i
        nbytes = int(np.prod(shapes[e])) * np.dtype(dtypes[e]).itemsize
        body += [f'  f = fopen("out_{k}.bin", "wb");', f"  fwrite(s{sids[e]}, 1, {nbytes}, f);", "  fclose(f);"]
    body += ["  return 0;", "}"]
    (workdir / "graph_main.c").write_text("\n".join(lines + body) + "\n")
    srcs = sorted(str(p) for p in (workdir / "codegen/host/src").glob("*.c"))
    exe = workdir / "graph_main"
    cc = subprocess.run(["gcc", "-std=c99", *(cflags or ["-O1"]), "-Wall", "-Werror", "-I", str(workdir / "codegen/host/include"),
                         str(workdir / "graph_main.c"), *srcs, "-o", str(exe), "-lm"], capture_output=True, text=True, check=False)
    assert cc.returncode == 0, cc.stderr[-4000:]
    run = subprocess.run([str(exe)], cwd=workdir, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, (run.returncode, run.stderr[-4000:])
    return {name: np.fromfile(workdir / f"out_{k}.bin", dtype=dtypes[row[graph["heads"][k][0]] + graph["heads"][k][1]])
            .reshape(shapes[row[graph["heads"][k][0]] + graph["heads"][k][1]]) for k, name in enumerate(outs)}
