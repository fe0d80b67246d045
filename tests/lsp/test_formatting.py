"""Formatting over JSON-RPC: whitespace only, names, comments and metadata kept; the edit
covers only the changed lines; a broken file gets no edit (and a log line saying why)."""

from __future__ import annotations

import re

import pytest
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from tests.lsp.conftest import CORPUS, data, doc_id, open_doc

pytestmark = pytest.mark.asyncio(loop_scope="module")
OPTS = t.FormattingOptions(tab_size=4, insert_spaces=True)


def apply(text: str, edits: list[t.TextEdit]) -> str:
    """``text`` with ``edits`` applied (positions in an ASCII text: characters are columns)."""
    lines = re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text)
    starts = [0]
    for ln in lines:
        starts.append(starts[-1] + len(ln))

    def offset(p: t.Position) -> int:
        return starts[p.line] + p.character if p.line < len(lines) else len(text)

    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[:offset(e.range.start)] + e.new_text + text[offset(e.range.end):]
    return text


async def format_doc(client: LanguageClient, name: str, text: str) -> list[t.TextEdit]:
    uri = f"file:///tmp/tir-lsp-tests/{name}"
    await open_doc(client, uri, text)
    edits = await client.text_document_formatting_async(
        t.DocumentFormattingParams(text_document=doc_id(uri), options=OPTS))
    return list(edits or [])


async def test_messy_spacing_and_indentation_become_canonical(client: LanguageClient) -> None:
    messy = (data("scopes.tir").replace("    ", "  ").replace("i * 2", "i*2").replace("(4, 4)", "( 4,4 )")
             .replace("C[k] + 1", "C[k] + 1   "))
    edits = await format_doc(client, "messy.tir", messy)
    assert apply(messy, edits) == data("scopes.tir")


async def test_only_the_changed_lines_are_replaced(client: LanguageClient) -> None:
    text = data("scopes.tir").replace("x: T.let[T.int32] = i * 2", "x: T.let[T.int32] = i*2")
    edits = await format_doc(client, "one_line.tir", text)
    assert [(e.range.start.line, e.range.start.character, e.range.end.line, e.range.end.character, e.new_text)
            for e in edits] == [(6, 0, 7, 0, "        x: T.let[T.int32] = i * 2\n")]


async def test_formatted_text_is_no_edit(client: LanguageClient) -> None:
    assert await format_doc(client, "canonical.tir", data("scopes.tir")) == []


async def test_names_comments_and_metadata_survive(client: LanguageClient) -> None:
    # The old formatter went through the printer: X_1 became X_2, the comments vanished and
    # metadata["ir.StringImm"][0] became a string literal.
    text = ('# from tvm.script import tirx as T\n\n'
            '@T.prim_func\n'
            'def main(X: T.Buffer((4,), "float32"), n: T.int32):\n'
            '    # with T.sblock("root"):\n'
            '    X_1 = T.Buffer((4,), "float32", data=X.data)  # a view\n'
            '    assert n == 4, ("ValueError", [metadata["ir.StringImm"][0], "x"])\n'
            '    X_1[0] = T.float32(1)\n')
    messy = text.replace("    ", "\t").replace(", ", ",").replace(" = ", "=")
    edits = await format_doc(client, "meta.tir", messy)
    assert apply(messy, edits) == text


async def test_tvm_dump_gets_only_its_final_newline(client: LanguageClient) -> None:
    text = (CORPUS / "sched_blockize_f32" / "57_LowerTVMBuiltin.tir").read_text()
    assert not text.endswith("\n")
    edits = await format_doc(client, "dump.tir", text)
    assert len(edits) == 1
    assert edits[0].new_text.endswith("\n") and edits[0].new_text.rstrip("\n") == text.splitlines()[-1]
    assert apply(text, edits) == text + "\n"


async def test_crlf_line_ends_become_lf(client: LanguageClient) -> None:
    crlf = data("scopes.tir").replace("\n", "\r\n")
    edits = await format_doc(client, "crlf.tir", crlf)
    assert apply(crlf, edits) == data("scopes.tir")


async def test_broken_file_gets_no_edit_and_a_log_line(client: LanguageClient) -> None:
    # errors.tir misses the colon after `for i in range(8)`.
    messy = data("errors.tir").replace("A[i] = B[i]", "A[i]=B[i]")
    assert await format_doc(client, "broken.tir", messy) == []
    assert client.log_messages[-1].message == ("TIR: not formatted: line 13:26: "
                                               "unexpected end of line; expected ':' [TIR001]")
    assert client.log_messages[-1].type == t.MessageType.Warning


async def test_semantic_errors_do_not_stop_formatting(client: LanguageClient) -> None:
    # An undefined buffer is the reader's business: the layout is still safe to fix.
    text = data("errors.tir").replace("for i in range(8)\n", "for i in range(8):\n")
    edits = await format_doc(client, "undefined.tir", text.replace("A[i] = B[i]", "A[i]=B[i]"))
    assert apply(text.replace("A[i] = B[i]", "A[i]=B[i]"), edits) == text


async def test_range_formatting_changes_only_the_selection(client: LanguageClient) -> None:
    assert client.init_result.capabilities.document_range_formatting_provider  # type: ignore[attr-defined]
    messy = data("scopes.tir").replace("i * 2", "i*2").replace("C[k] + 1", "C[k]+1")
    uri = "file:///tmp/tir-lsp-tests/range.tir"
    await open_doc(client, uri, messy)
    # Lines 5 to 7 (0-based), the selection ending at the start of line 8: `C[k]+1` stays.
    edits = await client.text_document_range_formatting_async(t.DocumentRangeFormattingParams(
        text_document=doc_id(uri), range=t.Range(start=t.Position(line=5, character=0),
                                                 end=t.Position(line=8, character=0)), options=OPTS))
    assert apply(messy, list(edits or [])) == data("scopes.tir").replace("C[k] + 1", "C[k]+1")


async def test_edit_ends_at_the_last_line_in_utf16_units(client: LanguageClient) -> None:
    last = "# done: ünïcode 😀"
    text = data("scopes.tir") + last
    edits = await format_doc(client, "utf16.tir", text)
    n = len(text.splitlines())
    assert [(e.range.start.line, e.range.start.character, e.range.end.line, e.range.end.character, e.new_text)
            for e in edits] == [(n - 1, 0, n - 1, len(last) + 1, last + "\n")]
