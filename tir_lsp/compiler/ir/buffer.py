"""Buffers: a typed, shaped view of memory reached through a data pointer var."""

from __future__ import annotations

from dataclasses import dataclass, field

from tir_lsp.compiler.ir.dtype import DataType
from tir_lsp.compiler.ir.expr import Expr, Var
from tir_lsp.compiler.ir.node import Node

# The alignment in bytes of a buffer's data pointer when the buffer does not say (``align=0``
# or ``-1``): TVM's ``kAllocAlignment``. A function's buffer parameters promise it to their
# callers' data; MakePackedAPI / MakeUnpackedAPI check it and tell the C compiler.
DEFAULT_DATA_ALIGNMENT = 64


@dataclass(frozen=True, slots=True, eq=False)
class Buffer(Node):
    """A buffer declaration (``T.Buffer((16, 16), "float32")`` and friends).

    ``data`` is the pointer var holding its address; two buffers sharing ``data`` alias.
    Identity is the buffer itself, as for Var.
    """

    name: str
    data: Var
    dtype: DataType
    shape: tuple[Expr, ...]
    strides: tuple[Expr, ...] = ()
    elem_offset: Expr | None = None
    scope: str = "global"
    align: int = 0
    offset_factor: int = 0
    buffer_type: str = "default"
    axis_separators: tuple[int, ...] = ()
    # The name span of the declaration is the span of the node; where it was declared
    # (param, alloc_buffer, decl_buffer, match_buffer...) is the analysis' business.
    annotations: dict[str, object] = field(default_factory=dict)
    # ``layout=T.TileLayout(...)`` of the TVM 0.27 kernel dialect: kept as written (a PyValue).
    layout: Expr | None = None
    # ``allocated_addr=[0, 0]``: where the kernel dialect places the buffer, as written.
    allocated_addr: tuple[Expr, ...] = ()

    @property
    def data_alignment(self) -> int:
        """The byte alignment of ``data``: ``align`` when given, else DEFAULT_DATA_ALIGNMENT."""
        return self.align if self.align > 0 else DEFAULT_DATA_ALIGNMENT

    @property
    def ndim(self) -> int:
        return len(self.shape)
