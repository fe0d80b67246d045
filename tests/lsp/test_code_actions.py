"""Code actions: "Lower to C" (kind source) running tir.lowerToC, with the createFile flag for
clients other than our VS Code extension."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from tests.lsp.conftest import CONFIG, data, doc_id, initialize, open_doc, uri_of, wait_diagnostics

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
    assert (change.range.start.line, change.range.start.character, change.range.end.character) == (17, 19, 64)
    # Each buffer's data pointer becomes a DLTensor over that buffer, as the packed callee reads it.
    null = "T.reinterpret(T.handle().ty, T.uint64(0))"
    assert change.new_text == (
        f'T.call_cpacked("add", T.tvm_stack_make_array(A.data, T.tvm_stack_make_shape(16), {null}, 1, T.float32(0), 0), '
        f'T.tvm_stack_make_array(B.data, T.tvm_stack_make_shape(16), {null}, 1, T.float32(0), 0), {null})')


DIAG_DATA = Path(__file__).resolve().parents[1] / "data" / "diagnostics"


def _applied(text: str, edit: t.TextEdit) -> str:
    """``text`` with one LSP edit applied (ASCII text: characters are code points)."""
    lines = text.split("\n")
    s, e = edit.range.start, edit.range.end
    head = "\n".join(lines[:s.line] + [lines[s.line][:s.character]])
    tail = "\n".join([lines[e.line][e.character:]] + lines[e.line + 1:])
    return head + edit.new_text + tail


async def _fix_and_recheck(client: LanguageClient, name: str, line: int) -> tuple[list[tuple[str, t.TextEdit]], str,
                                                                                  list[t.Diagnostic]]:
    """The quick fixes on ``line`` of a diagnostics example, and the diagnostics once the
    first one is applied (as a new version of the document)."""
    path = DIAG_DATA / name
    uri = path.as_uri()
    text = path.read_text()
    await open_doc(client, uri, text)
    actions = await _actions(client, uri, line, only=[t.CodeActionKind.QuickFix])
    fixes = []
    for a in actions:
        assert a.kind == t.CodeActionKind.QuickFix and a.edit is not None and a.edit.changes is not None
        (change,) = a.edit.changes[uri]
        fixes.append((a.title, change))
    fixed = _applied(text, fixes[0][1])
    client.text_document_did_change(t.DidChangeTextDocumentParams(
        text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[t.TextDocumentContentChangePartial(range=fixes[0][1].range, text=fixes[0][1].new_text)]))
    after = await wait_diagnostics(client, uri, 2)
    return fixes, fixed, after


async def test_tir102_quick_fix_respells_the_call_as_call_extern(client: LanguageClient) -> None:
    fixes, fixed, after = await _fix_and_recheck(client, "TIR102_packed_call_of_unpacked.tir", 15)
    assert [(title, e.range.start.line, e.range.start.character, e.range.end.line, e.range.end.character, e.new_text)
            for title, e in fixes] == [
        ("Call it directly with C arguments: T.call_extern", 15, 8, 15, 94,
         'T.call_extern("int32", "scale", a.data, b.data, 16)')]
    assert fixed.split("\n")[15] == '        T.call_extern("int32", "scale", a.data, b.data, 16)'
    assert [d.code for d in after] == []


async def test_tir106_quick_fix_sets_the_calling_conv_the_params_call_for(client: LanguageClient) -> None:
    fixes, fixed, after = await _fix_and_recheck(client, "TIR106_calling_conv.tir", 7)
    assert [(title, e.range.start.line, e.range.start.character, e.range.end.character, e.new_text)
            for title, e in fixes] == [('Set "calling_conv" to 0', 7, 37, 38, "0")]
    assert fixed.split("\n")[7] == '        T.func_attr({"calling_conv": 0})'
    # The other function's TIR106 (line 13) stays; the fixed one is gone.
    assert [(d.code, d.range.start.line) for d in after] == [("TIR106", 12)]


async def test_tir106_quick_fix_on_a_device_calling_conv_of_a_host_function(client: LanguageClient) -> None:
    fixes, _fixed, after = await _fix_and_recheck(client, "TIR106_calling_conv.tir", 12)
    assert [(title, e.range.start.line, e.range.start.character, e.range.end.character, e.new_text)
            for title, e in fixes] == [('Set "calling_conv" to 0', 12, 37, 38, "0")]
    assert [(d.code, d.range.start.line) for d in after] == [("TIR106", 7)]


async def test_tir101_quick_fix_makes_the_diagnostic_go(client: LanguageClient) -> None:
    fixes, _fixed, after = await _fix_and_recheck(client, "TIR101_extern_of_packed.tir", 17)
    assert [title for title, _ in fixes] == ["Call it as a packed function: T.call_cpacked"]
    # The call is correct as rewritten: nothing left to report.
    assert after == []
