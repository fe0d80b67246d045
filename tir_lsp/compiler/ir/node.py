"""The base of every IR node: immutable, identity-compared, carrying a source span."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import Field, dataclass, field, fields, replace
from functools import cache
from types import MappingProxyType
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


# The metadata of a field holding the spans of parts of a node as written (attribute values,
# call arguments), so that analysis points at them without searching the text. Like ``span``,
# such a field is not part of the node: visitors, structural equality and the JSON format skip
# it, and a node made by a pass may leave it empty. Declare it as
# ``field(default_factory=..., compare=False, repr=False, kw_only=True, metadata=SOURCE_SPANS)``.
SOURCE_SPANS: Mapping[str, object] = MappingProxyType({"source_spans": True})


def is_source_spans(f: Field[Any]) -> bool:
    """Whether dataclass field ``f`` holds source spans (``SOURCE_SPANS``)."""
    return bool(f.metadata.get("source_spans"))


def _node_fields(cls: type) -> tuple[str, ...]:
    """Names of a node class's fields, minus the span and source spans: what visitors and
    comparisons walk."""
    return tuple(f.name for f in fields(cls) if f.name != "span" and not is_source_spans(f))


# Cached per class. Typed as a plain callable: mypy 2.4 does not accept ``type(node)`` as the
# Hashable argument of a ``@cache`` function (it checks the class's unbound ``__hash__``).
node_fields: Callable[[type], tuple[str, ...]] = cache(_node_fields)
