"""MakeUnpackedAPI: functions take one data pointer per buffer and scalars by value."""

from __future__ import annotations

from tir_lsp.compiler.ir.dtype import INT32
from tir_lsp.compiler.ir.expr import Call, Expr, IntImm, Var
from tir_lsp.compiler.ir.function import IRModule, PrimFunc
from tir_lsp.compiler.ir.stmt import DeclBuffer, Evaluate, Stmt, flatten_seq, seq
from tir_lsp.compiler.ir.visitor import map_functions, walk
from tir_lsp.compiler.transform.data_alignment import alignment_check, assume_aligned
from tir_lsp.compiler.transform.make_packed_api import calling_state
from tir_lsp.compiler.transform.pass_api import PipelineOptions, pass_error

NAME = "MakeUnpackedAPI"


def _free_shape_vars(exprs: tuple[Expr, ...], known: set[Var]) -> list[Var]:
    found: list[Var] = []

    def visit(n: object) -> None:
        if isinstance(n, Var) and n not in known and n not in found:
            found.append(n)

    for e in exprs:
        walk(e, visit)
    return found


class MakeUnpackedAPI:
    """Gives each function the unpacked signature ``f(A: T.handle("float32"), ..., n: T.int32)
    -> T.int32``: one data pointer per buffer parameter and scalars by value, in parameter
    order. Each data pointer is checked against its buffer's alignment (``data_alignment``)
    and ``T.attr(A, "storage_alignment", n)`` follows the checks. Buffers are re-declared
    inside with ``T.decl_buffer(..., data=A)``; the body returns 0. ``global_symbol`` is set
    to the function's name when absent.

    Expects: unlowered functions whose buffer shapes use only constants and scalar
    parameters (no DLTensor carries shapes here). Already-unpacked functions pass through;
    a packed one is an error.
    """

    name = NAME

    def apply(self, mod: IRModule, options: PipelineOptions) -> IRModule:
        def run(f: PrimFunc) -> PrimFunc:
            state = calling_state(f)
            if state == "unpacked":
                return f
            if state == "packed":
                raise pass_error(NAME, f"function {f.name} is already lowered to the packed API", f)
            scalars = {p for p in f.params if f.buffer_of(p) is None}
            params: list[Var] = []
            checks: list[Stmt] = []
            decls: list[Stmt] = []
            buffers = []
            for i, p in enumerate(f.params):
                buf = f.buffer_of(p)
                if buf is None:
                    params.append(p)
                    continue
                free = _free_shape_vars(buf.shape + buf.strides + ((buf.elem_offset,) if buf.elem_offset else ()), scalars)
                if free:
                    raise pass_error(
                        NAME, f"buffer {buf.name} has symbolic shape {free[0].name} that no scalar parameter provides; "
                        "use the packed API or pass it as a parameter", buf,
                    )
                params.append(buf.data)
                check = alignment_check(f.name, f"argument #{i} ({buf.name})", buf)
                if check is not None:
                    checks.append(check)
                decls.append(DeclBuffer(buf, form="decl_buffer"))
                buffers.append(buf)
            ret = Evaluate(Call(INT32, "ret", (IntImm(INT32, 0),)))
            attrs = dict(f.attrs)
            attrs.setdefault("global_symbol", f.name)
            body = seq([*checks, *assume_aligned(buffers), *decls, *flatten_seq(f.body), ret])
            return f.with_(params=tuple(params), buffer_map=(), body=body, ret_type=INT32, attrs=attrs)

        return map_functions(mod, run)
