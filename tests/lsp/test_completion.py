"""Completion: T.* builtins with signatures, dtypes inside strings, names in scope."""

from __future__ import annotations

import pytest
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from tests.lsp.conftest import data, doc_id, open_doc, pos, wait_diagnostics

pytestmark = pytest.mark.asyncio(loop_scope="module")
URI = "file:///tmp/tir-lsp-tests/completion.tir"


async def _complete(client: LanguageClient, line: int, col: int) -> list[t.CompletionItem]:
    res = await client.text_document_completion_async(t.CompletionParams(text_document=doc_id(URI), position=pos(line, col)))
    assert isinstance(res, t.CompletionList)
    return list(res.items)


async def test_completion_after_T_dot(client: LanguageClient) -> None:
    text = data("scopes.tir") + "    T.se\n"
    await open_doc(client, URI, text)
    items = {i.label: i for i in await _complete(client, 10, 8)}
    assert items["serial"].detail == "T.serial(start, stop=None, annotations=None)"
    assert items["serial"].kind == t.CompletionItemKind.Function
    assert items["float32"].kind == t.CompletionItemKind.TypeParameter
    assert "float32x4" not in items  # vector dtypes are not offered one by one
    assert "n" not in items


async def test_completion_of_dtype_in_string(client: LanguageClient) -> None:
    text = data("scopes.tir") + '    D = T.alloc_buffer((4,), "fl\n'
    await open_doc(client, URI, text, version=2)
    labels = [i.label for i in await _complete(client, 10, 32)]
    assert labels[:3] == ["float32", "float16", "float64"]
    assert "handle" in labels and "A" not in labels


async def test_completion_of_names_in_scope(client: LanguageClient) -> None:
    await open_doc(client, URI, data("scopes.tir"), version=3)
    # Inside the first loop, after `x` is bound: A, n, C, i, x are visible; k (second loop) is not.
    labels = [i.label for i in await _complete(client, 7, 20)]
    assert labels[:6] == ["n", "A", "C", "i", "x", "scopes"]
    assert "k" not in labels


async def test_completion_leaves_out_names_whose_block_has_ended(client: LanguageClient) -> None:
    # block_scopes.tir: `vi` lives in the sblock, `y` in the loop body, `i` in the loop.
    await open_doc(client, URI, data("block_scopes.tir"), version=4)

    async def names(line: int, col: int) -> list[str]:
        return [i.label for i in await _complete(client, line, col)
                if i.kind in (t.CompletionItemKind.Variable, t.CompletionItemKind.Field)]

    assert await names(13, 11) == ["n", "A", "z"]  # after the loop: `A[0] = z`
    assert await names(11, 15) == ["n", "A", "i", "y"]  # in the loop, after the sblock: `A[i] = y`
    assert await names(9, 19) == ["n", "A", "i", "vi"]  # in the sblock: `A[vi] = 0`
    assert await names(4, 19) == ["n", "A"]  # `for i in range(4):` itself
    # A new line being typed in the loop body, indented as the body: the loop's names are offered.
    lines = data("block_scopes.tir").split("\n")
    client.text_document_did_change(t.DidChangeTextDocumentParams(
        text_document=t.VersionedTextDocumentIdentifier(uri=URI, version=5),
        content_changes=[t.TextDocumentContentChangeWholeDocument(text="\n".join([*lines[:12], "        ", *lines[12:]]))]))
    await wait_diagnostics(client, URI, 5)
    assert await names(12, 8) == ["n", "A", "i", "y"]
    assert await names(12, 4) == ["n", "A"]  # dedented to the function body: the loop is over



SHADOW_URI = "file:///tmp/tir-lsp-tests/shadowing.tir"


async def _names(client: LanguageClient, line: int, col: int) -> list[tuple[str, str]]:
    res = await client.text_document_completion_async(t.CompletionParams(text_document=doc_id(SHADOW_URI),
                                                                         position=pos(line, col)))
    assert isinstance(res, t.CompletionList)
    return [(i.label, i.detail or "") for i in res.items
            if i.kind in (t.CompletionItemKind.Variable, t.CompletionItemKind.Field)]


async def test_completion_offers_exactly_the_names_of_nested_scopes(client: LanguageClient) -> None:
    # shadowing.tir: two sibling loops over `i`; a let `n` shadows the param `n` after them;
    # a sblock binds `m`, its loop `j`, the loop body `k`.
    text = data("shadowing.tir")
    await open_doc(client, SHADOW_URI, text)
    assert await _names(client, 7, 8) == [("n", "int32 param"), ("A", "T.Buffer(int32) buffer_param"),
                                          ("i", "int32 loop")]
    inner = [("n", "int32 let"), ("A", "T.Buffer(int32) buffer_param"), ("m", "int32 let"), ("j", "int32 loop"),
             ("k", "int32 let")]
    assert await _names(client, 15, 12) == inner  # `A[j] = k`, in the loop in the sblock
    assert await _names(client, 13, 8) == inner[:3]  # `for j in range(2):`, in the sblock
    assert await _names(client, 16, 4) == inner[:2]  # `A[7] = n`, after the sblock
    # A line being typed after the innermost body: its indentation says which bodies it continues.
    lines = text.split("\n")
    client.text_document_did_change(t.DidChangeTextDocumentParams(
        text_document=t.VersionedTextDocumentIdentifier(uri=SHADOW_URI, version=2),
        content_changes=[t.TextDocumentContentChangeWholeDocument(text="\n".join([*lines[:16], " " * 12, *lines[16:]]))]))
    await wait_diagnostics(client, SHADOW_URI, 2)
    assert await _names(client, 16, 12) == inner
    assert await _names(client, 16, 8) == inner[:3]
    assert await _names(client, 16, 4) == inner[:2]
