"""The security promises of the README ("Security promises"), one test each:

1. Opening or checking a file never executes anything from it (read_tir, tirc, tir-lsp
   check, the server), and the sources contain no eval/exec/pickle/import of input.
2. No process is started with a shell, without an argument list or without a timeout; the
   product (tir_lsp/compiler/, tir_lsp/) starts none at all.
3. Paths tirc and the server derive themselves (dump names, archive members, model and
   function names) never leave the output directory; writes never follow a symlink out.
4. Existing files are never replaced without --force (tirc) and never at all (the server).
5. The parser's cache lives in a directory only the user can write.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import io
import os
import pickle
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import onnx
import pytest
from aot_models import extract_data, mlp

from tir_lsp.compiler.executor.mlf import member_name
from tir_lsp.compiler.text.reader import read_tir, read_tir_file

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = [ROOT / "tir_lsp"]
EXAMPLE = ROOT / "examples" / "matmul.tir"


def run(*command: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", *command], cwd=cwd or ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def tirc(*args: str) -> subprocess.CompletedProcess[str]:
    """``tirc ARGS`` in this process (a process start costs more than the command)."""
    from tir_lsp.compiler.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return subprocess.CompletedProcess(["tirc", *args], code, out.getvalue(), err.getvalue())


# 1. Opening or checking a file never executes anything from it.


def hostile_tir(marker: Path) -> str:
    """TIR text where every Python construct that runs code creates ``marker`` if evaluated:
    top-level statements, decorator arguments, default values, attribute values, loop
    extents, a pickle payload."""
    m = str(marker)
    payload = pickle.dumps(_Touch(m), protocol=0).decode("latin-1").replace("\n", "\\n")
    return (
        "# from tvm.script import ir as I\n"
        "# from tvm.script import tirx as T\n"
        "import os\n"
        f'os.system("touch {m}")\n'
        f'__import__("os").system("touch {m}")\n'
        f"exec(\"open('{m}', 'w')\")\n"
        f'__import__("pickle").loads(b"{payload}")\n'
        "\n\n"
        "@I.ir_module\n"
        "class Module:\n"
        f'    @T.prim_func(check_well_formed=__import__("os").system("touch {m}"))\n'
        f"    def main(A: T.Buffer((4,), \"float32\"), n: T.int32 = exec(\"open('{m}', 'w')\")):\n"
        f'        T.func_attr({{"global_symbol": __import__("os").system("touch {m}")}})\n'
        f"        for i in range(eval(\"open('{m}', 'w') or 4\")):\n"
        f'            A[i] = T.float32(__import__("pickle").loads(b"{payload}"))\n'
    )


class _Touch:
    """Unpickling this creates the file (pickle calls ``open(path, "w")``)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (self.path, "w"))


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / "PWNED"
    path = tmp_path / "hostile.tir"
    path.write_text(hostile_tir(marker))
    return path, marker


def test_the_payload_is_live_when_python_runs_it(hostile: tuple[Path, Path]) -> None:
    # The control: Python itself runs the file's top-level code and creates the marker, so
    # the tests below would notice an evaluation.
    path, marker = hostile
    subprocess.run([sys.executable, str(path)], capture_output=True, timeout=60, check=False)
    assert marker.exists()


def test_reading_never_executes(hostile: tuple[Path, Path]) -> None:
    path, marker = hostile
    result = read_tir(path.read_text(), str(path))
    assert [d.code for d in result.diagnostics if d.severity == "error"][:3] == ["TIR005", "TIR005", "TIR005"]
    read_tir_file(str(path))
    assert not marker.exists()


@pytest.mark.parametrize("command", [["tir_lsp.compiler.cli", "print"], ["tir_lsp.compiler.cli", "lower", "--emit", "c"],
                                     ["tir_lsp", "check"]], ids=["tirc print", "tirc lower", "tir-lsp check"])
def test_command_lines_never_execute(hostile: tuple[Path, Path], command: list[str]) -> None:
    path, marker = hostile
    proc = run(*command, str(path), cwd=path.parent)
    assert proc.returncode == 1, proc.stderr
    assert "hostile.tir:4:1: error:" in proc.stdout + proc.stderr and "Traceback" not in proc.stderr
    assert not marker.exists()


def test_a_pickle_file_is_text_to_us(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    blob = tmp_path / "model.tir"
    blob.write_bytes(pickle.dumps(_Touch(str(marker))))
    result = read_tir_file(str(blob))
    assert result.diagnostics and result.diagnostics[0].code == "TIR006"  # not UTF-8 text
    proc = run("tir_lsp", "check", str(blob))
    assert proc.returncode == 1 and "TIR006" in proc.stdout
    assert not marker.exists()
    pickle.loads(blob.read_bytes())  # the control: unpickled, it would have written the marker
    assert marker.exists()


def test_the_server_never_executes(hostile: tuple[Path, Path]) -> None:
    from tests.lsp.test_robustness import RawServer

    path, marker = hostile
    server = RawServer()
    try:
        server.initialize()
        uri = path.as_uri()
        server.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "tir", "version": 1, "text": path.read_text()}}})
        doc = {"textDocument": {"uri": uri}}
        at = {**doc, "position": {"line": 13, "character": 24}}
        for method, params in [("textDocument/hover", at), ("textDocument/definition", at),
                               ("textDocument/completion", at), ("textDocument/documentSymbol", doc),
                               ("textDocument/semanticTokens/full", doc), ("textDocument/foldingRange", doc),
                               ("textDocument/codeAction", {**doc, "range": {"start": at["position"], "end": at["position"]},
                                                            "context": {"diagnostics": []}})]:
            assert "result" in server.response(server.request(method, params)), method
        for command in ("tir.lowerToC", "tir.exportJson"):
            got = server.response(server.request("workspace/executeCommand", {"command": command, "arguments": [uri]}))
            assert got["error"]["code"] == -32803 and "TIR005" in got["error"]["message"]
        server.response(server.request("shutdown"))
        server.send({"jsonrpc": "2.0", "method": "exit"})
        assert server.wait() == 0
    finally:
        server.close()
    assert not marker.exists()


# Calls that run code or load code-carrying data; where one is allowed, why.
_FORBIDDEN_BUILTINS = {"eval", "exec", "compile", "__import__", "execfile"}
_FORBIDDEN_ATTRS = {
    "importlib": {"import_module", "__import__"},
    "os": {"system", "popen", "execv", "execve", "execvp", "execl", "execlp", "spawnv", "spawnl", "spawnvp"},
    **{m: {"load", "loads", "Unpickler", "open", "unsafe_load", "full_load"}
       for m in ("pickle", "cPickle", "dill", "cloudpickle", "marshal", "shelve", "joblib", "yaml")},
}
_FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "cloudpickle", "marshal", "shelve", "joblib", "yaml", "runpy",
                      "code", "codeop"}
_ALLOWED = {
    # The parser's reduction callbacks: lambdas generated from the grammar's rule shapes, in
    # which only integers (child positions, through int()) are formatted; never the input.
    ("tir_lsp/compiler/text/lalr_driver.py", "eval"),
    # Visitors specialised per IR node class: code made from our own dataclasses' field names.
    ("tir_lsp/compiler/ir/visitor.py", "exec"),
}


def scan_source(path: str, source: str) -> list[str]:
    """Uses in ``source`` of calls and modules that run code, with file:line."""
    found = []
    for node in ast.walk(_tree(source)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if isinstance(node, ast.ImportFrom):
                names += [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                if name.split(".")[0] in _FORBIDDEN_MODULES or name in ("importlib.util", "importlib.import_module"):
                    found.append(f"{path}:{node.lineno}: import {name}")
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in _FORBIDDEN_BUILTINS and (path, func.id) not in _ALLOWED:
                found.append(f"{path}:{node.lineno}: {func.id}()")
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                    and func.attr in _FORBIDDEN_ATTRS.get(func.value.id, ()):
                found.append(f"{path}:{node.lineno}: {func.value.id}.{func.attr}()")
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            for kw in node.keywords:
                constant = kw.value.value if isinstance(kw.value, ast.Constant) else True
                if kw.arg == "shell" and constant is not False:
                    found.append(f"{path}:{node.lineno}: shell=")
                if kw.arg == "allow_pickle" and constant is not False:
                    found.append(f"{path}:{node.lineno}: allow_pickle=")
                if kw.arg == "cache" and name == "Lark":
                    found.append(f"{path}:{node.lineno}: Lark(cache=...) (a pickle in the temp dir)")
    return found


@functools.cache
def _tree(source: str) -> ast.Module:
    return ast.parse(source)


@functools.cache
def product_sources() -> list[tuple[str, str]]:
    return [(p.relative_to(ROOT).as_posix(), p.read_text(encoding="utf-8"))
            for root in PRODUCT for p in sorted(root.rglob("*.py"))]


def test_sources_run_no_code_from_anywhere() -> None:
    sources = product_sources()
    assert len(sources) > 50
    assert [hit for path, text in sources for hit in scan_source(path, text)] == []


def test_the_scan_finds_what_it_forbids() -> None:
    bad = ("import pickle\nfrom importlib import util\nimport os\nimport subprocess\nfrom lark import Lark\n"
           "eval(x)\nexec(y)\n__import__(z)\nos.system('ls')\npickle.loads(b)\nyaml.load(s)\n"
           "subprocess.run(c, shell=True)\nLark(g, cache=True)\njson.loads(s)\nre.compile(r)\n"
           "np.load(f, allow_pickle=True)\nimportlib.import_module(m)\n")
    assert scan_source("x.py", bad) == [
        "x.py:1: import pickle", "x.py:2: import importlib.util", "x.py:6: eval()", "x.py:7: exec()",
        "x.py:8: __import__()", "x.py:9: os.system()", "x.py:10: pickle.loads()", "x.py:11: yaml.load()",
        "x.py:12: shell=", "x.py:13: Lark(cache=...) (a pickle in the temp dir)", "x.py:16: allow_pickle=",
        "x.py:17: importlib.import_module()"]


def test_generated_parser_callbacks_format_only_integers() -> None:
    # The one eval: a rule shape read from the (cached) plan reaches it only through int(),
    # so even a tampered plan cannot put code into it.
    from tir_lsp.compiler.text.lalr_driver import _rule_callback

    class Builder:
        def __default__(self, *a: object) -> None:
            return None

    shape = (2, "rule", "rule", [["__import__('os').system('touch PWNED')", False], [1, False]], False)
    with pytest.raises(ValueError):
        _rule_callback(shape, Builder())  # type: ignore[arg-type]


# 2. Processes.

_PROCESS_CALLS = {"subprocess": {"run", "Popen", "call", "check_call", "check_output"},
                  "asyncio": {"create_subprocess_exec", "create_subprocess_shell"},
                  "os": {"system", "popen"}, "pty": {"spawn"}}


def process_calls(path: str, source: str) -> list[str]:
    """Every process start in ``source`` that lacks an argument list or a timeout, or uses
    a shell."""
    bad = []
    for node in ast.walk(_tree(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
        name = func.attr if isinstance(func, ast.Attribute) else ""
        if name not in _PROCESS_CALLS.get(owner, ()):
            continue
        keywords = {kw.arg for kw in node.keywords}
        first = node.args[0] if node.args else None
        if name in ("system", "popen", "create_subprocess_shell", "spawn") or "shell" in keywords:
            bad.append(f"{path}:{node.lineno}: {owner}.{name} runs a shell")
        elif not isinstance(first, ast.List | ast.Tuple):
            bad.append(f"{path}:{node.lineno}: {owner}.{name} without an argument list")
        elif "timeout" not in keywords and name not in ("Popen", "create_subprocess_exec"):
            bad.append(f"{path}:{node.lineno}: {owner}.{name} without a timeout")
    return bad


def test_the_product_starts_no_process() -> None:
    # gcc and other tools never run from tir_lsp/compiler/ or tir_lsp/: `tirc lower` and "Lower to C"
    # write C, the user compiles it. The one process started is `tir-lsp check`'s pool of
    # Python workers. A process added later must pass `process_calls`.
    starts = {(path, m.group(0)) for path, text in product_sources()
              for m in re.finditer(r"\b(subprocess|pty|multiprocessing|ProcessPoolExecutor)\b|"
                                   r"\bos\.(system|popen|spawn\w*|exec\w*|fork\w*)\(|create_subprocess_", text)}
    assert starts == {("tir_lsp/check.py", "ProcessPoolExecutor")}
    assert [hit for path, text in product_sources() for hit in process_calls(path, text)] == []


@pytest.mark.parametrize(("files", "jobs", "pool"), [(20, 1, False), (8, 4, False), (9, 4, True)])
def test_check_starts_workers_only_for_many_files_and_never_with_jobs_1(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: int, jobs: int, pool: bool) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from tir_lsp import check

    started: list[int] = []

    def recording_pool(max_workers: int, **kwargs: object) -> ThreadPoolExecutor:
        started.append(max_workers)
        return ThreadPoolExecutor(max_workers, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(check, "ProcessPoolExecutor", recording_pool)
    jobs_list = []
    for i in range(files):
        (tmp_path / f"f{i}.tir").write_text("# from tvm.script import tirx as T\n")
        jobs_list.append((str(tmp_path / f"f{i}.tir"), f"f{i}.tir"))
    check.check_files(jobs_list, jobs)
    assert started == ([jobs] if pool else [])


def test_the_process_check_finds_what_it_forbids() -> None:
    src = ("import subprocess, os\nsubprocess.run('gcc x.c', shell=True)\nsubprocess.run(cmd, timeout=5)\n"
           "subprocess.run(['gcc', 'x.c'])\nos.system('gcc x.c')\n"
           "subprocess.run(['gcc', 'x.c'], timeout=60, cwd=tmp)\n")
    assert process_calls("x.py", src) == [
        "x.py:2: subprocess.run runs a shell", "x.py:3: subprocess.run without an argument list",
        "x.py:4: subprocess.run without a timeout", "x.py:5: os.system runs a shell"]


# 3 and 4. Paths tirc derives itself; existing files.


def _onnx(tmp_path: Path) -> Path:
    src = tmp_path / "model.onnx"
    onnx.save(mlp(), src)
    return src


@pytest.mark.parametrize("name", ["../../evil", "a/b", "/tmp/evil", "x y", "x;y"])
def test_a_hostile_model_name_is_refused_before_writing(tmp_path: Path, name: str) -> None:
    out = tmp_path / "out" / "model.tar"
    proc = tirc("build", str(_onnx(tmp_path)), "--executor", "aot", "--interface-api", "c",
               "--unpacked-api", "--model-name", name, "-o", str(out))
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert f"model name {name!r} is not a C identifier" in proc.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["model.onnx"]


def test_a_hostile_model_name_in_a_config_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "opts.json"
    config.write_text('{"executor": "aot", "interface-api": "c", "unpacked-api": true, "model-name": "../x"}')
    proc = tirc("build", str(_onnx(tmp_path)), "--config", str(config), "-o", str(tmp_path / "m.tar"))
    assert proc.returncode != 0 and "'../x' is not a C identifier" in proc.stderr
    assert not (tmp_path / "m.tar").exists()


def test_archive_members_stay_inside(tmp_path: Path) -> None:
    for bad in ["../x.h", "codegen/../../x", "/etc/passwd", "a//b", "./a", "c:\\x", "a\\..\\b"]:
        with pytest.raises(ValueError, match="unsafe archive member name"):
            member_name(bad)
    out = tmp_path / "m.tar"
    proc = tirc("build", str(_onnx(tmp_path)), "--executor", "aot", "--interface-api", "c",
               "--unpacked-api", "--model-name", "net", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    with tarfile.open(out) as tar:
        names = tar.getnames()
        assert all(n.startswith("./") and ".." not in n.split("/") for n in names)
        extract_data(tar, tmp_path / "x")  # the strict filter accepts every member
    assert (tmp_path / "x" / "codegen" / "host" / "include" / "tvmgen_net.h").exists()


def test_tirc_build_never_replaces_a_file_without_force(tmp_path: Path) -> None:
    out = tmp_path / "model.tar"
    out.write_text("precious\n")
    flags = ["--executor", "aot", "--interface-api", "c", "--unpacked-api", "-o", str(out)]
    proc = tirc("build", str(_onnx(tmp_path)), *flags)
    assert proc.returncode == 2 and "exists and was not written by tirc; use --force" in proc.stderr
    assert out.read_text() == "precious\n"
    assert tirc("build", str(_onnx(tmp_path)), *flags, "--force").returncode == 0
    assert tarfile.is_tarfile(out)


def test_dump_dir_keeps_a_users_file(tmp_path: Path) -> None:
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    mine = dumps / "01_LowerInitBlock.tir"
    mine.write_text("my notes\n")
    proc = tirc("lower", str(EXAMPLE), "--print-after", "all", "--dump-dir", str(dumps))
    assert proc.returncode == 2 and f"{mine}: exists and was not written by tirc; use --force" in proc.stderr
    assert mine.read_text() == "my notes\n"
    # Its own dumps from an earlier run it refreshes; --force replaces the user's file too.
    mine.unlink()
    assert tirc("lower", str(EXAMPLE), "--print-after", "all", "--dump-dir", str(dumps)).returncode == 0
    assert tirc("lower", str(EXAMPLE), "--print-after", "all", "--dump-dir", str(dumps)).returncode == 0
    names = sorted(p.name for p in dumps.iterdir())
    assert names[0] == "01_LowerInitBlock.tir" and all(n[:2].isdigit() and n.endswith(".tir") for n in names)


def test_a_symlink_in_the_dump_dir_is_replaced_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.tir"
    outside.write_text("# tirc: a dump tirc wrote elsewhere\n")  # looks like tirc's: replaceable
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    (dumps / "01_LowerInitBlock.tir").symlink_to(outside)
    (dumps / "02_LowerOpaqueBlock.tir").symlink_to(tmp_path / "nowhere.tir")  # dangling
    proc = tirc("lower", str(EXAMPLE), "--print-after", "all", "--dump-dir", str(dumps))
    assert proc.returncode == 0, proc.stderr
    assert outside.read_text() == "# tirc: a dump tirc wrote elsewhere\n"
    assert not (tmp_path / "nowhere.tir").exists()
    assert not (dumps / "01_LowerInitBlock.tir").is_symlink() and not (dumps / "02_LowerOpaqueBlock.tir").is_symlink()


def test_lower_o_through_a_symlink_replaces_the_link(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "kernel.c"
    target.parent.mkdir()
    target.write_text("int users_code;\n")
    link = tmp_path / "out.c"
    link.symlink_to(target)
    proc = tirc("lower", str(EXAMPLE), "--emit", "c", "-o", str(link))
    assert proc.returncode == 2 and "was not written by tirc" in proc.stderr  # judged by what it points to
    assert tirc("lower", str(EXAMPLE), "--emit", "c", "-o", str(link), "--force").returncode == 0
    assert target.read_text() == "int users_code;\n" and not link.is_symlink()


def test_a_call_extern_name_cannot_smuggle_c(tmp_path: Path) -> None:
    path = tmp_path / "ext.tir"
    path.write_text('# from tvm.script import tirx as T\n\n@T.prim_func\ndef main(A: T.Buffer((4,), "float32")):\n'
                    '    T.func_attr({"global_symbol": "../../main"})\n'
                    '    T.call_extern("int32", "puts(\\"x\\"); system", "touch PWNED")\n')
    proc = tirc("lower", str(path), "--emit", "c")
    assert proc.returncode == 1
    assert f"{path}:6:5: error: C backend: T.call_extern: 'puts(\"x\"); system' is not a C function name" in proc.stderr


# The server: where "Lower to C" may have the client create a file.


def test_lower_to_c_file_names_stay_next_to_the_file(tmp_path: Path) -> None:
    from tir_lsp.features.commands import c_file_path

    ws = tmp_path / "ws"
    (ws / "k").mkdir(parents=True)
    tir = str(ws / "k" / "x.tir")
    assert c_file_path(tir, "x.c", [str(ws)]) == str(ws / "k" / "x.c")
    # A function's global_symbol may be any string: its directory part is flattened.
    assert c_file_path(tir, "x.../../../evil.c", [str(ws)]) == str(ws / "k" / "x..._.._.._evil.c")
    assert c_file_path(tir, "../evil.c", []) == str(ws / "k" / "_evil.c")
    # Never an existing file, nor a link (even a dangling one).
    (ws / "k" / "x.c").write_text("mine")
    (ws / "k" / "x.1.c").symlink_to(tmp_path / "outside.c")
    assert c_file_path(tir, "x.c", [str(ws)]) == str(ws / "k" / "x.2.c")
    # Outside the workspace folders, through a symlinked folder, or not a file: nowhere.
    (ws / "link").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    assert c_file_path(str(tmp_path / "y.tir"), "y.c", [str(ws)]) is None
    assert c_file_path(str(ws / "link" / "z.tir"), "z.c", [str(ws)]) is None
    assert c_file_path("untitled:Untitled-1", "u.c", [str(ws)]) is None


# 5. The parser's cache.


def test_the_parser_cache_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    from tir_lsp.compiler.text import parser

    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path))
    private = parser._private_cache_dir()
    assert private == tmp_path / f"tir-lsp-{os.getuid()}"
    assert private.stat().st_mode & 0o777 == 0o700
    private.chmod(0o777)  # another user could have planted a plan in it: never read it
    assert parser._private_cache_dir() == Path(os.devnull)
    private.rmdir()
    private.symlink_to(tmp_path)  # a link planted in its place
    assert parser._private_cache_dir() == Path(os.devnull)
