"""Values that appear in attribute dicts (``T.func_attr``, annotations, ``I.module_attrs``).

An attribute value is a str, int, float, bool, None, a list or dict of values, an Expr,
or one of the literal wrappers below.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TargetLiteral:
    """``T.target({...})`` or ``T.target("c")``: a compilation target, kept as its config."""

    config: object


@dataclass(frozen=True, slots=True)
class MetadataRef:
    """``metadata["ir.StringImm"][0]``: a reference to metadata TVM omitted from the text."""

    kind: str
    index: int
