// VS Code glue: starts tir-lsp, shows its state in the status bar and turns the server's
// document-producing commands into untitled editors. The decisions live in the vscode-free
// modules (serverOptions, commandProtocol, serverStatus) so the unit tests can cover them.

import * as vscode from "vscode";
import {
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
} from "vscode-languageclient/node";

import {
  ClientCommand,
  CommandProtocolError,
  DocumentCommand,
  ServerCommand,
  UntitledDocumentSpec,
  commandFailureMessage,
  commandsLeftToLanguageClient,
  documentCommandArguments,
  exportJson,
  lowerToC,
  planShowTirAfterPass,
  showTirAfterPass,
  toPassList,
  toUntitledDocument,
} from "./commandProtocol";
import {
  ServerCommandLine,
  buildInitializationOptions,
  findExecutable,
  formatCommandLine,
  isExecutableNotFoundError,
  readServerSettings,
  resolveServerCommand,
  serverNotFoundMessage,
} from "./serverOptions";
import { showPassPipeline } from "./pipelinePanel";
import { ServerState, statusPresentation } from "./serverStatus";

const LANGUAGE_ID = "tir";
const OPEN_SETTINGS = "Open Settings";

let client: LanguageClient | undefined;
let outputChannel: vscode.OutputChannel | undefined;
let statusItem: vscode.StatusBarItem | undefined;
// Start/stop requests run one after another so that quick setting changes cannot interleave them.
let lifecycle: Promise<void> = Promise.resolve();

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  outputChannel = vscode.window.createOutputChannel("TIR Language Server");
  statusItem = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
  statusItem.name = "TIR Language Server";
  statusItem.command = ClientCommand.restartServer;
  context.subscriptions.push(
    outputChannel,
    statusItem,
    vscode.commands.registerCommand(ClientCommand.lowerToC, (...args: unknown[]) => runDocumentCommand(lowerToC, args)),
    vscode.commands.registerCommand(ClientCommand.exportJson, (...args: unknown[]) => runDocumentCommand(exportJson, args)),
    vscode.commands.registerCommand(ClientCommand.showTirAfterPass, (...args: unknown[]) => runShowTirAfterPass(args)),
    vscode.commands.registerCommand(ClientCommand.restartServer, () => restartServer()),
    vscode.commands.registerCommand(ClientCommand.showPassPipeline, (...args: unknown[]) => runShowPassPipeline(args)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("tir.server") || event.affectsConfiguration("tir.check")) {
        void restartServer();
      }
    }),
  );
  await restartServer();
}

export function deactivate(): Promise<void> {
  return enqueue(stopServer);
}

function restartServer(): Promise<void> {
  return enqueue(async () => {
    await stopServer();
    await startServer();
  });
}

function enqueue(step: () => Promise<void>): Promise<void> {
  lifecycle = lifecycle.then(step, step);
  return lifecycle;
}

async function startServer(): Promise<void> {
  const settings = readServerSettings((key) => vscode.workspace.getConfiguration("tir").get(key));
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === "file").map((f) => f.uri.fsPath);
  const command = resolveServerCommand(settings, { folders, trusted: vscode.workspace.isTrusted === true });
  const commandLine = formatCommandLine(command);
  if (findExecutable(command.command) === undefined) {
    showStatus("error", `${command.command} was not found`);
    void showServerNotFound(command);
    return;
  }
  // No `transport`: with TransportKind.stdio the client would append `--stdio` to the arguments.
  const serverOptions: ServerOptions = { command: command.command, args: command.args };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: LANGUAGE_ID },
      { scheme: "untitled", language: LANGUAGE_ID },
    ],
    initializationOptions: buildInitializationOptions(settings),
    outputChannel,
  };
  // The id "tir" makes the client read the `tir.trace.server` setting.
  const started = new LanguageClient("tir", "TIR Language Server", serverOptions, clientOptions);
  keepDocumentCommandsForExtension(started);
  started.onDidChangeState((event) => {
    if (client === started) {
      showStatus(stateName(event.newState), commandLine);
    }
  });
  client = started;
  showStatus("starting", commandLine);
  try {
    await started.start();
    showStatus("running", commandLine);
  } catch (error) {
    showStatus("error", `${commandLine}\n${error instanceof Error ? error.message : String(error)}`);
    if (isExecutableNotFoundError(error)) {
      void showServerNotFound(command);
    }
  }
}

async function stopServer(): Promise<void> {
  const stopping = client;
  client = undefined;
  if (stopping === undefined) {
    return;
  }
  try {
    await stopping.dispose();
  } catch (error) {
    // A client whose start failed has nothing to shut down; stopping it may still throw.
    outputChannel?.appendLine(`Stopping the server: ${error instanceof Error ? error.message : String(error)}`);
  }
  showStatus("stopped", "");
}

/**
 * The server lists tir.lowerToC & co. in `executeCommandProvider`; left alone, the language
 * client would register VS Code commands with the same ids (clashing with ours) that drop the
 * server's answer instead of opening it. Ours forward to the server and open the result.
 */
function keepDocumentCommandsForExtension(languageClient: LanguageClient): void {
  const feature = languageClient.getFeature(ExecuteCommandRequest.method);
  const register = feature.register.bind(feature);
  feature.register = (data) =>
    register({
      ...data,
      registerOptions: { ...data.registerOptions, commands: commandsLeftToLanguageClient(data.registerOptions.commands ?? []) },
    });
}

function stateName(state: State): ServerState {
  switch (state) {
    case State.Starting:
      return "starting";
    case State.Running:
      return "running";
    default:
      return "stopped";
  }
}

function showStatus(state: ServerState, detail: string): void {
  if (statusItem === undefined) {
    return;
  }
  const { text, tooltip } = statusPresentation(state, detail);
  statusItem.text = text;
  statusItem.tooltip = tooltip;
  statusItem.backgroundColor = state === "error" ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
  statusItem.show();
}

async function showServerNotFound(command: ServerCommandLine): Promise<void> {
  const choice = await vscode.window.showErrorMessage(serverNotFoundMessage(command), OPEN_SETTINGS);
  if (choice === OPEN_SETTINGS) {
    await vscode.commands.executeCommand("workbench.action.openSettings", "tir.server");
  }
}

async function runDocumentCommand(spec: DocumentCommand, invocationArgs: unknown[]): Promise<void> {
  try {
    const args = documentCommandArguments(serializable(invocationArgs), activeTirDocumentUri());
    await openUntitled(toUntitledDocument(spec, await executeOnServer(spec.command, args)));
  } catch (error) {
    void vscode.window.showErrorMessage(commandFailureMessage(spec.label, error));
  }
}

async function runShowTirAfterPass(invocationArgs: unknown[]): Promise<void> {
  try {
    const plan = planShowTirAfterPass(serializable(invocationArgs), activeTirDocumentUri());
    let args: unknown[];
    if (plan.kind === "forward") {
      args = plan.args;
    } else {
      const passes = toPassList(await executeOnServer(ServerCommand.listPasses, []));
      const picked = await vscode.window.showQuickPick(
        passes.map((name, index) => ({ label: name, description: `${index + 1} of ${passes.length}` })),
        { placeHolder: "Show the TIR after which pass?" },
      );
      if (picked === undefined) {
        return;
      }
      args = [plan.uri, picked.label];
    }
    await openUntitled(toUntitledDocument(showTirAfterPass, await executeOnServer(showTirAfterPass.command, args)));
  } catch (error) {
    void vscode.window.showErrorMessage(commandFailureMessage(showTirAfterPass.label, error));
  }
}

/** The pass pipeline panel of the document named by the first argument (a URI), else of the active TIR editor's. */
async function runShowPassPipeline(invocationArgs: unknown[]): Promise<void> {
  try {
    const [uri] = documentCommandArguments(serializable(invocationArgs), activeTirDocumentUri());
    await showPassPipeline(executeOnServer, typeof uri === "string" ? uri : undefined);
  } catch (error) {
    void vscode.window.showErrorMessage(commandFailureMessage("Show Pass Pipeline", error));
  }
}

async function executeOnServer(command: string, args: unknown[]): Promise<unknown> {
  if (client === undefined || !client.isRunning()) {
    throw new CommandProtocolError("the TIR language server is not running (click the TIR status bar item to restart it)");
  }
  return client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
}

/** Never writes a file: the result opens as a new untitled editor. */
async function openUntitled(spec: UntitledDocumentSpec): Promise<void> {
  const document = await vscode.workspace.openTextDocument({ language: spec.language, content: spec.content });
  await vscode.window.showTextDocument(document, { preview: false });
  // Untitled documents opened with content cannot be named, so the title goes to the status bar.
  vscode.window.setStatusBarMessage(`TIR: ${spec.title}`, 5000);
}

function activeTirDocumentUri(): string | undefined {
  const document = vscode.window.activeTextEditor?.document;
  return document !== undefined && document.languageId === LANGUAGE_ID ? document.uri.toString() : undefined;
}

/** Menus pass `vscode.Uri` objects; the server expects URIs as strings. */
function serializable(args: unknown[]): unknown[] {
  return args.map((arg) => (arg instanceof vscode.Uri ? arg.toString() : arg));
}
