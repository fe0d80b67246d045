// VS Code glue of "TIR: Show Pass Pipeline": one webview panel per TIR document listing the
// passes of the server's `tir.passPipeline` answer, the diff of the chosen pass, and jumps
// from a diff line to the function's definition in the TIR editor. Decisions live in
// pipelineView.ts (no vscode there) so the unit tests cover them.

import { randomBytes } from "crypto";
import * as vscode from "vscode";

import { CommandProtocolError, ServerCommand } from "./commandProtocol";
import { Pipeline, jumpTarget, parseWebviewMessage, renderPipelineHtml, toPipeline } from "./pipelineView";

type Execute = (command: string, args: unknown[]) => Promise<unknown>;

interface PanelState {
  panel: vscode.WebviewPanel;
  pipeline: Pipeline;
  selected: number | undefined;
}

const panels = new Map<string, PanelState>();

/** The first changed pass: what a user opening the view most likely wants to see. */
function firstChanged(pipeline: Pipeline): number | undefined {
  const i = pipeline.passes.findIndex((p) => p.changed);
  return i >= 0 ? i : undefined;
}

function render(state: PanelState): void {
  const nonce = randomBytes(16).toString("hex");
  state.panel.webview.html = renderPipelineHtml(state.pipeline, state.selected, nonce, state.panel.webview.cspSource);
}

async function fetchPipeline(execute: Execute, uri: string): Promise<Pipeline> {
  return toPipeline(await execute(ServerCommand.passPipeline, [uri]));
}

/** Open (or refresh) the pipeline panel of the TIR document `uri`. */
export async function showPassPipeline(execute: Execute, uri: string | undefined): Promise<void> {
  if (uri === undefined) {
    throw new CommandProtocolError("open a TIR file first: the pipeline is the active editor's document's");
  }
  const pipeline = await fetchPipeline(execute, uri);
  const existing = panels.get(uri);
  if (existing !== undefined) {
    existing.pipeline = pipeline;
    if (existing.selected === undefined || existing.selected >= pipeline.passes.length) {
      existing.selected = firstChanged(pipeline);
    }
    render(existing);
    existing.panel.reveal();
    return;
  }
  const panel = vscode.window.createWebviewPanel("tir.passPipeline", `Pipeline: ${pipeline.title}`,
    vscode.ViewColumn.Beside, { enableScripts: true });
  const state: PanelState = { panel, pipeline, selected: firstChanged(pipeline) };
  panels.set(uri, state);
  panel.onDidDispose(() => panels.delete(uri));
  panel.webview.onDidReceiveMessage(async (raw: unknown) => {
    const message = parseWebviewMessage(raw);
    try {
      if (message?.type === "select") {
        state.selected = message.index;
        render(state);
      } else if (message?.type === "refresh") {
        state.pipeline = await fetchPipeline(execute, uri);
        render(state);
      } else if (message?.type === "jump" && state.selected !== undefined) {
        const target = jumpTarget(state.pipeline, state.selected, message.side, message.line);
        if (target === undefined) {
          vscode.window.setStatusBarMessage("TIR: this line is outside every function", 3000);
          return;
        }
        const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(uri));
        const position = new vscode.Position(target.line, 0);
        await vscode.window.showTextDocument(document, {
          viewColumn: vscode.ViewColumn.One,
          selection: new vscode.Range(position, position),
        });
      }
    } catch (error) {
      void vscode.window.showErrorMessage(`TIR: Show Pass Pipeline failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
  render(state);
}
