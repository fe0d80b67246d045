"""Push diagnostics: codes, source, severity, versions, related information, incremental edits."""

from __future__ import annotations

import pytest
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from tests.lsp.conftest import data, open_doc, uri_of, wait_diagnostics

pytestmark = pytest.mark.asyncio(loop_scope="module")


def _summary(diags: list[t.Diagnostic]) -> list[tuple[str, int, int, str]]:
    return [(str(d.code), d.range.start.line, d.range.start.character, d.message) for d in diags]


async def test_diagnostics_on_open(client: LanguageClient) -> None:
    uri = uri_of("errors.tir")
    diags = await open_doc(client, uri, data("errors.tir"))
    assert _summary(diags) == [
        ("TIR010", 8, 19, "undefined buffer 'B'"),
        ("TIR001", 12, 25, "unexpected end of line; expected ':'"),
    ]
    assert all(d.source == "tir-lsp" and d.severity == t.DiagnosticSeverity.Error for d in diags)


async def test_incremental_edit_gives_fresh_diagnostics(client: LanguageClient) -> None:
    uri = "file:///tmp/tir-lsp-tests/edit.tir"
    await open_doc(client, uri, data("errors.tir"))
    # Add the missing ':' after `for i in range(8)` (line 13): only the TIR010 error remains.
    client.text_document_did_change(t.DidChangeTextDocumentParams(
        text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[t.TextDocumentContentChangePartial(
            range=t.Range(start=t.Position(line=12, character=25), end=t.Position(line=12, character=25)), text=":")]))
    diags = await wait_diagnostics(client, uri, 2)
    assert _summary(diags) == [("TIR010", 8, 19, "undefined buffer 'B'")]
    # Insert two lines above `f`: the remaining error moves down with it.
    client.text_document_did_change(t.DidChangeTextDocumentParams(
        text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=3),
        content_changes=[t.TextDocumentContentChangePartial(
            range=t.Range(start=t.Position(line=5, character=0), end=t.Position(line=5, character=0)),
            text="    # one\n    # two\n")]))
    diags = await wait_diagnostics(client, uri, 3)
    assert _summary(diags) == [("TIR010", 10, 19, "undefined buffer 'B'")]


async def test_duplicate_function_has_related_information(client: LanguageClient) -> None:
    uri = "file:///tmp/tir-lsp-tests/dup.tir"
    text = data("calls.tir").replace("def main(", "def add_one(")
    diags = await open_doc(client, uri, text)
    dup = [d for d in diags if d.code == "TIR018"]
    assert len(dup) == 1
    assert (dup[0].range.start.line, dup[0].message) == (13, "function 'add_one' is defined twice in the module")
    rel = dup[0].related_information[0]
    assert (rel.location.uri, rel.location.range.start.line, rel.message) == (uri, 6, "first definition of 'add_one'")


async def test_calling_convention_diagnostic(client: LanguageClient) -> None:
    uri = "file:///tmp/tir-lsp-tests/conv.tir"
    text = data("calls.tir").replace('T.call_extern("int32", "add_one", X.data, 16)',
                                     'T.call_extern("int32", "add_one", X.data)')
    diags = await open_doc(client, uri, text)
    assert [(d.code, d.range.start.line) for d in diags] == [("TIR103", 17)]


async def test_utf16_columns(client: LanguageClient) -> None:
    uri = "file:///tmp/tir-lsp-tests/utf16.tir"
    # U+1F600 is one code point but two UTF-16 units: `B` is at code point 41, UTF-16 unit 42.
    text = data("errors.tir").replace("A[i] = B[i]", 'T.call_extern("int32", "f\U0001F600", B[i])')
    diags = await open_doc(client, uri, text)
    assert (diags[0].code, diags[0].range.start.line, diags[0].range.start.character,
            diags[0].range.end.character) == ("TIR010", 8, 42, 43)
