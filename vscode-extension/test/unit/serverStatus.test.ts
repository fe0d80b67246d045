import * as assert from "assert";

import { statusPresentation } from "../../src/serverStatus";

describe("statusPresentation", () => {
  it("shows each state with its icon and the command line in the tooltip", () => {
    assert.deepStrictEqual(statusPresentation("running", "tir-lsp serve"), {
      text: "$(check) TIR",
      tooltip: "tir-lsp: running\ntir-lsp serve\nClick to restart the server.",
    });
    assert.strictEqual(statusPresentation("starting", "").text, "$(sync~spin) TIR");
    assert.strictEqual(statusPresentation("stopped", "").tooltip, "tir-lsp: stopped\nClick to (re)start the server.");
    assert.strictEqual(statusPresentation("error", "tir-lsp was not found").text, "$(error) TIR");
  });
});
