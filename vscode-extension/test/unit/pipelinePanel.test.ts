// "TIR: Show Pass Pipeline" end to end against the fakes: the command asks the server for the
// pipeline of the active document, opens a webview listing the passes, and the webview's
// messages select a pass and jump to the source.

import * as assert from "assert";

import { FakeUri, FakeWorld, loadExtensionWith, settle } from "./fakeVscode";

const DOCUMENT_URI = "file:///work/examples/two.tir";
const fn = (name: string, startLine: number, endLine: number, sourceLine: number | null) => ({ name, startLine, endLine, sourceLine });
const ANSWER = {
  title: "two.pipeline",
  input: { text: "def f():\n    a = 1\ndef g():\n    b = 2\n", functions: [fn("f", 0, 2, 10), fn("g", 2, 4, 20)] },
  passes: [
    { name: "LowerInitBlock", changed: false, text: null, functions: null, before: -1, after: -1, omitted: false },
    { name: "Simplify", changed: true, text: "def f():\n    a = 1\ndef g():\n    b = 3\n", functions: [fn("f", 0, 2, 10), fn("g", 2, 4, 20)], before: -1, after: 1, omitted: false },
  ],
  omittedNote: null,
};

describe("TIR: Show Pass Pipeline", () => {
  let world: FakeWorld;
  let loaded: ReturnType<typeof loadExtensionWith>;
  let context: { subscriptions: { dispose(): unknown }[] };

  beforeEach(async () => {
    world = new FakeWorld();
    world.settings = { "server.path": process.execPath };
    world.activeEditor = { document: { languageId: "tir", uri: FakeUri.parse(DOCUMENT_URI) } };
    world.respond = () => ANSWER;
    context = { subscriptions: [] };
    loaded = loadExtensionWith(world);
    await loaded.extension.activate(context);
  });

  afterEach(async () => {
    world.webviewPanels.forEach((p) => p.dispose());
    await loaded.extension.deactivate();
    context.subscriptions.forEach((d) => d.dispose());
    loaded.restore();
  });

  it("asks the server once and lists the passes with the first changed one open", async () => {
    await world.commands.get("tir.showPassPipeline")?.();
    assert.deepStrictEqual(world.lastClient.requests, [{ command: "tir.passPipeline", arguments: [DOCUMENT_URI] }]);
    assert.strictEqual(world.webviewPanels.length, 1);
    const html = world.webviewPanels[0].webview.html;
    assert.match(html, /<li class="pass unchanged" data-index="0"/);
    assert.match(html, /<li class="pass changed selected" data-index="1"/);
    assert.match(html, /<div class="row removed" data-side="before" data-line="3">.*<code>    b = 2<\/code>/);
    assert.deepStrictEqual(world.errorMessages, []);
  });

  it("selects a pass and jumps from a stage line to the function in the source", async () => {
    await world.commands.get("tir.showPassPipeline")?.();
    const panel = world.webviewPanels[0];
    await panel.post({ type: "select", index: 0 });
    assert.match(panel.webview.html, /<li class="pass unchanged selected" data-index="0"/);
    assert.match(panel.webview.html, /did not change the module/);
    await panel.post({ type: "select", index: 1 });
    await panel.post({ type: "jump", side: "after", line: 3 });
    await settle();
    assert.strictEqual(String((world.shownDocuments[0] as { uri: FakeUri }).uri), DOCUMENT_URI);
    const options = world.shownOptions[0] as { selection: { start: { line: number } } };
    assert.strictEqual(options.selection.start.line, 20); // g's definition
  });

  it("shows the pipeline of a document given as the argument (a menu's URI)", async () => {
    world.activeEditor = undefined;
    await world.commands.get("tir.showPassPipeline")?.(FakeUri.parse("file:///work/examples/other.tir"));
    assert.deepStrictEqual(world.lastClient.requests, [{ command: "tir.passPipeline", arguments: ["file:///work/examples/other.tir"] }]);
    assert.strictEqual(world.webviewPanels.length, 1);
    assert.deepStrictEqual(world.errorMessages, []);
  });

  it("reuses the panel of the document and refreshes it", async () => {
    await world.commands.get("tir.showPassPipeline")?.();
    await world.commands.get("tir.showPassPipeline")?.();
    assert.strictEqual(world.webviewPanels.length, 1);
    assert.strictEqual(world.webviewPanels[0].revealed, 1);
    await world.webviewPanels[0].post({ type: "refresh" });
    assert.strictEqual(world.lastClient.requests.length, 3);
  });

  it("reports a server error and a malformed answer instead of opening a panel", async () => {
    world.respond = () => {
      throw new Error("x.tir:9:20: error: undefined buffer 'B' [TIR010]");
    };
    await world.commands.get("tir.showPassPipeline")?.();
    world.respond = () => ({ passes: [] });
    await world.commands.get("tir.showPassPipeline")?.();
    assert.deepStrictEqual(world.errorMessages.map((m) => m.message), [
      "TIR: Show Pass Pipeline failed: x.tir:9:20: error: undefined buffer 'B' [TIR010]",
      "TIR: Show Pass Pipeline failed: the server's pass pipeline is malformed: no input stage",
    ]);
    assert.strictEqual(world.webviewPanels.length, 0);
  });
});
