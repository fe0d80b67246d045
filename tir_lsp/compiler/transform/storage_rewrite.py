"""StorageRewrite: allocations become stack arrays (small) or workspace calls (large)."""

from __future__ import annotations

from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.dtype import BOOL_T, HANDLE_T, INT32, DataType, PointerType
from tir_lsp.compiler.ir.expr import BinOp, Call, Expr, IntImm, Var
from tir_lsp.compiler.ir.function import IRModule, PrimFunc
from tir_lsp.compiler.ir.stmt import (
    Allocate,
    AllocBuffer,
    Bind,
    DeclBuffer,
    Evaluate,
    IfThenElse,
    SeqStmt,
    Stmt,
    flatten_seq,
)
from tir_lsp.compiler.ir.visitor import IRMutator, map_functions
from tir_lsp.compiler.transform import arith
from tir_lsp.compiler.transform.arith import int_value
from tir_lsp.compiler.transform.pass_api import PipelineOptions, pass_error

NAME = "StorageRewrite"

UINT64 = DataType("uint", 64)
# DLDataType codes for the allocator's dtype hint.
_DL_CODE = {"int": 0, "uint": 1, "float": 2, "bfloat": 4, "bool": 1}
_CPU = 1


def _throw() -> Stmt:
    return Evaluate(Call(INT32, "tvm_throw_last_error", ()))


def _nbytes(dtype: DataType, extents: tuple[Expr, ...]) -> Expr:
    total: Expr = arith.const(dtype.bytes, INT32)
    for e in extents:
        total = arith.mul(arith.cast(UINT64, total), arith.cast(UINT64, e))
    return arith.cast(UINT64, total)


class _AllocLowerer(IRMutator):
    # Allocations are statements: expressions and buffers hold none.
    skip_types = (Expr, Buffer)

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def visit_Buffer(self, node: Buffer) -> Buffer:
        return node

    def _large(self, dtype: DataType, extents: tuple[Expr, ...]) -> bool:
        size = _nbytes(dtype, extents)
        n = int_value(size)
        return n is None or n >= self.limit

    def _workspace(self, data: Var, dtype: DataType, extents: tuple[Expr, ...], span: object) -> tuple[list[Stmt], Stmt]:
        """Statements allocating ``data`` from the workspace, and the statement freeing it."""
        code = _DL_CODE.get(dtype.code, 0)
        alloc = Call(
            HANDLE_T, "TVMBackendAllocWorkspace",
            (IntImm(INT32, _CPU), IntImm(INT32, 0), _nbytes(dtype, extents), IntImm(INT32, code), IntImm(INT32, dtype.bits)),
            ret_type=PointerType(dtype.element_of()),
        )
        ptr = data
        setup: list[Stmt] = [
            Bind(ptr, alloc, span=span),  # type: ignore[arg-type]
            IfThenElse(Call(BOOL_T, "isnullptr", (ptr,)), _throw()),
        ]
        free = IfThenElse(
            BinOp("ne", Call(INT32, "TVMBackendFreeWorkspace", (IntImm(INT32, _CPU), IntImm(INT32, 0), ptr)), IntImm(INT32, 0), BOOL_T),
            _throw(),
        )
        return setup, free

    def _check_scope(self, scope: str, name: str, node: Stmt) -> None:
        if scope not in ("global", "local", ""):
            raise pass_error(NAME, f"cannot place {name} in memory scope '{scope}' on a C target", node)

    def visit_AllocBuffer(self, node: AllocBuffer) -> Stmt:
        self._check_scope(node.buffer.scope, node.buffer.name, node)
        return node

    def visit_Allocate(self, node: Allocate) -> Stmt:
        scope = node.var.type_annotation.scope if node.var.type_annotation is not None else "global"
        self._check_scope(scope, node.var.name, node)
        new: Stmt = self.generic_mutate(node)
        return new

    def visit_SeqStmt(self, node: SeqStmt) -> Stmt:
        out: list[Stmt] = []
        frees: list[Stmt] = []
        changed = False
        for s in node.stmts:
            if isinstance(s, (AllocBuffer, Allocate)):
                self.visit(s)
            if isinstance(s, AllocBuffer) and self._large(s.buffer.dtype, s.buffer.shape):
                setup, free = self._workspace(s.buffer.data, s.buffer.dtype, s.buffer.shape, s.span)
                out.extend(setup)
                out.append(DeclBuffer(s.buffer, form="decl_buffer", span=s.span))
                frees.append(free)
                changed = True
            elif isinstance(s, Allocate) and s.body is None and self._large(s.dtype, s.extents):
                setup, free = self._workspace(s.var, s.dtype, s.extents, s.span)
                out.extend(setup)
                frees.append(free)
                changed = True
            else:
                new = self.visit(s)
                changed = changed or new is not s
                out.extend(flatten_seq(new) if isinstance(new, SeqStmt) and new is not s else [new])
        if not changed:
            return node
        # Free in reverse order of allocation at the end of the sequence that owns them.
        out.extend(reversed(frees))
        return SeqStmt(tuple(out))


class StorageRewrite:
    """Decides where each allocation lives. ``T.alloc_buffer`` / ``T.allocate`` of fewer than
    ``options.stack_alloca_limit`` (1024) bytes stay as they are and become C stack arrays;
    larger or symbolic ones become ``data = T.TVMBackendAllocWorkspace(1, 0, nbytes, code,
    bits)`` + a null check + ``T.decl_buffer(..., data=data)``, freed with
    ``T.TVMBackendFreeWorkspace`` at the end of the enclosing sequence.

    Expects: flat allocations (FlattenBuffer ran) in the global or local scope (a C target
    has no shared memory: other scopes are TIR201 errors). Guarantees: no large AllocBuffer or
    Allocate remains; rerunning changes nothing. (TVM splits this between StorageRewrite and
    LowerTVMBuiltin; the name is kept for the stage where allocations are decided.)
    """

    name = NAME

    def apply(self, mod: IRModule, options: PipelineOptions) -> IRModule:
        def run(f: PrimFunc) -> PrimFunc:
            lowerer = _AllocLowerer(options.stack_alloca_limit)
            wrapped = f.body if isinstance(f.body, SeqStmt) else SeqStmt((f.body,))
            body = lowerer.visit(wrapped)
            return f if body is wrapped else f.with_(body=body)

        return map_functions(mod, run)
