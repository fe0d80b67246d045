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

from tir_lsp.compiler.executor.aot import read_generated
from tir_lsp.compiler.ir import relax as X
from tir_lsp.compiler.ir.function import IRModule, PrimFunc
from tir_lsp.compiler.text.relax_printer import dims_text


class NotAChain(Exception):
    """The function is not a chain of static ``R.call_tir`` calls (the message says why)."""



def stack_array(data: str, shape: tuple[int, ...]) -> str:
    """A float32 DLTensor over ``data`` for a packed call, as TIR text the way TVM prints a
    packed buffer (the entry is still written as text; ``ir.construct.stack_make_array`` is
    the IR form)."""
    return (f"T.tvm_stack_make_array({data}, T.tvm_stack_make_shape({', '.join(map(str, shape))}), 0, "
            f"{len(shape)}, T.float32(0.0), 0)")

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


def entry_text(func: X.RelaxFunction, module: IRModule, packed: bool) -> list[str]:
    """The lines (at class-body indentation) of the PrimFunc ``func`` compiles to; raises
    NotAChain when it is not a static chain of ``R.call_tir``."""
    prims = {f.name: f for f in module.functions}
    taken = {p.name for p in func.params}
    result = "out" if "out" not in taken else next(f"out_{i}" for i in range(1, 10**6) if f"out_{i}" not in taken)
    taken.add(result)
    # A var's tensor: (buffer name, shape, dtype).
    tensor: dict[int, tuple[str, tuple[int, ...], str]] = {}
    sig = []
    for p in func.params:
        shape, dtype = _static(p.sinfo, f"parameter '{p.name}'")
        tensor[id(p)] = (p.name, shape, dtype)
        sig.append(f'{p.name}: T.Buffer({dims_text(shape)}, "{dtype}")')
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
    allocs: list[str] = []
    calls: list[str] = []
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
            name = result
            sig.append(f'{result}: T.Buffer({dims_text(shape)}, "{dtype}")')
        else:
            name = s.var.name
            while name in taken:
                name += "_1"
            taken.add(name)
            allocs.append(f'{name} = T.alloc_buffer({dims_text(shape)}, "{dtype}")')
        tensor[id(s.var)] = (name, shape, dtype)
        args = []
        for a in v.args[1].fields:
            if not isinstance(a, X.RVarRef) or id(a.var) not in tensor:
                raise NotAChain(f"an argument of the call bound to '{s.var.name}' is not a tensor of the chain")
            args.append(tensor[id(a.var)])
        args.append(tensor[id(s.var)])
        if len(args) != len(prim.params):
            raise NotAChain(f"the call bound to '{s.var.name}' does not fit '{prim.name}'")
        if packed:
            listed = ", ".join(stack_array(f"{n}.data", sh) for n, sh, _ in args)
            calls.append(f'if T.call_cpacked("{prim.global_symbol}", {listed}, T.reinterpret("handle", T.uint64(0))) != 0:')
        else:
            listed = ", ".join(f"{n}.data" for n, _, _ in args)
            calls.append(f'if T.call_extern("int32", "{prim.global_symbol}", {listed}) != 0:')
        calls.append("    T.ret(-1)")
    if id(returned) not in tensor or tensor[id(returned)][0] != result:
        raise NotAChain("the tensor it returns is not computed by an R.call_tir")
    ind = "    "
    body = [f"{ind * 2}{line}" for line in allocs + calls]
    return [f"{ind}@T.prim_func", f"{ind}def {func.name}({', '.join(sig)}):", *body]


def compile_entries(module: IRModule, packed: bool) -> tuple[IRModule, list[tuple[X.RelaxFunction, str]]]:
    """``module`` with a PrimFunc for each Relax function that is a static ``R.call_tir`` chain
    (and no Relax functions); the others come back with the reason they were left out."""
    left_out: list[tuple[X.RelaxFunction, str]] = []
    lines: list[str] = []
    for f in module.relax_functions:
        if f.name in {p.name for p in module.functions}:
            left_out.append((f, "a PrimFunc has its name"))
            continue
        try:
            lines += entry_text(f, module, packed)
        except NotAChain as exc:
            left_out.append((f, str(exc)))
    out = module.with_(relax_functions=(), global_infos="")
    if lines:
        text = "\n".join(["# from tvm.script import ir as I", "# from tvm.script import tirx as T", "",
                          "@I.ir_module", "class Module:", *lines]) + "\n"
        for entry in read_generated(text, "relax entry").functions:
            out = out.with_function(entry)
    return out, left_out
