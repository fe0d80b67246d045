"""Linked weights as C string literals (executor/c_bytes.py): gcc, warnings as errors, reads
back exactly the bytes written, whatever they are (trigraph-making "??", UTF-8 bidirectional
controls, NUL, quotes, newlines, block and line boundaries), at ~1.07 bytes per byte of weights."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from aot_models import HAVE_GCC

from tir_lsp.compiler.executor import c_bytes
from tir_lsp.compiler.executor.c_bytes import c_string_literal

NASTY = (bytes(range(256)) * 3 + b"??=??/??'??(??)??!??<??>??-???" + "\u202e\u2066x".encode() + b'\\"\n\r\0'
         + b"?" * 1500 + bytes(range(255, -1, -1)))


def decode(literal: bytes) -> bytes:
    body = literal[1:-1].replace(b'"\n"', b"")
    assert b"\n" not in body and b"\r" not in body and b"\0" not in body and b"??" not in body and b"\xe2" not in body
    return re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m[1], 8)]), body)


def test_round_trip_and_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(c_bytes, "_BLOCK", 4 * c_bytes.LINE)  # several blocks
    for data in (b"", b"?", NASTY, NASTY * 7):
        assert decode(c_string_literal(data)) == data
    weights = np.random.default_rng(0).standard_normal(1 << 16).astype("<f4").tobytes()
    assert len(c_string_literal(weights)) < 1.12 * len(weights)


@pytest.mark.skipif(not HAVE_GCC, reason="needs gcc")
def test_gcc_reads_the_same_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(c_bytes, "_BLOCK", 4 * c_bytes.LINE)
    data = NASTY * 5
    (tmp_path / "want.bin").write_bytes(data)
    src = b"".join([b"#include <stdio.h>\n#include <string.h>\n",
                    b"static const unsigned char d[%d] =\n" % len(data), c_string_literal(data), b";\n",
                    b"static unsigned char w[%d];\n" % len(data),
                    (b'int main(void) { FILE* f = fopen("want.bin", "rb"); if (!f || fread(w, 1, sizeof w, f) != sizeof w) '
                     b"return 2; fclose(f); return memcmp(w, d, sizeof w) != 0; }\n")])
    (tmp_path / "t.c").write_bytes(src)
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", str(tmp_path / "t.c"), "-o", str(tmp_path / "t")],
                   check=True, capture_output=True)
    assert subprocess.run([str(tmp_path / "t")], cwd=tmp_path, check=False).returncode == 0
