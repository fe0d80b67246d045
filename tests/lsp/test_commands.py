"""workspace/executeCommand: tir.lowerToC, tir.showTirAfterPass, tir.listPasses, tir.exportJson,
errors as LSP errors plus published diagnostics, and the createFile flow (never overwriting)."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from tests.lsp.conftest import CORPUS, data, open_doc, uri_of

pytestmark = pytest.mark.asyncio(loop_scope="module")
MATMUL = CORPUS / "matmul_f32" / "04_LowerInitBlock.tir"


async def _run(client: LanguageClient, command: str, *args: object) -> object:
    return await client.workspace_execute_command_async(t.ExecuteCommandParams(command=command, arguments=list(args)))


async def test_list_passes(client: LanguageClient) -> None:
    from tir_lsp.compiler.transform.pipeline import list_passes

    names = await _run(client, "tir.listPasses")
    assert names == list_passes()  # the compiler's own order (the pipeline grows over time)
    assert names[:4] == ["LowerInitBlock", "LowerOpaqueBlock", "CompactBufferAllocation", "FlattenBuffer"]
    assert "MakePackedAPI" in names and "MakeUnpackedAPI" in names


async def test_lower_to_c_of_fixture(client: LanguageClient) -> None:
    await open_doc(client, MATMUL.as_uri(), MATMUL.read_text())
    res = await _run(client, "tir.lowerToC", MATMUL.as_uri())
    assert isinstance(res, dict) and res["title"] == "04_LowerInitBlock.c" and res["language"] == "c"
    assert '#include "tir_runtime.h"' not in res["content"] and "#define TIR_RUNTIME_H_" in res["content"]
    assert "int32_t main_func(void* args, int32_t* arg_type_ids, int32_t num_args," in res["content"]


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is required for this test")
async def test_lower_to_c_result_compiles_alone(client: LanguageClient, tmp_path: Path) -> None:
    # Shown as an untitled editor or saved anywhere: no tir_runtime.h next to it.
    await open_doc(client, MATMUL.as_uri(), MATMUL.read_text())
    res = await _run(client, "tir.lowerToC", MATMUL.as_uri())
    assert isinstance(res, dict)
    (tmp_path / "shown.c").write_text(res["content"])
    cc = await asyncio.to_thread(subprocess.run, ["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-c", "shown.c",
                                                  "-o", "shown.o"], cwd=tmp_path, capture_output=True, text=True,
                                 timeout=60, check=False)
    assert cc.returncode == 0, cc.stderr


async def test_lower_to_c_uses_the_files_options(client: LanguageClient) -> None:
    uri = uri_of("unpacked.tir")
    await open_doc(client, uri, data("unpacked.tir"))
    res = await _run(client, "tir.lowerToC", uri, "main")
    assert isinstance(res, dict) and res["title"] == "unpacked.main.c"
    assert "int32_t main_func(float* X) {" in res["content"]
    assert "int32_t add_one(" not in res["content"]


async def test_lowering_error_is_an_error_response_and_diagnostic(client: LanguageClient) -> None:
    uri = uri_of("calls.tir")
    await open_doc(client, uri, data("calls.tir"))
    with pytest.raises(JsonRpcException) as err:
        await _run(client, "tir.lowerToC", uri)
    path = str(Path(uri[len("file://"):]))
    assert err.value.message == (f"{path}:7:9: error: MakePackedAPI: function add_one is already lowered to the "
                                 "unpacked API [TIR201]")
    diags = client.diagnostics[uri]
    assert [(d.code, d.range.start.line) for d in diags] == [("TIR201", 6)]


async def test_lowering_refused_on_file_with_errors(client: LanguageClient) -> None:
    uri = uri_of("errors.tir")
    await open_doc(client, uri, data("errors.tir"))
    with pytest.raises(JsonRpcException) as err:
        await _run(client, "tir.lowerToC", uri)
    assert err.value.message.splitlines()[0].endswith("errors.tir:9:20: error: undefined buffer 'B' [TIR010]")


async def test_show_tir_after_pass_and_export_json(client: LanguageClient) -> None:
    await open_doc(client, MATMUL.as_uri(), MATMUL.read_text())
    res = await _run(client, "tir.showTirAfterPass", MATMUL.as_uri(), "FlattenBuffer")
    assert isinstance(res, dict) and res["language"] == "tir"
    assert res["title"] == "04_LowerInitBlock.after.FlattenBuffer.tir"
    assert "C_1[i * 32 + j] = C_1[i * 32 + j] + A_1[i * 32 + k] * B_1[k * 32 + j]" in res["content"]
    with pytest.raises(JsonRpcException) as err:
        await _run(client, "tir.showTirAfterPass", MATMUL.as_uri(), "NoSuchPass")
    assert err.value.message.startswith("unknown pass 'NoSuchPass'; known passes: LowerInitBlock, ")
    res = await _run(client, "tir.exportJson", MATMUL.as_uri())
    assert isinstance(res, dict) and res["language"] == "json" and res["title"] == "04_LowerInitBlock.json"
    assert json.loads(res["content"])["format"] == "tir-lsp.ir"


async def test_create_file_never_overwrites(client: LanguageClient, tmp_path: Path) -> None:
    src = tmp_path / "kernel.tir"
    shutil.copy(MATMUL, src)
    (tmp_path / "kernel.c").write_text("/* mine */\n")
    await open_doc(client, src.as_uri(), src.read_text())
    client.edits.clear()  # type: ignore[attr-defined]
    res = await _run(client, "tir.lowerToC", src.as_uri(), None, {"createFile": True})
    assert isinstance(res, dict)
    [edit] = client.edits  # type: ignore[attr-defined]
    create, text_edit = edit.document_changes
    assert isinstance(create, t.CreateFile) and create.uri == (tmp_path / "kernel.1.c").as_uri()
    assert create.options.ignore_if_exists is True
    assert text_edit.edits[0].new_text == res["content"]
    assert client.shown_documents[-1].uri == (tmp_path / "kernel.1.c").as_uri()
    assert (tmp_path / "kernel.c").read_text() == "/* mine */\n"
