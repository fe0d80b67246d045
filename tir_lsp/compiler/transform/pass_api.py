"""What a pass is: the ``Pass`` protocol, the options every pass receives, and its error."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from tir_lsp.compiler.diagnostics import CompilerError, Diagnostic
from tir_lsp.compiler.ir.function import IRModule, PrimFunc
from tir_lsp.compiler.ir.node import Node
from tir_lsp.compiler.ir.span import Span

# Called by the pipeline around each pass: (pass name, module, "before" | "after").
StageHook = Callable[[str, IRModule, str], None]


@dataclass
class PipelineOptions:
    """How to run the pipeline.

    ``unpacked_api`` picks MakeUnpackedAPI over MakePackedAPI. ``print_before`` /
    ``print_after`` name the passes (or ``"all"``) whose input / output ``on_stage`` is called
    for; ``stop_after`` ends the pipeline after that pass; ``dump_dir`` is for the CLI, which
    writes the stages its hook receives there.
    """

    unpacked_api: bool = False
    print_after: set[str] | Literal["all"] = field(default_factory=set)
    print_before: set[str] | Literal["all"] = field(default_factory=set)
    stop_after: str | None = None
    dump_dir: Path | None = None
    on_stage: StageHook | None = None
    # Allocations of at least this many bytes go to the workspace allocator, smaller ones
    # to the stack (TVM's kMaxStackAlloca).
    stack_alloca_limit: int = 1024
    # T.unroll loops with a constant extent up to this are unrolled in the IR; longer ones
    # stay loops with an unroll hint for the C compiler.
    max_unroll_extent: int = 16


class Pass(Protocol):
    """A module-to-module transformation with a TVM-matching ``name``."""

    name: str

    def apply(self, mod: IRModule, options: PipelineOptions) -> IRModule: ...


_NO_SPAN = Span(1, 1, 1, 1)


def pass_error(pass_name: str, message: str, node: Node | None) -> CompilerError:
    """A TIR201 error for IR ``pass_name`` cannot handle, located at ``node``."""
    span = node.span if node is not None and node.span is not None else _NO_SPAN
    if isinstance(node, PrimFunc) and node.name_span is not None:
        span = node.name_span
    return CompilerError(Diagnostic("TIR201", f"{pass_name}: {message}", span))
