"""Names and layouts of TVM 0.27's TIR that the builder needs to tell apart: operators TVM
registers, the tile primitives of its kernel dialect and their scopes, the thread-id
statements, and the per-thread size of a simple layout. Pure functions over names and IR.
"""

from __future__ import annotations

from tir_lsp.compiler.ir.expr import Expr, IntImm, PyValue
from tir_lsp.compiler.ir.tvm_ops import TVM_OP_NAMES

# ``tx = T.thread_id([32])``...: the statements binding thread ids in TVM 0.27 kernels.
SCOPE_ID_KINDS = frozenset({"cluster_id", "cta_id", "cta_id_in_cluster", "cta_id_in_pair", "warpgroup_id",
                            "warp_id", "warp_id_in_wg", "lane_id", "thread_id", "thread_id_in_wg"})

# ``ptx``, ``cuda``, ``tile``...: TVM prints some operators of these under names of their own
# (``T.ptx.cp("async", "commit_group", "")``), every one of them a registered operator.
_TVM_OP_NAMESPACES = frozenset(n.partition(".")[0] for n in TVM_OP_NAMES if "." in n)

# ``T.cta.copy(...)``, ``T.warp.sum(...)``: a tile primitive (``tirx.tile.copy``) run by the
# threads of one scope.
# Registered ops whose result dtype is fixed by TVM (not taken from where they are used).
RESULT_DTYPES = {"cuda.elect_sync": "uint32"}

_TILE_SCOPES = frozenset({"cluster", "cta", "wg", "warpgroup", "warp", "thread"})


def registered_in_tvm(name: str) -> bool:
    """Whether ``T.<name>`` is an operator TVM registers: ``ptx.mma`` (``tirx.ptx.mma``),
    ``cuda.mma_fill_legacy`` (``tirx.mma_fill_legacy``), ``cuda.iket.mark`` (``tirx.cuda.iket_mark``)."""
    if name in TVM_OP_NAMES or name.partition(".")[2] in TVM_OP_NAMES or name.partition(".")[0] in _TVM_OP_NAMESPACES:
        return True
    head, _, last = name.rpartition(".")
    return bool(head) and f"{head}_{last}" in TVM_OP_NAMES


def is_tile_primitive(name: str) -> bool:
    """``cta.copy``, ``warp.sum``, ``tile.copy_async``, ``copy``: a tile primitive, whose
    buffer arguments are regions."""
    scope, _, op = name.partition(".")
    if scope == "tile":
        return name in TVM_OP_NAMES
    return f"tile.{op}" in TVM_OP_NAMES if scope in _TILE_SCOPES else f"tile.{name}" in TVM_OP_NAMES


def memory_span(layout: Expr | None, size: bool = False) -> int | None:
    """Elements one thread stores of ``T.TileLayout(T.S[(e0, e1...):(s0, s1 @ Axis.x...)])``:
    1 + sum((e - 1) * s) over the iterators on memory (no ``@`` axis); with ``size``, the
    product of their extents instead (TVM's ``storage().size()``, what ``B.local(layout=L)``
    takes). None for any other layout (that would need TVM's layout algebra)."""
    if not (isinstance(layout, PyValue) and layout.form == "call" and layout.name == "T.TileLayout"
            and len(layout.items) == 1 and not layout.keywords):
        return None
    spec, offset = layout.items[0], 0
    if (isinstance(spec, PyValue) and spec.form == "op" and spec.name == "+" and len(spec.items) == 2
            and isinstance(spec.items[1], IntImm)):
        # ``T.S[...] + 3``: the layout starts 3 elements in; the span counts them.
        offset = spec.items[1].value
        spec = spec.items[0]
    if not (isinstance(spec, PyValue) and spec.form == "index" and len(spec.items) == 2):
        return None
    head, sl = spec.items
    if not (isinstance(head, PyValue) and head.name == "T.S" and isinstance(sl, PyValue) and sl.form == "slice"):
        return None
    ext, strides = sl.items[0], sl.items[1]
    exts = ext.items if isinstance(ext, PyValue) and ext.form == "tuple" else (ext,)
    strs = strides.items if isinstance(strides, PyValue) and strides.form == "tuple" else (strides,)
    if len(exts) != len(strs):
        return None
    span = 1
    for e, st in zip(exts, strs):
        if isinstance(st, PyValue):
            if st.form == "op" and st.name == "@":
                continue  # laid across threads, not memory
            return None
        if not (isinstance(e, IntImm) and isinstance(st, IntImm)):
            return None
        span = span * e.value if size else span + (e.value - 1) * st.value
    return span if size else span + offset
