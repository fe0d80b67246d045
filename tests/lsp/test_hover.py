"""Hover over real JSON-RPC: buffers, vars (param, loop, let), functions named in calls,
T.* builtins and plain expressions."""

from __future__ import annotations

import pytest
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from tests.lsp.conftest import CORPUS, data, doc_id, open_doc, pos, uri_of

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def _hover(client: LanguageClient, uri: str, line: int, col: int) -> t.Hover | None:
    return await client.text_document_hover_async(t.HoverParams(text_document=doc_id(uri), position=pos(line, col)))


async def test_hover_buffer_param_on_fixture(client: LanguageClient) -> None:
    path = CORPUS / "matmul_f32" / "04_LowerInitBlock.tir"
    uri = path.as_uri()
    await open_doc(client, uri, path.read_text())
    # `C[v_i, v_j] = ...` on line 18 (0-based 17), C at column 16.
    h = await _hover(client, uri, 17, 16)
    assert h is not None
    assert h.contents.value == (
        '```python\nC: T.Buffer((32, 32), "float32")\n```\n\n'
        "data: `C`, scope: global\n\nbuffer parameter, declared at line 8 in `main`")
    assert (h.range.start.line, h.range.start.character, h.range.end.character) == (17, 16, 17)


async def test_hover_loop_var_and_block_iter(client: LanguageClient) -> None:
    path = CORPUS / "matmul_f32" / "04_LowerInitBlock.tir"
    uri = path.as_uri()
    await open_doc(client, uri, path.read_text())
    h = await _hover(client, uri, 10, 12)  # `i` in `for i, j, k in T.grid(32, 32, 32):`
    assert h is not None and h.contents.value == "```python\ni: T.int32\n```\n\nloop variable, serial over [0, 32)"
    h = await _hover(client, uri, 12, 26)  # `v_k` in T.axis.remap("SSR", ...)
    assert h is not None and h.contents.value == "```python\nv_k: T.int32\n```\n\nblock iterator, reduce over [0, 32)"


async def test_hover_let_and_scalar_param(client: LanguageClient) -> None:
    uri = uri_of("scopes.tir")
    await open_doc(client, uri, data("scopes.tir"))
    h = await _hover(client, uri, 7, 25)  # `x` in `C[i] = A[i, 0] + x`
    assert h is not None and h.contents.value == "```python\nx: T.int32\n```\n\nlet binding = `i * 2`"
    h = await _hover(client, uri, 3, 41)  # `n: T.int32` param
    assert h is not None and h.contents.value == "```python\nn: T.int32\n```\n\nparameter of `scopes`"
    h = await _hover(client, uri, 4, 4)  # C = T.alloc_buffer
    assert h is not None and h.contents.value.startswith('```python\nC: T.Buffer((4,), "int32")\n```')
    assert h.contents.value.endswith("buffer allocated with T.alloc_buffer, declared at line 5 in `scopes`")


async def test_hover_in_inner_scopes_says_what_is_shadowed(client: LanguageClient) -> None:
    uri = uri_of("shadowing.tir")
    await open_doc(client, uri, data("shadowing.tir"))
    h = await _hover(client, uri, 12, 28)  # `n` in `m: T.let[T.int32] = n + 1`, in the sblock: the let `n`
    assert h is not None and h.contents.value == ("```python\nn: T.int32\n```\n\nlet binding = `2`\n\n"
                                                  "shadows the parameter `n` of line 4")
    h = await _hover(client, uri, 15, 19)  # `k` in `A[j] = k`, two scopes in
    assert h is not None and h.contents.value == "```python\nk: T.int32\n```\n\nlet binding = `j * m`"
    h = await _hover(client, uri, 7, 19)  # the second loop's `i`: a sibling's `i` is not shadowed
    assert h is not None and h.contents.value == "```python\ni: T.int32\n```\n\nloop variable, serial over [0, 4)"


async def test_hover_function_named_by_call_extern(client: LanguageClient) -> None:
    uri = uri_of("calls.tir")
    await open_doc(client, uri, data("calls.tir"))
    h = await _hover(client, uri, 17, 32)  # "add_one" in T.call_extern("int32", "add_one", ...)
    assert h is not None
    assert h.contents.value == (
        '```python\ndef add_one(A: T.handle("float32", "global"), n: T.int32) -> T.int32\n```\n\n'
        "function; calling convention: **unpacked** (call it with `T.call_extern`)")


async def test_hover_builtin_and_expression(client: LanguageClient) -> None:
    uri = uri_of("calls.tir")
    await open_doc(client, uri, data("calls.tir"))
    h = await _hover(client, uri, 15, 19)  # `serial` of T.serial(16)
    assert h is not None
    assert h.contents.value == ("```python\nT.serial(start, stop=None, annotations=None)\n```\n\n"
                                "A serial loop over [start, stop) (or [0, start)).")
    h = await _hover(client, uri, 16, 24)  # `*` in X[j] * T.float32(2.0)
    assert h is not None
    assert h.contents.value == "```python\nX[j] * T.float32(2.0)\n```\n\n`float32`"


KERNELS = """# from tvm.script import ir as I
# from tvm.script import tirx as T

@I.ir_module
class Module:
    @T.prim_func
    def kernel(A: T.handle("float32")):
        T.func_attr({"calling_conv": 2, "target": T.target("cuda")})
        T.evaluate(0)

    @T.prim_func
    def plain(n: T.int32):
        T.evaluate(n)

    @T.prim_func
    def host(A: T.handle("float32")) -> T.int32:
        T.call_extern("int32", "kernel", A)
        T.call_extern("int32", "plain", 1)
        return 0
"""


async def test_hover_names_the_calling_convention_the_checker_uses(client: LanguageClient) -> None:
    # A device kernel and a function with neither pointers nor buffers were both "unpacked"
    # to hover; the checker (tir_lsp.compiler.analysis.calling_convention) says otherwise.
    uri = "file:///tmp/tir-lsp-tests/kernels.tir"
    await open_doc(client, uri, KERNELS)
    h = await _hover(client, uri, 16, 33)  # "kernel" in T.call_extern
    assert h is not None and h.contents.value.endswith(
        "calling convention: **device kernel** (launched on the device by its host code, not called from C)")
    h = await _hover(client, uri, 17, 33)  # "plain"
    assert h is not None and h.contents.value.endswith(
        "calling convention: **unlowered** (not callable from C until lowered)")
    h = await _hover(client, uri, 15, 9)  # def host
    assert h is not None and h.contents.value.endswith(
        "calling convention: **unpacked** (call it with `T.call_extern`)")

