import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { FakeUri, FakeWorld, loadExtensionWith, settle } from "./fakeVscode";

// An executable that certainly exists, standing in for tir-lsp.
const EXISTING_EXECUTABLE = process.execPath;
const DOCUMENT_URI = "file:///work/examples/matmul.tir";

describe("activate()", () => {
  let world: FakeWorld;
  let loaded: ReturnType<typeof loadExtensionWith>;
  let context: { subscriptions: { dispose(): unknown }[] };

  beforeEach(() => {
    world = new FakeWorld();
    world.settings = { "server.path": EXISTING_EXECUTABLE };
    world.activeEditor = { document: { languageId: "tir", uri: FakeUri.parse(DOCUMENT_URI) } };
    context = { subscriptions: [] };
    loaded = loadExtensionWith(world);
  });

  afterEach(async () => {
    await loaded.extension.deactivate();
    context.subscriptions.forEach((d) => d.dispose());
    loaded.restore();
  });

  it("starts `<tir.server.path> serve` on stdio for tir documents", async () => {
    world.settings["check.select"] = ["TIR101"];
    world.settings["check.ignore"] = ["TIR2"];
    await loaded.extension.activate(context);

    assert.strictEqual(world.clients.length, 1);
    const client = world.lastClient;
    assert.strictEqual(client.id, "tir", "the id makes the client read tir.trace.server");
    assert.deepStrictEqual(client.serverOptions, { command: EXISTING_EXECUTABLE, args: ["serve"] });
    assert.deepStrictEqual(client.clientOptions.documentSelector, [
      { scheme: "file", language: "tir" },
      { scheme: "untitled", language: "tir" },
    ]);
    assert.deepStrictEqual(client.clientOptions.initializationOptions, { check: { select: ["TIR101"], ignore: ["TIR2"] } });
    assert.ok(client.started);
    assert.ok(world.statusItems[0]?.text.includes("TIR"));
    assert.ok(world.statusItems[0]?.text.startsWith("$(check)"), world.statusItems[0]?.text);
    assert.match(String(world.statusItems[0]?.tooltip), /tir-lsp: running/);
  });

  it("registers the five commands", async () => {
    await loaded.extension.activate(context);
    assert.deepStrictEqual(
      [...world.commands.keys()].sort(),
      ["tir.exportJson", "tir.lowerToC", "tir.restartServer", "tir.showPassPipeline", "tir.showTirAfterPass"],
    );
  });

  it("runs `<python> -m tir_lsp serve <extraArgs>` when tir.server.pythonPath is set", async () => {
    world.settings = { "server.path": "/ignored/tir-lsp", "server.pythonPath": EXISTING_EXECUTABLE, "server.extraArgs": ["--log-level", "debug"] };
    await loaded.extension.activate(context);
    assert.deepStrictEqual(world.lastClient.serverOptions, {
      command: EXISTING_EXECUTABLE,
      args: ["-m", "tir_lsp", "serve", "--log-level", "debug"],
    });
  });

  it("finds the README's `.venv/bin/tir-lsp` in a trusted workspace folder when no path is set", async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), "tir-ws-"));
    try {
      const venvBin = path.join(folder, ".venv", "bin");
      fs.mkdirSync(venvBin, { recursive: true });
      fs.writeFileSync(path.join(venvBin, "tir-lsp"), "#!/bin/sh\n", { mode: 0o755 });
      world.settings = {};
      world.workspaceFolders = [folder];
      await loaded.extension.activate(context);
      assert.deepStrictEqual(world.lastClient.serverOptions, { command: path.join(venvBin, "tir-lsp"), args: ["serve"] });
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  it("explains how to install tir-lsp when the executable is missing, with a button to the settings", async () => {
    world.settings = { "server.path": "/nonexistent/bin/tir-lsp" };
    world.errorChoice = "Open Settings";
    await loaded.extension.activate(context);
    await settle();

    assert.strictEqual(world.clients.length, 0, "no client for a command that cannot be spawned");
    assert.strictEqual(world.errorMessages.length, 1);
    const [shown] = world.errorMessages;
    assert.match(shown!.message, /^tir-lsp was not found/);
    assert.match(shown!.message, /README/);
    assert.match(shown!.message, /tir\.server\.path/);
    assert.match(shown!.message, /tir\.server\.pythonPath/);
    assert.deepStrictEqual(shown!.items, ["Open Settings"]);
    assert.deepStrictEqual(world.executedCommands, [{ command: "workbench.action.openSettings", args: ["tir.server"] }]);
    assert.ok(world.statusItems[0]?.text.startsWith("$(error)"));
  });

  it("shows the same explanation when spawning fails with ENOENT after all", async () => {
    world.startError = "Launching server using command tir-lsp failed. Error: spawn tir-lsp ENOENT";
    await loaded.extension.activate(context);
    await settle();
    assert.strictEqual(world.errorMessages.length, 1);
    assert.match(world.errorMessages[0]!.message, /^tir-lsp was not found/);
    assert.ok(world.statusItems[0]?.text.startsWith("$(error)"));
  });

  it("keeps the document commands out of the language client's own command registration", async () => {
    await loaded.extension.activate(context);
    const feature = world.lastClient.getFeature("workspace/executeCommand");
    // What vscode-languageclient does with the server's executeCommandProvider capability.
    const asRegisteredByClient = feature as unknown as { register(data: unknown): void };
    asRegisteredByClient.register({
      id: "static",
      registerOptions: { commands: ["tir.lowerToC", "tir.listPasses", "tir.exportJson", "tir.showTirAfterPass", "tir.applyFix"] },
    });
    assert.deepStrictEqual(feature.registered, [{ id: "static", registerOptions: { commands: ["tir.listPasses", "tir.applyFix"] } }]);
  });

  describe("TIR: Lower to C", () => {
    it("sends the active document's uri and opens the C code as a new untitled document", async () => {
      world.respond = () => ({ title: "matmul.c", language: "c", content: "void main(void) {}\n" });
      await loaded.extension.activate(context);
      await world.commands.get("tir.lowerToC")!();

      assert.deepStrictEqual(world.lastClient.requests, [{ command: "tir.lowerToC", arguments: [DOCUMENT_URI] }]);
      assert.deepStrictEqual(world.openedDocuments, [{ language: "c", content: "void main(void) {}\n" }]);
      assert.strictEqual(world.shownDocuments.length, 1);
      assert.deepStrictEqual(world.errorMessages, []);
    });

    it("forwards the arguments of a server code action as-is", async () => {
      world.respond = () => ({ title: "main.c", language: "c", content: "int x;\n" });
      await loaded.extension.activate(context);
      await world.commands.get("tir.lowerToC")!(DOCUMENT_URI, "main");
      assert.deepStrictEqual(world.lastClient.requests, [{ command: "tir.lowerToC", arguments: [DOCUMENT_URI, "main"] }]);
    });

    it("reports an answer that breaks the contract instead of opening it", async () => {
      world.respond = () => "void main(void) {}";
      await loaded.extension.activate(context);
      await world.commands.get("tir.lowerToC")!();
      assert.deepStrictEqual(world.openedDocuments, []);
      assert.strictEqual(world.errorMessages.length, 1);
      assert.strictEqual(
        world.errorMessages[0]!.message,
        'TIR: Lower to C failed: tir.lowerToC: the server returned "void main(void) {}", expected { title: string, language: string, content: string }',
      );
    });

    it("reports a server error", async () => {
      world.respond = () => {
        throw new Error("TIR101: undefined variable 'n'");
      };
      await loaded.extension.activate(context);
      await world.commands.get("tir.lowerToC")!();
      assert.deepStrictEqual(world.errorMessages.map((m) => m.message), ["TIR: Lower to C failed: TIR101: undefined variable 'n'"]);
    });

    it("asks for a TIR editor when none is active", async () => {
      world.activeEditor = { document: { languageId: "python", uri: FakeUri.parse("file:///x.py") } };
      await loaded.extension.activate(context);
      await world.commands.get("tir.lowerToC")!();
      assert.deepStrictEqual(world.lastClient.requests, []);
      assert.match(world.errorMessages[0]!.message, /open a TIR file first/);
    });
  });

  it("TIR: Export JSON opens the JSON as a new untitled document", async () => {
    world.respond = () => ({ title: "matmul.json", language: "json", content: "{}" });
    await loaded.extension.activate(context);
    await world.commands.get("tir.exportJson")!();
    assert.deepStrictEqual(world.lastClient.requests, [{ command: "tir.exportJson", arguments: [DOCUMENT_URI] }]);
    assert.deepStrictEqual(world.openedDocuments, [{ language: "json", content: "{}" }]);
  });

  describe("TIR: Show TIR after pass...", () => {
    beforeEach(() => {
      world.respond = (params) =>
        params.command === "tir.listPasses"
          ? ["ConvertBlocksToOpaque", "FlattenBuffer", "LowerIntrin"]
          : { title: "after FlattenBuffer", language: "tir", content: "# after FlattenBuffer\n" };
    });

    it("lists the passes, lets the user pick one and opens the TIR after it", async () => {
      world.quickPickChoice = "FlattenBuffer";
      await loaded.extension.activate(context);
      await world.commands.get("tir.showTirAfterPass")!();

      assert.deepStrictEqual(world.lastClient.requests, [
        { command: "tir.listPasses", arguments: [] },
        { command: "tir.showTirAfterPass", arguments: [DOCUMENT_URI, "FlattenBuffer"] },
      ]);
      assert.deepStrictEqual(world.quickPicks[0]!.map((item) => item.label), ["ConvertBlocksToOpaque", "FlattenBuffer", "LowerIntrin"]);
      assert.deepStrictEqual(world.openedDocuments, [{ language: "tir", content: "# after FlattenBuffer\n" }]);
    });

    it("does nothing when the pick is dismissed", async () => {
      world.quickPickChoice = undefined;
      await loaded.extension.activate(context);
      await world.commands.get("tir.showTirAfterPass")!();
      assert.deepStrictEqual(world.lastClient.requests.map((r) => r.command), ["tir.listPasses"]);
      assert.deepStrictEqual(world.openedDocuments, []);
      assert.deepStrictEqual(world.errorMessages, []);
    });

    it("forwards [uri, pass] as-is without asking", async () => {
      await loaded.extension.activate(context);
      await world.commands.get("tir.showTirAfterPass")!(DOCUMENT_URI, "LowerIntrin");
      assert.deepStrictEqual(world.lastClient.requests, [{ command: "tir.showTirAfterPass", arguments: [DOCUMENT_URI, "LowerIntrin"] }]);
      assert.deepStrictEqual(world.quickPicks, []);
    });
  });

  it("TIR: Restart server replaces the client", async () => {
    await loaded.extension.activate(context);
    const first = world.lastClient;
    await world.commands.get("tir.restartServer")!();
    assert.strictEqual(world.clients.length, 2);
    assert.ok(first.disposed);
    assert.ok(world.lastClient.started);
  });

  it("restarts with the new settings when tir.check changes", async () => {
    await loaded.extension.activate(context);
    world.settings["check.ignore"] = ["TIR3"];
    world.changeConfiguration("tir.check.ignore");
    await settle();
    assert.strictEqual(world.clients.length, 2);
    assert.deepStrictEqual(world.lastClient.clientOptions.initializationOptions, { check: { select: [], ignore: ["TIR3"] } });
  });

  it("ignores unrelated setting changes", async () => {
    await loaded.extension.activate(context);
    world.changeConfiguration("editor.fontSize", "tir.trace.server");
    await settle();
    assert.strictEqual(world.clients.length, 1);
  });
});
