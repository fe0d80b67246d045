"""The base of every IR node: immutable, identity-compared, carrying a source span."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from functools import cache
from typing import Any, TypeVar

from tir_lsp.compiler.ir.span import Span

N = TypeVar("N", bound="Node")


@dataclass(frozen=True, slots=True, eq=False)
class Node:
    """Base class of expressions, statements, buffers and functions.

    Nodes compare by identity (a Var is its own definition, as in TVM); use
    ``tir_lsp.compiler.ir.structural.structural_equal`` to compare trees.
    """

    span: Span | None = field(default=None, kw_only=True, repr=False)

    def with_(self: N, **changes: Any) -> N:  # noqa: PYI019 - typing.Self needs Python 3.11
        """A copy with some fields replaced (the span is kept unless given)."""
        return replace(self, **changes)


@cache
def node_fields(cls: type) -> tuple[str, ...]:
    """Names of a node class's fields, minus the span: what visitors and comparisons walk."""
    return tuple(f.name for f in fields(cls) if f.name != "span")
