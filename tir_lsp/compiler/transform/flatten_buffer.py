"""FlattenBuffer: multi-dimensional buffer accesses become 1-D accesses with row-major index math."""

from __future__ import annotations

from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.dtype import DataType
from tir_lsp.compiler.ir.expr import BufferLoad, Expr, IntImm
from tir_lsp.compiler.ir.function import IRModule, PrimFunc
from tir_lsp.compiler.ir.stmt import (
    AllocBuffer,
    BufferStore,
    DeclBuffer,
    SBlock,
    SBlockRealize,
    Stmt,
    flatten_seq,
    seq,
)
from tir_lsp.compiler.ir.visitor import IRMutator, map_functions
from tir_lsp.compiler.transform import arith
from tir_lsp.compiler.transform.pass_api import PipelineOptions, pass_error

NAME = "FlattenBuffer"


def needs_flattening(buf: Buffer) -> bool:
    """Whether accesses to ``buf`` are not already plain 1-D offsets from its data pointer."""
    if len(buf.shape) != 1:
        return True
    return bool(buf.strides) and not (isinstance(buf.strides[0], IntImm) and buf.strides[0].value == 1)


def _index_dtype(buf: Buffer) -> DataType:
    dtypes = [e.dtype for e in buf.shape if e.dtype.is_integer]
    return max(dtypes, key=lambda d: d.bits) if dtypes else DataType("int", 32)


def _flat_extent(buf: Buffer) -> Expr:
    if not buf.shape:
        return IntImm(DataType("int", 32), 1)
    if buf.strides:
        # The last element's offset + 1: covers strided (padded) layouts.
        last: Expr = IntImm(buf.shape[0].dtype, 1)
        for extent, stride in zip(buf.shape, buf.strides):
            last = arith.add(last, arith.mul(arith.sub(extent, arith.const(1, extent.dtype)), stride))
        return last
    total = buf.shape[0]
    for extent in buf.shape[1:]:
        total = arith.mul(total, extent)
    return total


def flat_buffer(buf: Buffer, name: str | None = None) -> Buffer:
    """The 1-D buffer over the same memory as ``buf``."""
    return Buffer(
        name or buf.name, buf.data, buf.dtype, (_flat_extent(buf),), (), buf.elem_offset, buf.scope,
        buf.align, buf.offset_factor, buf.buffer_type, (), dict(buf.annotations), span=buf.span,
    )


def flat_index(buf: Buffer, indices: tuple[Expr, ...], where: BufferLoad | BufferStore) -> Expr:
    """Row-major (or stride-honouring) offset of ``indices`` into ``buf``."""
    if len(indices) != len(buf.shape):
        raise pass_error(NAME, f"access to {buf.name} has {len(indices)} indices for {len(buf.shape)} dimensions", where)
    if not indices:
        return IntImm(_index_dtype(buf), 0)
    if buf.strides:
        if len(buf.strides) != len(indices):
            raise pass_error(NAME, f"buffer {buf.name} has {len(buf.strides)} strides for {len(indices)} dimensions", buf)
        offset: Expr | None = None
        for idx, stride in zip(indices, buf.strides):
            term = arith.mul(idx, _as(stride, idx))
            offset = term if offset is None else arith.add(offset, term)
        assert offset is not None
        return offset
    result = indices[0]
    for idx, extent in zip(indices[1:], buf.shape[1:]):
        result = arith.add(arith.mul(result, _as(extent, result)), idx)
    return result


def _as(e: Expr, like: Expr) -> Expr:
    """``e`` in the index dtype of ``like`` (shapes may be int64 while loop vars are int32)."""
    target = like.dtype.element_of()
    return e if e.dtype == target else arith.cast(target, e)


class _Flattener(IRMutator):
    def __init__(self, func: PrimFunc) -> None:
        self.replace: dict[Buffer, Buffer] = {}
        self.views: list[Stmt] = []
        taken = {b.name for _, b in func.buffer_map}
        for _, buf in func.buffer_map:
            if needs_flattening(buf):
                self._check(buf)
                name = buf.name + "_1"
                while name in taken:
                    name += "_1"
                taken.add(name)
                flat = flat_buffer(buf, name)
                self.replace[buf] = flat
                self.views.append(DeclBuffer(flat, form="view", view_of=buf, span=buf.span))
        self.used_views: set[Buffer] = set()
        self.flat_decls: dict[Buffer, Buffer] = {}  # T.decl_buffer buffers flattened in place

    def _check(self, buf: Buffer) -> None:
        if buf.axis_separators:
            raise pass_error(NAME, f"cannot flatten buffer {buf.name} with axis_separators (multi-dimensional physical memory)", buf)

    def _flat(self, buf: Buffer) -> Buffer:
        if buf in self.replace:
            self.used_views.add(self.replace[buf])
            return self.replace[buf]
        if not needs_flattening(buf):
            return buf
        self._check(buf)
        flat = flat_buffer(buf)
        self.replace[buf] = flat
        return flat

    def visit_Buffer(self, node: Buffer) -> Buffer:
        return node

    def visit_SBlockRealize(self, node: SBlockRealize) -> Stmt:
        raise pass_error(NAME, f"block {node.block.name} is still present; run LowerOpaqueBlock first", node)

    def visit_SBlock(self, node: SBlock) -> Stmt:
        raise pass_error(NAME, f"block {node.name} is still present; run LowerOpaqueBlock first", node)

    def visit_BufferLoad(self, node: BufferLoad) -> Expr:
        node = self.generic_mutate(node)
        if not needs_flattening(node.buffer):
            return node
        index = flat_index(node.buffer, node.indices, node)
        return node.with_(buffer=self._flat(node.buffer), indices=(index,))

    def visit_BufferStore(self, node: BufferStore) -> Stmt:
        node = self.generic_mutate(node)
        if not needs_flattening(node.buffer):
            return node
        index = flat_index(node.buffer, node.indices, node)
        return node.with_(buffer=self._flat(node.buffer), indices=(index,))

    def visit_AllocBuffer(self, node: AllocBuffer) -> Stmt:
        return node.with_(buffer=self._flat(node.buffer)) if needs_flattening(node.buffer) else node

    def visit_DeclBuffer(self, node: DeclBuffer) -> Stmt:
        if node.form == "view":
            # A view of a buffer flattened above (TVM's packed text re-declares its params
            # multi-dimensional, then views them) must name the flat declaration.
            src = node.view_of
            return node.with_(view_of=self.flat_decls[src]) if src is not None and src in self.flat_decls else node
        if not needs_flattening(node.buffer):
            return node
        flat = self._flat(node.buffer)
        self.flat_decls[node.buffer] = flat
        return node.with_(buffer=flat)


class FlattenBuffer:
    """Rewrites every access ``A[i, j]`` of a multi-dimensional (or strided) buffer to a 1-D
    access ``A_1[i * 16 + j]``.

    Expects: no blocks (LowerOpaqueBlock ran), no buffer with ``axis_separators``.
    Guarantees: every BufferLoad / BufferStore has one index into a buffer without strides;
    parameter buffers are reached through a flat view declared at the top of the body
    (``A_1 = A.view(256)``, as TVM prints it); ``T.alloc_buffer`` / ``T.decl_buffer`` shapes
    are flattened in place. Already-flat IR is returned unchanged.
    """

    name = NAME

    def apply(self, mod: IRModule, options: PipelineOptions) -> IRModule:
        def run(f: PrimFunc) -> PrimFunc:
            flattener = _Flattener(f)
            body = flattener.visit(f.body)
            if body is f.body:
                return f
            views = [v for v in flattener.views if isinstance(v, DeclBuffer) and v.buffer in flattener.used_views]
            return f.with_(body=seq(views + flatten_seq(body)))

        return map_functions(mod, run)
