"""The AOT executor: the model's operators plus ``tvmgen_<model>___tvm_main__``, which calls
them in order, all in one IRModule (TIR text parsed by ``read_tir``).

``__tvm_main__`` takes the model's inputs, outputs (and, without ``link-params``, its
weights) as buffers, then the workspace pool ``global_workspace`` (uint8). Each
intermediate tensor is a pointer into the pool at the offset the memory planner chose
(``sid_N: T.handle("float32") = T.address_of(global_workspace[offset])``). Operators are
called with ``T.call_extern`` when unpacked and ``T.call_cpacked`` when packed; a non-zero
return aborts with -1. With ``link-params`` weights are ``T.allocate_const`` in main.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compiler.diagnostics import CompilerError
from compiler.executor.memory_planner import BufferLife, MemoryPlan, plan_memory
from compiler.executor.options import ExecutorOptions
from compiler.frontend.fuse import FusedOp, c_identifier, fuse
from compiler.frontend.graph import Graph
from compiler.frontend.operators.base import shape_text
from compiler.ir.function import IRModule


@dataclass
class AotProgram:
    """Everything the back end and the archive need about one compiled model."""

    graph: Graph
    options: ExecutorOptions
    fused: list[FusedOp]
    plan: MemoryPlan
    lives: list[BufferLife]
    text: str  # the whole module as TIR text (unlowered)
    module: IRModule
    input_names: dict[str, str]  # tensor -> C-safe name
    output_names: dict[str, str]
    param_names: dict[str, str]  # constant tensor -> C-safe name (the weights the operators read)

    @property
    def main_symbol(self) -> str:
        return f"tvmgen_{self.options.model_name}___tvm_main__"


def _unique_names(tensors: list[str], taken: set[str], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for t in tensors:
        base = prefix + c_identifier(t)
        name, k = base, 0
        while name in taken:
            k += 1
            name = f"{base}_{k}"
        taken.add(name)
        out[t] = name
    return out


def liveness(graph: Graph, fused: list[FusedOp]) -> list[BufferLife]:
    """The lifetime (in steps = fused operators) of each intermediate tensor."""
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for step, g in enumerate(fused):
        first[g.output] = step
        last.setdefault(g.output, step)
        for t in g.inputs:
            if t in first:
                last[t] = step
    return [BufferLife(t, graph.tensors[t].nbytes, first[t], last[t]) for t in first if t not in graph.outputs]


def _float_list(arr: np.ndarray) -> str:
    return "[" + ", ".join(repr(float(v)) for v in np.asarray(arr, dtype=np.float32).reshape(-1)) + "]"


def build_aot(graph: Graph, options: ExecutorOptions) -> AotProgram:
    """The AOT program of ``graph``: fused operators, memory plan and ``__tvm_main__``."""
    from compiler.text.reader import read_tir

    model = options.model_name
    fused = fuse(graph, model)
    lives = liveness(graph, fused)
    plan = plan_memory(lives)
    taken = {"global_workspace"}
    inputs = _unique_names(graph.inputs, taken)
    outputs = _unique_names(graph.outputs, taken)
    used_consts = [t for g in fused for t in g.inputs if t in graph.constants]
    params = _unique_names(list(dict.fromkeys(used_consts)), taken, "p_")
    ind = "    "
    sig = [f"{inputs[t]}: T.Buffer({shape_text(graph.tensors[t].shape)}, \"float32\")" for t in graph.inputs]
    sig += [f"{outputs[t]}: T.Buffer({shape_text(graph.tensors[t].shape)}, \"float32\")" for t in graph.outputs]
    if not options.link_params:
        sig += [f"{params[t]}: T.Buffer({shape_text(graph.tensors[t].shape)}, \"float32\")" for t in params]
    if plan.pool_size:
        sig.append(f"global_workspace: T.Buffer(({plan.pool_size},), \"uint8\")")
    main = options and f"tvmgen_{model}___tvm_main__"
    body = [f"T.func_attr({{\"global_symbol\": \"{main}\", \"tir.is_entry_func\": True, \"runner_function\": True}})"]
    ref: dict[str, str] = {}
    packed = not options.unpacked_api
    for t in graph.inputs:
        ref[t] = inputs[t] if packed else f"{inputs[t]}.data"
    for t in graph.outputs:
        ref[t] = outputs[t] if packed else f"{outputs[t]}.data"
    for t, name in params.items():
        if options.link_params:
            shape = graph.tensors[t].shape
            body.append(f"{name} = T.allocate_const({_float_list(graph.constants[t])}, \"float32\", [{', '.join(map(str, shape))}])")
            if packed:
                body.append(f"{name}_buf = T.decl_buffer({shape_text(shape)}, data={name})")
                ref[t] = f"{name}_buf"
            else:
                ref[t] = name
        else:
            ref[t] = name if packed else f"{name}.data"
    for k, life in enumerate(sorted(lives, key=lambda b: b.first)):
        sid = f"sid_{k + 1}"
        body.append(f"{sid}: T.handle(\"float32\") = T.address_of(global_workspace[{plan.offsets[life.name]}])")
        if packed:
            shape = graph.tensors[life.name].shape
            body.append(f"{sid}_buf = T.decl_buffer({shape_text(shape)}, data={sid})")
            ref[life.name] = f"{sid}_buf"
        else:
            ref[life.name] = sid
    for g in fused:
        args = ", ".join(ref[t] for t in [*g.inputs, g.output])
        call = (f"T.call_cpacked(\"{g.name}\", {args}, T.reinterpret(\"handle\", T.uint64(0)))" if packed
                else f"T.call_extern(\"int32\", \"{g.name}\", {args})")
        body.append(f"if {call} != 0:")
        body.append(f"{ind}T.ret(-1)")
    attrs = ", ".join(f"\"{k}\": {v!r}" if not isinstance(v, bool) else f"\"{k}\": {v}" for k, v in options.module_attrs().items())
    attrs = attrs.replace("'", "\"")
    lines = ["# from tvm.script import ir as I", "# from tvm.script import tirx as T", "", "@I.ir_module",
             "class Module:", f"{ind}I.module_attrs({{{attrs}}})"]
    for g in fused:
        lines.append(g.text)
    lines.append(f"{ind}@T.prim_func")
    lines.append(f"{ind}def {main}({', '.join(sig)}):")
    lines += [f"{ind * 2}{line}" for line in body]
    text = "\n".join(lines) + "\n"
    result = read_tir(text, f"<{model}>")
    errors = [d for d in result.diagnostics if d.severity == "error"]
    if errors:
        # Generated text that does not read back is a bug here, never the user's.
        raise CompilerError(errors)
    return AotProgram(graph, options, fused, plan, lives, text, result.module, inputs, outputs, params)
