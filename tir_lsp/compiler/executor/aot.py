"""The AOT executor: the model's operators plus ``tvmgen_<model>___tvm_main__``, which calls
them in order, all in one IRModule (TIR text parsed by ``read_tir``).

``__tvm_main__`` takes the model's inputs, outputs and weights as buffers, then the
workspace pool ``global_workspace`` (uint8). Each
intermediate tensor is a pointer into the pool at the offset the memory planner chose
(``sid_N: T.handle("float32") = T.address_of(global_workspace[offset])``). Operators are
called with ``T.call_extern`` and data pointers when unpacked, and with ``T.call_cpacked``
and DLTensors made on the stack (``T.tvm_stack_make_array``, as TVM packs a buffer) when
packed; a non-zero return aborts with -1. With ``link-params`` the entry passes weights
compiled into the C as bytes; without, weights from ``parameters/<model>.params.bin``. The pipeline lowers main with the operators' convention, so it
is packed exactly when they are; it carries ``"tir.is_entry_func"`` unless the entry is the
packed wrapper over an unpacked main (``interface-api packed`` with ``unpacked-api``), which
lives in C (``c_interface.packed_entry_source``).
"""

from __future__ import annotations

from dataclasses import dataclass

from tir_lsp.compiler.diagnostics import CompilerError
from tir_lsp.compiler.executor.memory_planner import BufferLife, MemoryPlan, plan_memory
from tir_lsp.compiler.executor.options import ExecutorOptions
from tir_lsp.compiler.frontend.fuse import FusedOp, fuse, tensor_identifier
from tir_lsp.compiler.frontend.graph import DTYPE_BYTES, Graph
from tir_lsp.compiler.frontend.operators.base import shape_text
from tir_lsp.compiler.ir.function import IRModule


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


def unique_names(tensors: list[str], taken: set[str], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for t in tensors:
        base = prefix + tensor_identifier(t)
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
    lives = [BufferLife(t, graph.tensors[t].nbytes, first[t], last[t]) for t in first if t not in graph.outputs]
    for step, g in enumerate(fused):
        # An operator's intermediate buffers live during its own step only.
        lives += [BufferLife(scratch_name(g, name), DTYPE_BYTES[g.scratch_dtypes.get(name, "float32")] * _count(shape), step,
                             step) for name, shape in g.scratch]
    return lives


def scratch_name(g: FusedOp, buffer: str) -> str:
    """The memory plan's name of intermediate buffer ``buffer`` of ``g``."""
    return f"{g.name}/{buffer}"


def _count(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def module_text(options: ExecutorOptions, fused: list[FusedOp], extra: list[str] | None = None) -> str:
    """The TIR text of a module holding ``fused`` (and ``extra`` lines, indented for the
    class body), its executor options in ``I.module_attrs``."""
    attrs = ", ".join(f"\"{k}\": {v!r}" if not isinstance(v, bool) else f"\"{k}\": {v}" for k, v in options.module_attrs().items())
    attrs = attrs.replace("'", "\"")
    lines = ["# from tvm.script import ir as I", "# from tvm.script import tirx as T", "", "@I.ir_module",
             "class Module:", f"    I.module_attrs({{{attrs}}})"]
    lines += [g.text for g in fused]
    lines += extra or []
    return "\n".join(lines) + "\n"


def read_generated(text: str, model: str) -> IRModule:
    """``text`` read back; an error is a bug of the generator, never the user's."""
    from tir_lsp.compiler.text.reader import read_tir

    result = read_tir(text, f"<{model}>")
    errors = [d for d in result.diagnostics if d.severity == "error"]
    if errors:
        raise CompilerError(errors)
    return result.module


def used_params(graph: Graph, fused: list[FusedOp], taken: set[str]) -> dict[str, str]:
    """The constants the operators read, by C-safe name (``p_<tensor>``), in order of use."""
    used = [t for g in fused for t in g.inputs if t in graph.constants]
    return unique_names(list(dict.fromkeys(used)), taken, "p_")


def stack_array(data: str, shape: tuple[int, ...], dtype: str = "float32") -> str:
    """A DLTensor over ``data`` for a packed call, spelled as TVM prints a packed buffer (a
    zero of the element dtype gives the DLTensor's dtype)."""
    zero = "T.bool(False)" if dtype == "bool" else f"T.{dtype}(0.0)" if dtype.startswith("float") else f"T.{dtype}(0)"
    return (f"T.tvm_stack_make_array({data}, T.tvm_stack_make_shape({', '.join(map(str, shape))}), 0, {len(shape)}, "
            f"{zero}, 0)")


def build_aot(graph: Graph, options: ExecutorOptions) -> AotProgram:
    """The AOT program of ``graph``: fused operators, memory plan and ``__tvm_main__``."""
    model = options.model_name
    fused = fuse(graph, model, scratch_params=True)
    lives = liveness(graph, fused)
    plan = plan_memory(lives)
    taken = {"global_workspace"}
    inputs = unique_names(graph.inputs, taken)
    outputs = unique_names(graph.outputs, taken)
    params = used_params(graph, fused, taken)
    ind = "    "
    def buf(t: str) -> str:
        return f"T.Buffer({shape_text(graph.tensors[t].shape)}, \"{graph.tensors[t].dtype}\")"

    sig = [f"{inputs[t]}: {buf(t)}" for t in graph.inputs]
    sig += [f"{outputs[t]}: {buf(t)}" for t in graph.outputs]
    # The weights are buffers of main in both modes: linked ones are compiled in as bytes by
    # the entry (c_interface.linked_params_sources), never as numbers in the TIR text.
    sig += [f"{params[t]}: {buf(t)}" for t in params]
    if plan.pool_size:
        sig.append(f"global_workspace: T.Buffer(({plan.pool_size},), \"uint8\")")
    main = f"tvmgen_{model}___tvm_main__"
    packed = not options.unpacked_api
    # The entry is main itself unless a packed wrapper (in C) stands in front of an unpacked main.
    entry = ", \"tir.is_entry_func\": True" if packed or options.interface_api == "c" else ""
    body = [f"T.func_attr({{\"global_symbol\": \"{main}\"{entry}, \"runner_function\": True}})"]
    # The data pointer of each tensor main hands to an operator.
    data: dict[str, str] = {t: f"{inputs[t]}.data" for t in graph.inputs}
    data.update({t: f"{outputs[t]}.data" for t in graph.outputs})
    for t, name in params.items():
        data[t] = f"{name}.data"
    scratch_dtypes = {scratch_name(g, name): d for g in fused for name, d in g.scratch_dtypes.items()}
    for k, life in enumerate(sorted(lives, key=lambda b: b.first)):
        sid = f"sid_{k + 1}"
        dtype = graph.tensors[life.name].dtype if life.name in graph.tensors else scratch_dtypes.get(life.name, "float32")
        body.append(f"{sid}: T.handle(\"{dtype}\") = T.address_of(global_workspace[{plan.offsets[life.name]}])")
        data[life.name] = sid
    shapes = {t: graph.tensors[t].shape for t in graph.tensors}
    dtypes = {t: graph.tensors[t].dtype for t in graph.tensors}
    for g in fused:
        for name, shape in g.scratch:
            shapes[scratch_name(g, name)] = shape
    dtypes.update(scratch_dtypes)
    for g in fused:
        tensors = [*g.inputs, *(scratch_name(g, name) for name, _ in g.scratch), g.output]
        if packed:
            args = ", ".join(stack_array(data[t], shapes[t], dtypes.get(t, "float32")) for t in tensors)
            call = f"T.call_cpacked(\"{g.name}\", {args}, T.reinterpret(\"handle\", T.uint64(0)))"
        else:
            call = f"T.call_extern(\"int32\", \"{g.name}\", {', '.join(data[t] for t in tensors)})"
        body.append(f"if {call} != 0:")
        body.append(f"{ind}T.ret(-1)")
    main_lines = [f"{ind}@T.prim_func", f"{ind}def {main}({', '.join(sig)}):"] + [f"{ind * 2}{line}" for line in body]
    text = module_text(options, fused, main_lines)
    module = read_generated(text, model)
    return AotProgram(graph, options, fused, plan, lives, text, module, inputs, outputs, params)
