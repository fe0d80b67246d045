"""TIR as JSON: a versioned, lossless encoding of an IRModule (documented in docs/json-schema.md).

The document is ``{"format": "tir-lsp.ir", "version": 1, "vars": {...}, "buffers": {...},
"module": {...}}``. Vars and Buffers are shared objects in the IR (a definition and its uses
are one object, and two distinct vars may share a name), so each is defined once in a table
under an id (``v0``, ``b0``, numbered in first-use order) and referred to as ``{"$var": "v0"}``
or ``{"$buffer": "b0"}`` everywhere else; loading rebuilds one object per id.

Every other node is an object tagged with ``"$kind"`` (its class name) whose keys are the
dataclass fields in declaration order, then ``"span"`` as ``[line, col, end_line, end_col]``
when the node has one. One encoder and one decoder walk the fields of any registered class,
driven by its type hints; only dtypes, spans, floats and constant data get their own codecs.
Decoding instantiates nothing but the classes in ``_REGISTRY``.
"""

from __future__ import annotations

import json
import math
import types
import typing
from collections.abc import Callable
from dataclasses import MISSING, dataclass, fields
from typing import Any, Union

from tir_lsp.compiler import ir
from tir_lsp.compiler.diagnostics import CompilerError, Diagnostic
from tir_lsp.compiler.ir import (
    Buffer,
    DataType,
    IRModule,
    MetadataRef,
    Node,
    PointerType,
    Span,
    TargetLiteral,
    Var,
)
from tir_lsp.compiler.ir.dtype import DTypeError, parse_dtype
from tir_lsp.compiler.ir.node import is_source_spans

FORMAT = "tir-lsp.ir"
VERSION = 1

# Non-finite floats have no JSON number; these strings stand for them where a float is expected.
_NON_FINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}

# The classes a document may name in "$kind": every concrete node the IR package exports (Var
# and Buffer live in the tables instead) plus the value wrappers. Built from the package's
# explicit export list, never from arbitrary names in the input.
_ABSTRACT = (Node, ir.Expr, ir.Stmt, Var, Buffer)
_REGISTRY: dict[str, type] = {
    name: cls
    for name in ir.__all__
    if isinstance(cls := getattr(ir, name), type) and issubclass(cls, Node) and cls not in _ABSTRACT
}
_REGISTRY.update({c.__name__: c for c in (PointerType, TargetLiteral, MetadataRef)})
_ABSENT = object()
# Tags of generic values that are not classes (lower case, so they never clash with one).
_VALUE_TAGS = ("dict", "tuple", "list", "float", "DataType")


# ---------------------------------------------------------------------------------------------
# Field specs: how each field of a class is written, derived once from its type hints.


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    hint: Any
    codec: str  # "dtype", "span", "float", "numbers", "attrs" or "value"
    required: bool
    check: Callable[[object], bool]
    generic: bool  # codec == "value", the common case, tested without a string compare


def _fields_of(cls: type) -> tuple[_Field, ...]:
    """The fields of ``cls`` except ``span`` (written separately, and only when set)."""
    specs = _FIELDS.get(cls)
    if specs is None:
        specs = _FIELDS[cls] = _make_fields(cls)
    return specs


_FIELDS: dict[type, tuple[_Field, ...]] = {}


# Fields the format leaves out: it carries TIR; a module's Relax functions are not compiled
# (``tirc lower`` drops them with a TIR204 note) and have no JSON form.
_NOT_ENCODED = {"IRModule": ("relax_functions", "global_infos")}


def _make_fields(cls: type) -> tuple[_Field, ...]:
    ns = {name: getattr(ir, name) for name in ir.__all__}
    skip = _NOT_ENCODED.get(cls.__name__, ())
    hints = typing.get_type_hints(cls, localns=ns)
    out = []
    for f in fields(cls):
        if f.name == "span" or f.name in skip or is_source_spans(f):  # spans of parts: server only
            continue
        hint = hints[f.name]
        required = f.default is MISSING and f.default_factory is MISSING
        codec = _codec_of(hint)
        out.append(_Field(f.name, hint, codec, required, _checker(hint), codec == "value"))
    return tuple(out)


def _codec_of(hint: Any) -> str:
    if hint is DataType:
        return "dtype"
    if hint == (Span | None):
        return "span"
    if hint is float:
        return "float"
    if hint == (tuple[int | float, ...] | None):
        return "numbers"
    if typing.get_origin(hint) is dict:
        return "attrs"
    return "value"


def _union_args(hint: Any) -> tuple[Any, ...] | None:
    if typing.get_origin(hint) in (Union, types.UnionType):
        return typing.get_args(hint)
    return None


def _checker(hint: Any) -> Callable[[object], bool]:
    """A predicate telling whether a decoded value fits ``hint``."""
    if hint is object:
        return lambda v: True
    if hint is float:
        return lambda v: type(v) is float
    if (found := _classes_of(hint)) is not None:
        classes: tuple[type, ...] = found
        return lambda v: isinstance(v, classes)
    if (args := _union_args(hint)) is not None:
        checks = tuple(_checker(a) for a in args)
        return lambda v: any(c(v) for c in checks)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            if (item_found := _classes_of(args[0])) is not None:
                item_classes: tuple[type, ...] = item_found
                # Long sequences (a SeqStmt's statements) have few distinct types: check those.
                return lambda v: type(v) is tuple and all(issubclass(t, item_classes) for t in {type(x) for x in v})
            item = _checker(args[0])
            return lambda v: type(v) is tuple and all(item(x) for x in v)
        items = tuple(_checker(a) for a in args)
        return lambda v: type(v) is tuple and len(v) == len(items) and all(c(x) for c, x in zip(items, v))
    if origin is dict:
        key, val = (_checker(a) for a in args)
        return lambda v: type(v) is dict and all(key(k) and val(x) for k, x in v.items())
    raise TypeError(f"no JSON checker for type hint {hint!r}")


def _classes_of(hint: Any) -> tuple[type, ...] | None:
    """The classes a value of type ``hint`` may be an instance of, if its type alone decides."""
    args = _union_args(hint) or (hint,)
    if all(isinstance(a, type) and typing.get_origin(a) is None and a not in (object, float) for a in args):
        return tuple(args)
    return None


def _type_name(hint: Any) -> str:
    if hint is type(None):
        return "null"
    if (args := _union_args(hint)) is not None:
        return " | ".join(_type_name(a) for a in args)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is not None:
        inner = ", ".join("..." if a is Ellipsis else _type_name(a) for a in args)
        return f"{origin.__name__}[{inner}]"
    return getattr(hint, "__name__", repr(hint))


def _describe(value: object) -> str:
    """How a decoded value reads in an error message."""
    if isinstance(value, (Var, Buffer)):
        return f"{type(value).__name__} {value.name!r}"
    if isinstance(value, (Node, PointerType, TargetLiteral, MetadataRef, DataType)):
        return type(value).__name__
    if isinstance(value, str):
        return f"string {json.dumps(value)}"
    if value is None:
        return "null"
    return type(value).__name__


# ---------------------------------------------------------------------------------------------
# Errors carry the path of the offending value; each level of the walk prepends its step.


class _JsonError(Exception):
    def __init__(self, message: str, path: str = "", absolute: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        # An error raised while decoding a table entry already names its full path.
        self.absolute = absolute

    def under(self, step: str) -> _JsonError:
        if not self.absolute:
            self.path = step + self.path
        return self


def _error(message: str, span: Span | None = None) -> CompilerError:
    return CompilerError(Diagnostic("TIR007", message, span or Span(1, 1, 1, 1)))


def _step(key: object) -> str:
    if isinstance(key, int):
        return f"[{key}]"
    if isinstance(key, str) and key.isidentifier():
        return f".{key}"
    return f"[{json.dumps(key)}]"


# ---------------------------------------------------------------------------------------------
# Encoding.


def _dtype_json(dt: DataType) -> object:
    """The dtype's name when parsing the name gives it back exactly, else its three parts."""
    text = _DTYPE_TEXT.get(dt)
    if text is None:
        text = str(dt)
        try:
            exact = parse_dtype(text) == dt
        except DTypeError:
            exact = False
        if not exact:
            return {"code": dt.code, "bits": dt.bits, "lanes": dt.lanes}
        _DTYPE_TEXT[dt] = text
    return text


# A module has few distinct dtypes and many uses of each.
_DTYPE_TEXT: dict[DataType, str] = {}


def _float_json(x: float) -> object:
    # repr of a double is exact, so float16/float32/float64 values come back bit for bit.
    if math.isfinite(x):
        return x
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


def _number_json(x: object) -> object:
    return _float_json(x) if type(x) is float else x


def _span_json(span: Span) -> list[int]:
    return [span.line, span.column, span.end_line, span.end_column]


class _Encoder:
    def __init__(self) -> None:
        self.var_ids: dict[int, str] = {}
        self.buffer_ids: dict[int, str] = {}
        self.vars: dict[str, object] = {}
        self.buffers: dict[str, object] = {}

    def var_ref(self, var: Var) -> dict[str, str]:
        vid = self.var_ids.get(id(var))
        if vid is None:
            vid = self.var_ids[id(var)] = f"v{len(self.var_ids)}"
            self.vars[vid] = None  # reserve the slot so the table stays in id order
            self.vars[vid] = self.fields(var, {})
        return {"$var": vid}

    def buffer_ref(self, buf: Buffer) -> dict[str, str]:
        bid = self.buffer_ids.get(id(buf))
        if bid is None:
            bid = self.buffer_ids[id(buf)] = f"b{len(self.buffer_ids)}"
            self.buffers[bid] = None
            try:
                self.buffers[bid] = self.fields(buf, {})
            except _JsonError as e:
                raise e.under(f"<buffer {buf.name!r}>")
        return {"$buffer": bid}

    def fields(self, obj: Any, out: dict[str, object]) -> dict[str, object]:
        name = ""
        value = self.value
        try:
            for f in _fields_of(type(obj)):
                name = f.name
                v = getattr(obj, name)
                out[name] = value(v, False) if f.generic else self.field(f, v)
        except _JsonError as e:
            raise e.under(_step(name))
        span = getattr(obj, "span", None)
        if span is not None:
            out["span"] = _span_json(span)
        return out

    def field(self, f: _Field, v: Any) -> object:
        codec = f.codec
        if v is None:
            return None
        if codec == "dtype":
            return _dtype_json(v)
        if codec == "span":
            return _span_json(v)
        if codec == "float":
            return _float_json(v)
        if codec == "numbers":
            return [_number_json(x) for x in v]
        if any(type(k) is not str for k in v):
            raise _JsonError(f"attribute keys must be strings, got {sorted(map(repr, v))}")
        return self.items(v)

    def items(self, d: dict[str, Any]) -> dict[str, object]:
        out = {}
        for k, x in d.items():
            try:
                out[k] = self.value(x, True)
            except _JsonError as e:
                raise e.under(_step(k))
        return out

    def value(self, v: Any, in_attr: bool) -> object:
        """A value of any type. In node fields sequences are tuples, in attribute values lists;
        ``in_attr`` says which one is written as a plain JSON array."""
        t = type(v)
        if v is None or t is str or t is int or t is bool:
            return v
        if t is Var:
            return self.var_ref(v)
        if t is Buffer:
            return self.buffer_ref(v)
        if t is tuple or t is list:
            items = self.sequence(v, in_attr)
            if (t is list) == in_attr:
                return items
            return {"$kind": t.__name__, "items": items}
        if t is float:
            return v if math.isfinite(v) else {"$kind": "float", "value": _float_json(v)}
        if t is dict:
            if all(type(k) is str for k in v):
                return {"$kind": "dict", "items": self.items(v)}
            pairs = self.sequence([[k, x] for k, x in v.items()], True)
            return {"$kind": "dict", "pairs": pairs}
        if t is DataType:
            return {"$kind": "DataType", "dtype": _dtype_json(v)}
        if _REGISTRY.get(t.__name__) is t:
            return self.fields(v, {"$kind": t.__name__})
        raise _JsonError(f"cannot encode a value of type {t.__name__}")

    def sequence(self, v: tuple[Any, ...] | list[Any], in_attr: bool) -> list[object]:
        out = []
        try:
            for x in v:
                out.append(self.value(x, in_attr))
        except _JsonError as e:
            raise e.under(f"[{len(out)}]")
        return out


def module_to_json(mod: IRModule) -> dict[str, object]:
    """The JSON document (plain dicts and lists) for ``mod``.

    Raises CompilerError (TIR007) if the IR holds a value the format has no encoding for.
    """
    enc = _Encoder()
    try:
        body = enc.value(mod, False)
    except _JsonError as e:
        raise _error(f"cannot encode module: module{e.path}: {e.message}") from None
    return {"format": FORMAT, "version": VERSION, "vars": enc.vars, "buffers": enc.buffers, "module": body}


def dumps(mod: IRModule, indent: int | None = None) -> str:
    """``mod`` as JSON text; deterministic, so ``dumps(loads(dumps(m))) == dumps(m)``."""
    return json.dumps(module_to_json(mod), indent=indent, ensure_ascii=False, allow_nan=False)


# ---------------------------------------------------------------------------------------------
# Decoding.


def _dtype_from(j: object) -> DataType:
    if isinstance(j, str):
        try:
            return parse_dtype(j)
        except DTypeError as e:
            raise _JsonError(str(e)) from None
    if isinstance(j, dict) and set(j) == {"code", "bits", "lanes"}:
        code, bits, lanes = j["code"], j["bits"], j["lanes"]
        if isinstance(code, str) and _is_int(bits) and _is_int(lanes):
            return DataType(code, bits, lanes)
    raise _JsonError(f"expected a dtype (a name or {{code, bits, lanes}}), got {_json_kind(j)}")


def _float_from(j: object) -> float:
    if type(j) is float:
        return j
    if type(j) is int:
        return float(j)
    if isinstance(j, str) and j in _NON_FINITE:
        return _NON_FINITE[j]
    raise _JsonError(f'expected a number or "inf", "-inf", "nan", got {_json_kind(j)}')


def _number_from(j: object) -> int | float:
    if type(j) is int or type(j) is bool:
        return j
    return _float_from(j)


def _span_from(j: object) -> Span:
    if type(j) is list and len(j) == 4:
        line, col, end_line, end_col = j
        if type(line) is int and type(col) is int and type(end_line) is int and type(end_col) is int:
            # Diagnostics point at spans: 1-based, and the end not before the start.
            if line >= 1 and col >= 1 and (end_line, end_col) >= (line, col):
                return Span(line, col, end_line, end_col)
            raise _JsonError(f"span {j} is not a region of text (1-based, end after start)")
    raise _JsonError(f"expected a span [line, col, end_line, end_col], got {_json_kind(j)}")


def _is_int(j: object) -> bool:
    return type(j) is int


def _json_kind(j: object) -> str:
    if j is None:
        return "null"
    if isinstance(j, bool):
        return "a boolean"
    if isinstance(j, (int, float)):
        return f"number {j!r}"
    if isinstance(j, str):
        return f"string {json.dumps(j)}"
    if isinstance(j, list):
        return "an array"
    return "an object"


class _Decoder:
    def __init__(self, var_table: dict[str, Any], buffer_table: dict[str, Any]) -> None:
        self.var_table = var_table
        self.buffer_table = buffer_table
        self.vars: dict[str, Var] = {}
        self.buffers: dict[str, Buffer] = {}
        self.pending: set[str] = set()
        self.depth = 0

    def var(self, vid: object) -> Var:
        if not isinstance(vid, str) or vid not in self.var_table:
            raise _JsonError(f"unknown var id {json.dumps(vid)}")
        var = self.vars.get(vid)
        if var is None:
            var = self.vars[vid] = self.table_entry(Var, vid, self.var_table[vid], f"vars.{vid}")
        return var

    def buffer(self, bid: object) -> Buffer:
        if not isinstance(bid, str) or bid not in self.buffer_table:
            raise _JsonError(f"unknown buffer id {json.dumps(bid)}")
        buf = self.buffers.get(bid)
        if buf is None:
            if bid in self.pending:
                raise _JsonError(f"buffer {bid} is defined in terms of itself")
            self.pending.add(bid)
            buf = self.buffers[bid] = self.table_entry(Buffer, bid, self.buffer_table[bid], f"buffers.{bid}")
            self.pending.discard(bid)
        return buf

    def table_entry(self, cls: type, key: str, j: object, path: str) -> Any:
        # A table entry is decoded where it is first referenced; its errors name the table.
        try:
            if not isinstance(j, dict):
                raise _JsonError(f"expected an object, got {_json_kind(j)}")
            return self.build(cls, j, 0)
        except _JsonError as e:
            if e.absolute:
                raise
            raise _JsonError(e.message, path + e.path, absolute=True) from None

    def build(self, cls: type, j: dict[str, Any], tagged: int) -> Any:
        """An instance of ``cls`` from its fields in ``j`` (plus "$kind" when ``tagged`` is 1)."""
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _JsonError(f"nodes nested more than {MAX_DEPTH} levels deep")
            return self._build(cls, j, tagged)
        finally:
            self.depth -= 1

    def _build(self, cls: type, j: dict[str, Any], tagged: int) -> Any:
        specs = _fields_of(cls)
        kwargs: dict[str, Any] = {}
        name, missing = "", ""
        value = self.value
        try:
            for f in specs:
                name = f.name
                x = j.get(name, _ABSENT)
                if x is _ABSENT:
                    if f.required:
                        missing = name
                        break
                    continue
                v = value(x, False) if f.generic else self.field(f, x)
                if not f.check(v):
                    raise _JsonError(f"expected {_type_name(f.hint)}, got {_describe(v)}")
                kwargs[name] = v
        except _JsonError as e:
            raise e.under(_step(name))
        if missing:
            raise _JsonError(f'missing field "{missing}" of {cls.__name__}')
        used = len(kwargs) + tagged
        if "span" in j and issubclass(cls, Node):
            used += 1
            if j["span"] is not None:
                try:
                    kwargs["span"] = _span_from(j["span"])
                except _JsonError as e:
                    raise e.under(".span")
        if len(j) != used:
            known = {f.name for f in specs} | {"$kind", "span"}
            unknown = next(k for k in j if k not in known or (k == "$kind" and not tagged))
            raise _JsonError(f"unknown field {json.dumps(unknown)} in {cls.__name__}")
        try:
            return cls(**kwargs)
        except (TypeError, ValueError) as e:
            raise _JsonError(f"invalid {cls.__name__}: {e}") from None

    def field(self, f: _Field, j: object) -> Any:
        codec = f.codec
        if j is None:
            return None
        if codec == "dtype":
            return _dtype_from(j)
        if codec == "span":
            return _span_from(j)
        if codec == "float":
            return _float_from(j)
        if codec == "numbers":
            if not isinstance(j, list):
                raise _JsonError(f"expected an array of numbers, got {_json_kind(j)}")
            out = []
            try:
                for x in j:
                    out.append(_number_from(x))
            except _JsonError as e:
                raise e.under(f"[{len(out)}]")
            return tuple(out)
        if not isinstance(j, dict):
            raise _JsonError(f"expected an object of attributes, got {_json_kind(j)}")
        return self.items(j)

    def items(self, j: dict[str, Any]) -> dict[str, object]:
        out = {}
        for k, x in j.items():
            try:
                out[k] = self.value(x, True)
            except _JsonError as e:
                raise e.under(_step(k))
        return out

    def value(self, j: Any, in_attr: bool) -> Any:
        t = type(j)
        if t is not dict:
            if t is list:
                items = self.sequence(j, in_attr)
                return items if in_attr else tuple(items)
            return j  # null, bool, number or string
        kind = j.get("$kind")
        if type(kind) is str:
            cls = _REGISTRY.get(kind)
            if cls is not None:
                return self.build(cls, j, 1)
            if kind in _VALUE_TAGS:
                return self.tagged(kind, j)
            hint = " (vars and buffers are referenced by id)" if kind in ("Var", "Buffer") else ""
            raise _JsonError(f"unknown node kind {json.dumps(kind)}{hint}")
        if kind is not None:
            raise _JsonError(f'"$kind" must be a string, got {_json_kind(kind)}')
        if "$var" in j:
            self.only_key(j, "$var")
            return self.var(j["$var"])
        if "$buffer" in j:
            self.only_key(j, "$buffer")
            return self.buffer(j["$buffer"])
        raise _JsonError('expected a node object with a "$kind" key or a {"$var"}/{"$buffer"} reference')

    def sequence(self, j: list[Any], in_attr: bool) -> list[Any]:
        out = []
        try:
            for x in j:
                out.append(self.value(x, in_attr))
        except _JsonError as e:
            raise e.under(f"[{len(out)}]")
        return out

    def only_key(self, j: dict[str, Any], key: str) -> None:
        if len(j) != 1:
            extra = next(k for k in j if k != key)
            raise _JsonError(f"unexpected key {json.dumps(extra)} in a {key} reference")

    def tagged(self, kind: str, j: dict[str, Any]) -> Any:
        """The generic values that are not classes: containers, non-finite floats, dtypes."""
        keys = set(j) - {"$kind"}
        expected = {"dict": ({"items"}, {"pairs"}), "tuple": ({"items"},), "list": ({"items"},),
                    "float": ({"value"},), "DataType": ({"dtype"},)}[kind]
        if keys not in expected:
            want = " or ".join(json.dumps(sorted(e)) for e in expected)
            raise _JsonError(f"a {kind} value needs exactly the keys {want}, got {json.dumps(sorted(keys))}")
        if kind == "float":
            v = j["value"]
            if isinstance(v, str) and v in _NON_FINITE:
                return _NON_FINITE[v]
            raise _JsonError(f'a float value is "inf", "-inf" or "nan", got {_json_kind(v)}')
        if kind == "DataType":
            try:
                return _dtype_from(j["dtype"])
            except _JsonError as e:
                raise e.under(".dtype")
        if kind == "dict" and "pairs" in j:
            return self.pairs(j["pairs"])
        items = j["items"]
        try:
            if kind == "dict":
                if not isinstance(items, dict):
                    raise _JsonError(f"expected an object, got {_json_kind(items)}")
                return self.items(items)
            if not isinstance(items, list):
                raise _JsonError(f"expected an array, got {_json_kind(items)}")
            out = self.sequence(items, True)
            return tuple(out) if kind == "tuple" else out
        except _JsonError as e:
            raise e.under(".items")

    def pairs(self, j: object) -> dict[object, object]:
        try:
            if not isinstance(j, list):
                raise _JsonError(f"expected an array of [key, value] pairs, got {_json_kind(j)}")
            out: dict[object, object] = {}
            for i, p in enumerate(j):
                if not isinstance(p, list) or len(p) != 2:
                    raise _JsonError(f"expected a [key, value] pair, got {_json_kind(p)}").under(f"[{i}]")
                key, val = self.sequence(p, True)
                try:
                    out[key] = val
                except TypeError:
                    raise _JsonError(f"unhashable dict key {_describe(key)}").under(f"[{i}]") from None
            return out
        except _JsonError as e:
            raise e.under(".pairs")


def module_from_json(obj: object) -> IRModule:
    """The IRModule a document made by ``module_to_json`` describes.

    Raises CompilerError (TIR007, span 1:1) naming the path of the first problem: another
    format, a newer version, a missing or unknown field, a value of the wrong type, an
    unknown node kind, a dangling var or buffer id.
    """
    try:
        return _decode_document(obj)
    except _JsonError as e:
        path = e.path.lstrip(".")
        raise _error(f"{path}: {e.message}" if path else e.message) from None


def _decode_document(obj: object) -> IRModule:
    if not isinstance(obj, dict):
        raise _JsonError(f'expected a JSON object with "format": "{FORMAT}", got {_json_kind(obj)}')
    fmt = obj.get("format")
    if fmt != FORMAT:
        raise _JsonError(f'not a TIR JSON document: "format" is {_json_kind(fmt)}, expected "{FORMAT}"')
    version = obj.get("version")
    if type(version) is not int or version < 1:
        raise _JsonError(f'"version" must be a positive integer, got {_json_kind(version)}', ".version")
    if version > VERSION:
        raise _JsonError(f"format version {version} is newer than this reader supports ({VERSION})", ".version")
    unknown = [k for k in obj if k not in ("format", "version", "vars", "buffers", "module")]
    if unknown:
        raise _JsonError(f"unknown top-level key {json.dumps(unknown[0])}")
    tables = []
    for key in ("vars", "buffers"):
        table = obj.get(key, {})
        if not isinstance(table, dict):
            raise _JsonError(f"expected an object of id -> definition, got {_json_kind(table)}", "." + key)
        tables.append(table)
    if "module" not in obj:
        raise _JsonError('missing key "module"')
    dec = _Decoder(tables[0], tables[1])
    try:
        mod = dec.value(obj["module"], False)
    except _JsonError as e:
        raise e.under("module")
    if not isinstance(mod, IRModule):
        raise _JsonError(f"expected an IRModule, got {_describe(mod)}", "module")
    # Entries nothing refers to are still checked, so a malformed document never loads.
    for vid in tables[0]:
        dec.var(vid)
    for bid in tables[1]:
        dec.buffer(bid)
    return mod


# As deep as the text reader builds (tir_lsp/compiler/text/builder MAX_NESTING): the printer,
# passes and C backend recurse through the IR, a few frames per level.
MAX_DEPTH = 160


def loads(text: str) -> IRModule:
    """The IRModule in JSON ``text``; a JSON syntax error is reported at its line and column."""
    try:
        obj = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        raise _error(f"invalid JSON: {e.msg}", Span(e.lineno, e.colno, e.lineno, e.colno + 1)) from None
    except _JsonError as e:
        raise _error(f"invalid JSON: {e.message}") from None
    except RecursionError:
        raise _error("invalid JSON: nested too deeply") from None
    try:
        return module_from_json(obj)
    except RecursionError:  # deeper than any IR our writer makes (the text reader stops at 200)
        raise _error("JSON IR nested too deeply") from None


def _reject_constant(name: str) -> object:
    raise _JsonError(f'{name} is not JSON; write "inf", "-inf" or "nan" where a float is expected')


# ---------------------------------------------------------------------------------------------
# JSON Schema (draft 2020-12), derived from the same field specs; docs/tir-ir.schema.json
# holds its output.


def json_schema() -> dict[str, object]:
    """A JSON Schema for documents ``dumps`` writes (structure only: ids are not resolved)."""
    defs: dict[str, object] = {
        "span": {"type": "array", "items": {"type": "integer"}, "minItems": 4, "maxItems": 4,
                 "description": "[line, column, end_line, end_column], 1-based, end exclusive"},
        "dtype": {"anyOf": [
            {"type": "string", "description": 'a dtype name: "float32", "int8x4", "bool", "handle"'},
            {"type": "object", "properties": {"code": {"type": "string"}, "bits": {"type": "integer"},
                                              "lanes": {"type": "integer"}},
             "required": ["code", "bits", "lanes"], "additionalProperties": False},
        ]},
        "float": {"anyOf": [{"type": "number"}, {"enum": ["inf", "-inf", "nan"]}]},
        "varRef": _object({"$var": {"type": "string"}}, ["$var"]),
        "bufferRef": _object({"$buffer": {"type": "string"}}, ["$buffer"]),
        "attrs": {"type": "object", "additionalProperties": {"$ref": "#/$defs/value"}},
        "tagged": {"anyOf": [
            _object({"$kind": {"const": "dict"}, "items": {"$ref": "#/$defs/attrs"}}, ["$kind", "items"]),
            _object({"$kind": {"const": "dict"}, "pairs": {"type": "array", "items": {
                "type": "array", "prefixItems": [{"$ref": "#/$defs/value"}] * 2, "minItems": 2, "maxItems": 2}}},
                ["$kind", "pairs"]),
            _object({"$kind": {"enum": ["tuple", "list"]}, "items": {"type": "array", "items": {
                "$ref": "#/$defs/value"}}}, ["$kind", "items"]),
            _object({"$kind": {"const": "float"}, "value": {"enum": ["inf", "-inf", "nan"]}}, ["$kind", "value"]),
            _object({"$kind": {"const": "DataType"}, "dtype": {"$ref": "#/$defs/dtype"}}, ["$kind", "dtype"]),
        ]},
        "value": {"anyOf": [
            {"type": ["null", "boolean", "number", "string"]},
            {"type": "array", "items": {"$ref": "#/$defs/value"}},
            {"$ref": "#/$defs/varRef"}, {"$ref": "#/$defs/bufferRef"}, {"$ref": "#/$defs/tagged"},
            *({"$ref": f"#/$defs/{name}"} for name in _REGISTRY),
        ]},
        "expr": {"anyOf": [{"$ref": "#/$defs/varRef"}, *(
            {"$ref": f"#/$defs/{n}"} for n, c in _REGISTRY.items() if issubclass(c, ir.Expr))]},
        "stmt": {"anyOf": [{"$ref": f"#/$defs/{n}"} for n, c in _REGISTRY.items() if issubclass(c, ir.Stmt)]},
        "varDef": _class_schema(Var, tagged=False),
        "bufferDef": _class_schema(Buffer, tagged=False),
    }
    for name, cls in _REGISTRY.items():
        defs[name] = _class_schema(cls, tagged=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://tir-lsp.dev/schemas/tir-ir.schema.json",
        "title": f"TIR as JSON ({FORMAT}, version {VERSION})",
        "type": "object",
        "properties": {
            "format": {"const": FORMAT},
            "version": {"const": VERSION},
            "vars": {"type": "object", "additionalProperties": {"$ref": "#/$defs/varDef"}},
            "buffers": {"type": "object", "additionalProperties": {"$ref": "#/$defs/bufferDef"}},
            "module": {"$ref": "#/$defs/IRModule"},
        },
        "required": ["format", "version", "module"],
        "additionalProperties": False,
        "$defs": defs,
    }


def _object(props: dict[str, object], required: list[str]) -> dict[str, object]:
    return {"type": "object", "properties": props, "required": required, "additionalProperties": False}


def _class_schema(cls: type, tagged: bool) -> dict[str, object]:
    props: dict[str, object] = {"$kind": {"const": cls.__name__}} if tagged else {}
    required = ["$kind"] if tagged else []
    for f in _fields_of(cls):
        props[f.name] = _hint_schema(f.hint, top=True)
        if f.required:
            required.append(f.name)
    if issubclass(cls, Node):
        props["span"] = {"$ref": "#/$defs/span"}
    return _object(props, required)


def _hint_schema(hint: Any, top: bool = False) -> object:
    """The schema of a field of type ``hint``; ``top`` when it is the whole field (DataType is
    then written by name, elsewhere tagged)."""
    if (args := _union_args(hint)) is not None:
        return {"anyOf": [_hint_schema(a) for a in args]}
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": _hint_schema(args[0])}
        return {"type": "array", "prefixItems": [_hint_schema(a) for a in args],
                "minItems": len(args), "maxItems": len(args)}
    if origin is dict:
        return {"$ref": "#/$defs/attrs"}
    simple: dict[Any, object] = {
        type(None): {"type": "null"}, str: {"type": "string"},
        # A Python bool is an int, and IntImm(bool, True) round-trips as true.
        int: {"type": ["integer", "boolean"]},
        bool: {"type": "boolean"}, float: {"$ref": "#/$defs/float"}, object: {"$ref": "#/$defs/value"},
        Span: {"$ref": "#/$defs/span"}, Var: {"$ref": "#/$defs/varRef"}, Buffer: {"$ref": "#/$defs/bufferRef"},
        ir.Expr: {"$ref": "#/$defs/expr"}, ir.Stmt: {"$ref": "#/$defs/stmt"},
    }
    if hint is DataType:
        return {"$ref": "#/$defs/dtype"} if top else {"$ref": "#/$defs/tagged"}
    if hint in simple:
        return simple[hint]
    if isinstance(hint, type) and _REGISTRY.get(hint.__name__) is hint:
        return {"$ref": f"#/$defs/{hint.__name__}"}
    raise TypeError(f"no JSON schema for type hint {hint!r}")


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["--schema"]:
        sys.exit("usage: python3 -m tir_lsp.compiler.backend.json_format --schema > docs/tir-ir.schema.json")
    print(json.dumps(json_schema(), indent=2))
