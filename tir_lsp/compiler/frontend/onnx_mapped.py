"""An ONNX file's weights read in place: the initializers' ``raw_data`` become numpy arrays
over a copy-on-write memory map of the file, and only the rest of the model (graph,
attributes, small tensors) is parsed by onnx. ``onnx.load`` would hold the weights twice
(the file's bytes and the parsed message, then the message and the arrays): here they are
pages of the file, read once, which the kernel can drop and read again.

The file is walked as protobuf wire format just far enough to find the initializers
(``ModelProto.graph`` = field 7, ``GraphProto.initializer`` = 5, ``TensorProto.data_type``
= 2, ``raw_data`` = 9); the model is then parsed from a copy without those ``raw_data``
fields. Anything unexpected (a field seen twice, a group, a big-endian host, a file that is
not protobuf) returns None, and the caller loads the file the ordinary way, which also
reports what is wrong with it."""

from __future__ import annotations

import mmap
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

_GRAPH, _INITIALIZER, _DATA_TYPE, _RAW_DATA = 7, 5, 2, 9
# ONNX element types whose raw bytes are a plain little-endian numpy array.
_PLAIN = {1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 9: "bool",
          10: "float16", 11: "float64", 12: "uint32", 13: "uint64"}
MIN_MAPPED = 1 << 16  # smaller tensors are parsed as usual


class _NotPlain(Exception):
    """The file is not the simple protobuf this reader handles."""


def _varint(buf: Any, pos: int, end: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= end or shift > 63:
            raise _NotPlain
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7


def _fields(buf: Any, lo: int, hi: int) -> Iterator[tuple[int, int, int, int, int]]:
    """(field number, wire type, start of the tag, start of the value, end) of each field of
    the message in ``buf[lo:hi]``; a length-delimited value starts after its length."""
    pos = lo
    while pos < hi:
        tag = pos
        key, pos = _varint(buf, pos, hi)
        field, wire = key >> 3, key & 7
        start = pos
        if wire == 0:
            _, end = _varint(buf, pos, hi)
        elif wire == 1:
            end = pos + 8
        elif wire == 2:
            n, start = _varint(buf, pos, hi)
            end = start + n
        elif wire == 5:
            end = pos + 4
        else:
            raise _NotPlain  # groups
        if field == 0 or end > hi:
            raise _NotPlain
        yield field, wire, tag, start, end
        pos = end


def _encode_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _length_delimited(field: int, body: bytes) -> bytes:
    return _encode_varint(field << 3 | 2) + _encode_varint(len(body)) + body


def _strip(buf: Any, size: int) -> tuple[bytes, dict[int, tuple[int, int, str]]]:
    """The model without its big plain ``raw_data`` fields, and where each was: initializer
    index -> (offset, length, dtype)."""
    out = bytearray()
    found: dict[int, tuple[int, int, str]] = {}
    graphs = 0
    for field, wire, tag, start, end in _fields(buf, 0, size):
        if field != _GRAPH or wire != 2:
            out += buf[tag:end]
            continue
        graphs += 1
        if graphs > 1:
            raise _NotPlain  # protobuf would merge the two
        graph = bytearray()
        index = 0
        for gfield, gwire, gtag, gstart, gend in _fields(buf, start, end):
            if gfield != _INITIALIZER or gwire != 2:
                graph += buf[gtag:gend]
                continue
            dtype, raw, seen = None, None, set()
            for tfield, twire, _, tstart, tend in _fields(buf, gstart, gend):
                if tfield in (_DATA_TYPE, _RAW_DATA):
                    if tfield in seen:
                        raise _NotPlain
                    seen.add(tfield)
                if tfield == _DATA_TYPE and twire == 0:
                    dtype = _PLAIN.get(_varint(buf, tstart, tend)[0])
                elif tfield == _RAW_DATA and twire == 2:
                    raw = (tstart, tend)
            if dtype is None or raw is None or raw[1] - raw[0] < MIN_MAPPED:
                graph += buf[gtag:gend]
            else:
                found[index] = (raw[0], raw[1] - raw[0], dtype)
                tensor = bytearray()
                for tfield, _, ttag, _, tend in _fields(buf, gstart, gend):
                    if tfield != _RAW_DATA:
                        tensor += buf[ttag:tend]
                graph += _length_delimited(_INITIALIZER, bytes(tensor))
            index += 1
        out += _length_delimited(_GRAPH, bytes(graph))
    return bytes(out), found


def load_mapped(path: str | Path) -> tuple[Any, dict[int, np.ndarray]] | None:
    """(the model without its big weights' bytes, those weights by initializer index as
    arrays over the mapped file), or None when the file should be loaded as usual. A
    mapped array is as the initializer's shape says; a size that does not match is left to
    the ordinary loader to report."""
    import onnx
    from onnx.external_data_helper import load_external_data_for_model

    if sys.byteorder != "little":
        return None
    try:
        with open(path, "rb") as f:
            size = Path(path).stat().st_size
            if size == 0:
                return None
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    except (OSError, ValueError):
        return None
    try:
        stripped, found = _strip(mm, size)
        model = onnx.ModelProto()
        model.ParseFromString(stripped)
    except Exception:  # noqa: BLE001 - _NotPlain, or protobuf's own errors
        return None
    if not found:
        return None
    arrays: dict[int, np.ndarray] = {}
    inits = model.graph.initializer
    for index, (offset, length, dtype) in found.items():
        if index >= len(inits):
            return None
        dims = [int(d) for d in inits[index].dims]
        itemsize = np.dtype(dtype).itemsize
        if length % itemsize or length // itemsize != int(np.prod(dims, dtype=np.int64)):
            return None
        arrays[index] = np.frombuffer(mm, dtype=np.dtype(dtype).newbyteorder("<"), count=length // itemsize,
                                      offset=offset).reshape(dims)
    try:
        load_external_data_for_model(model, str(Path(path).parent))
    except Exception:  # noqa: BLE001 - a missing or short file: the ordinary loader says which
        return None
    return model, arrays
