// package.json is half of the extension: these checks keep it in step with the code.

import * as assert from "assert";
import * as fs from "fs";
import Module = require("module");
import * as path from "path";

import { COMMANDS_OWNED_BY_CLIENT } from "../../src/commandProtocol";

const root = path.resolve(__dirname, "..", "..");
const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));

describe("package.json", () => {
  it("activates on the tir language explicitly", () => {
    // Implicit activation did not happen in code-server; see REFERENCE.md section 5.
    assert.deepStrictEqual(manifest.activationEvents, ["onLanguage:tir"]);
  });

  it("contributes exactly the commands the extension registers, titled `TIR: ...`", () => {
    const commands: { command: string; title: string; category: string }[] = manifest.contributes.commands;
    assert.deepStrictEqual(commands.map((c) => c.command).sort(), [...COMMANDS_OWNED_BY_CLIENT].sort());
    assert.deepStrictEqual(
      commands.map((c) => `${c.category}: ${c.title}`),
      ["TIR: Lower to C", "TIR: Show TIR after pass...", "TIR: Export JSON", "TIR: Restart server", "TIR: Show Pass Pipeline"],
    );
  });

  it("declares the tir language for *.tir and src/tir-*.txt with its grammar", () => {
    const [language] = manifest.contributes.languages;
    assert.strictEqual(language.id, "tir");
    assert.deepStrictEqual(language.extensions, [".tir"]);
    assert.deepStrictEqual(language.filenamePatterns, ["**/src/tir-*.txt"]);
    assert.ok(fs.existsSync(path.join(root, language.configuration)));
    const [grammar] = manifest.contributes.grammars;
    assert.strictEqual(grammar.scopeName, "source.tir");
    const tmLanguage = JSON.parse(fs.readFileSync(path.join(root, grammar.path), "utf8"));
    assert.strictEqual(tmLanguage.scopeName, "source.tir");
  });

  it("declares every setting the extension reads", () => {
    assert.deepStrictEqual(Object.keys(manifest.contributes.configuration.properties).sort(), [
      "tir.check.ignore",
      "tir.check.select",
      "tir.server.extraArgs",
      "tir.server.path",
      "tir.server.pythonPath",
      "tir.trace.server",
    ]);
    assert.strictEqual(manifest.contributes.configuration.properties["tir.server.path"].default, "tir-lsp");
  });

  it("keeps @types/vscode within engines.vscode (vsce refuses otherwise)", () => {
    assert.strictEqual(manifest.engines.vscode, "^1.82.0");
    assert.strictEqual(manifest.devDependencies["@types/vscode"], "1.82.0");
  });
});

describe("dist/extension.js", () => {
  const bundle = path.join(root, "dist", "extension.js");

  it("bundles the language client and leaves only `vscode` external", function () {
    if (!fs.existsSync(bundle)) {
      this.skip(); // `npm test` builds first; `npm run test:unit` alone may run before a build.
    }
    const text = fs.readFileSync(bundle, "utf8");
    assert.match(text, /require\(["']vscode["']\)/);
    assert.doesNotMatch(text, /require\(["']vscode-languageclient/);
  });

  it("loads against any `vscode` and exports activate/deactivate", function () {
    if (!fs.existsSync(bundle)) {
      this.skip();
    }
    // A Proxy answers every property the bundled language client reads while loading.
    const anything: unknown = new Proxy(function () {}, {
      get: (_target, key) => (typeof key === "symbol" || key === "__esModule" ? undefined : anything),
      apply: () => anything,
      construct: () => anything as object,
    });
    const moduleInternals = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
    const originalLoad = moduleInternals._load;
    moduleInternals._load = function (request: string, ...rest: unknown[]) {
      return request === "vscode" ? anything : originalLoad.call(this, request, ...rest);
    };
    try {
      delete require.cache[bundle];
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const loaded = require(bundle) as Record<string, unknown>;
      assert.strictEqual(typeof loaded.activate, "function");
      assert.strictEqual(typeof loaded.deactivate, "function");
    } finally {
      moduleInternals._load = originalLoad;
      delete require.cache[bundle];
    }
  });
});
