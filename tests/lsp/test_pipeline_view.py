"""workspace/executeCommand tir.passPipeline: every stage of one pipeline run, unchanged passes
flagged without text, texts equal to `tirc lower --print-after PASS`, and a map from each
function of a stage to its definition line in the document."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from tests.lsp.conftest import DATA, ROOT, data, open_doc, uri_of

pytestmark = pytest.mark.asyncio(loop_scope="module")
TWO = DATA / "pipeline_view" / "two_funcs.tir"


async def _pipeline(client: LanguageClient, *args: object) -> Any:
    return await client.workspace_execute_command_async(
        t.ExecuteCommandParams(command="tir.passPipeline", arguments=list(args)))


def _tirc_after(path: Path, pass_name: str, tmp_path: Path) -> str:
    """What `tirc lower --print-after PASS` prints for the stage, without its header comments."""
    proc = subprocess.run([sys.executable, "-m", "tir_lsp.compiler.cli", "lower", str(path), "--print-after", pass_name,
                           "--emit", "tir", "-o", str(tmp_path / "out.tir")],
                          capture_output=True, text=True, cwd=ROOT, timeout=60, check=True)
    return "".join(ln for ln in proc.stdout.splitlines(keepends=True) if not ln.startswith("# tirc:"))


def _text_after(res: dict[str, Any], i: int) -> str:
    j = res["passes"][i]["after"]
    return res["input"]["text"] if j < 0 else res["passes"][j]["text"]


async def test_passes_in_pipeline_order_with_unchanged_flagged(client: LanguageClient) -> None:
    from tir_lsp.compiler.transform.pass_api import PipelineOptions
    from tir_lsp.compiler.transform.pipeline import passes_for

    await open_doc(client, TWO.as_uri(), TWO.read_text())
    res = await _pipeline(client, TWO.as_uri())
    assert [p["name"] for p in res["passes"]] == [p.name for p in passes_for(PipelineOptions())]
    by_name = {p["name"]: p for p in res["passes"]}
    assert by_name["LowerOpaqueBlock"]["changed"] is True
    assert by_name["VectorizeLoop"]["changed"] is False  # no vectorized loop in the module
    for i, p in enumerate(res["passes"]):
        assert p["before"] == (res["passes"][i - 1]["after"] if i else -1)
        before = _text_after(res, i - 1) if i else res["input"]["text"]
        if p["changed"]:
            assert p["after"] == i and p["text"] is not None and p["text"] != before
        else:
            # An unchanged pass carries no text: its stage is the one before it.
            assert p["text"] is None and p["functions"] is None and p["after"] == p["before"]
    assert res["omittedNote"] is None


@pytest.mark.parametrize("pass_name", ["LowerOpaqueBlock", "FlattenBuffer", "MakePackedAPI", "VectorizeLoop"])
async def test_stage_text_equals_tirc_print_after(client: LanguageClient, pass_name: str, tmp_path: Path) -> None:
    await open_doc(client, TWO.as_uri(), TWO.read_text())
    res = await _pipeline(client, TWO.as_uri())
    i = [p["name"] for p in res["passes"]].index(pass_name)
    assert _text_after(res, i) == _tirc_after(TWO, pass_name, tmp_path)


async def test_functions_map_to_their_source_definition(client: LanguageClient) -> None:
    await open_doc(client, TWO.as_uri(), TWO.read_text())
    res = await _pipeline(client, TWO.as_uri())
    source = TWO.read_text().splitlines()
    flat = next(p for p in res["passes"] if p["name"] == "FlattenBuffer")
    stage = flat["text"].splitlines()
    fns = {f["name"]: f for f in flat["functions"]}
    assert sorted(fns) == ["add", "matmul"]
    for name, f in fns.items():
        # The stage's range holds the function's def line; its source line is the def in the document.
        assert any(ln.strip().startswith(f"def {name}(") for ln in stage[f["startLine"]:f["endLine"]])
        assert source[f["sourceLine"]].strip().startswith(f"def {name}(")
    assert fns["matmul"]["sourceLine"] == 9 and fns["add"]["sourceLine"] == 23
    # A line inside `add` in the stage lies in add's range, after matmul's.
    inside = next(n for n, ln in enumerate(stage) if "Y[n] = X[n] + T.float32(1.0)" in ln)
    assert fns["add"]["startLine"] <= inside < fns["add"]["endLine"]
    assert fns["matmul"]["endLine"] <= fns["add"]["startLine"]
    assert [f["name"] for f in res["input"]["functions"]] == ["matmul", "add"]


async def test_max_chars_leaves_out_later_stages(client: LanguageClient) -> None:
    await open_doc(client, TWO.as_uri(), TWO.read_text())
    full = await _pipeline(client, TWO.as_uri())
    first_changed = next(p for p in full["passes"] if p["changed"])
    limit = len(full["input"]["text"]) + len(first_changed["text"])
    res = await _pipeline(client, TWO.as_uri(), {"maxChars": limit})
    kept = [p["name"] for p in res["passes"] if p["text"] is not None]
    left = [p["name"] for p in res["passes"] if p["omitted"]]
    assert kept == [first_changed["name"]]
    assert left == [p["name"] for p in full["passes"] if p["changed"]][1:]
    assert res["omittedNote"].startswith(f"{len(left)} changed stage(s) left out")


async def test_unpacked_option_runs_make_unpacked_api(client: LanguageClient) -> None:
    uri = uri_of("unpacked.tir")
    await open_doc(client, uri, data("unpacked.tir"))
    res = await _pipeline(client, uri)
    names = [p["name"] for p in res["passes"]]
    assert "MakeUnpackedAPI" in names and "MakePackedAPI" not in names


async def test_errors_are_a_clear_error_response(client: LanguageClient) -> None:
    uri = uri_of("errors.tir")
    await open_doc(client, uri, data("errors.tir"))
    with pytest.raises(JsonRpcException) as err:
        await _pipeline(client, uri)
    assert err.value.message.splitlines()[0].endswith("errors.tir:9:20: error: undefined buffer 'B' [TIR010]")
    assert "Traceback" not in err.value.message
    # A pass that refuses the module: its error, located in the document.
    uri = uri_of("calls.tir")
    await open_doc(client, uri, data("calls.tir"))
    with pytest.raises(JsonRpcException) as err:
        await _pipeline(client, uri)
    assert err.value.message.endswith("MakePackedAPI: function add_one is already lowered to the unpacked API [TIR201]")
    with pytest.raises(JsonRpcException) as err:
        await _pipeline(client, TWO.as_uri(), {"maxChars": "lots"})
    assert err.value.message == "tir.passPipeline: maxChars must be a non-negative integer, got 'lots'"
    with pytest.raises(JsonRpcException) as err:
        await _pipeline(client)
    assert err.value.message == "tir.passPipeline expects [uri, options?]"
