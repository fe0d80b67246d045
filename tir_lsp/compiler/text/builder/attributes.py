"""Attribute values: ``T.func_attr``, block and loop annotations, ``T.attr``, ``T.hint``: dicts,
numbers, strings, targets, metadata references and buffers.
"""

from __future__ import annotations

import math

from tir_lsp.compiler.ir.attrs import TargetLiteral
from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.expr import StringImm
from tir_lsp.compiler.ir.span import Span
from tir_lsp.compiler.ir.stmt import AttrStmt, HintStmt, Stmt
from tir_lsp.compiler.text import syntax as S
from tir_lsp.compiler.text.builder.calls import CallBuilder
from tir_lsp.compiler.text.builder.forms import argument, call_name, literal_value


class AttrBuilder(CallBuilder):
    """Builds attribute values and the statements holding them."""

    def hint_stmt(self, call: S.Call, body: Stmt | None, span: Span) -> HintStmt:
        """``T.hint("message", key=value)``; a value may be a buffer region (``access=A[0:64]``)."""
        msg_e = argument(call, 0, "message")
        message = self.const_str(msg_e, "hint message") if msg_e is not None else ""
        attrs = tuple((k.name, self.tile_arg(k.value)) for k in call.keywords if k.name != "message")
        return HintStmt(message, attrs, body, span=span)

    def attr_stmt(self, call: S.Call, body: Stmt | None, span: Span) -> AttrStmt:
        """``T.attr(node, key, value)`` or ``T.attr({...})``, with where its parts are written."""
        node, key, value = self.attr_args(call)
        if node is None and key == "":
            spans = value_spans(call.args[0])
        else:
            parts = (("node", 0), ("attr_key", 1), ("value", 2))
            spans = {name: e.span for name, i in parts if (e := argument(call, i, name)) is not None}
        return AttrStmt(node, key, value, body, span=span, attr_spans=spans)

    def attr_args(self, call: S.Call) -> tuple[object, str, object]:
        if len(call.args) == 1 and isinstance(call.args[0], S.DictExpr):
            return None, "", self.attr_dict(call.args[0])
        node_e = argument(call, 0, "node")
        key_e = argument(call, 1, "attr_key")
        val_e = argument(call, 2, "value")
        if node_e is None or key_e is None or val_e is None:
            raise self.fail("TIR012", "T.attr takes (node, attr_key, value) or one dict", call.span)
        node = self._attr_value(node_e) if call_name(node_e) == "target" else self._value_or_buffer(node_e)
        key = self.const_str(key_e, "attribute key")
        value: object
        if isinstance(val_e, S.Constant) and isinstance(val_e.value, str):
            value = StringImm(val_e.value, span=val_e.span)
        else:
            value = self._value_or_buffer(val_e)
        return node, key, value

    def _value_or_buffer(self, e: S.SExpr) -> object:
        """An expression, or a Buffer when ``e`` names one (``T.attr(A, "storage_alignment", 64)``)."""
        if isinstance(e, S.Name):
            b = self.lookup(e.id)
            if b is not None and isinstance(b.obj, Buffer) and not b.mutable:
                self.refer(e.span, b.obj)
                return b.obj
        return self.expr(e)

    def attr_dict(self, e: S.SExpr) -> dict[str, object]:
        if not isinstance(e, S.DictExpr):
            raise self.fail("TIR019", "expected a dict literal", e.span)
        out: dict[str, object] = {}
        for k, v in e.items:
            if isinstance(k, S.Constant) and isinstance(k.value, str):
                out[k.value] = self._attr_value(v)
            else:
                self.error("TIR019", "attribute keys must be string literals", k.span)
        return out

    def _attr_value(self, e: S.SExpr) -> object:
        lv = e.value if isinstance(e, S.Constant) else literal_value(e)
        if isinstance(lv, float) and not math.isfinite(lv):  # no literal prints back as inf
            raise self.fail("TIR019", f"an attribute value must be a finite number, not {lv}", e.span)
        if isinstance(e, S.Constant):
            return e.value
        if lv is not None:
            return lv
        if isinstance(e, (S.ListExpr, S.TupleExpr)):
            return [self._attr_value(x) for x in e.elts]
        if isinstance(e, S.DictExpr):
            d: dict[object, object] = {}
            for k, v in e.items:
                d[self._attr_value(k) if isinstance(k, S.Constant) else self._value_or_buffer(k)] = self._attr_value(v)
            return d
        if call_name(e) == "target" and isinstance(e, S.Call):
            cfg = self._attr_value(e.args[0]) if e.args else None
            if len(e.args) > 1 and isinstance(cfg, dict):
                cfg = dict(cfg)
                cfg["host"] = self._attr_value(e.args[1])
            if not _json_like(cfg):  # a target is plain data: JSON writes it and reads it back
                raise self.fail("TIR019", "a T.target config holds only strings, numbers, lists and "
                                          "dicts with string keys", e.args[0].span if e.args else e.span)
            return TargetLiteral(cfg)
        mref = self.metadata_ref(e)
        if mref is not None:
            return mref
        return self._value_or_buffer(e)


def value_spans(e: S.SExpr) -> dict[str, Span]:
    """Where each value of an attribute dict literal is written, by its key."""
    if not isinstance(e, S.DictExpr):
        return {}
    return {k.value: v.span for k, v in e.items if isinstance(k, S.Constant) and isinstance(k.value, str)}


def _json_like(value: object) -> bool:
    """Strings, numbers, bools and None in lists and in dicts with string keys (and targets)."""
    if isinstance(value, TargetLiteral):
        return _json_like(value.config)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_like(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_json_like(v) for v in value)
    return value is None or isinstance(value, (str, int, float))
