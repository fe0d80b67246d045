"""The lowering pipeline: TIR at any stage -> TIR the C backend emits, as a short list of passes."""

from __future__ import annotations

from tir_lsp.compiler.ir.function import IRModule
from tir_lsp.compiler.transform.pass_api import Pass, PipelineOptions
from tir_lsp.compiler.transform.registry import get_pass

# The declared order. The calling-convention stage holds both passes; the options pick one.
ORDER: tuple[str, ...] = (
    "LowerInitBlock",
    "LowerOpaqueBlock",
    # TVM's PlanAndUpdateBufferAllocationLocation + CompactBufferAllocation, after the blocks.
    "CompactBufferAllocation",
    "FlattenBuffer",
    "Simplify",
    # Beyond TVM: moves the init LowerInitBlock leaves in the reduction loops before them.
    "HoistReductionInit",
    "VectorizeLoop",
    "UnrollLoop",
    "StorageRewrite",
    "MakePackedAPI|MakeUnpackedAPI",
    "LowerIntrin",
)


def list_passes() -> list[str]:
    """Every pass name in pipeline order (both calling-convention passes, packed first)."""
    out: list[str] = []
    for stage in ORDER:
        out.extend(stage.split("|"))
    return out


def passes_for(options: PipelineOptions) -> list[Pass]:
    """The passes ``run_pipeline`` runs with ``options``, in order."""
    names = []
    for stage in ORDER:
        choices = stage.split("|")
        names.append(choices[1] if len(choices) > 1 and options.unpacked_api else choices[0])
    return [get_pass(n) for n in names]


def _wants(selection: set[str] | str, name: str) -> bool:
    return selection == "all" or (isinstance(selection, (set, frozenset, list, tuple)) and name in selection)


def run_pipeline(mod: IRModule, options: PipelineOptions | None = None) -> IRModule:
    """``mod`` lowered by every pass (up to ``options.stop_after``).

    Each pass skips IR already past its stage, so ``mod`` may be TIR at any stage (TVM's text
    after FlattenBuffer, or our own dump of stage k) and gives the same result as the whole
    pipeline. ``options.on_stage`` is called before / after the passes named in
    ``print_before`` / ``print_after``. Raises CompilerError (TIR201) for IR a pass cannot
    handle.
    """
    options = options or PipelineOptions()
    if options.stop_after is not None and options.stop_after not in list_passes():
        raise ValueError(f"unknown pass {options.stop_after!r} in stop_after; known passes: {', '.join(list_passes())}")
    for stage, p in zip(ORDER, passes_for(options)):
        if options.on_stage is not None and _wants(options.print_before, p.name):
            options.on_stage(p.name, mod, "before")
        mod = p.apply(mod, options)
        if options.on_stage is not None and _wants(options.print_after, p.name):
            options.on_stage(p.name, mod, "after")
        # Naming either calling-convention pass stops after that stage, whichever ran.
        if options.stop_after in stage.split("|"):
            break
    return mod
