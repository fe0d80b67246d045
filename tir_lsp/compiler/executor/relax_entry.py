"""A Relax function that is a chain of ``R.call_tir`` calls over tensors of static shape, as
TVM prints a model after ``LegalizeOps`` (and ``FuseOps``/``FuseTIR``), becomes a PrimFunc of
the same name: its tensors are its buffer parameters, then one for its result; each
intermediate tensor is a ``T.alloc_buffer``; each ``R.call_tir`` calls the PrimFunc by name
(``T.call_extern`` with data pointers when unpacked, ``T.call_cpacked`` with DLTensors when
packed, as the AOT main does) and a non-zero return aborts with -1. The pipeline then lowers
it with the operators.

Anything else (control flow, packed calls, symbolic shapes, tuples) is not compiled: the
function is left out with a TIR204 note, as before.
"""

from __future__ import annotations

from tir_lsp.compiler.ir import construct as ir
from tir_lsp.compiler.ir import relax as X
from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.function import IRModule, PrimFunc
from tir_lsp.compiler.ir.stmt import AllocBuffer, Stmt


class NotAChain(Exception):
    """The function is not a chain of static ``R.call_tir`` calls (the message says why)."""


def _static(si: X.StructInfo | None, what: str) -> tuple[tuple[int, ...], str]:
    if not isinstance(si, X.TensorInfo) or si.shape is None or si.dtype is None \
            or not all(isinstance(d, int) for d in si.shape):
        raise NotAChain(f"{what} is not a tensor of static shape and dtype")
    return tuple(d for d in si.shape if isinstance(d, int)), si.dtype


def _bindings(stmts: tuple[X.RStmt, ...]) -> list[X.RBinding | X.RReturn]:
    out: list[X.RBinding | X.RReturn] = []
    for s in stmts:
        if isinstance(s, X.RDataflow):
            out.extend(_bindings(s.body))
        elif isinstance(s, (X.RBinding, X.RReturn)):
            out.append(s)
        elif isinstance(s, X.RVerbatim) or (isinstance(s, X.RExprStmt) and isinstance(s.value, X.RCall)
                                            and s.value.op == "R.func_attr"):
            continue
        else:
            raise NotAChain("it has statements other than bindings of R.call_tir")
    return out


def entry_function(func: X.RelaxFunction, module: IRModule, packed: bool) -> PrimFunc:
    """The PrimFunc ``func`` compiles to; raises NotAChain when it is not a static chain of
    ``R.call_tir``."""
    prims = {f.name: f for f in module.functions}
    taken = {p.name for p in func.params}
    result = "out" if "out" not in taken else next(f"out_{i}" for i in range(1, 10**6) if f"out_{i}" not in taken)
    taken.add(result)
    # A var's tensor, as a buffer.
    tensor: dict[int, Buffer] = {}
    sig: list[Buffer] = []
    for p in func.params:
        shape, dtype = _static(p.sinfo, f"parameter '{p.name}'")
        tensor[id(p)] = ir.buffer(p.name, shape, dtype)
        sig.append(tensor[id(p)])
    steps = _bindings(func.body)
    if not steps or not isinstance(steps[-1], X.RReturn) or not isinstance(steps[-1].value, X.RVarRef):
        raise NotAChain("it does not end by returning one tensor")
    # The tensor returned: follow `gv = lv` aliases back to the call that computes it.
    alias: dict[int, X.RelaxVar] = {}
    for s in steps:
        if isinstance(s, X.RBinding) and isinstance(s.value, X.RVarRef):
            alias[id(s.var)] = s.value.var
    returned = steps[-1].value.var
    while id(returned) in alias:
        returned = alias[id(returned)]
    allocs: list[Stmt] = []
    calls: list[Stmt] = []
    for s in steps[:-1]:
        assert isinstance(s, X.RBinding)
        v = s.value
        if isinstance(v, X.RVarRef):
            if id(v.var) not in tensor:
                raise NotAChain(f"'{v.var.name}' is not a tensor of the chain")
            tensor[id(s.var)] = tensor[id(v.var)]
            continue
        if not (isinstance(v, X.RCall) and v.op == "R.call_tir" and len(v.args) >= 2
                and isinstance(v.args[0], X.RGlobalRef) and v.args[0].name in prims
                and isinstance(v.args[1], X.RTuple) and len(v.kwargs) == 1 and v.kwargs[0][0] in ("out_ty", "out_sinfo")
                and isinstance(v.kwargs[0][1], X.RSInfo)):
            raise NotAChain(f"'{s.var.name}' is not bound to an R.call_tir of one output")
        prim: PrimFunc = prims[v.args[0].name]
        shape, dtype = _static(v.kwargs[0][1].sinfo, f"the output of '{s.var.name}'")
        if s.var is returned:
            buf = ir.buffer(result, shape, dtype)
            sig.append(buf)
        else:
            name = s.var.name
            while name in taken:
                name += "_1"
            taken.add(name)
            buf = ir.buffer(name, shape, dtype)
            allocs.append(AllocBuffer(buf))
        tensor[id(s.var)] = buf
        args: list[Buffer] = []
        for a in v.args[1].fields:
            if not isinstance(a, X.RVarRef) or id(a.var) not in tensor:
                raise NotAChain(f"an argument of the call bound to '{s.var.name}' is not a tensor of the chain")
            args.append(tensor[id(a.var)])
        args.append(tensor[id(s.var)])
        if len(args) != len(prim.params):
            raise NotAChain(f"the call bound to '{s.var.name}' does not fit '{prim.name}'")
        if packed:
            # The DLTensors are described as float32 whatever the buffer's dtype, as before.
            arrays = [ir.stack_make_array(b.data, ir.dims(b), "float32") for b in args]
            call = ir.call_cpacked(prim.global_symbol, *arrays, ir.null_handle())
        else:
            call = ir.call_extern("int32", prim.global_symbol, *(b.data for b in args))
        calls.append(ir.if_then(ir.ne(call, 0), ir.ret(-1)))
    if id(returned) not in tensor or tensor[id(returned)].name != result:
        raise NotAChain("the tensor it returns is not computed by an R.call_tir")
    return ir.prim_func(func.name, sig, ir.seq(*allocs, *calls))


def compile_entries(module: IRModule, packed: bool) -> tuple[IRModule, list[tuple[X.RelaxFunction, str]]]:
    """``module`` with a PrimFunc for each Relax function that is a static ``R.call_tir`` chain
    (and no Relax functions); the others come back with the reason they were left out."""
    left_out: list[tuple[X.RelaxFunction, str]] = []
    entries: list[PrimFunc] = []
    for f in module.relax_functions:
        if f.name in {p.name for p in module.functions}:
            left_out.append((f, "a PrimFunc has its name"))
            continue
        try:
            entries.append(entry_function(f, module, packed))
        except NotAChain as exc:
            left_out.append((f, str(exc)))
    out = module.with_(relax_functions=(), global_infos="")
    for entry in entries:
        out = out.with_function(entry)
    return out, left_out
