"""Calls into other files of the workspace (a Model Library Format ``src/`` folder): TIR101..
TIR104 are reported in the caller with related information in the callee's file, exactly as
``tir-lsp check`` reports them on the folder, and refreshed when the callee changes in the
editor or on disk."""

from __future__ import annotations

import asyncio
import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from tests.lsp.conftest import CONFIG, DATA, WAIT_TIMEOUT, initialize, open_doc
from tir_lsp import check
from tir_lsp.compiler.diagnostics import Diagnostic

pytestmark = pytest.mark.asyncio(loop_scope="module")

# The workspace is a copy: the tests change the callee's file on disk.
WS = Path(tempfile.mkdtemp(prefix="tir-lsp-cross-file-"))
atexit.register(shutil.rmtree, WS, True)
shutil.copytree(DATA / "crossfile", WS, dirs_exist_ok=True)
SRC = WS / "src"
MAIN, LIB = SRC / "tir-main.txt", SRC / "tir-lib.txt"
LIB_TEXT = LIB.read_text()
ADD_MSG = ("T.call_extern(\"int32\", \"add\", ...) in 'main' calls 'add' (line 7 in tir-lib.txt), which is packed "
           "(C-runtime ABI, \"calling_conv\": 1): a packed function cannot be called directly with C arguments; "
           "use T.call_cpacked(\"add\", ...) or make 'add' unpacked")
SCALE_MSG = ("T.call_extern(\"int32\", \"scale_f32\", ...) in 'main' passes 2 argument(s), but 'scale' (line 17 in "
             "tir-lib.txt) takes 3 params")


@pytest_lsp.fixture(config=CONFIG, scope="module")
async def client(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    await initialize(lsp_client, root=WS)
    yield
    await lsp_client.shutdown_session()


Row = tuple[str | None, int, int, int, str, tuple[tuple[str, int, int, str], ...]]


def rows(diags: object) -> list[Row]:
    out = []
    for d in diags:  # type: ignore[attr-defined]
        related = tuple((r.location.uri, r.location.range.start.line, r.location.range.start.character, r.message)
                        for r in d.related_information or ())
        out.append((d.code, d.range.start.line, d.range.start.character, d.range.end.character, d.message, related))
    return out


async def settle(client: LanguageClient, uri: str, want: object) -> list[Row]:
    """The diagnostics of ``uri`` once they equal ``want`` (refreshes come asynchronously)."""
    got: list[Row] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_TIMEOUT  # the index is built in the background: slow under load
    while loop.time() < deadline:
        got = rows(client.diagnostics.get(uri, ()))
        if got == want:
            break
        await asyncio.sleep(0.05)
    return got


ADD = ("TIR101", 4, 15, 50, ADD_MSG,
       ((LIB.as_uri(), 6, 8, "'add' is defined here as packed (C-runtime ABI, \"calling_conv\": 1)"),))
SCALE = ("TIR103", 5, 15, 56, SCALE_MSG,
         ((LIB.as_uri(), 16, 8, "'scale' is defined here as unpacked (typed pointer params, returns T.int32)"),))


async def test_call_into_a_closed_file_is_checked_there(client: LanguageClient) -> None:
    await open_doc(client, MAIN.as_uri(), MAIN.read_text())
    # Published at once, and again once the workspace index has found tir-lib.txt.
    assert await settle(client, MAIN.as_uri(), [ADD, SCALE]) == [ADD, SCALE]


def check_rows(diags: list[Diagnostic]) -> list[Row]:
    """`tir-lsp check` diagnostics in LSP coordinates (0-based), related files as URIs."""
    return [(d.code, d.span.line - 1, d.span.column - 1, d.span.end_column - 1, d.message,
             tuple(((SRC / r.file).as_uri(), r.span.line - 1, r.span.column - 1, r.message) for r in d.related))
            for d in diags]


async def test_server_and_check_agree_on_the_folder(client: LanguageClient, monkeypatch: pytest.MonkeyPatch) -> None:
    await open_doc(client, MAIN.as_uri(), MAIN.read_text())
    server = await settle(client, MAIN.as_uri(), [ADD, SCALE])
    monkeypatch.chdir(SRC)
    found = check.check_files([(str(MAIN), MAIN.name), (str(LIB), LIB.name)], workers=1)
    assert [d.file for d in found] == [MAIN.name, MAIN.name]
    assert check_rows(found) == server == [ADD, SCALE]


async def test_editing_the_open_callee_rechecks_the_caller(client: LanguageClient) -> None:
    await open_doc(client, MAIN.as_uri(), MAIN.read_text())
    assert await settle(client, MAIN.as_uri(), [ADD, SCALE]) == [ADD, SCALE]
    lib = LIB.as_uri()
    await open_doc(client, lib, LIB_TEXT)
    # `scale` takes two params now: the call passing two is right, the TIR103 goes.
    line = LIB_TEXT.split("\n").index('    def scale(a: T.handle("float32"), b: T.handle("float32"), n: T.int32) -> T.int32:')
    start = LIB_TEXT.split("\n")[line].index(", n: T.int32")
    client.text_document_did_change(t.DidChangeTextDocumentParams(
        text_document=t.VersionedTextDocumentIdentifier(uri=lib, version=2),
        content_changes=[t.TextDocumentContentChangePartial(
            range=t.Range(start=t.Position(line=line, character=start),
                          end=t.Position(line=line, character=start + len(", n: T.int32"))), text="")]))
    assert await settle(client, MAIN.as_uri(), [ADD]) == [ADD]
    # Closed again, the callee is the file on disk (three params).
    client.text_document_did_close(t.DidCloseTextDocumentParams(text_document=t.TextDocumentIdentifier(uri=lib)))
    assert await settle(client, MAIN.as_uri(), [ADD, SCALE]) == [ADD, SCALE]


async def test_a_change_on_disk_rechecks_the_caller(client: LanguageClient) -> None:
    await open_doc(client, MAIN.as_uri(), MAIN.read_text())
    assert await settle(client, MAIN.as_uri(), [ADD, SCALE]) == [ADD, SCALE]
    try:
        # `add` renamed: the call names a function of no file (an external C function).
        LIB.write_text(LIB_TEXT.replace("def add(", "def add_v2(").replace('"global_symbol": "add"', '"global_symbol": "add_v2"'))
        client.workspace_did_change_watched_files(t.DidChangeWatchedFilesParams(
            changes=[t.FileEvent(uri=LIB.as_uri(), type=t.FileChangeType.Changed)]))
        after = await settle(client, MAIN.as_uri(), [SCALE])
    finally:
        LIB.write_text(LIB_TEXT)
    assert after == [SCALE]
    client.workspace_did_change_watched_files(t.DidChangeWatchedFilesParams(
        changes=[t.FileEvent(uri=LIB.as_uri(), type=t.FileChangeType.Changed)]))
    assert await settle(client, MAIN.as_uri(), [ADD, SCALE]) == [ADD, SCALE]


async def test_the_workspace_tir_files_are_watched(client: LanguageClient) -> None:
    (reg,) = [r for r in client.registrations if r.method == t.WORKSPACE_DID_CHANGE_WATCHED_FILES]  # type: ignore[attr-defined]
    assert [w["globPattern"] for w in reg.register_options["watchers"]] == ["**/*.tir", "**/tir-*.txt"]


async def test_definition_of_a_global_symbol_in_a_closed_file(client: LanguageClient) -> None:
    await open_doc(client, MAIN.as_uri(), MAIN.read_text())
    await settle(client, MAIN.as_uri(), [ADD, SCALE])  # the index is ready
    # "scale_f32" is the global_symbol of `scale` (a T.func_attr in its body).
    res = await client.text_document_definition_async(t.DefinitionParams(
        text_document=t.TextDocumentIdentifier(uri=MAIN.as_uri()), position=t.Position(line=5, character=40)))
    assert [(r.uri, r.range.start.line, r.range.start.character, r.range.end.character) for r in res] == [
        (LIB.as_uri(), 16, 8, 13)]


async def test_workspace_symbols_of_a_closed_file(client: LanguageClient) -> None:
    await settle(client, MAIN.as_uri(), [ADD, SCALE])
    found = await client.workspace_symbol_async(t.WorkspaceSymbolParams(query="scale"))
    assert [(s.name, s.kind, s.location.uri, s.location.range.start.line, s.location.range.start.character)
            for s in found] == [("scale", t.SymbolKind.Function, LIB.as_uri(), 16, 8)]


async def test_quick_fix_of_a_call_into_another_file(client: LanguageClient) -> None:
    await open_doc(client, MAIN.as_uri(), MAIN.read_text())
    await settle(client, MAIN.as_uri(), [ADD, SCALE])
    rng = t.Range(start=t.Position(line=4, character=0), end=t.Position(line=4, character=0))
    actions = await client.text_document_code_action_async(t.CodeActionParams(
        text_document=t.TextDocumentIdentifier(uri=MAIN.as_uri()), range=rng,
        context=t.CodeActionContext(diagnostics=[], only=[t.CodeActionKind.QuickFix])))
    # `a` and `b` are pointers of no known shape: no DLTensor can be made for the packed `add`,
    # so no fix is offered (respelling alone would leave a pointer where a tensor is read).
    assert list(actions or []) == []
    # With the buffers declared, the fix makes a DLTensor over each, the callee read in tir-lib.txt.
    uri = (SRC / "tir-main-buffers.txt").as_uri()
    text = MAIN.read_text().replace('    T.evaluate(T.call_extern("int32", "add"', '    A = T.decl_buffer((8,), data=a)\n'
                                    '    B = T.decl_buffer((8,), data=b)\n    T.evaluate(T.call_extern("int32", "add"')
    await open_doc(client, uri, text)
    rng = t.Range(start=t.Position(line=6, character=0), end=t.Position(line=6, character=0))
    for _ in range(100):  # until the index has found tir-lib.txt
        actions = await client.text_document_code_action_async(t.CodeActionParams(
            text_document=t.TextDocumentIdentifier(uri=uri), range=rng,
            context=t.CodeActionContext(diagnostics=[], only=[t.CodeActionKind.QuickFix])))
        if actions:
            break
        await asyncio.sleep(0.05)
    null = "T.reinterpret(T.handle().ty, T.uint64(0))"
    assert [(a.title, [e.new_text for e in a.edit.changes[uri]]) for a in actions] == [
        ("Call it as a packed function: T.call_cpacked",
         [(f'T.call_cpacked("add", T.tvm_stack_make_array(a, T.tvm_stack_make_shape(8), {null}, 1, T.float32(0), 0), '
          f'T.tvm_stack_make_array(b, T.tvm_stack_make_shape(8), {null}, 1, T.float32(0), 0), {null})')])]
    client.text_document_did_close(t.DidCloseTextDocumentParams(text_document=t.TextDocumentIdentifier(uri=uri)))


async def test_hover_of_a_function_in_a_closed_file(client: LanguageClient) -> None:
    await open_doc(client, MAIN.as_uri(), MAIN.read_text())
    await settle(client, MAIN.as_uri(), [ADD, SCALE])  # the index is ready
    h = await client.text_document_hover_async(t.HoverParams(
        text_document=t.TextDocumentIdentifier(uri=MAIN.as_uri()), position=t.Position(line=4, character=38)))
    assert h is not None
    # The signature and convention from the other file, and where it is in the workspace.
    assert h.contents.value == (
        '```python\ndef add(args: T.handle, arg_type_ids: T.handle("int32", "global"), num_args: T.int32, '
        'out_ret_value: T.handle, out_ret_tcode: T.handle("int32", "global"), resource_handle: T.handle) -> T.int32\n'
        "```\n\nfunction; calling convention: **packed** (C-runtime ABI, call it with `T.call_packed` / "
        "`T.call_cpacked`)\n\ndefined in `src/tir-lib.txt` line 7")


async def _references(client: LanguageClient, uri: str, line: int, character: int) -> list[tuple[str, int, int, int]]:
    res = await client.text_document_references_async(t.ReferenceParams(
        text_document=t.TextDocumentIdentifier(uri=uri), position=t.Position(line=line, character=character),
        context=t.ReferenceContext(include_declaration=True)))
    return [(r.uri, r.range.start.line, r.range.start.character, r.range.end.character) for r in res or []]


async def test_references_of_a_function_include_calls_in_a_closed_file(client: LanguageClient) -> None:
    await open_doc(client, MAIN.as_uri(), MAIN.read_text())
    await settle(client, MAIN.as_uri(), [ADD, SCALE])  # the index is ready
    client.text_document_did_close(t.DidCloseTextDocumentParams(text_document=t.TextDocumentIdentifier(uri=MAIN.as_uri())))
    await open_doc(client, LIB.as_uri(), LIB_TEXT)
    try:
        # `def add` in the open library: its call in tir-main.txt, a file no editor has open.
        assert await _references(client, LIB.as_uri(), 6, 9) == [
            (LIB.as_uri(), 6, 8, 11), (MAIN.as_uri(), 4, 38, 43)]
        # `def scale` is called by its global symbol.
        assert await _references(client, LIB.as_uri(), 16, 9) == [
            (LIB.as_uri(), 16, 8, 13), (MAIN.as_uri(), 5, 38, 49)]
    finally:
        client.text_document_did_close(t.DidCloseTextDocumentParams(text_document=t.TextDocumentIdentifier(uri=LIB.as_uri())))


async def test_references_from_a_call_include_the_closed_callee(client: LanguageClient) -> None:
    await open_doc(client, MAIN.as_uri(), MAIN.read_text())
    await settle(client, MAIN.as_uri(), [ADD, SCALE])
    assert await _references(client, MAIN.as_uri(), 5, 40) == [
        (LIB.as_uri(), 16, 8, 13), (MAIN.as_uri(), 5, 38, 49)]
