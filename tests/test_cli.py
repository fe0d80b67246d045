"""`tirc` as users run it: a real process, exit codes, messages, files."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "fixtures" / "tvm" / "0.27.0.post1"
EXAMPLE = ROOT / "examples" / "matmul.tir"


def tirc(*args: str, cwd: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tir_lsp.compiler.cli", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, input=stdin, check=False)


def test_print_is_a_fixed_point() -> None:
    first = tirc("print", str(EXAMPLE))
    assert first.returncode == 0, first.stderr
    second = tirc("print", "-", stdin=first.stdout)
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout
    assert "@T.prim_func(s_tir=True)" in first.stdout and "T.sblock(" in first.stdout


def test_print_reports_positioned_errors_and_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tir"
    bad.write_text(EXAMPLE.read_text().replace("T.grid(32, 32, 32):", "T.grid(32, 32, 32)"))
    proc = tirc("print", str(bad))
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"{bad}:11:42: error: unexpected end of line; expected ':'")
    assert proc.stderr.rstrip().endswith("[TIR001]")
    assert "Traceback" not in proc.stderr


def test_usage_errors_exit_2_without_traceback(tmp_path: Path) -> None:
    for args in (["lower"], ["lower", str(tmp_path / "missing.tir")], ["lower", str(EXAMPLE), "--emit", "exe"],
                 ["lower", str(EXAMPLE), "--print-after", "NoSuchPass"], ["frobnicate"]):
        proc = tirc(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert proc.stderr.startswith("tirc: error:") or "usage" in proc.stderr


def test_not_utf8_is_a_positioned_error(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.tir"
    bad.write_bytes(b"x = 1\ny = '\xe9'\n")
    proc = tirc("print", str(bad))
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"{bad}:2:6: error: file is not valid UTF-8")


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is required for this test")
@pytest.mark.parametrize("convention", [[], ["--unpacked-api"]])
def test_lower_writes_c_and_header_that_gcc_compiles(tmp_path: Path, convention: list[str]) -> None:
    out = tmp_path / "out" / "mm.c"
    proc = tirc("lower", str(EXAMPLE), "--emit", "c", "-o", str(out), *convention)
    assert proc.returncode == 0, proc.stderr
    assert (out.parent / "tir_runtime.h").exists()
    cc = subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-c", str(out), "-o",
                         str(tmp_path / "mm.o")], capture_output=True, text=True, check=False)
    assert cc.returncode == 0, cc.stderr
    signature = "int32_t main_func(const float* restrict A, const float* restrict B, float* restrict C)" if convention else \
        "int32_t main_func(void* args, int32_t* arg_type_ids, int32_t num_args"
    assert signature in out.read_text()


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is required for this test")
@pytest.mark.parametrize("convention", [[], ["--unpacked-api"]])
def test_c_on_standard_output_compiles_alone(tmp_path: Path, convention: list[str]) -> None:
    # `tirc lower x.tir > x.c`: no tir_runtime.h anywhere, so the C carries it.
    proc = tirc("lower", str(EXAMPLE), *convention)
    assert proc.returncode == 0, proc.stderr
    (tmp_path / "x.c").write_text(proc.stdout)
    cc = subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-c", "x.c", "-o", "x.o"], cwd=tmp_path,
                        capture_output=True, text=True, check=False)
    assert cc.returncode == 0, cc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.c", "x.o"]


def test_never_replaces_a_file_it_did_not_write(tmp_path: Path) -> None:
    mine = tmp_path / "notes.c"
    mine.write_text("/* my own work */\n")
    proc = tirc("lower", str(EXAMPLE), "--emit", "c", "-o", str(mine))
    assert proc.returncode == 2
    assert "was not written by tirc; use --force" in proc.stderr
    assert mine.read_text() == "/* my own work */\n"
    # Its own output it may refresh; --force replaces anything.
    assert tirc("lower", str(EXAMPLE), "--emit", "c", "-o", str(tmp_path / "gen.c")).returncode == 0
    assert tirc("lower", str(EXAMPLE), "--emit", "c", "-o", str(tmp_path / "gen.c")).returncode == 0
    assert tirc("lower", str(EXAMPLE), "--emit", "c", "-o", str(mine), "--force").returncode == 0


def test_a_refused_output_writes_nothing_and_a_users_header_is_kept(tmp_path: Path) -> None:
    mine = tmp_path / "notes.c"
    mine.write_text("/* my own work */\n")
    proc = tirc("lower", str(EXAMPLE), "--emit", "c", "-o", str(mine))
    assert proc.returncode == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.c"]  # no stray tir_runtime.h
    header = tmp_path / "tir_runtime.h"
    header.write_text("/* my own runtime */\n")
    proc = tirc("lower", str(EXAMPLE), "--emit", "c", "-o", str(tmp_path / "gen.c"))
    assert proc.returncode == 2
    assert f"{header}: exists and was not written by tirc; use --force" in proc.stderr
    assert header.read_text() == "/* my own runtime */\n" and not (tmp_path / "gen.c").exists()


@pytest.mark.parametrize("kernel", ["matmul_f32", "softmax_f32", "sched_matmul_tiled_f32"])
@pytest.mark.parametrize("convention", [[], ["--unpacked-api"]])
def test_resuming_from_any_stage_dump_gives_identical_c(tmp_path: Path, kernel: str, convention: list[str]) -> None:
    src = CORPUS / kernel / "00_input.tir"
    dumps = tmp_path / "dumps"
    full = tmp_path / "full.c"
    proc = tirc("lower", str(src), "--print-after", "all", "--dump-dir", str(dumps), "--emit", "c", "-o", str(full),
                *convention)
    assert proc.returncode == 0, proc.stderr
    stages = sorted(dumps.glob("*.tir"))
    assert len(stages) == 11
    for stage in stages:
        text = stage.read_text()
        assert text.startswith("# tirc: TIR after pass ")
        resumed = tmp_path / f"{stage.stem}.c"
        # No flag here: the dump itself carries the options it was made with.
        proc = tirc("lower", str(stage), "--emit", "c", "-o", str(resumed))
        assert proc.returncode == 0, (stage.name, proc.stderr)
        assert resumed.read_text() == full.read_text(), stage.name


def test_json_round_trip_through_the_cli(tmp_path: Path) -> None:
    js = tmp_path / "mm.json"
    assert tirc("lower", str(EXAMPLE), "--stop-after", "FlattenBuffer", "--emit", "json", "-o", str(js)).returncode == 0
    assert '"format": "tir-lsp.ir"' in js.read_text()
    from_json = tirc("lower", str(js), "--emit", "c")
    from_text = tirc("lower", str(EXAMPLE), "--emit", "c")
    assert from_json.returncode == 0, from_json.stderr
    assert from_json.stdout == from_text.stdout


def test_print_after_prints_the_named_stage_with_a_header() -> None:
    proc = tirc("lower", str(EXAMPLE), "--print-after", "FlattenBuffer", "--emit", "tir", "-o", "/dev/null", "--force")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("# tirc: TIR after pass FlattenBuffer (4/11)\n")
    assert "A_1 = A.view(1024)" in proc.stdout


def test_passes_lists_the_pipeline() -> None:
    proc = tirc("passes")
    assert proc.returncode == 0
    names = proc.stdout.split()
    assert names[0] == "LowerInitBlock" and "MakeUnpackedAPI" in names and names[-1] == "LowerIntrin"
