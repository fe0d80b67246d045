"""The pass pipeline viewer in headless Neovim 0.7+: :TirPipeline lists the passes in order
with unchanged ones marked, <CR> opens a :diffthis tab of the TIR before / after the pass
(texts as `tirc lower --print-after`), and <CR> on a stage line jumps to the source function."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TWO = ROOT / "tests" / "lsp" / "data" / "pipeline_view" / "two_funcs.tir"


def _tirc_after(path: Path, pass_name: str, tmp_path: Path) -> list[str]:
    proc = subprocess.run([sys.executable, "-m", "tir_lsp.compiler.cli", "lower", str(path), "--print-after", pass_name,
                           "--emit", "tir", "-o", str(tmp_path / "out.tir")],
                          capture_output=True, text=True, cwd=ROOT, timeout=60, check=True)
    return [ln for ln in proc.stdout.splitlines() if not ln.startswith("# tirc:")]


def test_pipeline_list_diff_and_jump_in_headless_neovim(tmp_path: Path) -> None:
    nvim = shutil.which("nvim")
    if nvim is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install neovim (see .ci/run)")
        pytest.skip("neovim is not installed")
    sample = tmp_path / "two_funcs.tir"
    shutil.copy(TWO, sample)
    out = tmp_path / "result.json"
    env = dict(os.environ, TIR_REPO=str(ROOT), TIR_OUT=str(out), TIR_PYTHON=sys.executable, TIR_FILE=str(sample),
               HOME=str(tmp_path), XDG_STATE_HOME=str(tmp_path / "state"), XDG_DATA_HOME=str(tmp_path / "data"),
               PYTHONPATH=str(ROOT))
    proc = subprocess.run([nvim, "--headless", "--clean", "-u", str(HERE / "neovim_pipeline.lua")], env=env,
                          capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
    assert out.exists(), f"nvim wrote no result: {proc.stdout[-2000:]} {proc.stderr[-2000:]}"
    result = json.loads(out.read_text())
    assert result["ok"], result

    from tir_lsp.compiler.transform.pass_api import PipelineOptions
    from tir_lsp.compiler.transform.pipeline import passes_for

    names = [p.name for p in passes_for(PipelineOptions())]
    assert [ln.split()[1] for ln in result["list"]] == names
    assert result["list"][1].split() == ["2", "LowerOpaqueBlock", "changed"]
    assert result["list"][names.index("VectorizeLoop")].endswith(" unchanged")
    assert result["list_source_is_the_file"] is True

    assert result["diff"] == {"pass": "FlattenBuffer", "changed": True}
    assert result["windows"] == 2 and result["diff_on"] == [True, True]
    assert result["stage_syntax"] == "tir"  # the syntax file of editors/neovim colours the stages
    assert result["after"] == _tirc_after(sample, "FlattenBuffer", tmp_path)
    assert result["before"] == _tirc_after(sample, "LowerOpaqueBlock", tmp_path)

    # `def add` is line 24 of the file.
    assert result["jump"] == {"buffer_is_source": True, "line": 24}
    assert result["unchanged"] == {"pass": "VectorizeLoop", "changed": False}
    assert result["unchanged_same"] is True
