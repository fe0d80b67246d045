// Drives a real VS Code (code-server, started by run.sh) in headless chromium with the TIR
// extension installed, checks what tir-lsp shows, and saves the README screenshots.
//
// Environment (set by run.sh): TIR_E2E_URL (workbench URL with ?folder=), TIR_E2E_PLAYWRIGHT
// (a directory whose node_modules holds playwright-core), TIR_E2E_CHROMIUM, TIR_E2E_SHOTS
// (where the PNGs go), TIR_E2E_RUN (scratch directory for failure.png).
// Prints one JSON line with every check, exits 1 if any failed.

import { createRequire } from "node:module";
import * as path from "node:path";

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`e2e.mjs: ${name} is not set (run it through run.sh)`);
    process.exit(2);
  }
  return value;
};
const URL = env("TIR_E2E_URL");
const SHOTS = env("TIR_E2E_SHOTS");
const RUN = env("TIR_E2E_RUN");
// playwright-core lives in the cache, not in the repository: resolve it from there.
const require = createRequire(path.join(env("TIR_E2E_PLAYWRIGHT"), "node_modules", "_.js"));
const { chromium } = require("playwright-core");

const checks = [];
function check(name, ok, detail) {
  checks.push({ name, ok: Boolean(ok), detail });
  console.error(`${ok ? "PASS" : "FAIL"} ${name}${detail === undefined ? "" : `: ${JSON.stringify(detail)}`}`);
  return Boolean(ok);
}
// Monaco renders spaces as U+00A0; compare on plain text.
const plain = (text) => (text ?? "").replace(/\u00a0/g, " ");

const EDITOR = ".editor-group-container.active .editor-instance .monaco-editor";
const HOVER = ".monaco-hover:not(.hidden) .monaco-hover-content";

async function openFromExplorer(page, name) {
  const row = page.locator(".explorer-folders-view .monaco-list-row", { hasText: name }).first();
  await row.waitFor({ state: "visible", timeout: 30_000 });
  await row.click();
  await page.locator(`.tabs-container .tab.active`, { hasText: name }).waitFor({ timeout: 15_000 });
  await page.locator(`${EDITOR} .view-lines`).first().waitFor({ timeout: 15_000 });
}

/** The status bar's language mode, once it is `want` (it updates shortly after a tab opens). */
async function languageMode(page, want) {
  const item = page.locator("#status\\.editor\\.mode");
  let mode = "";
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; await page.waitForTimeout(250)) {
    mode = plain(await item.innerText({ timeout: 5_000 }).catch(() => "")).trim();
    if (mode === want) {
      break;
    }
  }
  return mode;
}

async function gotoPosition(page, line, column) {
  await page.locator(`${EDITOR} .view-lines`).first().click();
  await page.keyboard.press("Control+G");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible", timeout: 10_000 });
  await input.fill(`:${line}:${column}`);
  await page.keyboard.press("Enter");
  await page.locator(".quick-input-widget").waitFor({ state: "hidden", timeout: 10_000 });
}

/** Show Hover (Ctrl+K Ctrl+I) at the cursor; returns the hover text, "" when none appeared. */
async function showHover(page, mustContain) {
  for (let attempt = 0; attempt < 5; attempt++) {
    await page.keyboard.press("Control+K");
    await page.keyboard.press("Control+I");
    const hover = page.locator(HOVER).first();
    try {
      await hover.waitFor({ state: "visible", timeout: 5_000 });
      // The hover first shows "Loading..." until the server answers.
      // Parts arrive separately (diagnostic, server hover, quick fixes): wait until the text has
      // been the same for 1.5 s, so the screenshot shows the whole hover.
      const deadline = Date.now() + 15_000;
      let text = "";
      let since = Date.now();
      while (Date.now() < deadline) {
        const now = plain(await page.locator(HOVER).allInnerTexts().then((t) => t.join("\n")));
        if (now !== text) {
          text = now;
          since = Date.now();
        }
        const pending = /Loading\.\.\.|Checking for quick fixes/.test(text);
        if (!pending && (!mustContain || text.includes(mustContain)) && Date.now() - since >= 1_500) {
          return text;
        }
        await page.waitForTimeout(250);
      }
      if (text) {
        return text;
      }
    } catch {
      // The server may still be starting: try again.
    }
    await page.keyboard.press("Escape");
    await page.waitForTimeout(1_000);
  }
  return "";
}

async function runCommand(page, title) {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible", timeout: 10_000 });
  await input.fill(`>${title}`);
  const row = page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first();
  await row.waitFor({ state: "visible", timeout: 10_000 });
  await row.click();
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.TIR_E2E_CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on("console", (msg) => msg.type() === "error" && consoleErrors.push(msg.text().slice(0, 200)));
  const started = Date.now();
  try {
    await page.goto(URL, { waitUntil: "domcontentloaded", timeout: 60_000 });
    await page.locator(".monaco-workbench").waitFor({ timeout: 60_000 });
    check("workbench loaded", true);
    // An empty secondary side bar (chat) takes a third of the window in the screenshots.
    if (await page.locator(".part.auxiliarybar").isVisible().catch(() => false)) {
      await runCommand(page, "View: Close Secondary Side Bar").catch(() => page.keyboard.press("Escape"));
    }

    // 1. sample.tir: the extension's language, the server's TIR010 squiggle, hover on a buffer.
    await openFromExplorer(page, "sample.tir");
    const tirMode = await languageMode(page, "TIR");
    check("sample.tir language mode is TIR", tirMode === "TIR", tirMode);
    const squiggle = page.locator(`${EDITOR} .squiggly-error`).first();
    const hasSquiggle = await squiggle.waitFor({ timeout: 60_000 }).then(() => true, () => false);
    check("sample.tir has an error squiggle (server diagnostics arrive)", hasSquiggle);
    // Line 9 is `            B[i] = A[i] + T.float32(1.0)`: column 20 is the buffer `A`.
    await gotoPosition(page, 9, 20);
    const hover = await showHover(page, "T.Buffer");
    check("hover on A shows its declaration T.Buffer((16,), \"float32\")",
      hover.includes("T.Buffer((16,), \"float32\")"), hover);
    check("hover shows shape (16,) and dtype float32", hover.includes("(16,)") && hover.includes("float32"));
    await page.screenshot({ path: path.join(SHOTS, "vscode-hover.png") });
    await page.keyboard.press("Escape");

    // 2. calling_conv.tir: TIR101 in the Problems panel and in the hover on the call.
    await openFromExplorer(page, "calling_conv.tir");
    const squiggle2 = await page.locator(`${EDITOR} .squiggly-error`).first()
      .waitFor({ timeout: 30_000 }).then(() => true, () => false);
    check("calling_conv.tir has an error squiggle", squiggle2);
    await page.keyboard.press("Control+Shift+M");
    const markers = page.locator(".markers-panel .monaco-list-row");
    await markers.filter({ hasText: "TIR101" }).first().waitFor({ timeout: 15_000 }).catch(() => {});
    const problems = plain((await markers.allInnerTexts()).join("\n"));
    check("Problems panel lists TIR101 (call_extern of a packed function)",
      /TIR101/.test(problems) && /packed/.test(problems), problems);
    check("Problems panel lists TIR010 (undefined name 'factor' in sample.tir)",
      /TIR010/.test(problems) && /factor/.test(problems));
    // Line 14 is `        T.evaluate(T.call_extern("int32", "add", a, b))`; column 20 is in `call_extern`.
    await gotoPosition(page, 14, 20);
    const diagHover = await showHover(page, "TIR101");
    check("hover on the call shows the TIR101 message", /TIR101/.test(diagHover) && /packed/.test(diagHover), diagHover);
    await page.screenshot({ path: path.join(SHOTS, "vscode-diagnostic.png") });
    await page.keyboard.press("Escape");

    // 3. vector_add.tir (no errors): TIR: Lower to C opens an untitled C document.
    await page.keyboard.press("Control+J"); // toggles the panel: hide Problems, give the C code room
    await openFromExplorer(page, "vector_add.tir");
    await page.waitForTimeout(1_000); // let the server analyse the file before lowering it
    await runCommand(page, "TIR: Lower to C");
    const untitled = await page.locator(".tabs-container .tab.active", { hasText: "Untitled" })
      .waitFor({ timeout: 30_000 }).then(() => true, () => false);
    check("Lower to C opens an untitled editor", untitled);
    const mode = await languageMode(page, "C");
    check("the new document's language is C", mode === "C", mode);
    const cText = plain((await page.locator(`${EDITOR} .view-lines`).first().innerText().catch(() => "")));
    check("the C document contains int32_t", cText.includes("int32_t"), cText.split("\n").slice(0, 6).join("\n"));
    await page.screenshot({ path: path.join(SHOTS, "vscode-lower-to-c.png") });

    // 4. vector_add.tir: TIR: Show Pass Pipeline lists the passes (unchanged ones greyed) and
    // shows the first changed pass's diff; clicking its `def` line goes to the source function.
    await openFromExplorer(page, "vector_add.tir");
    await page.keyboard.press("Control+B"); // hide the side bar: the panel opens beside the editor
    await runCommand(page, "TIR: Show Pass Pipeline");
    const view = page.frameLocator("iframe.webview.ready").frameLocator("iframe#active-frame");
    const passItems = view.locator("li.pass");
    const listed = await passItems.first().waitFor({ timeout: 30_000 }).then(() => true, () => false);
    const names = listed ? (await passItems.allInnerTexts()).map((t) => plain(t).trim()) : [];
    check("the pipeline panel lists the passes in order", names.length === 10 && /LowerInitBlock/.test(names[0])
      && /MakePackedAPI/.test(names[8]), names);
    const greyed = await view.locator("li.pass.unchanged").count();
    check("unchanged passes are greyed (9 of 10 for vector_add)", greyed === 9, greyed);
    const selectedPass = plain(await view.locator("li.pass.selected").innerText().catch(() => "")).trim();
    check("the first changed pass (MakePackedAPI) is shown", /MakePackedAPI/.test(selectedPass), selectedPass);
    const added = await view.locator(".row.added").count();
    check("its diff has added lines", added > 0, added);
    await page.screenshot({ path: path.join(SHOTS, "vscode-pass-pipeline.png") });
    await view.locator(".row", { hasText: "def add_one(" }).first().click();
    const tab = await page.locator(".tabs-container .tab.active", { hasText: "vector_add.tir" })
      .waitFor({ timeout: 15_000 }).then(() => true, () => false);
    const where = plain(await page.locator("#status\\.editor\\.selection").innerText().catch(() => "")).trim();
    check("clicking the def line jumps to add_one in vector_add.tir", tab && /Ln 7,/.test(where), where);
  } catch (error) {
    check("no exception", false, String(error).slice(0, 500));
    await page.screenshot({ path: path.join(RUN, "failure.png") }).catch(() => {});
  } finally {
    await browser.close();
  }
  const ok = checks.every((c) => c.ok);
  console.log(JSON.stringify({ ok, seconds: Math.round((Date.now() - started) / 1000),
    checks: checks.map(({ name, ok }) => ({ name, ok })), consoleErrors }));
  process.exit(ok ? 0 : 1);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
