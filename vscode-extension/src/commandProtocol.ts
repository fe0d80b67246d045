// The `workspace/executeCommand` contract between this extension and tir-lsp: which commands
// exist, what arguments they take and what they return. No `import "vscode"` here: the unit
// tests load this module directly.

/** Commands the extension registers in VS Code (and handles itself). */
export const ClientCommand = {
  lowerToC: "tir.lowerToC",
  showTirAfterPass: "tir.showTirAfterPass",
  exportJson: "tir.exportJson",
  restartServer: "tir.restartServer",
  showPassPipeline: "tir.showPassPipeline",
} as const;

/** Commands the extension sends to the server with `workspace/executeCommand`. */
export const ServerCommand = {
  lowerToC: "tir.lowerToC",
  showTirAfterPass: "tir.showTirAfterPass",
  exportJson: "tir.exportJson",
  listPasses: "tir.listPasses",
  passPipeline: "tir.passPipeline",
} as const;

/** A document-producing server command and how to present it. */
export interface DocumentCommand {
  /** The command sent to the server (the VS Code command has the same id). */
  command: string;
  /** Human name for messages, e.g. "Lower to C". */
  label: string;
  /** The language the result is expected in, used when the server leaves it out. */
  language: string;
}

export const lowerToC: DocumentCommand = { command: ServerCommand.lowerToC, label: "Lower to C", language: "c" };
export const exportJson: DocumentCommand = { command: ServerCommand.exportJson, label: "Export JSON", language: "json" };
export const showTirAfterPass: DocumentCommand = {
  command: ServerCommand.showTirAfterPass,
  label: "Show TIR after pass",
  language: "tir",
};

/**
 * The server also advertises these in `executeCommandProvider.commands`; vscode-languageclient
 * would then register VS Code commands with the same ids and fail with "command already exists".
 * The extension owns them because it must open the returned document.
 */
export const COMMANDS_OWNED_BY_CLIENT: readonly string[] = [
  ClientCommand.lowerToC,
  ClientCommand.showTirAfterPass,
  ClientCommand.exportJson,
  ClientCommand.restartServer,
  ClientCommand.showPassPipeline,
];

/** `commands` minus the ones the extension registers itself. */
export function commandsLeftToLanguageClient(commands: readonly string[]): string[] {
  return commands.filter((command) => !COMMANDS_OWNED_BY_CLIENT.includes(command));
}

/** Raised when a command cannot be run or the server's answer breaks the contract. */
export class CommandProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CommandProtocolError";
  }
}

/**
 * Arguments for a document command. A command invoked with arguments (e.g. from a server code
 * action) forwards them as-is; invoked bare (command palette, keybinding) it acts on the active
 * document: `[uri]`.
 */
export function documentCommandArguments(invocationArgs: readonly unknown[], activeDocumentUri: string | undefined): unknown[] {
  if (invocationArgs.length > 0) {
    return [...invocationArgs];
  }
  if (activeDocumentUri === undefined) {
    throw new CommandProtocolError("open a TIR file first: the command acts on the active editor's document");
  }
  return [activeDocumentUri];
}

/**
 * What "Show TIR after pass" still needs after looking at its invocation arguments:
 * `[uri, passName]` is complete and forwarded as-is; `[uri]` or no arguments (active document)
 * means the user picks the pass.
 */
export type ShowTirAfterPassPlan = { kind: "forward"; args: unknown[] } | { kind: "pickPass"; uri: unknown };

export function planShowTirAfterPass(invocationArgs: readonly unknown[], activeDocumentUri: string | undefined): ShowTirAfterPassPlan {
  if (invocationArgs.length >= 2) {
    return { kind: "forward", args: [...invocationArgs] };
  }
  const [uri] = documentCommandArguments(invocationArgs, activeDocumentUri);
  return { kind: "pickPass", uri };
}

/** A new untitled document to open with the content the server returned. */
export interface UntitledDocumentSpec {
  title: string;
  language: string;
  content: string;
}

/**
 * Checks the server's `{ title, language, content }` answer. `content` is required; a missing
 * `language` or `title` falls back to the command's defaults; anything else is a
 * CommandProtocolError naming the command and what came back.
 */
export function toUntitledDocument(spec: DocumentCommand, result: unknown): UntitledDocumentSpec {
  const expected = "{ title: string, language: string, content: string }";
  if (typeof result !== "object" || result === null || Array.isArray(result)) {
    throw new CommandProtocolError(`${spec.command}: the server returned ${describe(result)}, expected ${expected}`);
  }
  const record = result as Record<string, unknown>;
  if (typeof record.content !== "string") {
    throw new CommandProtocolError(`${spec.command}: the server's answer has no string "content" (got ${describe(record.content)}), expected ${expected}`);
  }
  for (const key of ["title", "language"] as const) {
    if (record[key] !== undefined && record[key] !== null && typeof record[key] !== "string") {
      throw new CommandProtocolError(`${spec.command}: "${key}" should be a string, got ${describe(record[key])}`);
    }
  }
  const language = typeof record.language === "string" && record.language !== "" ? record.language : spec.language;
  const title = typeof record.title === "string" && record.title !== "" ? record.title : spec.label;
  return { title, language, content: record.content };
}

/** Checks the `tir.listPasses` answer: the pass names in pipeline order. */
export function toPassList(result: unknown): string[] {
  if (!Array.isArray(result) || !result.every((item) => typeof item === "string")) {
    throw new CommandProtocolError(`${ServerCommand.listPasses}: the server returned ${describe(result)}, expected string[]`);
  }
  if (result.length === 0) {
    throw new CommandProtocolError(`${ServerCommand.listPasses}: the server reported no passes`);
  }
  return [...result];
}

/** The message shown when a command fails, whatever failed (server error, bad answer, no editor). */
export function commandFailureMessage(label: string, error: unknown): string {
  const text = error instanceof Error ? error.message : typeof error === "string" ? error : describe(error);
  return `TIR: ${label} failed: ${text}`;
}

/** A short, bounded rendering of an unexpected value for error messages. */
function describe(value: unknown): string {
  if (value === undefined) {
    return "nothing";
  }
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
