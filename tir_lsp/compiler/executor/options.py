"""Executor options: read from the command line, a config file or a target string, checked
against the invalid combinations of docs (CALLING_CONVENTION.md), written into every module
as ``I.module_attrs``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from tir_lsp.compiler.diagnostics import CompilerError, Diagnostic
from tir_lsp.compiler.ir.span import Span

_NO_SPAN = Span(1, 1, 1, 1)
CHOICES: dict[str, tuple[object, ...]] = {
    "executor": ("aot", "graph"),
    "interface-api": ("packed", "c"),
    "unpacked-api": (True, False),
    "runtime": ("crt", "cpp"),
    "link-params": (True, False),
    # How linked weights are compiled in (c_interface.linked_params_sources): portable C
    # string literals, or raw bytes the assembler includes (.incbin).
    "link-params-format": ("c", "incbin"),
}
DEFAULTS: dict[str, object] = {"executor": "graph", "interface-api": "packed", "unpacked-api": False,
                               "runtime": "crt", "link-params": False, "link-params-format": "c"}


def options_error(message: str) -> CompilerError:
    return CompilerError(Diagnostic("TIR107", message, _NO_SPAN))


@dataclass(frozen=True)
class ExecutorOptions:
    executor: str = "graph"
    interface_api: str = "packed"
    unpacked_api: bool = False
    runtime: str = "crt"
    link_params: bool = False
    model_name: str = "default"
    warnings: tuple[str, ...] = field(default=(), compare=False)
    link_params_format: str = "c"

    def module_attrs(self) -> dict[str, object]:
        """The options as ``I.module_attrs``, so an emitted file describes itself (all but
        ``link-params-format``, which changes only the files that hold linked weights)."""
        return {"executor": self.executor, "interface-api": self.interface_api, "unpacked-api": self.unpacked_api,
                "runtime": self.runtime, "link-params": self.link_params, "model-name": self.model_name}


def _coerce(key: str, value: object, where: str) -> object:
    if key in ("unpacked-api", "link-params"):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
    elif isinstance(value, str) and value in CHOICES[key]:
        return value
    raise options_error(f"{where}: {key}={value!r} is not one of {', '.join(str(c).lower() for c in CHOICES[key])}")


def parse_target(target: str) -> dict[str, object]:
    """Options spelled in a target string (``"c -executor=aot -unpacked-api=1"``)."""
    out: dict[str, object] = {}
    for m in re.finditer(r"-{1,2}([A-Za-z_-]+)(?:=(\S+))?", target):
        key = m.group(1).replace("_", "-")
        if key in CHOICES:
            out[key] = _coerce(key, m.group(2) if m.group(2) is not None else "1", f"target {target!r}")
    return out


def read_config(path: str | Path) -> dict[str, object]:
    """Options from a JSON or TOML config file (keys as on the command line)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise options_error(f"{path}: cannot read config file ({exc.strerror})") from None
    try:
        if p.suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        else:
            data = json.loads(text)
    except ValueError as exc:
        raise options_error(f"{path}: invalid config file ({exc})") from None
    if not isinstance(data, dict):
        raise options_error(f"{path}: the config file must hold a table of options")
    out: dict[str, object] = {}
    for k, v in data.items():
        key = str(k).replace("_", "-")
        if key == "model-name":
            out[key] = str(v)
        elif key in CHOICES:
            out[key] = _coerce(key, v, str(path))
        else:
            raise options_error(f"{path}: unknown option {k!r}; known: {', '.join([*CHOICES, 'model-name'])}")
    return out


def resolve(command_line: dict[str, object], config: dict[str, object] | None = None, target: str | None = None,
            model_name: str | None = None) -> ExecutorOptions:
    """The options from every source: command line over config file; a target string may
    only agree with them (a disagreement names both places). Invalid combinations raise
    CompilerError (TIR107) with what to change."""
    merged: dict[str, object] = dict(DEFAULTS)
    origin: dict[str, str] = {}
    for source, values in (("the config file", config or {}), ("the command line", command_line)):
        for k, v in values.items():
            if v is None:
                continue
            merged[k] = _coerce(k, v, source) if k in CHOICES else v
            origin[k] = source
    warnings: list[str] = []
    if target:
        for k, v in parse_target(target).items():
            if k in origin and merged[k] != v:
                raise options_error(f"{k} is {str(merged[k]).lower()} on {origin[k]} but {str(v).lower()} in the "
                                    f"target string {target!r}; say it once")
            warnings.append(f"option {k} inside the target string is deprecated; pass --{k} instead")
            merged[k] = v
            origin.setdefault(k, "the target string")
    name = model_name or str(merged.get("model-name") or "default")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise options_error(f"model name {name!r} is not a C identifier; use letters, digits and _")
    opts = ExecutorOptions(str(merged["executor"]), str(merged["interface-api"]), bool(merged["unpacked-api"]),
                           str(merged["runtime"]), bool(merged["link-params"]), name, tuple(warnings),
                           str(merged["link-params-format"]))
    validate(opts)
    return opts


def validate(o: ExecutorOptions) -> None:
    """Raise TIR107 for the invalid combinations, in the order CALLING_CONVENTION.md lists."""
    if o.executor == "graph" and o.unpacked_api:
        raise options_error("the graph executor invokes operators through packed functions only, so unpacked "
                            "operators could never be called; use --executor aot, or drop --unpacked-api")
    if o.executor == "graph" and o.interface_api == "c":
        raise options_error("--interface-api c exists only for the aot executor; use --executor aot, or "
                            "--interface-api packed")
    if o.executor == "aot" and o.interface_api == "c" and not o.unpacked_api:
        raise options_error("--interface-api c with aot calls operators directly, so they must be unpacked; "
                            "add --unpacked-api")
    if o.interface_api == "c" and o.runtime == "cpp":
        raise options_error("--interface-api c needs the C runtime; use --runtime crt, or --interface-api packed")
    if o.link_params_format not in CHOICES["link-params-format"]:
        raise options_error(f"link-params-format={o.link_params_format!r} is not one of c, incbin")
    if o.link_params_format != "c" and not o.link_params:
        raise options_error(f"--link-params-format {o.link_params_format} says how linked weights are compiled in; "
                            "add --link-params, or drop --link-params-format")
