"""Every stage of one pipeline run as text: what ``tirc lower --print-after all`` prints, as data.

The pipeline runs once; its ``on_stage`` hook prints the module after each pass. A pass that
returns the very module it was given is unchanged without printing it again, and a function a
pass left alone (the same object) is not printed again either: passes touch few functions of
a large module, and printing is most of the cost. Each stage's text carries where its
functions are (known while printing it), so a viewer can go from a line of a stage to the
function it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from tir_lsp.compiler.ir.function import IRModule, PrimFunc
from tir_lsp.compiler.text.printer import HEADER, print_function, print_module
from tir_lsp.compiler.transform.pass_api import PipelineOptions
from tir_lsp.compiler.transform.pipeline import run_pipeline


@dataclass(frozen=True, slots=True)
class StageFunction:
    """A function of a stage's text: lines ``start`` (its first decorator) to ``end``
    (exclusive), 0-based."""

    name: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Stage:
    """The module after pass ``pass_name`` (None: the pipeline's input), printed without a
    header; ``changed`` says whether the text differs from the stage before."""

    pass_name: str | None
    text: str
    changed: bool
    functions: tuple[StageFunction, ...]


class _StagePrinter:
    """``print_module``'s text, each function object printed once.

    A function's lines do not depend on the other functions (the printer scopes names per
    function), so the module's text is its frame around the functions' texts, laid out as
    ``print_module`` lays them out. tests/test_pipeline_trace.py holds the two equal.
    """

    def __init__(self) -> None:
        self._functions: dict[int, tuple[PrimFunc, list[str]]] = {}

    def _lines(self, f: PrimFunc, indent: str, kept: dict[int, tuple[PrimFunc, list[str]]]) -> list[str]:
        hit = self._functions.get(id(f))
        if hit is None or hit[0] is not f:
            # print_function: HEADER[1:], an empty line, the function at level 0, a final line end.
            hit = (f, print_function(f).split("\n")[len(HEADER):-1])
        kept[id(f)] = hit
        return [indent + ln for ln in hit[1]] if indent else hit[1]

    def print(self, mod: IRModule) -> tuple[str, tuple[StageFunction, ...]]:
        """The module's text and where each of its functions is in it."""
        if not mod.functions:
            return print_module(mod), ()
        spans: list[StageFunction] = []
        # Only this stage's functions are kept: a pass reuses functions of the stage before it.
        kept: dict[int, tuple[PrimFunc, list[str]]] = {}
        if mod.standalone:
            out, indent, gap = list(HEADER[1:]), "", True
        else:
            out = print_module(mod.with_(functions=())).split("\n")[:-1]
            if not mod.attrs:
                out.pop()  # the `pass` of an empty class
            indent, gap = "    ", False
        for i, f in enumerate(mod.functions):
            if i or gap:
                out.append("")
            lines = self._lines(f, indent, kept)
            spans.append(StageFunction(f.name, len(out), len(out) + len(lines)))
            out.extend(lines)
        self._functions = kept
        return "\n".join(out) + "\n", tuple(spans)


def trace_pipeline(mod: IRModule, options: PipelineOptions | None = None) -> list[Stage]:
    """The input stage, then one stage per pass that ran, in pipeline order.

    ``options`` are used as given except for the print selections and the hook, which this
    function owns. Raises what ``run_pipeline`` raises (CompilerError for IR a pass cannot
    handle).
    """
    printer = _StagePrinter()
    first_text, first_functions = printer.print(mod)
    stages = [Stage(None, first_text, True, first_functions)]
    last = {"mod": mod}

    def on_stage(pass_name: str, after: IRModule, when: str) -> None:
        prev = stages[-1]
        if after is last["mod"]:
            stages.append(Stage(pass_name, prev.text, False, prev.functions))
            return
        last["mod"] = after
        text, functions = printer.print(after)
        if text == prev.text:
            stages.append(Stage(pass_name, prev.text, False, prev.functions))
        else:
            stages.append(Stage(pass_name, text, True, functions))

    run_pipeline(mod, replace(options or PipelineOptions(), print_after="all", print_before=set(),
                              on_stage=on_stage))
    return stages
