"""Constants, dtypes and types as written: ``"float32"``, ``T.int32``,
``T.handle("float32", "global")``, an integer constant, a lane count, ``metadata[...][k]``.
"""

from __future__ import annotations

from tir_lsp.compiler.ir.attrs import MetadataRef
from tir_lsp.compiler.ir.builtins import lookup_builtin
from tir_lsp.compiler.ir.dtype import FLOAT32, HANDLE_T, DataType, DTypeError, PointerType, Type, parse_dtype
from tir_lsp.compiler.ir.span import Span
from tir_lsp.compiler.text import syntax as S
from tir_lsp.compiler.text.builder.core import BuilderCore
from tir_lsp.compiler.text.builder.forms import (
    argument,
    call_name,
    keyword,
    literal_value,
    scalable_lanes,
    t_name,
)


class LiteralReader(BuilderCore):
    """Reads constants, dtypes and types."""

    def type_annotation(self, ann: S.SExpr) -> Type:
        """``T.int32``, ``T.handle``, ``T.handle("float32", "global")``, ``T.int32()``."""
        name = t_name(ann) if isinstance(ann, S.Attribute) else call_name(ann)
        if name == "TensorMap":  # an opaque handle to a CUDA tensor map descriptor
            return HANDLE_T
        if name == "handle":
            if isinstance(ann, S.Call) and ann.args:
                el = self.const_str(ann.args[0], "pointer element dtype")
                scope = "global"
                sc = argument(ann, 1, "storage_scope")
                if sc is not None:
                    scope = self.const_str(sc, "storage scope")
                if el in ("void", ""):
                    return HANDLE_T
                return PointerType(self.dtype_of(el, ann.args[0].span), scope)
            return HANDLE_T
        if name is not None and lookup_builtin(name) is not None and lookup_builtin(name).kind in ("dtype", "type"):  # type: ignore[union-attr]
            return self.dtype_of(name, ann.span)
        if isinstance(ann, S.Constant) and isinstance(ann.value, str):
            return self.dtype_of(ann.value, ann.span)
        raise self.fail("TIR005", "expected a TIR type such as T.int32, T.handle or T.Buffer(...)", ann.span)

    def metadata_ref(self, e: S.SExpr) -> MetadataRef | None:
        """``metadata["ir.StringImm"][3]`` -> MetadataRef, else None."""
        if (isinstance(e, S.Subscript) and len(e.indices) == 1 and isinstance(e.value, S.Subscript)
                and isinstance(e.value.value, S.Name) and e.value.value.id == "metadata"
                and len(e.value.indices) == 1):
            k, i = e.value.indices[0], e.indices[0]
            if isinstance(k, S.Constant) and isinstance(k.value, str) and isinstance(i, S.Constant) and isinstance(i.value, int):
                return MetadataRef(k.value, i.value)
        return None

    def dtype_of(self, text: str, span: Span) -> DataType:
        try:
            return parse_dtype(text)
        except DTypeError:
            self.error("TIR015", f"unknown data type '{text}'", span)
            return FLOAT32

    def dtype_arg(self, e: S.SExpr) -> DataType:
        if isinstance(e, S.Constant) and isinstance(e.value, str):
            return self.dtype_of(e.value, e.span)
        name = t_name(e)
        if name is not None:
            return self.dtype_of(name, e.span)
        raise self.fail("TIR019", "expected a dtype string such as \"float32\"", e.span)

    def const_str(self, e: S.SExpr, what: str) -> str:
        if isinstance(e, S.Constant) and isinstance(e.value, str):
            return e.value
        raise self.fail("TIR019", f"{what} must be a string literal", e.span)

    def const_int(self, e: S.SExpr, what: str) -> int:
        v = literal_value(e)
        if isinstance(v, int):
            return v
        if isinstance(e, S.Call) and call_name(e) in ("int32", "int64") and e.args:
            v = literal_value(e.args[0])
            if isinstance(v, int):
                return v
        raise self.fail("TIR019", f"{what} must be an integer constant", e.span)

    def lanes(self, e: S.SExpr) -> int:
        """A lane count: a number, or ``T.vscale() * n`` (a scalable vector: -n, as in TVM)."""
        n = scalable_lanes(e)
        if n is not None:
            return -n
        lanes = self.const_int(e, "lanes")
        if lanes < 1:
            raise self.fail("TIR019", f"a vector has at least one lane, not {lanes}", e.span)
        return lanes

    def const_int_kw(self, call: S.Call, name: str, default: int) -> int:
        e = keyword(call, name)
        return self.const_int(e, name) if e is not None else default
