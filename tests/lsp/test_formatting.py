"""Formatting through the printer; refused (error response + message) on a file with errors."""

from __future__ import annotations

import pytest
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from tests.lsp.conftest import data, doc_id, open_doc, uri_of

pytestmark = pytest.mark.asyncio(loop_scope="module")
OPTS = t.FormattingOptions(tab_size=4, insert_spaces=True)


async def test_format_to_canonical_text(client: LanguageClient) -> None:
    uri = "file:///tmp/tir-lsp-tests/format.tir"
    messy = data("scopes.tir").replace("for i in range(4):", "for i in T.serial(0, 4):").replace("i * 2", "i*2")
    await open_doc(client, uri, messy)
    edits = await client.text_document_formatting_async(t.DocumentFormattingParams(text_document=doc_id(uri),
                                                                                   options=OPTS))
    assert len(edits) == 1
    assert edits[0].new_text == data("scopes.tir")
    assert (edits[0].range.start.line, edits[0].range.end.line) == (0, 10)


async def test_format_of_canonical_text_is_no_edit(client: LanguageClient) -> None:
    uri = uri_of("scopes.tir")
    await open_doc(client, uri, data("scopes.tir"))
    edits = await client.text_document_formatting_async(t.DocumentFormattingParams(text_document=doc_id(uri),
                                                                                   options=OPTS))
    assert edits is None or len(edits) == 0


async def test_format_refused_with_errors(client: LanguageClient) -> None:
    uri = uri_of("errors.tir")
    await open_doc(client, uri, data("errors.tir"))
    with pytest.raises(JsonRpcException) as err:
        await client.text_document_formatting_async(t.DocumentFormattingParams(text_document=doc_id(uri), options=OPTS))
    assert err.value.message == ("cannot format a file with errors (2; first: line 9: undefined buffer 'B' [TIR010])")
    assert client.messages[-1].message == "TIR: " + err.value.message
