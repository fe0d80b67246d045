"""Model -> C: import, fuse, plan memory, build the executor, lower with the pass pipeline
and emit C. The one place the CLI and the tests call to compile a model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tir_lsp.compiler.executor.aot import AotProgram, build_aot
from tir_lsp.compiler.executor.c_interface import (
    header_name,
    interface_header,
    interface_source,
    linked_params_sources,
    packed_entry_source,
)
from tir_lsp.compiler.executor.graph_json import (
    GraphProgram,
    build_graph,
    graph_json_text,
    header_text,
    registry_source,
)
from tir_lsp.compiler.executor.options import ExecutorOptions, validate
from tir_lsp.compiler.executor.streamed import StreamedFile
from tir_lsp.compiler.frontend.onnx_import import import_onnx
from tir_lsp.compiler.ir.function import IRModule, PrimFunc

# Told when a step starts: (phase, steps of the phase done, steps in the phase, what). Phases
# in order: "import" (the model file), "generate" (fusion, memory plan, executor TIR),
# "lower" (one step per function, named), "emit" (C). The CLI draws it; nothing prints here.
ProgressHook = Callable[[str, int, int, str], None]


@dataclass
class CompiledModel:
    """A compiled model: its program, the TIR dumped at the chosen stages, C sources
    (file name under codegen/host/src or include -> text) and, for the graph executor,
    ``graph.json``. A source is ``bytes`` when it holds raw bytes (the linked weights,
    ``<model>_params<k>.c``): write it as it is, never re-encoded; a ``StreamedFile`` when
    it was asked to be made only as it is written (``stream_weights``). ``data_files`` ship
    next to the sources but are not C: the weights ``link-params-format incbin`` includes."""

    program: AotProgram | GraphProgram
    lowered: IRModule
    tir_stages: dict[str, str] = field(default_factory=dict)  # "tir-<N>.txt" -> text
    sources: dict[str, str | bytes | StreamedFile] = field(default_factory=dict)
    includes: dict[str, str] = field(default_factory=dict)
    graph_json: str | None = None
    data_files: dict[str, bytes | StreamedFile] = field(default_factory=dict)


def _no_progress(phase: str, done: int, total: int, what: str) -> None:
    pass


def compile_model(model: str | Path | Any, options: ExecutorOptions, print_after: set[str] | str | None = None,
                  progress: ProgressHook | None = None, stream_weights: bool = False) -> CompiledModel:
    """Compile an ONNX model (path or ModelProto) with ``options``.

    ``print_after`` names the passes after which the whole program's TIR is kept as
    ``tir-<N>.txt`` (N = the pass's position in the pipeline, 1-based); ``tir-0.txt`` is the
    program as generated. By default only the last stage, just before codegen, is kept.
    ``progress`` is told as each step starts (see ``ProgressHook``). With ``stream_weights``
    the files of linked weights are ``StreamedFile``s, made as the archive is written
    (``mlf.write_archive``), so that the build holds the weights once; without, ``bytes``.
    """
    from tir_lsp.compiler.backend.c_codegen import emit_c
    from tir_lsp.compiler.backend.runtime_header import HEADER_NAME, runtime_header
    from tir_lsp.compiler.text.printer import print_module
    from tir_lsp.compiler.transform.pass_api import PipelineOptions
    from tir_lsp.compiler.transform.pipeline import passes_for, run_pipeline

    # Options built by hand (not through ``resolve``) are checked too.
    validate(options)
    tell = progress or _no_progress
    tell("import", 0, 1, str(model) if isinstance(model, (str, Path)) else "model")
    graph = import_onnx(model)
    tell("generate", 0, 1, "")
    program: AotProgram | GraphProgram = build_graph(graph, options) if options.executor == "graph" else build_aot(graph, options)
    popts = PipelineOptions(unpacked_api=options.unpacked_api)
    order = [p.name for p in passes_for(popts)]
    wanted = print_after if print_after else {order[-1]}
    stages: dict[str, str] = {"tir-0.txt": print_module(program.module, header=["tirc: TIR as generated (before any pass)"])}

    # Every pass works on one function at a time, so the functions are lowered one by one
    # (progress per function); the kept stages are put back together in module order.
    after: dict[str, list[Any]] = {}

    def on_stage(name: str, mod: IRModule, when: str) -> None:
        after.setdefault(name, []).extend(mod.functions)

    popts.on_stage = on_stage
    popts.print_after = wanted if isinstance(wanted, str) else set(wanted)  # type: ignore[assignment]
    funcs = program.module.functions
    lowered_funcs: list[PrimFunc] = []
    for k, f in enumerate(funcs):
        tell("lower", k, len(funcs), f.name)
        lowered_funcs += run_pipeline(program.module.with_(functions=(f,)), popts).functions
    lowered = program.module.with_(functions=tuple(lowered_funcs))
    for name, done in after.items():
        n = order.index(name) + 1
        stages[f"tir-{n}.txt"] = print_module(program.module.with_(functions=tuple(done)),
                                              header=[f"tirc: TIR after pass {name} ({n}/{len(order)})"])

    tell("emit", 0, 1, "")
    m = options.model_name
    sources: dict[str, str | bytes | StreamedFile] = {f"{m}_lib1.c": emit_c(lowered, sse_vectors=True)}
    data_files: dict[str, bytes | StreamedFile] = {}
    includes = {HEADER_NAME: runtime_header()}
    if options.link_params and program.param_names:
        weights = sum(program.graph.tensors[t].nbytes for t in program.param_names)
        tell("emit", 0, 1, f"weights ({weights} bytes)")
        linked, data_files = linked_params_sources(program, stream=stream_weights)
        sources.update(linked)
    if isinstance(program, GraphProgram):
        sources[f"{m}_lib0.c"] = registry_source(program)
        includes[header_name(m)] = header_text(program)
        return CompiledModel(program, lowered, stages, dict(sorted(sources.items())), includes, graph_json_text(program),
                             data_files)
    sources[f"{m}_lib0.c"] = interface_source(program) if options.interface_api == "c" else packed_entry_source(program)
    includes[header_name(m)] = interface_header(program)
    return CompiledModel(program, lowered, stages, dict(sorted(sources.items())), includes, data_files=data_files)
