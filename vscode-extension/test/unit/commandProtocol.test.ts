import * as assert from "assert";

import {
  CommandProtocolError,
  commandFailureMessage,
  commandsLeftToLanguageClient,
  documentCommandArguments,
  exportJson,
  lowerToC,
  planShowTirAfterPass,
  showTirAfterPass,
  toPassList,
  toUntitledDocument,
} from "../../src/commandProtocol";

const URI = "file:///work/a.tir";

describe("commandProtocol", () => {
  describe("documentCommandArguments", () => {
    it("acts on the active document when invoked without arguments", () => {
      assert.deepStrictEqual(documentCommandArguments([], URI), [URI]);
    });

    it("forwards invocation arguments as-is", () => {
      assert.deepStrictEqual(documentCommandArguments([URI, "main", { extra: 1 }], "file:///other.tir"), [URI, "main", { extra: 1 }]);
    });

    it("needs a document when invoked without arguments", () => {
      assert.throws(() => documentCommandArguments([], undefined), CommandProtocolError);
    });
  });

  describe("planShowTirAfterPass", () => {
    it("asks for the pass when only the document is known", () => {
      assert.deepStrictEqual(planShowTirAfterPass([], URI), { kind: "pickPass", uri: URI });
      assert.deepStrictEqual(planShowTirAfterPass(["file:///b.tir"], URI), { kind: "pickPass", uri: "file:///b.tir" });
    });

    it("forwards [uri, pass] as-is", () => {
      assert.deepStrictEqual(planShowTirAfterPass([URI, "FlattenBuffer"], undefined), { kind: "forward", args: [URI, "FlattenBuffer"] });
    });
  });

  describe("toUntitledDocument", () => {
    it("takes the server's title, language and content", () => {
      assert.deepStrictEqual(toUntitledDocument(lowerToC, { title: "a.c", language: "c", content: "int x;\n" }), {
        title: "a.c",
        language: "c",
        content: "int x;\n",
      });
    });

    it("fills a missing title and language from the command", () => {
      assert.deepStrictEqual(toUntitledDocument(exportJson, { content: "{}" }), { title: "Export JSON", language: "json", content: "{}" });
      assert.deepStrictEqual(toUntitledDocument(showTirAfterPass, { content: "", title: null }), {
        title: "Show TIR after pass",
        language: "tir",
        content: "",
      });
    });

    it("rejects answers that are not { title, language, content }", () => {
      const cases: [unknown, RegExp][] = [
        [null, /tir\.lowerToC: the server returned null, expected \{ title: string, language: string, content: string \}/],
        [undefined, /the server returned nothing/],
        [["int x;"], /the server returned \["int x;"\]/],
        [{ title: "a.c" }, /no string "content" \(got nothing\)/],
        [{ content: 42 }, /no string "content" \(got 42\)/],
        [{ content: "", language: 3 }, /"language" should be a string, got 3/],
      ];
      for (const [result, message] of cases) {
        assert.throws(() => toUntitledDocument(lowerToC, result), (error: unknown) => error instanceof CommandProtocolError && message.test(error.message));
      }
    });

    it("keeps error messages short for huge answers", () => {
      assert.throws(
        () => toUntitledDocument(lowerToC, "x".repeat(10000)),
        (error: unknown) => error instanceof Error && error.message.length < 200,
      );
    });
  });

  describe("toPassList", () => {
    it("keeps the pipeline order", () => {
      assert.deepStrictEqual(toPassList(["B", "A"]), ["B", "A"]);
    });

    it("rejects anything but a non-empty string[]", () => {
      assert.throws(() => toPassList({ passes: [] }), /tir\.listPasses: the server returned \{"passes":\[\]\}, expected string\[\]/);
      assert.throws(() => toPassList(["A", 1]), /expected string\[\]/);
      assert.throws(() => toPassList([]), /no passes/);
    });
  });

  it("commandsLeftToLanguageClient drops only the commands the extension owns", () => {
    assert.deepStrictEqual(
      commandsLeftToLanguageClient(["tir.lowerToC", "tir.exportJson", "tir.showTirAfterPass", "tir.restartServer", "tir.listPasses", "tir.fix"]),
      ["tir.listPasses", "tir.fix"],
    );
  });

  it("commandFailureMessage names the command and the cause", () => {
    assert.strictEqual(commandFailureMessage("Lower to C", new Error("boom")), "TIR: Lower to C failed: boom");
    assert.strictEqual(commandFailureMessage("Export JSON", "timeout"), "TIR: Export JSON failed: timeout");
    assert.strictEqual(commandFailureMessage("Export JSON", { code: -32603 }), 'TIR: Export JSON failed: {"code":-32603}');
  });
});
