"""Bad command lines and hostile surroundings for `tirc` and `tir-lsp`: each gets one clear
message and an exit code, never a traceback, a hang or a misleading success."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tir_lsp.compiler import cli as tirc_cli
from tir_lsp.compiler.transform.pass_api import PipelineOptions
from tir_lsp.compiler.transform.pipeline import passes_for

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "matmul.tir"

ENTRY_TIR = '''# from tvm.script import ir as I
# from tvm.script import tirx as T

@I.ir_module
class Module:
    @T.prim_func
    def add_one(x: T.handle("float32"), y: T.handle("float32")) -> T.int32:
        T.func_attr({"global_symbol": "add_one"})
        X = T.decl_buffer((4,), "float32", data=x)
        Y = T.decl_buffer((4,), "float32", data=y)
        for i in range(4):
            Y[i] = X[i] + T.float32(1)
        return 0

    @T.prim_func
    def run(a: T.handle("float32"), b: T.handle("float32")) -> T.int32:
        T.func_attr({"global_symbol": "run", "tirx.is_entry_func": True})
        T.call_extern("int32", "add_one", a, b)
        return 0
'''


def run(module: str, *args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, cwd=cwd or ROOT,
                          env=env, timeout=timeout, check=False)
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    return proc


def tirc(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run("tir_lsp.compiler.cli", *args, cwd=cwd)


def tir_lsp(*args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return run("tir_lsp", *args, cwd=cwd, timeout=timeout)


# ------------------------------------------------------------------------------------- tirc


def test_an_unwritable_output_names_the_output_and_the_reason(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    proc = tirc("lower", str(EXAMPLE), "-o", str(tmp_path / "afile" / "m.c"))
    assert proc.returncode == 1
    out = tmp_path / "afile" / "m.c"
    assert proc.stderr == f"tirc: error: cannot write {out}: {tmp_path / 'afile'} is not a directory\n"
    proc = tirc("lower", str(EXAMPLE), "-o", "/proc/no/m.c")
    assert proc.returncode == 1 and proc.stderr == "tirc: error: cannot write /proc/no/m.c: No such file or directory\n"


def test_a_failed_rename_names_the_output_not_the_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(src: str, dst: object) -> None:
        raise PermissionError(13, "Permission denied", src)

    monkeypatch.setattr(tirc_cli.os, "replace", refuse)
    out = tmp_path / "m.c"
    assert tirc_cli.main(["lower", str(EXAMPLE), "--emit", "tir", "-o", str(out)]) == 1
    assert capsys.readouterr().err == f"tirc: error: cannot write {out}: Permission denied\n"
    assert list(tmp_path.iterdir()) == []  # the temporary file is gone too


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_outputs_get_the_mode_a_normal_file_gets(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        assert tirc_cli.main(["lower", str(EXAMPLE), "-o", str(tmp_path / "c" / "m.c")]) == 0
        assert tirc_cli.main(["lower", str(EXAMPLE), "--emit", "tir", "--dump-dir", str(tmp_path / "d"),
                              "--print-after", "FlattenBuffer", "-o", str(tmp_path / "m.tir")]) == 0
    finally:
        os.umask(old)
    files = [*tmp_path.rglob("*.c"), *tmp_path.rglob("*.h"), *tmp_path.rglob("*.tir")]
    assert len(files) == 4
    assert {f.name: f.stat().st_mode & 0o777 for f in files} == {f.name: 0o666 & ~umask for f in files}


def test_a_replaced_output_keeps_its_mode(tmp_path: Path) -> None:
    out = tmp_path / "m.c"
    assert tirc_cli.main(["lower", str(EXAMPLE), "-o", str(out)]) == 0
    out.chmod(0o640)
    assert tirc_cli.main(["lower", str(EXAMPLE), "-o", str(out)]) == 0
    assert out.stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize(("flag", "pass_name", "convention"), [
    ("--print-after", "MakeUnpackedAPI", []), ("--print-before", "MakePackedAPI", ["--unpacked-api"]),
    ("--stop-after", "MakeUnpackedAPI", [])])
def test_a_pass_outside_the_pipeline_is_an_error_not_silence(flag: str, pass_name: str, convention: list[str]) -> None:
    proc = tirc("lower", str(EXAMPLE), flag, pass_name, "--emit", "tir", *convention)
    assert proc.returncode == 2 and proc.stdout == ""
    hint = "without --unpacked-api" if convention else "with --unpacked-api"
    assert f"tirc: error: {flag}: {pass_name} does not run in this pipeline (it runs {hint})" in proc.stderr


def test_dump_dir_alone_dumps_every_stage(tmp_path: Path) -> None:
    proc = tirc("lower", str(EXAMPLE), "--dump-dir", str(tmp_path / "d"), "-o", str(tmp_path / "m.c"))
    assert proc.returncode == 0, proc.stderr
    names = [p.name for p in passes_for(PipelineOptions())]
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == [f"{i:02d}_{n}.tir" for i, n in enumerate(names, 1)]


def test_graph_finds_an_entry_marked_the_tvm_0_27_way(tmp_path: Path) -> None:
    (tmp_path / "entry.tir").write_text(ENTRY_TIR)
    proc = tirc("graph", "entry.tir", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert '"op": "add_one"' in proc.stdout


def test_versions() -> None:
    assert tirc("--version").stdout.startswith("tirc 0.1.0")
    assert tir_lsp("--version").stdout.startswith("tir-lsp 0.1.0")


def test_every_tirc_option_says_what_it_does() -> None:
    parser = tirc_cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    missing = [f"{name} {action.option_strings or action.dest}"
               for name in ("print", "lower") for action in sub.choices[name]._actions
               if not action.help]
    assert missing == []


# ------------------------------------------------------------------------------------ tir-lsp


def test_a_mistyped_command_suggests_the_closest() -> None:
    proc = tir_lsp("chek", "x.tir")
    assert proc.returncode == 2
    assert proc.stderr.startswith("tir-lsp: error: unknown command 'chek'; did you mean 'check'?")


def test_serve_on_a_busy_port_says_so() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = tir_lsp("serve", "--tcp", "--port", str(port), timeout=30)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"tir-lsp serve: error: cannot listen on 127.0.0.1:{port}: ")
    assert "in use" in proc.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--port", "70000"], "argument --port: port 70000 is out of range (0-65535)"),
    (["--port", "http"], "argument --port: not a port number: 'http'"),
    (["--host", "no-such-host.invalid", "--port", "0"], "cannot listen on no-such-host.invalid:0: ")])
def test_serve_with_a_bad_address_says_so(args: list[str], message: str) -> None:
    proc = tir_lsp("serve", "--tcp", *args, timeout=30)
    assert proc.returncode == 2
    assert f"tir-lsp serve: error: {message}" in proc.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("named", [True, False], ids=["named", "in a folder"])
def test_check_reports_a_fifo_instead_of_waiting_on_it(tmp_path: Path, named: bool) -> None:
    os.mkfifo(tmp_path / "pipe.tir")
    (tmp_path / "ok.tir").write_text(EXAMPLE.read_text())
    proc = tir_lsp("check", "--no-config", "pipe.tir" if named else ".", cwd=tmp_path, timeout=30)
    assert proc.returncode == 1
    assert "pipe.tir:1:1: error: cannot read file: not a regular file [TIR006]" in proc.stdout
