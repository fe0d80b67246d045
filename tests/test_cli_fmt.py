"""`tirc fmt` as users run it: files formatted in place, `--check`, stdin, and files left
whole when they cannot be formatted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLEAN = ('@T.prim_func\n'
         'def main(X: T.Buffer((4,), "float32")):\n'
         '    # keep me\n'
         '    X_1 = T.Buffer((4,), "float32", data=X.data)\n'
         '    X_1[0] = T.float32(0)\n')
MESSY = CLEAN.replace("    ", "  ").replace(" = ", "=").replace(", ", ",")


def tirc(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tir_lsp.compiler.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, input=stdin, check=False)


def test_fmt_rewrites_in_place_and_keeps_the_mode(tmp_path: Path) -> None:
    f = tmp_path / "k.tir"
    f.write_text(MESSY)
    os.chmod(f, 0o640)
    proc = tirc("fmt", str(f))
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    assert f.read_text() == CLEAN
    assert f.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["k.tir"]  # no temporary file left behind


def test_fmt_check_changes_nothing_and_exits_1(tmp_path: Path) -> None:
    messy, clean = tmp_path / "messy.tir", tmp_path / "clean.tir"
    messy.write_text(MESSY)
    clean.write_text(CLEAN)
    proc = tirc("fmt", "--check", str(messy), str(clean))
    assert proc.returncode == 1
    assert proc.stderr == f"{messy}: would reformat\n"
    assert messy.read_text() == MESSY
    assert tirc("fmt", "--check", str(clean)).returncode == 0


def test_fmt_stdin_to_stdout() -> None:
    proc = tirc("fmt", "-", stdin=MESSY)
    assert (proc.returncode, proc.stdout) == (0, CLEAN)


def test_fmt_leaves_a_broken_file_whole(tmp_path: Path) -> None:
    f = tmp_path / "bad.tir"
    broken = MESSY.replace("(4,)", "(4,", 1)
    f.write_text(broken)
    proc = tirc("fmt", str(f))
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"{f}:2:")
    assert proc.stderr.rstrip().endswith("[TIR001]") and "Traceback" not in proc.stderr
    assert f.read_text() == broken


def test_fmt_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    proc = tirc("fmt", str(tmp_path / "nope.tir"))
    assert proc.returncode == 2
    assert proc.stderr == f"tirc: error: {tmp_path / 'nope.tir'}: no such file\n"


def test_fmt_leaves_bad_bytes_whole_and_keeps_a_bom(tmp_path: Path) -> None:
    bad, bom = tmp_path / "bad.tir", tmp_path / "bom.tir"
    data = MESSY.encode() + b"\xff\n"
    bad.write_bytes(data)
    bom.write_bytes(b"\xef\xbb\xbf" + MESSY.encode())
    proc = tirc("fmt", str(bad), str(bom))
    assert proc.returncode == 1
    assert proc.stderr == f"{bad}:6:1: error: file is not valid UTF-8 (byte 0xff) [TIR006]\n"
    assert bad.read_bytes() == data
    assert bom.read_bytes() == b"\xef\xbb\xbf" + CLEAN.encode()
