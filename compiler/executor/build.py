"""Model -> C: import, fuse, plan memory, build the executor, lower with the pass pipeline
and emit C. The one place the CLI and the tests call to compile a model."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler.diagnostics import CompilerError, Diagnostic
from compiler.executor.aot import AotProgram, build_aot
from compiler.executor.options import ExecutorOptions
from compiler.frontend.onnx_import import import_onnx
from compiler.ir.function import IRModule
from compiler.ir.span import Span


@dataclass
class CompiledModel:
    """A compiled model: its program, the TIR dumped at the chosen stages and C sources
    (file name under codegen/host/src or include -> text)."""

    program: AotProgram
    lowered: IRModule
    tir_stages: dict[str, str] = field(default_factory=dict)  # "tir-<N>.txt" -> text
    sources: dict[str, str] = field(default_factory=dict)
    includes: dict[str, str] = field(default_factory=dict)


def compile_model(model: str | Path | Any, options: ExecutorOptions, print_after: set[str] | str | None = None) -> CompiledModel:
    """Compile an ONNX model (path or ModelProto) with ``options``.

    ``print_after`` names the passes after which the whole program's TIR is kept as
    ``tir-<N>.txt`` (N = the pass's position in the pipeline, 1-based); ``tir-0.txt`` is the
    program as generated. By default only the last stage, just before codegen, is kept.
    """
    from compiler.backend.c_codegen import emit_c
    from compiler.backend.runtime_header import HEADER_NAME, runtime_header
    from compiler.text.printer import print_module
    from compiler.transform.pass_api import PipelineOptions
    from compiler.transform.pipeline import passes_for, run_pipeline

    if options.executor != "aot":
        raise CompilerError(Diagnostic("TIR107", f"executor {options.executor} is not implemented yet; use --executor aot",
                                       Span(1, 1, 1, 1)))
    if not options.unpacked_api or options.interface_api != "c":
        # Packed operators need DLTensor stacks around each call and a packed entry wrapper;
        # neither is generated yet, so say so instead of failing in the C backend.
        raise CompilerError(Diagnostic(
            "TIR107", "only --executor aot --interface-api c --unpacked-api is implemented so far; packed "
            "operators and the packed entry point are not generated yet", Span(1, 1, 1, 1)))
    graph = import_onnx(model)
    program = build_aot(graph, options)
    popts = PipelineOptions(unpacked_api=options.unpacked_api)
    order = [p.name for p in passes_for(popts)]
    wanted = print_after if print_after else {order[-1]}
    stages: dict[str, str] = {"tir-0.txt": print_module(program.module, header=["tirc: TIR as generated (before any pass)"])}

    def on_stage(name: str, mod: IRModule, when: str) -> None:
        n = order.index(name) + 1
        stages[f"tir-{n}.txt"] = print_module(mod, header=[f"tirc: TIR after pass {name} ({n}/{len(order)})"])

    popts.on_stage = on_stage
    popts.print_after = wanted if isinstance(wanted, str) else set(wanted)  # type: ignore[assignment]
    lowered = run_pipeline(program.module, popts)
    from compiler.executor.c_interface import header_name, interface_header, interface_source

    m = options.model_name
    sources = {f"{m}_lib1.c": emit_c(lowered)}
    includes = {HEADER_NAME: runtime_header()}
    if options.interface_api == "c":
        sources[f"{m}_lib0.c"] = interface_source(program)
        includes[header_name(m)] = interface_header(program)
    return CompiledModel(program, lowered, stages, dict(sorted(sources.items())), includes)
