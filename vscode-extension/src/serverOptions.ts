// How to start tir-lsp, derived from the `tir.*` settings.
// No `import "vscode"` here: the unit tests load this module directly.

import * as fs from "fs";
import * as path from "path";

/** The `tir.*` settings that decide how the server is started. */
export interface ServerSettings {
  /** `tir.server.path`: the tir-lsp executable (a name on PATH or a path). */
  path: string;
  /** `tir.server.pythonPath`: when non-empty, run `<pythonPath> -m tir_lsp serve` instead. */
  pythonPath: string;
  /** `tir.server.extraArgs`: appended after `serve`. */
  extraArgs: string[];
  /** `tir.check.select`: diagnostic codes to enable (empty: the server's default). */
  checkSelect: string[];
  /** `tir.check.ignore`: diagnostic codes to silence. */
  checkIgnore: string[];
}

/** An executable and its arguments; the server speaks LSP on its stdin/stdout. */
export interface ServerCommandLine {
  command: string;
  args: string[];
}

/** What the client sends as `initializationOptions` in the `initialize` request. */
export interface InitializationOptions {
  check: { select: string[]; ignore: string[] };
}

export const DEFAULT_SERVER_PATH = "tir-lsp";

/**
 * Reads the settings through `get` (e.g. `(key) => vscode.workspace.getConfiguration("tir").get(key)`),
 * tolerating missing or mistyped values: a wrong type falls back to the default, and string lists
 * keep only their non-empty strings.
 */
export function readServerSettings(get: (key: string) => unknown): ServerSettings {
  return {
    path: stringSetting(get("server.path")) || DEFAULT_SERVER_PATH,
    pythonPath: stringSetting(get("server.pythonPath")),
    extraArgs: stringListSetting(get("server.extraArgs")),
    checkSelect: stringListSetting(get("check.select")),
    checkIgnore: stringListSetting(get("check.ignore")),
  };
}

function stringSetting(value: unknown): string {
  return typeof value === "string" ? value.trim() : "";
}

function stringListSetting(value: unknown): string[] {
  if (!Array.isArray(value)) {
    return [];
  }
  return value.filter((item): item is string => typeof item === "string" && item.trim() !== "").map((s) => s.trim());
}

/** The workspace the server would run in: its folders on disk and whether the user trusts it. */
export interface WorkspaceInfo {
  folders: string[];
  trusted: boolean;
}

/** Where the README's install (`python3 -m venv .venv && .venv/bin/pip install -e .`) puts the server. */
export function venvServerPath(folder: string, platform: NodeJS.Platform): string {
  return platform === "win32"
    ? path.win32.join(folder, ".venv", "Scripts", "tir-lsp.exe")
    : path.posix.join(folder, ".venv", "bin", "tir-lsp");
}

/**
 * `<python> -m tir_lsp serve [extraArgs]` when a Python is configured; else `<path> serve` for a
 * configured `tir.server.path`; else, for the default, the README's virtual environment in a
 * workspace folder (`<folder>/.venv/bin/tir-lsp`), which is not on PATH after that install, and
 * finally `tir-lsp` on PATH. A workspace's own executable runs only in a trusted workspace: opening
 * a folder must not run a program the folder brought along.
 */
export function resolveServerCommand(
  settings: ServerSettings,
  workspace: WorkspaceInfo = { folders: [], trusted: false },
  lookup: ExecutableLookup = systemLookup,
): ServerCommandLine {
  if (settings.pythonPath !== "") {
    return { command: settings.pythonPath, args: ["-m", "tir_lsp", "serve", ...settings.extraArgs] };
  }
  const configured = settings.path || DEFAULT_SERVER_PATH;
  if (configured === DEFAULT_SERVER_PATH && workspace.trusted) {
    const venv = workspace.folders.map((folder) => venvServerPath(folder, lookup.platform)).find(lookup.isExecutable);
    if (venv !== undefined) {
      return { command: venv, args: ["serve", ...settings.extraArgs] };
    }
  }
  return { command: configured, args: ["serve", ...settings.extraArgs] };
}

export function buildInitializationOptions(settings: ServerSettings): InitializationOptions {
  return { check: { select: [...settings.checkSelect], ignore: [...settings.checkIgnore] } };
}

/** The command line as a user would type it, for tooltips and messages. */
export function formatCommandLine(command: ServerCommandLine): string {
  return [command.command, ...command.args].map((part) => (/[\s"']/.test(part) ? JSON.stringify(part) : part)).join(" ");
}

export interface ExecutableLookup {
  env: { [name: string]: string | undefined };
  platform: NodeJS.Platform;
  isExecutable: (file: string) => boolean;
}

/** Real file-system lookup, used by the extension. */
export const systemLookup: ExecutableLookup = {
  env: process.env,
  platform: process.platform,
  isExecutable: (file) => {
    try {
      if (!fs.statSync(file).isFile()) {
        return false;
      }
      fs.accessSync(file, process.platform === "win32" ? fs.constants.F_OK : fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  },
};

/**
 * Finds `command` the way a spawn would: a command containing a path separator is checked as
 * is, a bare name is searched on PATH (with PATHEXT on Windows). Returns the resolved file, or
 * undefined when spawning it would fail with ENOENT. Checking first lets the extension show one
 * clear message instead of the language client's generic "couldn't create connection".
 */
export function findExecutable(command: string, lookup: ExecutableLookup = systemLookup): string | undefined {
  const p = lookup.platform === "win32" ? path.win32 : path.posix;
  const extensions =
    lookup.platform === "win32" ? ["", ...(lookup.env.PATHEXT ?? ".COM;.EXE;.BAT;.CMD").split(";").filter(Boolean)] : [""];
  const candidates = (base: string): string[] => extensions.map((ext) => base + ext);
  const hasSeparator = command.includes("/") || (lookup.platform === "win32" && command.includes("\\"));
  if (hasSeparator) {
    return candidates(command).find(lookup.isExecutable);
  }
  const pathVar = lookup.env.PATH ?? lookup.env.Path ?? "";
  for (const dir of pathVar.split(p.delimiter)) {
    if (dir === "") {
      continue;
    }
    const found = candidates(p.join(dir, command)).find(lookup.isExecutable);
    if (found !== undefined) {
      return found;
    }
  }
  return undefined;
}

/** The message shown when the server executable cannot be started. */
export function serverNotFoundMessage(command: ServerCommandLine): string {
  return (
    `tir-lsp was not found (tried \`${formatCommandLine(command)}\`). ` +
    "Install it as the repository's README says (a trusted workspace's `.venv/bin/tir-lsp` is found), " +
    "or set `tir.server.path` / `tir.server.pythonPath`."
  );
}

/** True for the errors `child_process.spawn` reports for a missing executable. */
export function isExecutableNotFoundError(error: unknown): boolean {
  if (typeof error === "object" && error !== null && (error as { code?: unknown }).code === "ENOENT") {
    return true;
  }
  // vscode-languageclient rejects with a string: "Launching server using command X failed. Error: spawn X ENOENT".
  const text = error instanceof Error ? error.message : String(error);
  return /\bENOENT\b/.test(text);
}
