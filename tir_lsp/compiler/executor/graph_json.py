"""The graph executor: packed operators plus ``graph.json``, the operator graph a runtime
walks (TVM's graph executor format), and the weights as parameters.

``graph.json`` holds one node per tensor producer: ``"op": "null"`` nodes for the inputs
(named as in the model) and the weights (named ``p_<tensor>``, the keys of the params file),
then one ``"op": "tvm_op"`` node per fused operator in execution order, its ``attrs`` naming
the packed function (``func_name``) and its ``num_inputs`` / ``num_outputs``; ``inputs`` are
``[node, output index, version]`` triples. ``arg_nodes`` are the null nodes, ``heads`` the
model outputs, ``node_row_ptr`` the first entry of each node. Per entry, ``attrs`` gives
``shape`` (``list_shape``), ``dltype`` (``list_str``) and ``storage_id`` (``list_int``): a
runtime allocates one buffer per storage id, as large as the largest entry using it, once.
Inputs, weights and outputs have their own storage; intermediates share storage when their
lifetimes do not overlap.

No operator allocates (no heap while the model runs): an operator that needs intermediate
buffers (a convolution's padded input, a softmax's sums) takes them as outputs listed before
its result, so ``num_outputs`` is 1 + their number and its result is its last output. They
are planned like every other entry (live during their operator's step only), so the storage
ids are the whole memory of a run.

The runtime calls each ``tvm_op`` through the C-runtime packed ABI with the DLTensors of its
inputs, then its outputs. ``<model>_lib0.c`` has ``tvmgen_<model>_get_function(name)`` (the
operator of a ``func_name``) and, with ``link-params``, ``tvmgen_<model>_get_linked_param(name)``
(the weights compiled in, so a runtime needs no params file).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tir_lsp.compiler.backend.runtime_header import HEADER_NAME
from tir_lsp.compiler.executor.aot import (
    liveness,
    module_dump,
    operators_module,
    scratch_name,
    unique_names,
    used_params,
)
from tir_lsp.compiler.executor.c_interface import PACKED_PARAMS, linked_param_pointers
from tir_lsp.compiler.executor.memory_planner import BufferLife, MemoryPlan, plan_memory
from tir_lsp.compiler.executor.options import ExecutorOptions
from tir_lsp.compiler.frontend.fuse import FusedOp, fuse
from tir_lsp.compiler.frontend.graph import Graph
from tir_lsp.compiler.ir.buffer import DEFAULT_DATA_ALIGNMENT
from tir_lsp.compiler.ir.function import IRModule

_ALIGN = DEFAULT_DATA_ALIGNMENT  # what the operators' buffer parameters promise


@dataclass
class GraphProgram:
    """Everything the back end and the archive need about a model for the graph executor.

    ``plan`` places each storage id's buffer one after the other in one pool (offsets of the
    intermediates), so its numbers compare with the AOT executor's."""

    graph: Graph
    options: ExecutorOptions
    fused: list[FusedOp]
    plan: MemoryPlan
    lives: list[BufferLife]
    module: IRModule
    input_names: dict[str, str]
    output_names: dict[str, str]
    param_names: dict[str, str]
    storage: dict[str, int]  # tensor -> storage id
    storage_sizes: list[int]  # bytes per storage id
    json: dict[str, Any]

    @property
    def text(self) -> str:
        """The operators' module as TIR text (unlowered): for dumps and tests."""
        text: str = module_dump(self.module)
        return text

    @property
    def main_symbol(self) -> str | None:
        return None


def _align(n: int) -> int:
    return (n + _ALIGN - 1) // _ALIGN * _ALIGN


def _outputs(g: FusedOp) -> list[tuple[str, tuple[int, ...] | None]]:
    """The outputs of ``g``'s node: its intermediate buffers (name in the memory plan, shape),
    then its result (shape None: the graph's tensor)."""
    return [*((scratch_name(g, name), shape) for name, shape in g.scratch), (g.output, None)]


def assign_storage(graph: Graph, fused: list[FusedOp], params: list[str]) -> tuple[dict[str, int], list[int]]:
    """A storage id per tensor (and per intermediate buffer of an operator): inputs, weights
    and outputs each their own; an intermediate takes a freed storage (the smallest large
    enough, else the largest, which grows) or a new one. A step's inputs are freed after its
    outputs are placed: they are live together."""
    sizes: list[int] = []
    storage: dict[str, int] = {}

    def new(t: str, need: int) -> None:
        storage[t] = len(sizes)
        sizes.append(need)

    for t in [*graph.inputs, *params]:
        new(t, graph.tensors[t].nbytes)
    last = {b.name: b.last for b in liveness(graph, fused)}
    free: list[int] = []
    for step, g in enumerate(fused):
        outs = _outputs(g)
        for t, shape in outs:
            need = graph.tensors[t].nbytes if shape is None else 4 * _count(shape)
            if t in graph.outputs or not free:
                new(t, need)
            else:
                fits = [s for s in free if sizes[s] >= need]
                sid = min(fits, key=lambda s: (sizes[s], s)) if fits else max(free, key=lambda s: (sizes[s], -s))
                free.remove(sid)
                sizes[sid] = max(sizes[sid], need)
                storage[t] = sid
        for x in dict.fromkeys([*g.inputs, *(t for t, _ in outs)]):
            if x in last and last[x] == step:
                free.append(storage[x])
    return storage, sizes


def _count(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _pool_plan(graph: Graph, lives: list[BufferLife], storage: dict[str, int], sizes: list[int]) -> MemoryPlan:
    used = sorted({storage[b.name] for b in lives})
    base: dict[int, int] = {}
    offset = 0
    for sid in used:
        base[sid] = offset
        offset += _align(sizes[sid])
    liveness_plan = plan_memory(lives, _ALIGN)
    return MemoryPlan({b.name: base[storage[b.name]] for b in lives}, offset, liveness_plan.peak_live,
                      liveness_plan.naive_size)


def graph_dict(graph: Graph, fused: list[FusedOp], inputs: dict[str, str], params: dict[str, str],
               storage: dict[str, int]) -> dict[str, Any]:
    """The ``graph.json`` object (see the module docstring)."""
    nodes: list[dict[str, Any]] = []
    row_ptr = [0]
    entries: list[tuple[str, str, list[int]]] = []  # (storage key, dtype, shape) per entry
    entry_of: dict[str, list[int]] = {}  # tensor -> [node, output index, 0]
    scratch_dtypes = {scratch_name(g, n): g.scratch_dtype(n) for g in fused for n, _ in g.scratch}

    def add(node: dict[str, Any], outs: list[tuple[str, tuple[int, ...] | None]]) -> None:
        for k, (t, shape) in enumerate(outs):
            entry_of[t] = [len(nodes), k, 0]
            info = graph.tensors[t] if shape is None else None
            dtype = info.dtype if info else scratch_dtypes[t]
            entries.append((t, dtype, list(info.shape if info else shape or ())))
        nodes.append(node)
        row_ptr.append(len(entries))

    for t in graph.inputs:
        add({"op": "null", "name": t, "inputs": []}, [(t, None)])
    for t, name in params.items():
        add({"op": "null", "name": name, "inputs": []}, [(t, None)])
    arg_nodes = list(range(len(nodes)))
    for g in fused:
        outs = _outputs(g)
        add({"op": "tvm_op", "name": g.name, "inputs": [entry_of[t] for t in g.inputs],
             "attrs": {"func_name": g.name, "num_inputs": str(len(g.inputs)), "num_outputs": str(len(outs)),
                       "flatten_data": "0"}}, outs)
    return {
        "nodes": nodes,
        "arg_nodes": arg_nodes,
        "heads": [entry_of[t] for t in graph.outputs],
        "attrs": {
            "dltype": ["list_str", [dtype for _, dtype, _ in entries]],
            "shape": ["list_shape", [shape for _, _, shape in entries]],
            "storage_id": ["list_int", [storage[t] for t, _, _ in entries]],
        },
        "node_row_ptr": row_ptr,
    }


def build_graph(graph: Graph, options: ExecutorOptions) -> GraphProgram:
    """The graph-executor program of ``graph``: fused operators (lowered packed by the
    pipeline), storage ids and ``graph.json``."""
    model = options.model_name
    fused = fuse(graph, model, scratch_params=True)
    taken: set[str] = set()
    inputs = unique_names(graph.inputs, taken)
    outputs = unique_names(graph.outputs, taken)
    params = used_params(graph, fused, taken)
    storage, sizes = assign_storage(graph, fused, list(params))
    lives = liveness(graph, fused)
    module = operators_module(options, fused)
    return GraphProgram(graph, options, fused, _pool_plan(graph, lives, storage, sizes), lives, module, inputs,
                        outputs, params, storage, sizes, graph_dict(graph, fused, inputs, params, storage))


def graph_json_text(p: GraphProgram) -> str:
    """``graph.json`` as written to the archive: one node per line, so diffs stay small."""
    d = p.json
    parts = [json.dumps(n, separators=(", ", ": ")) for n in d["nodes"]]
    out = ['{', '  "nodes": [', ",\n".join(f"    {x}" for x in parts), "  ],"]
    for key in ("arg_nodes", "heads"):
        out.append(f'  "{key}": {json.dumps(d[key])},')
    out.append('  "attrs": {')
    attrs = [f'    "{k}": {json.dumps(v)}' for k, v in d["attrs"].items()]
    out.append(",\n".join(attrs))
    out.append("  },")
    out.append(f'  "node_row_ptr": {json.dumps(d["node_row_ptr"])}')
    out.append("}")
    return "\n".join(out) + "\n"


def header_text(p: GraphProgram) -> str:
    """``tvmgen_<model>.h``: the lookups a C runtime uses to run ``graph.json``."""
    m = p.options.model_name
    guard = f"TVMGEN_{m.upper()}_H_"
    lines = [f"/* Generated by tir-lsp's compiler: operators of model \"{m}\" for a graph executor. */",
             f"#ifndef {guard}", f"#define {guard}", "", f'#include "{HEADER_NAME}"', "", "#ifdef __cplusplus",
             "extern \"C\" {", "#endif", "",
             "/* The packed operator a graph.json node names in its func_name, or NULL. */",
             f"TVMBackendPackedCFunc tvmgen_{m}_get_function(const char* name);"]
    if p.options.link_params:
        lines += ["/* The data of weight `name` (a graph.json arg node) compiled into the library, or NULL. */",
                  f"const void* tvmgen_{m}_get_linked_param(const char* name);"]
    lines += ["", "#ifdef __cplusplus", "}", "#endif", "", f"#endif  /* {guard} */", ""]
    return "\n".join(lines)


def registry_source(p: GraphProgram) -> str:
    """``<model>_lib0.c``: the operator table (and the linked weights)."""
    m = p.options.model_name
    lines = [f"/* Generated by tir-lsp's compiler: operator table of model \"{m}\" for a graph executor. */",
             "#include <string.h>", f'#include "tvmgen_{m}.h"', ""]
    lines += [f"int32_t {g.name}({PACKED_PARAMS});" for g in p.fused]
    lines += ["", f"TVMBackendPackedCFunc tvmgen_{m}_get_function(const char* name) {{"]
    lines += [f"  if (strcmp(name, \"{g.name}\") == 0) return {g.name};" for g in p.fused]
    lines += ["  return NULL;", "}", ""]
    if p.options.link_params:
        # The weights are in <model>_params<k>.c (c_interface.linked_params_sources), as bytes.
        pointers = linked_param_pointers(p, lines)
        lines += ["", f"const void* tvmgen_{m}_get_linked_param(const char* name) {{"]
        if not p.param_names:
            lines.append("  (void)name;")
        lines += [f"  if (strcmp(name, \"{c}\") == 0) return {pointers[c]};" for c in p.param_names.values()]
        lines += ["  return NULL;", "}", ""]
    return "\n".join(lines)
