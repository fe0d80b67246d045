"""Where the server may have files written (README "Security promises"): "Lower to C" asks
a client that cannot open an untitled document to create a new file next to the TIR file,
only inside the workspace folders (symlinks resolved), never over an existing file or link,
under a name whose directory part is flattened. The VS Code extension gets the C back and
opens it untitled: nothing is written."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from tests.lsp.conftest import CONFIG, CORPUS, initialize, open_doc

pytestmark = pytest.mark.asyncio(loop_scope="module")
MATMUL = CORPUS / "matmul_f32" / "04_LowerInitBlock.tir"
BASE = Path(tempfile.mkdtemp(prefix="tir-lsp-security-"))
WS = BASE / "ws"
OUTSIDE = BASE / "outside"


@pytest_lsp.fixture(config=CONFIG, scope="module")
async def client(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    (WS / "k").mkdir(parents=True)
    OUTSIDE.mkdir()
    (WS / "escape").symlink_to(OUTSIDE, target_is_directory=True)
    await initialize(lsp_client, root=WS)  # not VS Code: results become files
    yield
    await lsp_client.shutdown_session()
    shutil.rmtree(BASE, ignore_errors=True)


async def _lower(client: LanguageClient, path: Path, *args: object) -> dict[str, str]:
    await open_doc(client, path.as_uri(), path.read_text())
    client.edits.clear()  # type: ignore[attr-defined]
    res = await client.workspace_execute_command_async(t.ExecuteCommandParams(
        command="tir.lowerToC", arguments=[path.as_uri(), *args]))
    assert isinstance(res, dict) and "int32_t" in res["content"]
    return res


def _created(client: LanguageClient) -> list[str]:
    return [c.uri for e in client.edits for c in e.document_changes  # type: ignore[attr-defined]
            if isinstance(c, t.CreateFile)]


async def test_creates_next_to_a_file_in_the_workspace(client: LanguageClient) -> None:
    src = WS / "k" / "kernel.tir"
    shutil.copy(MATMUL, src)
    await _lower(client, src, None, {"createFile": True})
    assert _created(client) == [(WS / "k" / "kernel.c").as_uri()]


async def test_never_through_a_symlinked_folder_or_outside(client: LanguageClient) -> None:
    for src in (WS / "escape" / "kernel.tir", OUTSIDE / "other.tir"):
        shutil.copy(MATMUL, OUTSIDE / src.name)
        await _lower(client, src, None, {"createFile": True})
        assert _created(client) == []
        assert "is not a file inside the workspace folders" in client.messages[-1].message
    assert sorted(p.name for p in OUTSIDE.iterdir()) == ["kernel.tir", "other.tir"]


async def test_a_global_symbol_with_dots_and_slashes_stays_in_the_folder(client: LanguageClient) -> None:
    src = WS / "k" / "sym.tir"
    # Joined as given, `sym.../../../../../evil.c` would be /tmp/evil.c.
    evil = "../../../../evil"
    src.write_text(MATMUL.read_text().replace('T.func_attr({', f'T.func_attr({{"global_symbol": "{evil}", '))
    assert f'"global_symbol": "{evil}"' in src.read_text()
    await _lower(client, src, evil, {"createFile": True})
    assert _created(client) == [(WS / "k" / "sym..._.._.._.._evil.c").as_uri()]


async def test_never_over_a_link(client: LanguageClient) -> None:
    src = WS / "k" / "linked.tir"
    shutil.copy(MATMUL, src)
    (WS / "k" / "linked.c").symlink_to(OUTSIDE / "planted.c")  # dangling: would create outside
    await _lower(client, src, None, {"createFile": True})
    assert _created(client) == [(WS / "k" / "linked.1.c").as_uri()]


@pytest_lsp.fixture(config=CONFIG, scope="module")
async def vscode(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    await initialize(lsp_client, client_name="Visual Studio Code")
    yield
    await lsp_client.shutdown_session()


async def test_vscode_lower_to_c_writes_nothing(vscode: LanguageClient, tmp_path: Path) -> None:
    src = tmp_path / "kernel.tir"
    shutil.copy(MATMUL, src)
    await open_doc(vscode, src.as_uri(), src.read_text())
    actions = await vscode.text_document_code_action_async(t.CodeActionParams(
        text_document=t.TextDocumentIdentifier(uri=src.as_uri()),
        range=t.Range(start=t.Position(line=0, character=0), end=t.Position(line=0, character=0)),
        context=t.CodeActionContext(diagnostics=[])))
    lower = next(a for a in actions if a.title == "Lower to C")
    vscode.edits.clear()  # type: ignore[attr-defined]
    res = await vscode.workspace_execute_command_async(t.ExecuteCommandParams(
        command=lower.command.command, arguments=lower.command.arguments))
    assert res["title"] == "kernel.c" and "main" in res["content"]
    assert vscode.edits == [] and sorted(p.name for p in tmp_path.iterdir()) == ["kernel.tir"]  # type: ignore[attr-defined]
