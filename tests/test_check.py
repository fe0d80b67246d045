"""`tir-lsp check`: formats, exit codes, configuration, file discovery, parallel determinism."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tir_lsp import check
from tir_lsp.compiler.diagnostics import CODES, Diagnostic, Related, sort_key
from tir_lsp.compiler.ir.span import Span

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "tvm"
SARIF_SCHEMA = REPO / "tests" / "data" / "sarif-schema-2.1.0.json"

GOOD = '''from tvm.script import tir as T

@T.prim_func
def main(A: T.Buffer((4,), "float32")):
    for i in range(4):
        A[i] = A[i] + T.float32(1)
'''
# A syntax error: TIR001 at 1:5.
BAD = "x = \n"
# An undefined buffer: TIR010 (error) at 6:16.
UNDEFINED = GOOD.replace("A[i] + T.float32(1)", "B[i]")
# An unknown builtin: TIR004 (a warning) at 6:16.
WARNS = GOOD.replace("A[i] + T.float32(1)", "T.frobnicate(A[i])")


def cli(*args: str, cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """The real command, as CI runs it."""
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-m", "tir_lsp.check", *args], cwd=cwd, env=env, input=stdin,
                          capture_output=True, timeout=120, check=False)
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode(), proc.stderr.decode())


def run_main(args: list[str], cwd: Path, capsys: pytest.CaptureFixture[str],
             monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    monkeypatch.chdir(cwd)
    code = check.main([*args, "--no-config"] if "--config" not in args else args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "good.tir").write_text(GOOD)
    (tmp_path / "src" / "bad.tir").write_text(BAD)
    (tmp_path / "src" / "undefined.tir").write_text(UNDEFINED)
    (tmp_path / "src" / "warns.tir").write_text(WARNS)
    return tmp_path


def expected(files: dict[str, str]) -> list[Diagnostic]:
    """What the language server would publish for these documents, in report order."""
    diags = [d for name, text in files.items() for d in check._diagnose(text, name)]
    return sorted(diags, key=sort_key)


# ---------------------------------------------------------------------------------------------
# Formats


def test_text_format_is_gcc_style_sorted_with_summary(project: Path, capsys, monkeypatch) -> None:
    code, out, _ = run_main(["src"], project, capsys, monkeypatch)
    want = expected({"src/bad.tir": BAD, "src/good.tir": GOOD, "src/undefined.tir": UNDEFINED,
                     "src/warns.tir": WARNS})
    lines = out.splitlines()
    assert lines[:-1] == [d.render() for d in want]
    # The three findings the snippets were written for are among them, at their exact places.
    assert "src/bad.tir:1:5: error: unexpected end of line; expected an expression [TIR001]" in lines
    assert "src/undefined.tir:6:16: error: undefined buffer 'B' [TIR010]" in lines
    assert "src/warns.tir:6:16: warning: unknown builtin T.frobnicate [TIR004]" in lines
    errors = sum(d.severity == "error" for d in want)
    warnings = sum(d.severity == "warning" for d in want)
    assert lines[-1] == (f"Found {errors} errors, {warnings} warning{'s' if warnings > 1 else ''} "
                         f"in 3 files (4 files checked).")
    assert code == 1


def test_clean_run_says_all_checks_passed(project: Path, capsys, monkeypatch) -> None:
    code, out, _ = run_main(["src/good.tir"], project, capsys, monkeypatch)
    assert (code, out) == (0, "All checks passed (1 file checked).\n")


def test_json_format_has_one_based_positions(project: Path, capsys, monkeypatch) -> None:
    code, out, err = run_main(["--output-format", "json", "src/bad.tir", "src/warns.tir"], project, capsys,
                              monkeypatch)
    items = json.loads(out)
    assert {k: items[0][k] for k in ("file", "line", "column", "end_line", "end_column", "severity", "code")} == {
        "file": "src/bad.tir", "line": 1, "column": 5, "end_line": 1, "end_column": 6, "severity": "error",
        "code": "TIR001"}
    assert items[0]["message"] == "unexpected end of line; expected an expression"
    assert [(i["file"], i["code"], i["severity"]) for i in items] == [
        (d.file, d.code, d.severity) for d in expected({"src/bad.tir": BAD, "src/warns.tir": WARNS})]
    assert list(items[0]) == ["file", "line", "column", "end_line", "end_column", "severity", "code", "message",
                              "related"]
    assert err.startswith("Found ")  # the summary stays out of the machine-readable stream
    assert code == 1


def test_sarif_is_valid_and_describes_every_code(project: Path, capsys, monkeypatch) -> None:
    code, out, _ = run_main(["--output-format", "sarif", "src"], project, capsys, monkeypatch)
    log = json.loads(out)
    schema = json.loads(SARIF_SCHEMA.read_text())
    # Not check_schema(): upstream's own `language` pattern "^(?i)..." is not a valid Python regex.
    jsonschema.Draft202012Validator(schema).validate(log)
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "tir-lsp" and driver["informationUri"].startswith("https://")
    rules = driver["rules"]
    assert [r["id"] for r in rules] == sorted(CODES)
    by_id = {r["id"]: r for r in rules}
    assert by_id["TIR001"]["shortDescription"] == {"text": "syntax error"}
    assert by_id["TIR001"]["name"] == "SyntaxError"
    assert by_id["TIR004"]["defaultConfiguration"] == {"level": "warning"}
    assert all(r["helpUri"].startswith("https://") and "#" in r["helpUri"] for r in rules)
    results = run["results"]
    bad = next(r for r in results if r["ruleId"] == "TIR001")
    assert rules[bad["ruleIndex"]]["id"] == "TIR001"
    assert bad["level"] == "error"
    assert bad["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "src/bad.tir", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 1, "startColumn": 5, "endLine": 1, "endColumn": 6}}
    assert next(r for r in results if r["ruleId"] == "TIR004")["level"] == "warning"
    assert code == 1


def test_sarif_related_locations_and_rejects_a_bad_level() -> None:
    d = Diagnostic("TIR011", "name 'x' defined twice", Span(5, 9, 5, 10), file="a b.tir",
                   related=(Related(Span(2, 5, 2, 6), "first defined here"),))
    log = check.sarif_log([d])
    validator = jsonschema.Draft202012Validator(json.loads(SARIF_SCHEMA.read_text()))
    validator.validate(log)
    result = log["runs"][0]["results"][0]
    assert result["relatedLocations"] == [{
        "id": 0,
        "physicalLocation": {"artifactLocation": {"uri": "a%20b.tir", "uriBaseId": "%SRCROOT%"},
                             "region": {"startLine": 2, "startColumn": 5, "endLine": 2, "endColumn": 6}},
        "message": {"text": "first defined here"}}]
    # The vendored schema does reject what GitHub would reject.
    result["level"] = "fatal"
    assert not validator.is_valid(log)


def test_github_format_uses_workflow_commands(project: Path, capsys, monkeypatch) -> None:
    code, out, _ = run_main(["--output-format", "github", "src/bad.tir", "src/warns.tir"], project, capsys,
                            monkeypatch)
    lines = out.splitlines()
    assert lines[0] == ("::error file=src/bad.tir,line=1,endLine=1,col=5,endColumn=6,title=tir-lsp (TIR001)"
                        "::unexpected end of line; expected an expression")
    assert ("::warning file=src/warns.tir,line=6,endLine=6,col=16,endColumn=28,title=tir-lsp (TIR004)"
            "::unknown builtin T.frobnicate") in lines
    assert lines[-1].startswith("Found ")
    assert code == 1


def test_github_escaping_follows_actions_core() -> None:
    assert check._escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert check._escape_property("a:b,c%d\n") == "a%3Ab%2Cc%25d%0A"
    d = Diagnostic("TIR011", "twice: x, y", Span(3, 1, 4, 2), file="dir,1/f:2.tir",
                   related=(Related(Span(1, 1, 1, 2), "first"),))
    line = check.format_github([d], 1).splitlines()[0]
    # Multi-line span: no endColumn (GitHub ignores it there); related places go on extra lines.
    assert line == ("::error file=dir%2C1/f%3A2.tir,line=3,endLine=4,col=1,title=tir-lsp (TIR011)"
                    "::twice: x, y%0Adir,1/f:2.tir:1:1: first")


def test_output_file(project: Path, capsys, monkeypatch) -> None:
    code, out, _ = run_main(["--output-format", "json", "-o", "report.json", "src/good.tir"], project, capsys,
                            monkeypatch)
    assert (code, out) == (0, "")
    assert json.loads((project / "report.json").read_text()) == []


# ---------------------------------------------------------------------------------------------
# Exit codes (the real command in a subprocess)


def test_exit_codes(project: Path) -> None:
    src = project / "src"
    assert cli("good.tir", cwd=src).returncode == 0
    assert cli("bad.tir", cwd=src).returncode == 1
    # A warning alone passes by default and fails with --error-on warning.
    assert cli("warns.tir", cwd=src).returncode == 0
    assert cli("--error-on", "warning", "warns.tir", cwd=src).returncode == 1
    assert cli("--exit-zero", "bad.tir", cwd=src).returncode == 0


def test_usage_errors_exit_2_with_a_message(project: Path) -> None:
    missing = cli("nope.tir", cwd=project)
    assert missing.returncode == 2 and "nope.tir: no such file or folder" in missing.stderr
    unknown = cli("--select", "TIR999", "src", cwd=project)
    assert unknown.returncode == 2 and "unknown diagnostic code 'TIR999'" in unknown.stderr
    bad_option = cli("--output-format", "xml", "src", cwd=project)
    assert bad_option.returncode == 2 and "invalid choice" in bad_option.stderr
    (project / "tir-lsp.toml").write_text('select = ["TIR0"]\nbogus = 1\n')
    bad_config = cli("src", cwd=project)
    assert bad_config.returncode == 2 and "unknown key(s) bogus" in bad_config.stderr
    (project / "tir-lsp.toml").write_text("select = [\n")
    broken = cli("src", cwd=project)
    assert broken.returncode == 2 and "invalid TOML" in broken.stderr
    for proc in (missing, unknown, bad_config, broken):
        assert "Traceback" not in proc.stderr


def test_internal_error_is_a_message_not_a_traceback(project: Path, capsys, monkeypatch) -> None:
    def explode(text: str, filename: str) -> list[Diagnostic]:
        raise ValueError("boom")

    monkeypatch.setattr(check, "_diagnose", explode)
    code, out, err = run_main(["src/good.tir"], project, capsys, monkeypatch)
    assert (code, out) == (2, "")
    assert err == "tir-lsp check: internal error: src/good.tir: ValueError: boom\n"


# boom is the function whose checks the tests below make crash.
TWO_FUNCTIONS = (REPO / "tests" / "data" / "two_functions.tir").read_text()


def _crash_on_boom(monkeypatch: pytest.MonkeyPatch) -> None:
    from tir_lsp.compiler.analysis import semantic

    real = semantic.check_function

    def check_function(func, *args, **kwargs):  # type: ignore[no-untyped-def]
        if func.name == "boom":
            raise KeyError("forced by the test")
        return real(func, *args, **kwargs)

    monkeypatch.setattr(semantic, "check_function", check_function)


def test_a_function_whose_check_crashes_is_a_tir900_at_its_name(tmp_path: Path, capsys, monkeypatch) -> None:
    _crash_on_boom(monkeypatch)
    (tmp_path / "two.tir").write_text(TWO_FUNCTIONS)
    code, out, err = run_main(["two.tir"], tmp_path, capsys, monkeypatch)
    assert code == 1
    # The other function is still checked; the crash is at boom's name, not a lost file.
    assert out.splitlines()[:4] == [
        ("two.tir:6:9: warning: store of a float32 value into buffer 'A' of dtype float16 without a cast; it is "
         'converted implicitly: write T.Cast("float16", ...) if that is meant [TIR013]'),
        "two.tir:4:7: note: buffer 'A' declared here as float16 with shape (4)",
        ("two.tir:10:5: error: internal error while checking function 'boom' (KeyError: 'forced by the test'); its "
         "other diagnostics may be missing. This is a bug in tir-lsp: the traceback is in the log. [TIR900]"),
        "Found 1 error, 1 warning in 1 file (1 file checked)."]
    assert err.startswith("tir-lsp check: internal error while checking function 'boom' in two.tir: KeyError: ")
    assert "Traceback (most recent call last)" in err and err.rstrip().endswith("KeyError: 'forced by the test'")


def test_the_server_reports_a_crashing_check_as_check_does(monkeypatch) -> None:
    """The differential fuzz target's promise, on a crash: the server's document (fresh and
    after an edit) and `tir-lsp check` give the same diagnostics."""
    from tests.fuzzing.targets import _comparable, _earlier_version
    from tir_lsp.documents import Document

    _crash_on_boom(monkeypatch)
    checked = check.check_bytes(TWO_FUNCTIONS.encode(), "two.tir")
    assert [d.code for d in checked] == ["TIR013", "TIR900"]
    fresh = Document("file:///two.tir", "two.tir").updated(TWO_FUNCTIONS, 1)
    edited = fresh.updated(_earlier_version(TWO_FUNCTIONS), 2).updated(TWO_FUNCTIONS, 3)
    assert _comparable(fresh.diagnostics) == _comparable(edited.diagnostics) == _comparable(checked)


# ---------------------------------------------------------------------------------------------
# Inputs: stdin, unreadable, binary and non-UTF-8 files, empty folders, discovery


def test_stdin_with_stdin_filename(project: Path) -> None:
    proc = cli("-", "--stdin-filename", "src/typed.tir", cwd=project, stdin=BAD.encode())
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        "src/typed.tir:1:5: error: unexpected end of line; expected an expression [TIR001]",
        "Found 1 error in 1 file (1 file checked).",
    ]
    anonymous = cli("-", cwd=project, stdin=GOOD.encode())
    assert (anonymous.returncode, anonymous.stdout) == (0, "All checks passed (1 file checked).\n")


def test_unreadable_file_is_tir006(tmp_path: Path, capsys, monkeypatch) -> None:
    # chmod 000 does not stop root (CI); a dangling symlink cannot be read by anyone.
    (tmp_path / "gone.tir").symlink_to(tmp_path / "missing-target.tir")
    code, out, _ = run_main(["."], tmp_path, capsys, monkeypatch)
    assert out.splitlines() == [
        "gone.tir:1:1: error: cannot read file: No such file or directory [TIR006]",
        "Found 1 error in 1 file (1 file checked).",
    ]
    assert code == 1
    # Named explicitly, it is reported the same way rather than as a missing path.
    code, out, _ = run_main(["gone.tir"], tmp_path, capsys, monkeypatch)
    assert code == 1 and out.startswith("gone.tir:1:1: error: cannot read file")


def test_binary_and_non_utf8_files_are_tir006(tmp_path: Path, capsys, monkeypatch) -> None:
    (tmp_path / "binary.tir").write_bytes(b"x = 1\n\x00\x01\x02")
    (tmp_path / "latin1.tir").write_bytes(b"# caf\xe9\n")
    code, out, _ = run_main(["."], tmp_path, capsys, monkeypatch)
    assert out.splitlines() == [
        "binary.tir:2:1: error: file contains a NUL byte [TIR006]",
        "latin1.tir:1:6: error: file is not valid UTF-8 (byte 0xe9) [TIR006]",
        "Found 2 errors in 2 files (2 files checked).",
    ]
    assert code == 1


def test_empty_folder_warns_and_passes(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not TIR")
    proc = cli("empty", cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (0, "")
    assert proc.stderr == "tir-lsp check: warning: no TIR files found\n"
    sarif = cli("--output-format", "sarif", "empty", cwd=tmp_path)
    assert sarif.returncode == 0 and json.loads(sarif.stdout)["runs"][0]["results"] == []


def test_discovery_include_exclude_and_globs(tmp_path: Path, capsys, monkeypatch) -> None:
    for rel in ("a.tir", "tir-dump.txt", "notes.txt", "deep/x/b.tir", "vendor/c.tir", ".git/d.tir",
                "node_modules/e.tir", "other/f.tirx"):
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(GOOD)

    def checked(*args: str) -> str:
        code, out, _ = run_main(list(args), tmp_path, capsys, monkeypatch)
        assert code == 0
        return out.splitlines()[-1]

    # a.tir, tir-dump.txt, deep/x/b.tir, vendor/c.tir; not .git, node_modules, notes.txt, f.tirx.
    assert checked(".") == "All checks passed (4 files checked)."
    assert checked("--exclude", "vendor", ".") == "All checks passed (3 files checked)."
    assert checked("--exclude", "deep/**", "--exclude", "vendor/c.tir", ".") == \
        "All checks passed (2 files checked)."
    assert checked("--include", "*.tirx", ".") == "All checks passed (1 file checked)."
    # a.tir, deep/x/b.tir, vendor/c.tir: the glob skips hidden folders, node_modules is excluded.
    assert checked("**/*.tir") == "All checks passed (3 files checked)."
    assert checked("deep/**/b.tir", "a.tir", "a.tir") == "All checks passed (2 files checked)."
    proc = cli("nomatch/**/*.tir", cwd=tmp_path)
    assert proc.returncode == 2 and "no files match" in proc.stderr


def test_paths_are_reported_relative_to_cwd_when_under_it(project: Path, capsys, monkeypatch) -> None:
    code, out, _ = run_main([str(project / "src" / "bad.tir")], project / "src", capsys, monkeypatch)
    assert code == 1 and out.startswith("bad.tir:1:5: error:")
    outside = project / "outside.tir"
    outside.write_text(BAD)
    code, out, _ = run_main([str(outside)], project / "src", capsys, monkeypatch)
    assert out.startswith(f"{outside.as_posix()}:1:5: error:")


# ---------------------------------------------------------------------------------------------
# Selection and configuration


def test_select_and_ignore_with_prefixes(project: Path, capsys, monkeypatch) -> None:
    def codes(*args: str) -> set[str]:
        _, out, _ = run_main(["--output-format", "json", *args, "src"], project, capsys, monkeypatch)
        return {d["code"] for d in json.loads(out)}

    everything = codes()
    assert {"TIR001", "TIR004", "TIR010"} <= everything
    assert codes("--select", "TIR001,TIR004") == {"TIR001", "TIR004"}
    assert codes("--select", "TIR01") == {c for c in everything if c.startswith("TIR01")}
    assert codes("--ignore", "TIR004", "--ignore", "TIR001") == everything - {"TIR001", "TIR004"}
    assert codes("--select", "TIR1") == set()
    code, _, _ = run_main(["--select", "TIR004", "src"], project, capsys, monkeypatch)
    assert code == 0  # only a warning left, below the default threshold


def test_config_precedence(project: Path) -> None:
    sub = project / "src"
    # pyproject.toml [tool.tir-lsp], found from a subfolder.
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.tir-lsp]\nignore = ["TIR001"]\n'
                                            'output-format = "json"\n')
    found = {d["code"] for d in json.loads(cli(".", cwd=sub).stdout)}
    assert "TIR001" not in found and "TIR010" in found
    # tir-lsp.toml in the same folder wins over pyproject.toml.
    (project / "tir-lsp.toml").write_text('select = ["TIR004"]\nerror-on = "warning"\n')
    proc = cli(".", cwd=sub)
    assert proc.stdout.splitlines() == ["warns.tir:6:16: warning: unknown builtin T.frobnicate [TIR004]",
                                        "Found 1 warning in 1 file (4 files checked)."]
    assert proc.returncode == 1  # error-on = "warning" from the file
    # The command line wins over the file.
    proc = cli("--select", "TIR001", "--error-on", "error", "--output-format", "github", ".", cwd=sub)
    assert proc.stdout.startswith("::error file=bad.tir,line=1,") and proc.returncode == 1
    proc = cli("--error-on", "error", ".", cwd=sub)
    assert proc.returncode == 0
    # --config names the file; a pyproject.toml without [tool.tir-lsp] is skipped by the search.
    (sub / "pyproject.toml").write_text('[project]\nname = "y"\n')
    (project / "strict.toml").write_text('select = ["TIR010"]\n')
    assert cli(".", cwd=sub).stdout.startswith("warns.tir:6:16")  # still the parent's tir-lsp.toml
    proc = cli("--config", "../strict.toml", ".", cwd=sub)
    assert proc.stdout.splitlines()[0] == "undefined.tir:6:16: error: undefined buffer 'B' [TIR010]"
    assert cli("--config", "../missing.toml", ".", cwd=sub).returncode == 2


def test_config_globs_are_relative_to_the_config_folder(project: Path) -> None:
    (project / "tir-lsp.toml").write_text('exclude = ["src/bad.tir", "src/undefined.tir"]\n')
    proc = cli(".", cwd=project / "src")
    assert proc.returncode == 0 and proc.stdout.endswith("(2 files checked).\n")


# ---------------------------------------------------------------------------------------------
# Parallel runs, start-up, packaging


def test_jobs_1_and_2_give_identical_output(tmp_path: Path) -> None:
    corpus = sorted(FIXTURES.glob("*/*/*.tir"))[:24]
    assert len(corpus) == 24
    for i, f in enumerate(corpus):
        shutil.copy(f, tmp_path / f"{i:02d}_{f.name}")
    (tmp_path / "zz_bad.tir").write_text(BAD)
    (tmp_path / "aa_warns.tir").write_text(WARNS)
    one = cli("--jobs", "1", "--output-format", "json", ".", cwd=tmp_path)
    two = cli("--jobs", "2", "--output-format", "json", ".", cwd=tmp_path)
    assert one.returncode == two.returncode == 1
    assert one.stdout == two.stdout
    assert one.stderr == two.stderr
    assert {d["file"] for d in json.loads(one.stdout)} >= {"zz_bad.tir", "aa_warns.tir"}


def test_checker_does_not_import_the_server_stack() -> None:
    code = ("import sys, tir_lsp.check; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pygls', 'lsprotocol', 'tir_lsp') "
            "and not m.startswith('tir_lsp.compiler')))")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['tir_lsp', 'tir_lsp.check']"


def test_pre_commit_hook_matches_tir_files() -> None:
    text = (REPO / ".pre-commit-hooks.yaml").read_text()
    assert "id: tir-lsp-check" in text and "entry: tir-lsp check" in text and "language: python" in text
    pattern = re.search(r"files: '(.*)'", text).group(1)
    matches = [p for p in ("a.tir", "x/y/b.tir", "tir-dump.txt", "x/tir-dump.txt", "x/notir-a.txt",
                           "a.tirx", "tir-x/readme.txt") if re.search(pattern, p)]
    assert matches == ["a.tir", "x/y/b.tir", "tir-dump.txt", "x/tir-dump.txt"]


def test_docs_list_every_diagnostic_code() -> None:
    docs = [p for p in (REPO / "README.md", REPO / "docs" / "check.md") if p.exists()]
    text = "\n".join(p.read_text() for p in docs)
    assert "## Diagnostic codes" in text or "### Diagnostic codes" in text
    missing = [c for c in CODES if f"| `{c}` |" not in text]
    assert missing == [], "add these codes to the 'Diagnostic codes' table (README / docs/check.md)"


def test_same_diagnostics_as_the_language_server_documents() -> None:
    """The checker's one analysis call agrees with what the server's incremental documents
    publish, on a slice of the TVM corpus and on the snippets above."""
    from tir_lsp.documents import Document

    def key(d: Diagnostic) -> tuple[object, ...]:
        return (d.span.line, d.span.column, d.span.end_line, d.span.end_column, d.code, d.message, d.severity)

    texts = {str(f): f.read_text() for f in sorted(FIXTURES.glob("*/*/*.tir"))[::15]}
    texts.update({"bad.tir": BAD, "undefined.tir": UNDEFINED, "warns.tir": WARNS, "good.tir": GOOD})
    assert len(texts) > 80
    for name, text in texts.items():
        server = Document("file:///" + name, name).updated(text).diagnostics
        assert sorted(map(key, check._diagnose(text, name))) == sorted(map(key, server)), name
