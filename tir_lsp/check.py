"""`tir-lsp check`: the language server's diagnostics for files on disk, for CI and pre-commit.

The analysis is the one the server publishes (`_diagnose`); this module only finds files,
reads configuration, filters, renders and picks the exit code. It must stay importable without
pygls/lsprotocol: start-up time is most of the cost of checking a few files.
"""

from __future__ import annotations

import argparse
import errno
import fnmatch
import gc
import glob
import json
import logging
import os
import re
import stat
import sys
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from tir_lsp.compiler.diagnostics import CODES, ERROR, INFO, WARNING, Diagnostic, sort_key
from tir_lsp.compiler.ir.span import Span

if TYPE_CHECKING:
    from tir_lsp.cross_file import FileSet

PROG = "tir-lsp check"
FORMATS = ("text", "json", "sarif", "github")
DEFAULT_INCLUDE = ("*.tir", "tir-*.txt")
# Folders nobody wants checked: version control, virtual environments, caches, npm packages.
DEFAULT_EXCLUDE = (".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "__pycache__", ".mypy_cache",
                   ".ruff_cache", ".pytest_cache", "node_modules")
CONFIG_KEYS = ("select", "ignore", "error-on", "include", "exclude", "output-format")
# Where the project lives; SARIF rules point at the README's table of codes.
PROJECT_URL = "https://github.com/tir-lsp/tir-lsp"
CODES_HELP_URI = PROJECT_URL + "#diagnostic-codes"
# Below this many files a process pool costs more than it saves.
PARALLEL_MIN_FILES = 8
_SEVERITY_RANK = {INFO: 0, WARNING: 1, ERROR: 2}


class UsageError(Exception):
    """A bad command line or configuration: reported on stderr, exit code 2."""


class AnalysisCrash(Exception):
    """The analysis raised on one file; the message names the file (exit code 2)."""


# ---------------------------------------------------------------------------------------------
# The analysis: one function, the same one the language server calls.


# The files of this run, where calls to functions defined in another file are resolved (set
# by ``check_files``, and in each worker process by its initializer).
_WORKSPACE: FileSet | None = None


def _diagnose(text: str, filename: str) -> list[Diagnostic]:
    """Diagnostics for one document, exactly as the language server publishes them (calls
    to functions of the other files checked are resolved in those files, as the server
    resolves them in the other files of its workspace)."""
    from tir_lsp.compiler.analysis.run import analyze_text

    resolve = _WORKSPACE.resolver_for(filename) if _WORKSPACE is not None else None
    return analyze_text(text, filename, resolve_files=resolve).diagnostics


def check_bytes(data: bytes, display: str) -> list[Diagnostic]:
    """Diagnostics for the raw bytes of one file (bad encodings become TIR006, never a crash)."""
    from tir_lsp.compiler.text.reader import decode_tir_bytes

    text, bad = decode_tir_bytes(data, display)
    if bad is not None:
        return [bad]
    assert text is not None
    return [d if d.file == display else replace(d, file=display) for d in _diagnose(text, display)]


def check_file(path: str, display: str) -> list[Diagnostic]:
    """Diagnostics for the file at ``path``, reported under the name ``display``."""
    try:
        data = _read_regular_file(path)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return [Diagnostic("TIR006", f"cannot read file: {reason}", Span(1, 1, 1, 1), file=display)]
    return check_bytes(data, display)


def _read_regular_file(path: str) -> bytes:
    """The bytes of a regular file. A FIFO, socket or device named ``*.tir`` is refused without
    reading it (reading a FIFO waits for a writer forever); opened non-blocking so that even
    the open returns at once, and checked on the open file so a swap after the check cannot
    slip one in."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        return f.read()


def _check_job(job: tuple[str, str]) -> list[Diagnostic]:
    """Worker entry point; names the file in any crash so the report says where it happened."""
    path, display = job
    # Parsing makes many small objects that reference counting frees; the cycle collector
    # would only rescan them (about 12% of the time). It runs again between files.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return check_file(path, display)
    except Exception as exc:  # noqa: BLE001 - re-raised with the file name, reported by main
        raise AnalysisCrash(f"{display}: {type(exc).__name__}: {exc}") from None
    finally:
        if gc_was_enabled:
            gc.enable()


def _set_workspace(jobs: Sequence[tuple[str, str]]) -> None:
    """The workspace of a run: the files checked, and the other TIR files of their folders
    (``*.tir``, ``tir-*.txt``), so that checking one changed file still sees its callees."""
    global _WORKSPACE
    from tir_lsp.cross_file import FileSet

    known = {os.path.abspath(path) for path, _ in jobs}
    # Only regular files are read for their functions (a FIFO among the jobs is reported, not read).
    lookup = [job for job in jobs if os.path.isfile(job[0])]
    cwd = Path.cwd()
    for folder in sorted({os.path.dirname(k) for k in known}):
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        for name in names:
            path = os.path.join(folder, name)
            if path not in known and any(fnmatch.fnmatch(name, pat) for pat in DEFAULT_INCLUDE) \
                    and os.path.isfile(path):
                known.add(path)
                lookup.append((path, display_name(Path(path), cwd)))
    _WORKSPACE = FileSet(lookup)


def check_files(jobs: Sequence[tuple[str, str]], workers: int) -> list[Diagnostic]:
    """Check every (path, display name) pair, in parallel when there are enough of them."""
    global _WORKSPACE
    previous = _WORKSPACE
    try:
        if workers <= 1 or len(jobs) <= PARALLEL_MIN_FILES:
            _set_workspace(jobs)
            return [d for job in jobs for d in _check_job(job)]
        # Build the parser once here so forked workers inherit it instead of each building their own.
        _WORKSPACE = None
        _diagnose("", "<warm-up>")
        workers = min(workers, len(jobs))
        chunksize = max(1, len(jobs) // (workers * 4))
        with ProcessPoolExecutor(max_workers=workers, initializer=_set_workspace, initargs=(list(jobs),)) as pool:
            return [d for found in pool.map(_check_job, jobs, chunksize=chunksize) for d in found]
    finally:
        _WORKSPACE = previous


# ---------------------------------------------------------------------------------------------
# Configuration: command line over config file over defaults.


@dataclass
class Settings:
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    error_on: str = ERROR
    include: list[str] = field(default_factory=lambda: list(DEFAULT_INCLUDE))
    exclude: list[str] = field(default_factory=list)
    output_format: str = "text"
    # Include/exclude globs containing "/" are relative to this folder (the config's, or cwd).
    root: Path = field(default_factory=Path.cwd)


def _load_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except OSError as exc:
        raise UsageError(f"cannot read config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"invalid TOML in {path}: {exc}") from None


def _config_table(path: Path) -> dict[str, Any] | None:
    """The tir-lsp settings in ``path``; None for a pyproject.toml without ``[tool.tir-lsp]``."""
    data = _load_toml(path)
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("tir-lsp")
        if table is not None and not isinstance(table, dict):
            raise UsageError(f"{path}: [tool.tir-lsp] must be a table")
        return table
    return data


def find_config(start: Path) -> Path | None:
    """The nearest config from ``start`` upwards; tir-lsp.toml wins over pyproject.toml."""
    for folder in (start, *start.parents):
        own = folder / "tir-lsp.toml"
        if own.is_file():
            return own
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and _config_table(pyproject) is not None:
            return pyproject
    return None


def _string_list(value: Any, key: str, where: Path) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"{where}: '{key}' must be a string or a list of strings")
    return [part.strip() for v in value for part in v.split(",") if part.strip()]


def apply_config(settings: Settings, path: Path) -> None:
    table = _config_table(path) or {}
    unknown = sorted(set(table) - set(CONFIG_KEYS))
    if unknown:
        raise UsageError(f"{path}: unknown key(s) {', '.join(unknown)} (known: {', '.join(CONFIG_KEYS)})")
    settings.root = path.resolve().parent
    if "select" in table:
        settings.select = _string_list(table["select"], "select", path)
    if "ignore" in table:
        settings.ignore = _string_list(table["ignore"], "ignore", path)
    if "include" in table:
        settings.include = _string_list(table["include"], "include", path)
    if "exclude" in table:
        settings.exclude = _string_list(table["exclude"], "exclude", path)
    if "error-on" in table:
        settings.error_on = _choice(table["error-on"], (WARNING, ERROR), f"{path}: 'error-on'")
    if "output-format" in table:
        settings.output_format = _choice(table["output-format"], FORMATS, f"{path}: 'output-format'")


def _choice(value: Any, allowed: Sequence[str], what: str) -> str:
    if value not in allowed:
        raise UsageError(f"{what} must be one of {', '.join(allowed)}, not {value!r}")
    return str(value)


def check_codes(prefixes: Iterable[str], option: str) -> list[str]:
    """Upper-cased code prefixes; each must name at least one known code."""
    checked = []
    for prefix in prefixes:
        p = prefix.strip().upper()
        if p == "ALL":
            p = "TIR"
        if not p.startswith("TIR") or not any(code.startswith(p) for code in CODES):
            raise UsageError(f"{option}: unknown diagnostic code {prefix!r} (codes are TIR001-TIR{max(CODES)[3:]})")
        checked.append(p)
    return checked


def is_selected(code: str, select: Sequence[str], ignore: Sequence[str]) -> bool:
    """Reported when some --select prefix matches (or none is given) and no --ignore prefix does."""
    if select and not any(code.startswith(p) for p in select):
        return False
    return not any(code.startswith(p) for p in ignore)


# ---------------------------------------------------------------------------------------------
# Finding files.


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """A glob over "/"-separated paths: ``*`` and ``?`` stay in one folder, ``**`` spans folders."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 1:]:
            end = pattern.index("]", i + 1)
            body = pattern[i + 1:end].replace("\\", "\\\\")
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


class PathFilter:
    """Include/exclude globs: without "/" a glob matches a file or folder name, with "/" the
    path relative to the settings' root."""

    def __init__(self, include: Sequence[str], exclude: Sequence[str], root: Path) -> None:
        self.root = root
        self.include = [self._compile(g) for g in include]
        self.exclude = [self._compile(g) for g in (*DEFAULT_EXCLUDE, *exclude)]

    @staticmethod
    def _compile(pattern: str) -> tuple[bool, re.Pattern[str]]:
        pattern = pattern.rstrip("/")
        if "/" in pattern:
            return True, _glob_regex(pattern.removeprefix("./"))
        return False, re.compile(fnmatch.translate(pattern))

    def _matches(self, globs: list[tuple[bool, re.Pattern[str]]], path: Path, any_part: bool = False) -> bool:
        rel: str | None = None
        names = [path.name]
        if any_part:  # a folder name excludes everything below it, however the path was found
            absolute = Path(os.path.abspath(path))
            try:
                names = list(absolute.relative_to(Path.cwd()).parts)
            except ValueError:
                names = [p for p in path.parts if p not in (".", "..", path.anchor)]
        for has_slash, rx in globs:
            if not has_slash:
                if any(rx.match(name) for name in names):
                    return True
                continue
            if rel is None:
                absolute = path.absolute()
                try:
                    rel = absolute.relative_to(self.root).as_posix()
                except ValueError:
                    rel = absolute.as_posix()
            if rx.match(rel):
                return True
        return False

    def excluded(self, path: Path) -> bool:
        return self._matches(self.exclude, path, any_part=True)

    def included(self, path: Path) -> bool:
        return self._matches(self.include, path)


def _walk(folder: Path, filters: PathFilter) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not filters.excluded(here / d))
        for name in sorted(filenames):
            p = here / name
            if filters.included(p) and not filters.excluded(p):
                yield p


def collect_files(paths: Sequence[str], filters: PathFilter) -> list[Path]:
    """Files to check, in command-line order, each once. Folders and glob patterns go through
    include/exclude; a file named on the command line is checked unless excluded."""
    found: list[Path] = []
    for arg in paths:
        p = Path(arg)
        if p.is_dir():
            found.extend(_walk(p, filters))
        elif p.exists() or p.is_symlink():
            # A dangling symlink is still a file the user asked about: reported as unreadable.
            if not filters.excluded(p):
                found.append(p)
        elif glob.has_magic(arg):
            matches = sorted(glob.glob(arg, recursive=True))
            if not matches:
                raise UsageError(f"no files match {arg!r}")
            for m in map(Path, matches):
                if m.is_dir():
                    found.extend(_walk(m, filters))
                elif filters.included(m) and not filters.excluded(m):
                    found.append(m)
        else:
            raise UsageError(f"{arg}: no such file or folder")
    unique: dict[str, Path] = {}
    for f in found:
        unique.setdefault(os.path.normcase(os.path.abspath(f)), f)
    return list(unique.values())


def display_name(path: Path, cwd: Path) -> str:
    """The path relative to cwd when it is under it (as every output format reports it)."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(cwd).as_posix()
    except ValueError:
        return absolute.as_posix()


# ---------------------------------------------------------------------------------------------
# Output formats.


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(diags: Sequence[Diagnostic], files_checked: int) -> str:
    checked = f"({_plural(files_checked, 'file')} checked)"
    if not diags:
        return f"All checks passed {checked}."
    counts = [(sum(d.severity == s for d in diags), s) for s in (ERROR, WARNING, INFO)]
    parts = [_plural(n, s) if s != INFO else f"{n} info" for n, s in counts if n]
    files = len({d.file for d in diags})
    return f"Found {', '.join(parts)} in {_plural(files, 'file')} {checked}."


def format_text(diags: Sequence[Diagnostic], files_checked: int) -> str:
    lines = []
    for d in diags:
        lines.append(d.render())
        for r in d.related:
            lines.append(f"{r.file or d.file}:{r.span.line}:{r.span.column}: note: {r.message}")
    lines.append(summary(diags, files_checked))
    return "\n".join(lines) + "\n"


def _span_fields(span: Span) -> dict[str, int]:
    return {"line": span.line, "column": span.column, "end_line": span.end_line, "end_column": span.end_column}


def format_json(diags: Sequence[Diagnostic]) -> str:
    items = []
    for d in diags:
        item: dict[str, Any] = {"file": d.file, **_span_fields(d.span), "severity": d.severity,
                                "code": d.code, "message": d.message}
        item["related"] = [{"file": r.file or d.file, **_span_fields(r.span), "message": r.message}
                           for r in d.related]
        items.append(item)
    return json.dumps(items, indent=2) + "\n"


def _escape_data(s: str) -> str:
    """@actions/core escapeData: the message of a workflow command."""
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(s: str) -> str:
    """@actions/core escapeProperty: a property value of a workflow command."""
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def format_github(diags: Sequence[Diagnostic], files_checked: int) -> str:
    command = {ERROR: "error", WARNING: "warning", INFO: "notice"}
    lines = []
    for d in diags:
        s = d.span
        props = [f"file={_escape_property(d.file or '')}", f"line={s.line}", f"endLine={s.end_line}",
                 f"col={s.column}"]
        if s.end_line == s.line:  # GitHub ignores endColumn on multi-line annotations
            props.append(f"endColumn={s.end_column}")
        props.append(f"title={_escape_property(f'tir-lsp ({d.code})')}")
        message = d.message + "".join(
            f"\n{r.file or d.file}:{r.span.line}:{r.span.column}: {r.message}" for r in d.related)
        lines.append(f"::{command.get(d.severity, 'error')} {','.join(props)}::{_escape_data(message)}")
    lines.append(summary(diags, files_checked))
    return "\n".join(lines) + "\n"


def _rule_name(description: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in re.split(r"[^A-Za-z0-9]+", description) if w)


def _sarif_level(severity: str) -> str:
    return {ERROR: "error", WARNING: "warning"}.get(severity, "note")


def _sarif_location(file: str, span: Span, message: str | None = None, ident: int | None = None) -> dict[str, Any]:
    loc: dict[str, Any] = {}
    if ident is not None:
        loc["id"] = ident
    artifact = {"uri": _uri(file)}
    if not file.startswith("/"):  # relative to the checkout, which code scanning calls %SRCROOT%
        artifact["uriBaseId"] = "%SRCROOT%"
    loc["physicalLocation"] = {
        "artifactLocation": artifact,
        "region": {"startLine": span.line, "startColumn": span.column,
                   "endLine": span.end_line, "endColumn": span.end_column},
    }
    if message is not None:
        loc["message"] = {"text": message}
    return loc


def _uri(file: str) -> str:
    from urllib.parse import quote

    if file.startswith("/"):  # outside the source root: an absolute file URI
        return "file://" + quote(file)
    return quote(file)


def package_version() -> str:
    """The installed distribution's version (a checkout that is not installed says 0.1.0)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tir-lsp")
    except PackageNotFoundError:
        return "0.1.0"


def sarif_log(diags: Sequence[Diagnostic]) -> dict[str, Any]:
    codes = sorted(CODES)
    rule_index = {code: i for i, code in enumerate(codes)}
    rules = [{
        "id": code,
        "name": _rule_name(CODES[code].title),
        "shortDescription": {"text": CODES[code].title},
        "fullDescription": {"text": f"{code}: {CODES[code].meaning}."},
        "defaultConfiguration": {"level": _sarif_level(CODES[code].severity)},
        "helpUri": CODES_HELP_URI,
    } for code in codes]
    results = []
    for d in diags:
        result: dict[str, Any] = {
            "ruleId": d.code,
            "level": _sarif_level(d.severity),
            "message": {"text": d.message},
            "locations": [_sarif_location(d.file or "<input>", d.span)],
        }
        if d.code in rule_index:
            result["ruleIndex"] = rule_index[d.code]
        if d.related:
            result["relatedLocations"] = [_sarif_location(r.file or d.file or "<input>", r.span, r.message, i)
                                          for i, r in enumerate(d.related)]
        results.append(result)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "tir-lsp", "version": package_version(), "informationUri": PROJECT_URL,
                                "rules": rules}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def format_sarif(diags: Sequence[Diagnostic]) -> str:
    return json.dumps(sarif_log(diags), indent=2) + "\n"


# ---------------------------------------------------------------------------------------------
# The command.


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog=PROG,
        description="Report the diagnostics the tir-lsp language server would show, for CI and pre-commit.",
        epilog="Exit codes: 0 nothing at or above --error-on, 1 findings at or above it, 2 usage, "
               "configuration or internal error.")
    ap.add_argument("paths", nargs="*", metavar="PATH",
                    help="files, folders (searched for *.tir and tir-*.txt), glob patterns ('**' spans "
                         "folders), or '-' for standard input (default: .)")
    ap.add_argument("--output-format", choices=FORMATS, help="output format (default: text)")
    ap.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of standard output")
    ap.add_argument("--select", action="append", metavar="CODES",
                    help="report only these codes (comma-separated; prefixes like TIR1 allowed)")
    ap.add_argument("--ignore", action="append", metavar="CODES", help="do not report these codes")
    ap.add_argument("--error-on", choices=(WARNING, ERROR),
                    help="lowest severity that makes the exit code 1 (default: error)")
    ap.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    ap.add_argument("--include", action="append", metavar="GLOB",
                    help="file names to check in folders (repeatable; replaces *.tir, tir-*.txt)")
    ap.add_argument("--exclude", action="append", metavar="GLOB", help="files or folders to skip (repeatable)")
    ap.add_argument("--stdin-filename", metavar="NAME", help="name to report for '-' (standard input)")
    ap.add_argument("--config", metavar="FILE", help="read settings from FILE instead of searching for one")
    ap.add_argument("--no-config", action="store_true", help="ignore tir-lsp.toml and pyproject.toml")
    ap.add_argument("-j", "--jobs", type=int, metavar="N", help="worker processes (default: all cores)")
    return ap


def _split(values: list[str] | None) -> list[str]:
    return [p.strip() for v in values or () for p in v.split(",") if p.strip()]


def settings_from(args: argparse.Namespace, cwd: Path) -> Settings:
    settings = Settings(root=cwd)
    if args.config and args.no_config:
        raise UsageError("--config and --no-config cannot be used together")
    config: Path | None = None
    if args.config:
        config = Path(args.config)
        if not config.is_file():
            raise UsageError(f"config file {args.config} not found")
    elif not args.no_config:
        config = find_config(cwd)
    if config is not None:
        apply_config(settings, config)
    if args.select:
        settings.select = _split(args.select)
    if args.ignore:
        settings.ignore = _split(args.ignore)
    if args.include:
        settings.include = _split(args.include)
    if args.exclude:
        settings.exclude = [*settings.exclude, *_split(args.exclude)]
    if args.error_on:
        settings.error_on = args.error_on
    if args.output_format:
        settings.output_format = args.output_format
    settings.select = check_codes(settings.select, "select")
    settings.ignore = check_codes(settings.ignore, "ignore")
    return settings


def run(argv: list[str] | None, stdin: Any, stdout: TextIO, stderr: TextIO) -> int:
    args = build_parser().parse_args(argv)
    cwd = Path.cwd()
    settings = settings_from(args, cwd)
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    paths = args.paths or ["."]
    if paths.count("-") > 1:
        raise UsageError("'-' (standard input) can be given only once")
    if args.stdin_filename and "-" not in paths:
        raise UsageError("--stdin-filename needs '-' among the paths")

    filters = PathFilter(settings.include, settings.exclude, settings.root)
    files = collect_files([p for p in paths if p != "-"], filters)
    jobs = [(str(f), display_name(f, cwd)) for f in files]
    diags = check_files(jobs, args.jobs or os.cpu_count() or 1)
    checked = len(files)
    if "-" in paths:
        name = args.stdin_filename or "<stdin>"
        diags += check_bytes(stdin.read(), display_name(Path(name), cwd) if args.stdin_filename else name)
        checked += 1

    diags = sorted((d for d in diags if is_selected(d.code, settings.select, settings.ignore)), key=sort_key)
    fmt = settings.output_format
    if fmt == "json":
        report = format_json(diags)
    elif fmt == "sarif":
        report = format_sarif(diags)
    elif fmt == "github":
        report = format_github(diags, checked)
    else:
        report = format_text(diags, checked)
    if checked == 0:
        print(f"{PROG}: warning: no TIR files found", file=stderr)
        if fmt == "text":
            report = ""
    if args.output:
        try:
            Path(args.output).write_text(report, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror}") from None
    else:
        stdout.write(report)
    if fmt in ("json", "sarif") and checked:
        # Machine formats keep their stream clean; the summary is for the person reading the log.
        print(summary(diags, checked), file=stderr)

    threshold = _SEVERITY_RANK[settings.error_on]
    failed = any(_SEVERITY_RANK.get(d.severity, 2) >= threshold for d in diags)
    return 1 if failed and not args.exit_zero else 0


def main(argv: list[str] | None = None) -> int:
    """`tir-lsp check [options] PATH...`; returns the exit code (0 clean, 1 findings, 2 error)."""
    # What the analysis logs (the traceback behind a TIR900 diagnostic) goes to stderr.
    log = logging.StreamHandler(sys.stderr)
    log.setFormatter(logging.Formatter(f"{PROG}: %(message)s"))
    logging.getLogger("tir_lsp").addHandler(log)
    try:
        return run(argv, sys.stdin.buffer, sys.stdout, sys.stderr)
    except SystemExit as exc:  # argparse: --help (0) or a bad option (2, usage already printed)
        return exc.code if isinstance(exc.code, int) else 2
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except AnalysisCrash as exc:
        print(f"{PROG}: internal error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the edge: a message, never a traceback
        print(f"{PROG}: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    finally:
        logging.getLogger("tir_lsp").removeHandler(log)


if __name__ == "__main__":
    sys.exit(main())
