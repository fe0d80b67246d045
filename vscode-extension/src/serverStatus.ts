// What the status bar item shows for each server state. No `import "vscode"` here.

export type ServerState = "starting" | "running" | "stopped" | "error";

export interface StatusPresentation {
  /** Status bar text; `$(name)` is a codicon. */
  text: string;
  tooltip: string;
}

const ICONS: Record<ServerState, string> = {
  starting: "$(sync~spin)",
  running: "$(check)",
  stopped: "$(circle-slash)",
  error: "$(error)",
};

/** `detail` is the command line, or the error for the "error" state. */
export function statusPresentation(state: ServerState, detail: string): StatusPresentation {
  const lines = [`tir-lsp: ${state}`];
  if (detail !== "") {
    lines.push(detail);
  }
  lines.push(state === "running" ? "Click to restart the server." : "Click to (re)start the server.");
  return { text: `${ICONS[state]} TIR`, tooltip: lines.join("\n") };
}
