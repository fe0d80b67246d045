import * as assert from "assert";

import {
  buildInitializationOptions,
  findExecutable,
  formatCommandLine,
  isExecutableNotFoundError,
  readServerSettings,
  resolveServerCommand,
  serverNotFoundMessage,
} from "../../src/serverOptions";

const settingsFrom = (values: Record<string, unknown>) => readServerSettings((key) => values[key]);

describe("serverOptions", () => {
  describe("readServerSettings", () => {
    it("defaults to `tir-lsp` with no extra arguments and no check filters", () => {
      assert.deepStrictEqual(settingsFrom({}), { path: "tir-lsp", pythonPath: "", extraArgs: [], checkSelect: [], checkIgnore: [] });
    });

    it("treats a blank path as the default and trims values", () => {
      const settings = settingsFrom({ "server.path": "  ", "server.pythonPath": " /usr/bin/python3 " });
      assert.strictEqual(settings.path, "tir-lsp");
      assert.strictEqual(settings.pythonPath, "/usr/bin/python3");
    });

    it("keeps only the non-empty strings of list settings and ignores mistyped values", () => {
      const settings = settingsFrom({ "server.extraArgs": ["--log-level", 3, "", "debug"], "check.select": "TIR101", "check.ignore": ["TIR2", null] });
      assert.deepStrictEqual(settings.extraArgs, ["--log-level", "debug"]);
      assert.deepStrictEqual(settings.checkSelect, []);
      assert.deepStrictEqual(settings.checkIgnore, ["TIR2"]);
    });
  });

  describe("resolveServerCommand", () => {
    it("runs `tir-lsp serve` by default", () => {
      assert.deepStrictEqual(resolveServerCommand(settingsFrom({})), { command: "tir-lsp", args: ["serve"] });
    });

    it("runs the configured executable with the extra arguments after `serve`", () => {
      const command = resolveServerCommand(settingsFrom({ "server.path": "/opt/tir/bin/tir-lsp", "server.extraArgs": ["--log-file", "/tmp/tir.log"] }));
      assert.deepStrictEqual(command, { command: "/opt/tir/bin/tir-lsp", args: ["serve", "--log-file", "/tmp/tir.log"] });
    });

    describe("the README's virtual environment in the workspace", () => {
      const files = new Set(["/work/proj/.venv/bin/tir-lsp", "C:\\proj\\.venv\\Scripts\\tir-lsp.exe"]);
      const linux = { env: { PATH: "/usr/bin" }, platform: "linux" as const, isExecutable: (f: string) => files.has(f) };

      it("runs `<folder>/.venv/bin/tir-lsp` of a trusted workspace when no path is configured", () => {
        const command = resolveServerCommand(settingsFrom({}), { folders: ["/work/other", "/work/proj"], trusted: true }, linux);
        assert.deepStrictEqual(command, { command: "/work/proj/.venv/bin/tir-lsp", args: ["serve"] });
      });

      it("finds .venv\\Scripts\\tir-lsp.exe on Windows", () => {
        const windows = { env: {}, platform: "win32" as const, isExecutable: (f: string) => files.has(f) };
        const command = resolveServerCommand(settingsFrom({}), { folders: ["C:\\proj"], trusted: true }, windows);
        assert.strictEqual(command.command, "C:\\proj\\.venv\\Scripts\\tir-lsp.exe");
      });

      it("never runs a workspace's executable in an untrusted workspace", () => {
        const command = resolveServerCommand(settingsFrom({}), { folders: ["/work/proj"], trusted: false }, linux);
        assert.deepStrictEqual(command, { command: "tir-lsp", args: ["serve"] });
      });

      it("leaves a configured path or Python alone", () => {
        const workspace = { folders: ["/work/proj"], trusted: true };
        assert.strictEqual(resolveServerCommand(settingsFrom({ "server.path": "/opt/tir-lsp" }), workspace, linux).command, "/opt/tir-lsp");
        assert.strictEqual(resolveServerCommand(settingsFrom({ "server.pythonPath": "/usr/bin/python3" }), workspace, linux).command, "/usr/bin/python3");
      });

      it("falls back to `tir-lsp` on PATH when the folder has no venv", () => {
        const command = resolveServerCommand(settingsFrom({}), { folders: ["/work/other"], trusted: true }, linux);
        assert.deepStrictEqual(command, { command: "tir-lsp", args: ["serve"] });
      });
    });

    it("prefers `<python> -m tir_lsp serve` when a Python is configured", () => {
      const command = resolveServerCommand(settingsFrom({ "server.path": "tir-lsp", "server.pythonPath": "/venv/bin/python", "server.extraArgs": ["-v"] }));
      assert.deepStrictEqual(command, { command: "/venv/bin/python", args: ["-m", "tir_lsp", "serve", "-v"] });
    });
  });

  it("buildInitializationOptions sends the check filters as {check: {select, ignore}}", () => {
    const options = buildInitializationOptions(settingsFrom({ "check.select": ["TIR1"], "check.ignore": ["TIR101", "TIR102"] }));
    assert.deepStrictEqual(options, { check: { select: ["TIR1"], ignore: ["TIR101", "TIR102"] } });
  });

  it("formatCommandLine quotes arguments with spaces", () => {
    assert.strictEqual(formatCommandLine({ command: "/My Tools/python", args: ["-m", "tir_lsp", "serve"] }), '"/My Tools/python" -m tir_lsp serve');
  });

  describe("findExecutable", () => {
    const files = new Set(["/usr/bin/tir-lsp", "/home/me/venv/bin/python", "C:\\Tools\\tir-lsp.EXE"]);
    const posix = { env: { PATH: "/bin::/usr/bin" }, platform: "linux" as const, isExecutable: (f: string) => files.has(f) };

    it("searches a bare name on PATH", () => {
      assert.strictEqual(findExecutable("tir-lsp", posix), "/usr/bin/tir-lsp");
      assert.strictEqual(findExecutable("tirc", posix), undefined);
    });

    it("checks a path as is, without PATH", () => {
      assert.strictEqual(findExecutable("/home/me/venv/bin/python", posix), "/home/me/venv/bin/python");
      assert.strictEqual(findExecutable("/usr/local/bin/tir-lsp", posix), undefined);
    });

    it("tries PATHEXT on Windows", () => {
      const windows = { env: { Path: "C:\\Windows;C:\\Tools", PATHEXT: ".COM;.EXE" }, platform: "win32" as const, isExecutable: (f: string) => files.has(f) };
      assert.strictEqual(findExecutable("tir-lsp", windows), "C:\\Tools\\tir-lsp.EXE");
    });

    it("finds a real executable with the default lookup", () => {
      assert.strictEqual(findExecutable(process.execPath), process.execPath);
    });
  });

  it("serverNotFoundMessage says what was tried and how to fix it", () => {
    assert.strictEqual(
      serverNotFoundMessage({ command: "tir-lsp", args: ["serve"] }),
      "tir-lsp was not found (tried `tir-lsp serve`). Install it as the repository's README says (a trusted " +
        "workspace's `.venv/bin/tir-lsp` is found), or set `tir.server.path` / `tir.server.pythonPath`.",
    );
  });

  describe("isExecutableNotFoundError", () => {
    it("recognizes spawn errors and the language client's message", () => {
      assert.ok(isExecutableNotFoundError(Object.assign(new Error("spawn tir-lsp ENOENT"), { code: "ENOENT" })));
      assert.ok(isExecutableNotFoundError("Launching server using command tir-lsp failed. Error: spawn tir-lsp ENOENT"));
    });

    it("does not mistake other failures", () => {
      assert.ok(!isExecutableNotFoundError(new Error("Connection to server got closed.")));
      assert.ok(!isExecutableNotFoundError(undefined));
    });
  });
});
