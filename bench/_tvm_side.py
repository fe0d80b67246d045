"""The TVM half of the speed benchmarks: a worker that runs under TVM's own interpreter.

Our process never imports tvm: ``TvmWorker`` (the only part our side uses) starts this file
with the interpreter tests/tvm_reference.py finds (``$TIR_TVM_PYTHON`` first) and talks to it one JSON object per line:
requests on stdin, answers on stdout (TVM's own prints go to stderr). Keeping the worker
alive lets the benchmarks alternate rounds of ours and TVM's on a shared, noisy machine.

Requests (every answer has ``"ok"``; a failed request answers ``{"ok": false, "error": ...}``):

    {"op": "version"}                         -> {"version", "llvm_target"}
    {"op": "lower", "path", "reps", "warmup", "parse": bool, "clock": "cpu" or "wall"}
        tvm.compile(mod, target="c") + the C source, timed ``reps`` times after ``warmup``;
        with ``parse`` the tvm.script.from_source of the text is inside the timing. ``clock``
        "cpu" (the default) times with time.process_time (this process, all its threads),
        "wall" with time.perf_counter. -> {"times_ms": [...], "c_chars"}
    {"op": "build_llvm", "path", "ref", "outputs": [names], "target": "llvm" or a JSON dict}
        tvm.compile(mod, target=target), run once on ref.npz's inputs (outputs zero-filled)
        and compare with ref.npz -> {"compile_ms", "max_abs_err", "matches"}
    {"op": "run_llvm", "path", "reps", "warmup"}
        time the built kernel with time_evaluator(number=1, repeat=reps) -> {"times_ms": [...]}
    {"op": "side_by_side", "path", "so", "symbol", "ref", "outputs", "reps", "warmup"}
        after build_llvm: our kernel (shared library ``so``, unpacked ``symbol``) and TVM's
        in this process on the same (64-byte aligned) tensors, one call of each in turn,
        each timed with perf_counter; then our outputs are checked against ref.npz
        -> {"ours_ms": [...], "tvm_ms": [...], "max_abs_err", "matches"}
    {"op": "onnx_model", "model", "inputs", "outputs", "target", "runs"}
        the ONNX file through TVM's Relax ONNX frontend (weights as constants,
        DecomposeOpsForInference, LegalizeOps), tvm.compile(target=target) untuned, run on the
        inputs .npz (saving the first run's outputs to the outputs .npz), then timed with the
        VM's time_evaluator(number=1, repeat=runs). Threads: set TVM_NUM_THREADS in the
        worker's environment (``TvmWorker(env=...)``). -> {"compile_s", "times_ms"}
    {"op": "quit"}

The worker's interpreter need not have ``onnx``: ``TvmWorker(share=("onnx", "google"))``
puts our interpreter's copies of those packages on its path (same Python version needed).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def tvm_python() -> str | None:
    """The interpreter with TVM installed, or None if there is none (one lookup for tests and
    benchmarks: tests/tvm_reference.py; imported here only on our side of the pipe)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from tvm_reference import tvm_python as find

    return find()


class TvmWorker:
    """Our end of the pipe: start the worker under TVM's interpreter, send requests."""

    def __init__(self, python: str | None = None, env: dict[str, str] | None = None, share: tuple[str, ...] = ()) -> None:
        exe = python or tvm_python()
        if exe is None:
            raise RuntimeError("no TVM interpreter: set TIR_TVM_PYTHON (see tests/tvm_reference.py)")
        full_env = {**os.environ, **(env or {})}
        self._overlay: tempfile.TemporaryDirectory[str] | None = None
        if share:
            self._overlay = tempfile.TemporaryDirectory(prefix="tvm_worker_path_")
            for name in share:
                pkg = importlib.util.find_spec(name)
                where = pkg.submodule_search_locations if pkg is not None else None
                if not where:
                    raise RuntimeError(f"cannot share {name!r} with the TVM worker: not a package here")
                os.symlink(next(iter(where)), Path(self._overlay.name) / name)
            full_env["PYTHONPATH"] = os.pathsep.join(p for p in (self._overlay.name, full_env.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen([exe, __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1, env=full_env)

    def ask(self, op: str, **fields: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"op": op, **fields}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"TVM worker exited (code {self.proc.wait()}) on {op!r}")
        answer: dict[str, Any] = json.loads(line)
        if not answer.get("ok"):
            raise RuntimeError(f"TVM worker failed on {op!r}: {answer.get('error')}")
        return answer

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write('{"op": "quit"}\n')
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        if self._overlay is not None:
            self._overlay.cleanup()
            self._overlay = None

    def __enter__(self) -> TvmWorker:  # noqa: PYI034 - never subclassed
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------------------
# The worker; everything below runs under TVM's interpreter only.

_ANSWERS = sys.stdout
_parsed: dict[str, Any] = {}
_built: dict[str, tuple[Any, list[Any]]] = {}


def _module(path: str) -> Any:
    from tvm.script import from_source

    if path not in _parsed:
        with open(path, encoding="utf-8") as f:
            _parsed[path] = from_source(f.read())
    return _parsed[path]


def _lower_once(path: str, parse: bool) -> int:
    import tvm
    from tvm.script import from_source

    if parse:
        with open(path, encoding="utf-8") as f:
            mod = from_source(f.read())
    else:
        mod = _module(path)
    lib = tvm.compile(mod, target="c")
    # In 0.27 tvm.compile returns an Executable; its .mod is the C source module.
    return len(lib.mod.inspect_source())


def op_lower(req: dict[str, Any]) -> dict[str, Any]:
    path, parse = req["path"], bool(req.get("parse", False))
    clock = time.perf_counter if req.get("clock", "cpu") == "wall" else time.process_time
    chars = 0
    for _ in range(int(req.get("warmup", 1))):
        chars = _lower_once(path, parse)
    times = []
    for _ in range(int(req["reps"])):
        t0 = clock()
        chars = _lower_once(path, parse)
        times.append((clock() - t0) * 1e3)
    return {"times_ms": times, "c_chars": chars}


def _param_names(mod: Any) -> list[str]:
    func = mod["main"]
    # 0.27: a buffer parameter is itself a buffer-typed var; 0.25 keeps a buffer_map.
    names = []
    for p in func.params:
        buf = func.buffer_map[p] if hasattr(func, "buffer_map") else p
        names.append(str(buf.name))
    return names


def op_build_llvm(req: dict[str, Any]) -> dict[str, Any]:
    import numpy as np
    import tvm

    path = req["path"]
    mod = _module(path)
    t0 = time.perf_counter()
    target = req.get("target", "llvm")
    # 0.27 no longer parses "llvm -mcpu=x"; a target with options comes as a JSON dict.
    lib = tvm.compile(mod, target=tvm.target.Target(json.loads(target) if target.startswith("{") else target))
    compile_ms = (time.perf_counter() - t0) * 1e3
    ref = np.load(req["ref"])
    outputs = set(req.get("outputs", []))
    arrays = []
    for name in _param_names(mod):
        a = ref[name]
        arrays.append(np.zeros_like(a) if name in outputs else a)
    tensors = [tvm.runtime.tensor(a) for a in arrays]
    lib["main"](*tensors)
    err = 0.0
    matches = True
    for name, t in zip(_param_names(mod), tensors):
        if name in outputs:
            got, want = t.numpy(), ref[name]
            err = max(err, float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64)))))
            matches = matches and bool(np.allclose(got, want, rtol=1e-4, atol=1e-4))
    _built[path] = (lib, tensors)
    return {"compile_ms": compile_ms, "max_abs_err": err, "matches": matches}


def op_run_llvm(req: dict[str, Any]) -> dict[str, Any]:
    import tvm

    lib, tensors = _built[req["path"]]
    f = lib["main"]
    for _ in range(int(req.get("warmup", 1))):
        f(*tensors)
    # time_evaluator times each call in C++ (no Python in the loop), like our C harness.
    timer = lib.mod.time_evaluator("main", tvm.cpu(), number=1, repeat=int(req["reps"]))
    return {"times_ms": [r * 1e3 for r in timer(*tensors).results]}


def op_side_by_side(req: dict[str, Any]) -> dict[str, Any]:
    """Our kernel (a shared library, unpacked API) and TVM's built one in this process, on
    the same tensors, one call each in turn (which goes first alternates), each call timed
    with perf_counter. Our outputs are then checked against ref.npz."""
    import ctypes

    import numpy as np

    lib, tensors = _built[req["path"]]
    theirs_f = lib["main"]
    ours_lib = ctypes.CDLL(req["so"])
    ours_f = getattr(ours_lib, req["symbol"])
    ours_f.restype = ctypes.c_int32
    # TVM's tensors are 64-byte aligned: both sides read and write the very same memory.
    views = [np.from_dlpack(t) for t in tensors]
    pointers = [ctypes.c_void_p(v.ctypes.data) for v in views]
    mod = _module(req["path"])
    ref = np.load(req["ref"])
    outputs = set(req.get("outputs", []))

    def ours() -> None:
        if ours_f(*pointers) != 0:
            raise RuntimeError("our kernel returned an error")

    def theirs() -> None:
        theirs_f(*tensors)

    for _ in range(int(req.get("warmup", 2))):
        ours()
        theirs()
    times: dict[str, list[float]] = {"ours": [], "tvm": []}
    for k in range(int(req["reps"])):
        order = (("ours", ours), ("tvm", theirs)) if k % 2 == 0 else (("tvm", theirs), ("ours", ours))
        for name, call in order:
            t0 = time.perf_counter()
            call()
            times[name].append((time.perf_counter() - t0) * 1e3)
    for name, v in zip(_param_names(mod), views):  # outputs zeroed, then one call of ours
        if name in outputs:
            v[...] = 0
    ours()
    err, matches = 0.0, True
    for name, v in zip(_param_names(mod), views):
        if name in outputs:
            want = ref[name]
            err = max(err, float(np.max(np.abs(v.astype(np.float64) - want.astype(np.float64)))))
            matches = matches and bool(np.allclose(v, want, rtol=1e-4, atol=1e-4))
    return {"ours_ms": times["ours"], "tvm_ms": times["tvm"], "max_abs_err": err, "matches": matches}


def op_onnx_model(req: dict[str, Any]) -> dict[str, Any]:
    import numpy as np
    import onnx
    import tvm
    from tvm import relax
    from tvm.relax.frontend.onnx import from_onnx

    model = onnx.load(req["model"])
    inputs = dict(np.load(req["inputs"]))
    t0 = time.perf_counter()
    mod = from_onnx(model, shape_dict={k: v.shape for k, v in inputs.items()}, keep_params_in_input=False)
    mod = relax.transform.DecomposeOpsForInference()(mod)
    mod = relax.transform.LegalizeOps()(mod)
    target = req.get("target", "llvm")
    ex = tvm.compile(mod, target=tvm.target.Target(json.loads(target) if target.startswith("{") else target))
    compile_s = time.perf_counter() - t0
    vm = relax.VirtualMachine(ex, tvm.cpu())
    names = [i.name for i in model.graph.input if i.name in inputs]
    args = [tvm.runtime.tensor(inputs[n]) for n in names]
    out = vm["main"](*args)
    outs = list(out) if isinstance(out, (list, tuple)) or type(out).__name__ == "Array" else [out]
    np.savez(req["outputs"], *[o.numpy() for o in outs])
    timer = vm.time_evaluator("main", tvm.cpu(), number=1, repeat=int(req.get("runs", 3)))
    return {"compile_s": compile_s, "times_ms": [r * 1e3 for r in timer(*args).results]}


def op_version(_req: dict[str, Any]) -> dict[str, Any]:
    import tvm

    return {"version": tvm.__version__, "llvm_target": str(tvm.target.Target("llvm"))}


OPS = {"lower": op_lower, "build_llvm": op_build_llvm, "run_llvm": op_run_llvm, "version": op_version,
       "onnx_model": op_onnx_model, "side_by_side": op_side_by_side}


def main() -> int:
    global _ANSWERS
    # Answers go to the real stdout; anything TVM prints must not corrupt the protocol.
    _ANSWERS = sys.stdout
    sys.stdout = sys.stderr
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        if req.get("op") == "quit":
            break
        try:
            answer = {"ok": True, **OPS[req["op"]](req)}
        except Exception as exc:  # noqa: BLE001 - the protocol edge: report, keep serving
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        _ANSWERS.write(json.dumps(answer) + "\n")
        _ANSWERS.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
