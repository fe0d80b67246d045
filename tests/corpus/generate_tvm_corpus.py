"""Build the real-TVM corpus: TIR / Relax text that TVM itself printed, from TVM's own tests.

Run it with the Python of a TVM 0.27 venv, pointing at an extracted copy of TVM's
``tests/python`` (the commit is recorded in the README):

    git -C /work/.mirror/apache+tvm/repo archive <commit> tests/python | tar -x -C /tmp/corpus-tvm
    /work/main/.tvm027/bin/python tests/corpus/generate_tvm_corpus.py \\
        --tvm-tests /tmp/corpus-tvm/tests/python --commit <commit> --out tests/corpus

How objects are captured: each test file runs under pytest in its own subprocess (with a
timeout), with this file loaded as a pytest plugin (``-p generate_tvm_corpus``). The plugin
wraps TVMScript's ``parse`` (the function behind ``@T.prim_func``, ``@I.ir_module``,
``@R.function`` and ``tvm.script.from_source``) so that every PrimFunc, IRModule and Relax
function created while the file is imported or its tests run is printed with ``.script()``
at once; at the end it also prints the PrimFunc / IRModule values found in the file's
globals and in the attributes of its classes (CompareBeforeAfter-style ``before`` /
``expected``). Whether TVM's own tests pass is irrelevant: capture happens at parse time.

Texts are deduplicated by hash (first set wins, in the order tir, holdout, relax), written as
``<set>/<test-file-stem>__<name>__<hash8>.tir``, re-parsed with ``tvm.script.from_source`` (in
a subprocess, so a crash in TVM only marks that text), and listed in ``manifest.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Test folders per set. 0.27 calls TIR ``tirx``; older trees call it ``tir``.
SETS: dict[str, list[str]] = {
    "tir": ["tirx-transform", "tir-transform", "tvmscript"],
    "holdout": ["s_tir", "codegen", "tirx-base", "tir-base", "tirx-analysis", "tir-analysis", "tirx"],
    "relax": ["relax"],
}
RELAX_FILE_LIMIT = 40  # a bounded selection of tests/python/relax
MAX_FILE_BYTES = 150_000
CAPTURE_ENV = "TIR_CORPUS_CAPTURE"


# --------------------------------------------------------------------------------------
# pytest plugin side (runs inside each test subprocess)
# --------------------------------------------------------------------------------------

_seen_hashes: set[str] = set()


def _record(obj: object, name: str, origin: str) -> None:
    out = os.environ.get(CAPTURE_ENV)
    if not out:
        return
    import tvm

    kinds = [(tvm.tirx.PrimFunc, "prim_func"), (tvm.ir.IRModule, "ir_module"),
             (tvm.relax.Function, "relax_function")]
    kind = next((k for t, k in kinds if isinstance(obj, t)), None)
    if kind is None:
        return
    try:
        text = obj.script()  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - a printer failure only loses this object
        text, error = None, f"{type(exc).__name__}: {exc}"[:300]
    else:
        error = None
    if text is not None:
        digest = hashlib.sha256(text.encode()).hexdigest()
        if digest in _seen_hashes:
            return
        _seen_hashes.add(digest)
    row = {"name": name, "kind": kind, "origin": origin, "text": text, "error": error}
    with open(out, "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")


def _program_name(program: object) -> str:
    name = getattr(program, "__qualname__", None) or getattr(program, "__name__", None)
    if not isinstance(name, str):
        name = "from_source" if isinstance(program, str) else type(program).__name__
    return name.replace(".<locals>", "")


def _install_patches() -> None:
    import importlib

    import tvm

    if not hasattr(tvm, "arith") and hasattr(tvm, "sym"):
        # 0.27 renamed tvm.arith to tvm.sym; the tests of this snapshot still import arith.
        sys.modules["tvm.arith"] = tvm.sym
        tvm.arith = tvm.sym  # type: ignore[attr-defined]
    from tvm.script.parser.core import entry

    original = entry.parse

    def parse(program, *args, **kwargs):  # type: ignore[no-untyped-def]
        ret = original(program, *args, **kwargs)
        try:
            _record(ret, _program_name(program), "parse")
        except Exception:  # noqa: BLE001,S110 - capture must never change the test's behaviour
            pass
        return ret

    for modname in ("tvm.script.parser.core.entry", "tvm.script.parser._core", "tvm.script.parser",
                    "tvm.script.parser.ir.entry", "tvm.tirx.script.parser.entry",
                    "tvm.relax.script.parser.entry"):
        try:
            mod = importlib.import_module(modname)
        except Exception:  # noqa: BLE001,S112 - module absent in this TVM version
            continue
        if getattr(mod, "parse", None) is original:
            mod.parse = parse

    # What the tests' passes print back is TVM-printed text too (lowered forms included).
    pass_call = tvm.ir.transform.Pass.__call__

    def call(self, mod):  # type: ignore[no-untyped-def]
        ret = pass_call(self, mod)
        try:
            _record(ret, f"after_{self.info.name}", "pass_output")
        except Exception:  # noqa: BLE001,S110
            pass
        return ret

    tvm.ir.transform.Pass.__call__ = call


def _scan_module_globals(module: object) -> None:
    import inspect

    import tvm

    types = (tvm.tirx.PrimFunc, tvm.ir.IRModule)
    for name, value in sorted(vars(module).items()):
        if isinstance(value, types):
            _record(value, name, "global")
        elif inspect.isclass(value) and getattr(value, "__module__", None) == module.__name__:  # type: ignore[attr-defined]
            for attr, inner in sorted(vars(value).items()):
                if isinstance(inner, types):
                    _record(inner, f"{name}.{attr}", "class_attr")


def pytest_configure(config) -> None:  # type: ignore[no-untyped-def]
    if os.environ.get(CAPTURE_ENV):
        _install_patches()


def pytest_collection_finish(session) -> None:  # type: ignore[no-untyped-def]
    if not os.environ.get(CAPTURE_ENV):
        return
    seen: set[int] = set()
    for item in session.items:
        module = getattr(item, "module", None)
        if module is not None and id(module) not in seen:
            seen.add(id(module))
            try:
                _scan_module_globals(module)
            except Exception:  # noqa: BLE001,S110
                pass


def pytest_runtest_logstart(nodeid, location) -> None:  # type: ignore[no-untyped-def]
    # The driver deselects the test that was running when the process crashed or hung.
    current = os.environ.get(CAPTURE_ENV + "_CURRENT")
    if current:
        Path(current).write_text(nodeid, encoding="utf-8")


def pytest_sessionfinish(session) -> None:  # type: ignore[no-untyped-def]
    # Globals can be assigned by tests too (rare); scan again, duplicates are dropped.
    pytest_collection_finish(session)


# --------------------------------------------------------------------------------------
# driver side
# --------------------------------------------------------------------------------------

def _test_files(tests: Path, set_name: str, exclude: list[str]) -> list[Path]:
    import fnmatch

    files: list[Path] = []
    for folder in SETS[set_name]:
        root = tests / folder
        if root.is_dir():
            files += sorted(p for p in root.rglob("test_*.py")
                            if not any(fnmatch.fnmatch(p.relative_to(tests).as_posix(), pat) for pat in exclude))
    if set_name == "relax":
        # Modules that mix Relax functions with TIR PrimFuncs.
        mixed = [p for p in files
                 if "@R.function" in (t := p.read_text(errors="replace")) and "@T.prim_func" in t]
        files = mixed[:RELAX_FILE_LIMIT]
    return files


def _run_capture(test_file: Path, tests: Path, out: Path, timeout: float, retries: int = 4) -> str:
    """Run one test file under pytest with the capture plugin; returns a status word.

    When the process crashes (TVM segfaults in a few tests) or times out, the test that was
    running is deselected and the file runs again, appending, so the captures of the later
    tests are not lost (repeats are dropped by hash afterwards)."""
    out.unlink(missing_ok=True)
    current = out.with_suffix(".current")
    env = dict(os.environ)
    env[CAPTURE_ENV] = str(out)
    env[CAPTURE_ENV + "_CURRENT"] = str(current)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("TVM_NUM_THREADS", "1")
    env.setdefault("OMP_NUM_THREADS", "1")
    deselected: list[str] = []
    statuses: list[str] = []
    for _ in range(retries + 1):
        current.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "pytest", str(test_file), "-q", "-p", "no:cacheprovider",
               "-p", "generate_tvm_corpus", "--no-header", "-rN", "-o", "addopts="]
        for nodeid in deselected:
            cmd += ["--deselect", nodeid]
        proc = subprocess.Popen(cmd, cwd=tests, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            rc = None
        status = "timeout" if rc is None else {0: "passed", 1: "failures", 5: "no-tests"}.get(rc, f"exit-{rc}")
        statuses.append(status)
        if rc is not None and rc >= 0:
            break
        if not current.exists():  # died before any test started: nothing to skip
            break
        deselected.append(current.read_text(encoding="utf-8"))
    current.unlink(missing_ok=True)
    out.touch()  # a file that captured nothing is done too (--reuse)
    if len(statuses) == 1:
        return statuses[0]
    return "+".join(statuses) + f" (deselected after crash/timeout: {', '.join(deselected)})"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")[:60] or "anon"


REPARSE_SNIPPET = r"""
import json, sys
import tvm
paths = json.loads(sys.stdin.read())
for p in paths:
    text = open(p, encoding="utf-8").read()
    try:
        tvm.script.from_source(text)
        ok = True
    except BaseException:
        ok = False
    print(json.dumps([p, ok]), flush=True)
"""


def _reparse(paths: list[Path], timeout_each: float = 60.0) -> dict[str, bool]:
    """``tvm.script.from_source`` on each file, in a subprocess; a crash or hang marks the
    file that caused it as not re-parsing and the run goes on with the next one."""
    result: dict[str, bool] = {}
    todo = [str(p) for p in paths]
    while todo:
        proc = subprocess.Popen([sys.executable, "-c", REPARSE_SNIPPET], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                start_new_session=True)
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps(todo))
        proc.stdin.close()
        import selectors

        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        done_before = len(result)
        while True:
            if not sel.select(timeout=timeout_each):
                os.killpg(proc.pid, signal.SIGKILL)
                break
            line = proc.stdout.readline()
            if not line:
                break
            path, ok = json.loads(line)
            result[path] = ok
        proc.wait()
        todo = [p for p in todo if p not in result]
        if todo:  # the first unanswered file crashed or hung the worker
            result[todo[0]] = False
            todo = todo[1:]
        if len(result) == done_before and not todo:
            break
    return result


def _models() -> list[tuple[str, object]]:
    """Small Relax models run through the fusion passes; (name, IRModule) per stage."""
    import tvm
    from tvm import relax
    from tvm.relax.frontend import nn

    class MLP(nn.Module):
        def __init__(self) -> None:
            self.fc1 = nn.Linear(64, 128)
            self.fc2 = nn.Linear(128, 32)

        def forward(self, x):  # type: ignore[no-untyped-def]
            return self.fc2(nn.relu(self.fc1(x)))

    class ConvNet(nn.Module):
        def __init__(self) -> None:
            self.conv = nn.Conv2D(3, 8, 3, padding=1)
            self.fc = nn.Linear(8 * 16 * 16, 10)

        def forward(self, x):  # type: ignore[no-untyped-def]
            y = nn.relu(self.conv(x))
            return self.fc(nn.reshape(y, (1, 8 * 16 * 16)))

    class Attention(nn.Module):
        def __init__(self) -> None:
            self.q = nn.Linear(32, 32)
            self.k = nn.Linear(32, 32)
            self.v = nn.Linear(32, 32)

        def forward(self, x):  # type: ignore[no-untyped-def]
            s = nn.matmul(self.q(x), nn.permute_dims(self.k(x), [0, 2, 1]))
            return nn.matmul(nn.softmax(s, axis=-1), self.v(x))

    specs = [
        ("mlp", MLP(), {"forward": {"x": nn.spec.Tensor((4, 64), "float32")}}),
        ("mlp_dyn", MLP(), {"forward": {"x": nn.spec.Tensor(("n", 64), "float32")}}),
        ("convnet", ConvNet(), {"forward": {"x": nn.spec.Tensor((1, 3, 16, 16), "float32")}}),
        ("attention", Attention(), {"forward": {"x": nn.spec.Tensor((1, "seq", 32), "float32")}}),
    ]
    out: list[tuple[str, object]] = []
    for name, model, spec in specs:
        try:
            mod, _ = model.export_tvm(spec=spec)
        except Exception as exc:  # noqa: BLE001
            print(f"model {name}: export failed: {exc}", file=sys.stderr)
            continue
        stages = [("legalize", relax.transform.LegalizeOps()),
                  ("annotate", relax.transform.AnnotateTIROpPattern()),
                  ("fuseops", relax.transform.FuseOps()),
                  ("fusetir", relax.transform.FuseTIR()),
                  ("deadcode", relax.transform.DeadCodeElimination())]
        out.append((f"{name}__input", mod))
        for stage, pas in stages:
            try:
                mod = pas(mod)
            except Exception as exc:  # noqa: BLE001
                print(f"model {name}: {stage} failed: {exc}", file=sys.stderr)
                break
            out.append((f"{name}__{stage}", mod))
        try:
            with tvm.target.Target("llvm"):
                lowered = relax.get_pipeline("default_build")(mod) if hasattr(relax, "get_pipeline") \
                    else None
            if lowered is not None:
                out.append((f"{name}__default_pipeline", lowered))
        except Exception as exc:  # noqa: BLE001
            print(f"model {name}: default pipeline failed: {exc}", file=sys.stderr)
    return out


def _capture_models(out: Path) -> None:
    os.environ[CAPTURE_ENV] = str(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    for name, mod in _models():
        _record(mod, name, "model")


README_TEMPLATE = """\
# Real-TVM corpus

TIR and Relax text that **TVM {tvm} printed itself** (`.script()`), captured while TVM's own
Python test suite ran. Fixtures written by hand hid gaps in our front end; this corpus holds
what TVM really prints. `tests/test_tvm_corpus.py` requires, per set, that our reader
(`read_tir`) and the full analysis the language server runs (`analyze_text`) give zero errors
and zero warnings on every file here that TVM re-parses itself.

Generated by `generate_tvm_corpus.py` (this folder) from the tests of apache/tvm commit
`{commit}` (main, 2026-08-22: the newest commit in our snapshot. The 0.27.0 wheel was built from
`{tvm_commit}`, which is newer than the snapshot: it has `tvm.sym` where this commit still has
`tvm.arith`, so the capture plugin aliases `tvm.arith` to `tvm.sym`; a few test files do not
import under the wheel, their status is in `runs.json`.)

## Sets

- `tir/`: from `tests/python/tirx-transform` and `tests/python/tvmscript`.
- `holdout/`: from `tests/python/s_tir` (without `s_tir/meta_schedule`), `codegen`, `tirx-base`,
  `tirx-analysis`, `tirx`: other parts of the suite, to check that fixes generalise.
- `relax/`: from the first {relax_limit} files (sorted by path) of `tests/python/relax` that contain both
  `@R.function` and `@T.prim_func`, plus small `relax.frontend.nn` models (MLP, dynamic MLP,
  conv net, attention) printed after each of `LegalizeOps`, `AnnotateTIROpPattern`, `FuseOps`,
  `FuseTIR`, `DeadCodeElimination` and the `default_build` pipeline (files `models__*`).

What is captured: every PrimFunc, IRModule and Relax function created through TVMScript's
`parse` (the function behind `@T.prim_func`, `@I.ir_module`, `@R.function` and
`tvm.script.from_source`) while a test file is imported and its tests run; the PrimFunc /
IRModule values in the test module's globals and class attributes; and what every pass called
from Python (`Pass.__call__`) returns (`origin: pass_output`, lowered forms included). Each
text is kept once (deduplicated by SHA-256 over all sets, first set wins, in the order tir,
holdout, relax).

File names: `<set>/<test-file-stem>__<name>__<sha256[:8]>.tir`, where `<name>` is the Python
qualified name of the parsed object (`after_<pass>` for a pass output).

`manifest.json` maps each file to `source` (test file), `name`, `kind` (prim_func, ir_module,
relax_function), `origin` (parse, global, class_attr, pass_output, model), `lines`,
`sha256` and `reparses`: whether `tvm.script.from_source(text)` succeeds under TVM {tvm}
(everything caught). Files TVM cannot re-parse are kept and marked `reparses: false`; the
test leaves them out. `runs.json` has the pytest outcome of every test file (irrelevant to
capture, but `exit-2` means the file did not import, `exit--11` a segfault: the test that
was running is deselected and the file runs again) and per-set totals. "Duplicates skipped"
counts texts already kept, repeats from such re-runs included.

## Counts

| set | files | TVM re-parses | dropped (> 150 KB) | pass outputs dropped (over the cap) | duplicates skipped | printer errors |
|---|---|---|---|---|---|---|
{counts}

Total size: {size_kb} KB.

`bench_files.txt` lists the 100 largest re-parsing files, an input for a later read-speed
benchmark against TVM's parser.

## Regenerate

Needs the TVM {tvm} venv with pytest added (the wheel's venv has no pytest), e.g.
`python3.11 -m venv /tmp/corpus-venv`, a `.pth` file adding the TVM venv's site-packages, then
`/tmp/corpus-venv/bin/pip install pytest`. Then:

```
rm -rf /tmp/corpus-tvm && mkdir -p /tmp/corpus-tvm
git -C /work/.mirror/apache+tvm/repo archive {commit} tests/python | tar -x -C /tmp/corpus-tvm
/tmp/corpus-venv/bin/python tests/corpus/generate_tvm_corpus.py \\
    --tvm-tests /tmp/corpus-tvm/tests/python --commit {commit} --out tests/corpus --sets tir
/tmp/corpus-venv/bin/python tests/corpus/generate_tvm_corpus.py \\
    --tvm-tests /tmp/corpus-tvm/tests/python --commit {commit} --out tests/corpus \\
    --sets holdout,relax --jobs 2 --timeout 30 --retries 0 --exclude 's_tir/meta_schedule/*' \\
    --max-pass-outputs 10
# then the files that crashed (exit--11 in runs.json) again, with re-runs after a crash:
#   delete their raw captures under /tmp/corpus-capture/<set>/, and repeat the last command
#   with --retries 4 --reuse (every other file's capture is reused); for
#   s_tir/dlight/test_gpu_matmul_tensorize.py, --sets holdout --timeout 120 --retries 4
```

These are the commands that made this corpus. The tir set ran one test file at a time, 120 s
each at most, with up to 4 re-runs after a crash (defaults, ~12 minutes). The holdout and relax
sets, on a machine shared with other jobs, ran two files at a time, 30 s each at most (a file
that runs longer keeps what it captured until then), re-running only the files that crashed,
and leave out
`s_tir/meta_schedule` (47 files of tuning runs, minutes each). To stay near 12 MB they keep
at most 10 pass outputs per test file (the first ones; parametrized codegen tests print
hundreds of near-identical lowered modules). `--sets` regenerates only the
sets named; `--reuse` reuses the raw captures under `--work` (default
`/tmp/corpus-capture`).

Where our reader and analysis fail, grouped by cause with examples:
`.venv/bin/python tests/corpus/failure_report.py` (run with this repo's venv, not TVM's).
"""


def _write_readme(out: Path, manifest: dict[str, dict], runs: dict) -> None:
    import tvm

    rows = []
    for set_name in ("tir", "holdout", "relax"):
        if set_name not in runs:
            continue
        r = runs[set_name]
        rows.append(f"| {set_name} | {r['written']} | {r['reparse']} | {r['dropped_over_150KB']} | "
                    f"{r.get('dropped_pass_outputs_over_cap', 0)} | {r['duplicates_skipped']} | "
                    f"{r['printer_errors']} |")
    size = sum((out / name).stat().st_size for name in manifest)
    try:
        from tvm import _version

        tvm_commit = _version.commit_id or "?"
    except ImportError:
        tvm_commit = "?"
    (out / "README.md").write_text(README_TEMPLATE.format(
        tvm=tvm.__version__, commit=runs["commit"], tvm_commit=tvm_commit, relax_limit=RELAX_FILE_LIMIT,
        counts="\n".join(rows), size_kb=size // 1024), encoding="utf-8")
    largest = sorted((n for n, i in manifest.items() if i.get("reparses")),
                     key=lambda n: (-(out / n).stat().st_size, n))[:100]
    (out / "bench_files.txt").write_text("\n".join(largest) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tvm-tests", type=Path, required=True, help="TVM's tests/python folder")
    ap.add_argument("--commit", required=True, help="the apache/tvm commit the tests come from")
    ap.add_argument("--out", type=Path, default=HERE)
    ap.add_argument("--sets", default="tir,holdout,relax")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per test file")
    ap.add_argument("--exclude", action="append", default=[],
                    help="glob over test file paths relative to --tvm-tests, left out (repeatable)")
    ap.add_argument("--max-pass-outputs", type=int, default=0,
                    help="keep at most this many pass outputs per test file (0: all)")
    ap.add_argument("--jobs", type=int, default=1, help="test files run at the same time")
    ap.add_argument("--retries", type=int, default=4,
                    help="re-runs of a test file after a crash or timeout, without the test that was running")
    ap.add_argument("--work", type=Path, default=Path("/tmp/corpus-capture"),
                    help="where raw captures are kept (reused with --reuse)")
    ap.add_argument("--reuse", action="store_true", help="reuse raw captures from --work")
    ap.add_argument("--models-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.models_only:  # subprocess entry: keep model crashes away from the driver
        _capture_models(args.work / "relax" / "__models__.jsonl")
        return 0

    import tvm

    wanted = [s.strip() for s in args.sets.split(",") if s.strip()]
    manifest_path = args.out / "manifest.json"
    manifest: dict[str, dict] = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    runs_path = args.out / "runs.json"
    runs: dict[str, dict] = json.loads(runs_path.read_text()) if runs_path.exists() else {}
    # Texts already in sets not regenerated now keep their place (first set wins).
    seen: set[str] = {info["sha256"] for info in manifest.values()
                      if info["set"] not in wanted}
    for set_name in ["tir", "holdout", "relax"]:
        if set_name not in wanted:
            continue
        work = args.work / set_name
        work.mkdir(parents=True, exist_ok=True)
        set_dir = args.out / set_name
        set_dir.mkdir(parents=True, exist_ok=True)
        for old in set_dir.glob("*.tir"):
            old.unlink()
        # TVM's verdict on a text does not change: texts re-parsed by an earlier run are not re-parsed.
        known_reparse = {v["sha256"]: v["reparses"] for v in manifest.values() if "reparses" in v}
        manifest = {k: v for k, v in manifest.items() if v["set"] != set_name}
        files = _test_files(args.tvm_tests, set_name, args.exclude)
        set_runs: dict[str, str] = {}
        captures: list[tuple[str, Path]] = []
        jobs: list[tuple[int, str, Path, Path]] = []
        for i, test_file in enumerate(files, 1):
            rel = test_file.relative_to(args.tvm_tests).as_posix()
            raw = work / (rel.replace("/", "__") + ".jsonl")
            captures.append((rel, raw))
            if args.reuse and raw.exists():
                set_runs[rel] = runs.get(set_name, {}).get("files", {}).get(rel, "reused")
            else:
                jobs.append((i, rel, test_file, raw))

        def capture(job: tuple[int, str, Path, Path], set_name: str = set_name,
                    total: int = len(files)) -> tuple[str, str]:
            i, rel, test_file, raw = job
            t0 = time.monotonic()
            status = _run_capture(test_file, args.tvm_tests, raw, args.timeout, args.retries)
            print(f"[{set_name} {i}/{total}] {rel}: {status} ({time.monotonic() - t0:.0f}s)",
                  file=sys.stderr, flush=True)
            return rel, status

        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            set_runs.update(pool.map(capture, jobs))
        set_runs = dict(sorted(set_runs.items()))
        if set_name == "relax":
            raw = work / "__models__.jsonl"
            if not (args.reuse and raw.exists()):
                subprocess.run([sys.executable, __file__, "--tvm-tests", str(args.tvm_tests),
                                "--commit", args.commit, "--work", str(args.work), "--models-only"],
                               timeout=1200, check=False)
            set_runs["<models>"] = "ok" if raw.exists() else "failed"
            captures.append(("<models: relax.frontend.nn + LegalizeOps/FuseOps/FuseTIR>", raw))

        written: list[Path] = []
        dropped_big = printer_errors = duplicates = dropped_pass = 0
        for rel, raw in captures:
            pass_outputs = 0
            if not raw.exists():
                continue
            stem = Path(rel).stem if not rel.startswith("<") else "models"
            for line in raw.read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                if row["text"] is None:
                    printer_errors += 1
                    continue
                text = row["text"]
                digest = hashlib.sha256(text.encode()).hexdigest()
                if digest in seen:
                    duplicates += 1
                    continue
                seen.add(digest)
                if len(text.encode()) > MAX_FILE_BYTES:
                    dropped_big += 1
                    continue
                if row["origin"] == "pass_output":
                    pass_outputs += 1
                    if args.max_pass_outputs and pass_outputs > args.max_pass_outputs:
                        dropped_pass += 1
                        continue
                name = f"{_safe(stem)}__{_safe(row['name'])}__{digest[:8]}.tir"
                path = set_dir / name
                path.write_text(text, encoding="utf-8")
                written.append(path)
                manifest[f"{set_name}/{name}"] = {
                    "set": set_name, "source": rel, "name": row["name"], "kind": row["kind"],
                    "origin": row["origin"], "lines": text.count("\n") + 1, "sha256": digest,
                }
        print(f"{set_name}: {len(written)} files; re-parsing with TVM ...", file=sys.stderr, flush=True)
        reparsed = {str(p): known_reparse[manifest[f"{set_name}/{p.name}"]["sha256"]] for p in written
                    if manifest[f"{set_name}/{p.name}"]["sha256"] in known_reparse}
        reparsed.update(_reparse([p for p in written if str(p) not in reparsed]))
        for path in written:
            manifest[f"{set_name}/{path.name}"]["reparses"] = reparsed.get(str(path), False)
        runs[set_name] = {"files": set_runs, "written": len(written), "dropped_over_150KB": dropped_big,
                          "printer_errors": printer_errors, "duplicates_skipped": duplicates,
                          "dropped_pass_outputs_over_cap": dropped_pass,
                          "reparse": sum(reparsed.get(str(p), False) for p in written)}
        manifest = dict(sorted(manifest.items()))
        manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        runs_path.write_text(json.dumps({"commit": args.commit, "tvm": tvm.__version__,
                                         **{k: v for k, v in runs.items() if k not in ("commit", "tvm")}},
                                        indent=1, sort_keys=True) + "\n")
        runs = json.loads(runs_path.read_text())
        print(f"{set_name}: { {k: v for k, v in runs[set_name].items() if k != 'files'} }",
              file=sys.stderr, flush=True)
    if "commit" in runs:
        _write_readme(args.out, manifest, runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
