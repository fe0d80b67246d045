"""Code actions: "Lower to C" (kind source) running tir.lowerToC, with the createFile flag for
clients other than our VS Code extension."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from tests.lsp.conftest import CONFIG, data, doc_id, initialize, open_doc, uri_of

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def _actions(client: LanguageClient, uri: str, line: int, only: list[str] | None = None) -> list[t.CodeAction]:
    rng = t.Range(start=t.Position(line=line, character=0), end=t.Position(line=line, character=0))
    res = await client.text_document_code_action_async(t.CodeActionParams(
        text_document=doc_id(uri), range=rng, context=t.CodeActionContext(diagnostics=[], only=only)))
    return list(res or [])


async def test_lower_to_c_action_asks_other_clients_to_create_a_file(client: LanguageClient) -> None:
    uri = uri_of("calls.tir")
    await open_doc(client, uri, data("calls.tir"))
    actions = await _actions(client, uri, 2)
    assert [(a.title, a.kind) for a in actions] == [("Lower to C", t.CodeActionKind.Source)]
    cmd = actions[0].command
    assert cmd is not None and cmd.command == "tir.lowerToC"
    assert list(cmd.arguments) == [uri, None, {"createFile": True}]


async def test_lower_function_action_on_a_function(client: LanguageClient) -> None:
    uri = uri_of("calls.tir")
    await open_doc(client, uri, data("calls.tir"))
    actions = await _actions(client, uri, 15)  # inside main
    assert [a.title for a in actions] == ["Lower to C", "Lower to C: function main"]
    assert list(actions[1].command.arguments) == [uri, "main", {"createFile": True}]


async def test_only_quickfix_filters_out_source_actions(client: LanguageClient) -> None:
    uri = uri_of("calls.tir")
    await open_doc(client, uri, data("calls.tir"))
    assert await _actions(client, uri, 15, only=[t.CodeActionKind.QuickFix]) == []


@pytest_lsp.fixture(config=CONFIG, scope="module")
async def vscode(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    await initialize(lsp_client, client_name="Visual Studio Code")
    yield
    await lsp_client.shutdown_session()


async def test_vscode_extension_gets_plain_arguments(vscode: LanguageClient) -> None:
    uri = uri_of("calls.tir")
    await open_doc(vscode, uri, data("calls.tir"))
    actions = await _actions(vscode, uri, 2)
    assert actions[0].title == "Lower to C" and list(actions[0].command.arguments) == [uri]



async def test_tir101_quick_fix_respells_the_call_as_call_cpacked(client: LanguageClient) -> None:
    path = Path(__file__).resolve().parents[1] / "data" / "diagnostics" / "TIR101_extern_of_packed.tir"
    uri = path.as_uri()
    diags = await open_doc(client, uri, path.read_text())
    assert [(d.code, d.range.start.line) for d in diags] == [("TIR101", 17)]
    actions = await _actions(client, uri, 17, only=[t.CodeActionKind.QuickFix])
    assert [(a.title, a.kind) for a in actions] == [
        ("Call it as a packed function: T.call_cpacked", t.CodeActionKind.QuickFix)]
    edit = actions[0].edit
    assert edit is not None and edit.changes is not None
    (change,) = edit.changes[uri]
    assert (change.range.start.line, change.range.start.character, change.range.end.character) == (17, 19, 54)
    assert change.new_text == 'T.call_cpacked("add", a, b, T.reinterpret(T.handle().ty, T.uint64(0)))'
