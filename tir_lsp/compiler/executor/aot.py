"""The AOT executor: the model's operators plus ``tvmgen_<model>___tvm_main__``, which calls
them in order, all in one IRModule. The operators come from the ONNX operator library and main
is built here, all as IR (``ir.construct``).

``__tvm_main__`` takes the model's inputs, outputs and weights as buffers, then the
workspace pool ``global_workspace`` (uint8). Each
intermediate tensor is a pointer into the pool at the offset the memory planner chose
(``sid_N: T.let[T.handle("float32", "global")] = T.address_of(global_workspace[offset])``). Operators are
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

from tir_lsp.compiler.executor.memory_planner import BufferLife, MemoryPlan, plan_memory
from tir_lsp.compiler.executor.options import ExecutorOptions
from tir_lsp.compiler.frontend.fuse import FusedOp, fuse, tensor_identifier
from tir_lsp.compiler.frontend.graph import DTYPE_BYTES, Graph
from tir_lsp.compiler.ir import construct as ir
from tir_lsp.compiler.ir.expr import Expr
from tir_lsp.compiler.ir.function import IRModule, PrimFunc
from tir_lsp.compiler.ir.stmt import Stmt


@dataclass
class AotProgram:
    """Everything the back end and the archive need about one compiled model."""

    graph: Graph
    options: ExecutorOptions
    fused: list[FusedOp]
    plan: MemoryPlan
    lives: list[BufferLife]
    module: IRModule
    input_names: dict[str, str]  # tensor -> C-safe name
    output_names: dict[str, str]
    param_names: dict[str, str]  # constant tensor -> C-safe name (the weights the operators read)

    @property
    def main_symbol(self) -> str:
        return f"tvmgen_{self.options.model_name}___tvm_main__"

    @property
    def text(self) -> str:
        """The whole module as TIR text (unlowered): for dumps and tests."""
        return module_dump(self.module)


def module_dump(module: IRModule) -> str:
    from tir_lsp.compiler.text.printer import print_module

    text: str = print_module(module)
    return text


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
        lives += [BufferLife(scratch_name(g, name), DTYPE_BYTES[g.scratch_dtype(name)] * _count(shape), step,
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


def operators_module(options: ExecutorOptions, fused: list[FusedOp]) -> IRModule:
    """A module holding the functions of ``fused``, its executor options in ``I.module_attrs``."""
    return ir.ir_module([g.func for g in fused if g.func is not None], options.module_attrs())


def used_params(graph: Graph, fused: list[FusedOp], taken: set[str]) -> dict[str, str]:
    """The constants the operators read, by C-safe name (``p_<tensor>``), in order of use."""
    used = [t for g in fused for t in g.inputs if t in graph.constants]
    return unique_names(list(dict.fromkeys(used)), taken, "p_")


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
    operators = operators_module(options, fused)
    main = main_function(graph, options, fused, plan, lives, {**inputs, **outputs, **params})
    module = operators.with_(functions=(*operators.functions, main))
    return AotProgram(graph, options, fused, plan, lives, module, inputs, outputs, params)


def main_function(graph: Graph, options: ExecutorOptions, fused: list[FusedOp], plan: MemoryPlan,
                  lives: list[BufferLife], names: dict[str, str]) -> PrimFunc:
    """``tvmgen_<model>___tvm_main__`` built as IR (see the module docstring). ``names``
    gives the C name of each input, output and weight, in that order: main's parameters."""
    shapes = {t: graph.tensors[t].shape for t in graph.tensors}
    dtypes = {t: graph.tensors[t].dtype for t in graph.tensors}
    for g in fused:
        for name, shape in g.scratch:
            shapes[scratch_name(g, name)] = shape
            dtypes[scratch_name(g, name)] = g.scratch_dtype(name)
    # The weights are buffers of main in both modes: linked ones are compiled in as bytes by
    # the entry (c_interface.linked_params_sources), never as numbers in TIR.
    buffers = [ir.buffer(c, shapes[t], dtypes[t]) for t, c in names.items()]
    pool = ir.buffer("global_workspace", (plan.pool_size,), "uint8") if plan.pool_size else None
    # The data pointer of each tensor main hands to an operator.
    data: dict[str, Expr] = {t: b.data for t, b in zip(names, buffers)}
    body: list[Stmt] = []
    for k, life in enumerate(sorted(lives, key=lambda b: b.first)):
        assert pool is not None
        sid = ir.pointer_var(f"sid_{k + 1}", dtypes[life.name])
        body.append(ir.bind(sid, ir.address_of(ir.load(pool, plan.offsets[life.name]))))
        data[life.name] = sid
    packed = not options.unpacked_api
    for g in fused:
        tensors = [*g.inputs, *(scratch_name(g, name) for name, _ in g.scratch), g.output]
        if packed:
            arrays = (ir.stack_make_array(data[t], shapes[t], dtypes[t]) for t in tensors)
            call = ir.call_cpacked(g.name, *arrays, ir.null_handle())
        else:
            call = ir.call_extern("int32", g.name, *(data[t] for t in tensors))
        body.append(ir.if_then(ir.ne(call, 0), ir.ret(-1)))
    symbol = f"tvmgen_{options.model_name}___tvm_main__"
    # The entry is main itself unless a packed wrapper (in C) stands in front of an unpacked main.
    entry = {"tir.is_entry_func": True} if packed or options.interface_api == "c" else {}
    attrs: dict[str, object] = {"global_symbol": symbol, **entry, "runner_function": True}
    return ir.prim_func(symbol, [*buffers, *([pool] if pool else [])], ir.seq(*body), attrs)
