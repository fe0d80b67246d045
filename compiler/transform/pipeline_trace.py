"""Every stage of one pipeline run as text: what ``tirc lower --print-after all`` prints, as data.

The pipeline runs once; its ``on_stage`` hook prints the module after each pass. A pass that
returns the very module it was given is unchanged without printing it again. Each stage's
text carries where its functions are (``split_chunks`` on the printed lines), so a viewer can
go from a line of a stage to the function it belongs to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from compiler.ir.function import IRModule
from compiler.text.parser import split_chunks
from compiler.text.printer import print_module
from compiler.transform.pass_api import PipelineOptions
from compiler.transform.pipeline import run_pipeline

_DEF_NAME = re.compile(r"[ \t]*def[ \t]+([A-Za-z_][A-Za-z_0-9]*)")


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


def stage_functions(text: str) -> tuple[StageFunction, ...]:
    """The functions of a printed module, by the name on their ``def`` line."""
    lines = text.split("\n")
    out: list[StageFunction] = []
    for chunk in split_chunks(lines):
        name = next((m.group(1) for ln in lines[chunk.start:chunk.end] if (m := _DEF_NAME.match(ln))), None)
        if name is not None:
            out.append(StageFunction(name, chunk.start, chunk.end))
    return tuple(out)


def trace_pipeline(mod: IRModule, options: PipelineOptions | None = None) -> list[Stage]:
    """The input stage, then one stage per pass that ran, in pipeline order.

    ``options`` are used as given except for the print selections and the hook, which this
    function owns. Raises what ``run_pipeline`` raises (CompilerError for IR a pass cannot
    handle).
    """
    first_text = print_module(mod)
    stages = [Stage(None, first_text, True, stage_functions(first_text))]
    last = {"mod": mod}

    def on_stage(pass_name: str, after: IRModule, when: str) -> None:
        prev = stages[-1]
        if after is last["mod"]:
            stages.append(Stage(pass_name, prev.text, False, prev.functions))
            return
        last["mod"] = after
        text = print_module(after)
        if text == prev.text:
            stages.append(Stage(pass_name, prev.text, False, prev.functions))
        else:
            stages.append(Stage(pass_name, text, True, stage_functions(text)))

    run_pipeline(mod, replace(options or PipelineOptions(), print_after="all", print_before=set(),
                              on_stage=on_stage))
    return stages
