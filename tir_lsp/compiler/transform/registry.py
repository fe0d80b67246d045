"""Pass names -> pass objects: how the CLI, the pipeline and tests find a pass.

The order the passes run in is ``pipeline.ORDER``'s alone; here they are by name.
"""

from __future__ import annotations

from tir_lsp.compiler.transform.compact_buffer_allocation import CompactBufferAllocation
from tir_lsp.compiler.transform.flatten_buffer import FlattenBuffer
from tir_lsp.compiler.transform.hoist_reduction_init import HoistReductionInit
from tir_lsp.compiler.transform.lower_init_block import LowerInitBlock
from tir_lsp.compiler.transform.lower_intrin import LowerIntrin
from tir_lsp.compiler.transform.lower_opaque_block import LowerOpaqueBlock
from tir_lsp.compiler.transform.make_packed_api import MakePackedAPI
from tir_lsp.compiler.transform.make_unpacked_api import MakeUnpackedAPI
from tir_lsp.compiler.transform.pass_api import Pass
from tir_lsp.compiler.transform.simplify import Simplify
from tir_lsp.compiler.transform.storage_rewrite import StorageRewrite
from tir_lsp.compiler.transform.unroll_loop import UnrollLoop
from tir_lsp.compiler.transform.vectorize_loop import VectorizeLoop

PASSES: dict[str, Pass] = {
    p.name: p
    for p in (  # alphabetical: the order they run in is pipeline.ORDER's
        CompactBufferAllocation(), FlattenBuffer(), HoistReductionInit(), LowerInitBlock(), LowerIntrin(),
        LowerOpaqueBlock(), MakePackedAPI(), MakeUnpackedAPI(), Simplify(), StorageRewrite(), UnrollLoop(), VectorizeLoop(),
    )
}


def get_pass(name: str) -> Pass:
    """The pass called ``name``; KeyError names the known passes."""
    try:
        return PASSES[name]
    except KeyError:
        raise KeyError(f"unknown pass {name!r}; known passes: {', '.join(PASSES)}") from None
