// Stand-ins for `vscode` and `vscode-languageclient/node`, installed by patching Module._load so
// that src/extension.ts can be activated under plain Node. They record what the extension asks
// for and answer from a scripted `FakeWorld`.

import Module = require("module");

type Handler = (...args: unknown[]) => unknown;
type Listener<T> = (event: T) => void;

export interface ExecuteCommandParams {
  command: string;
  arguments?: unknown[];
}

export class FakeUri {
  constructor(private readonly text: string) {}
  static parse(text: string): FakeUri {
    return new FakeUri(text);
  }
  toString(): string {
    return this.text;
  }
}

export class FakeStatusBarItem {
  text = "";
  tooltip: unknown = "";
  name = "";
  command: unknown;
  backgroundColor: unknown;
  visible = false;
  show(): void {
    this.visible = true;
  }
  hide(): void {
    this.visible = false;
  }
  dispose(): void {}
}

export const State = { Stopped: 1, Starting: 3, Running: 2 } as const;

export class FakeExecuteCommandFeature {
  /** What reached the real feature's register (after the extension's filter). */
  readonly registered: { id: string; registerOptions: { commands: string[] } }[] = [];
  register(data: { id: string; registerOptions: { commands: string[] } }): void {
    this.registered.push(data);
  }
}

export class FakeLanguageClient {
  state: number = State.Stopped;
  started = false;
  disposed = false;
  readonly requests: ExecuteCommandParams[] = [];
  readonly executeCommandFeature = new FakeExecuteCommandFeature();
  private readonly stateListeners: Listener<{ oldState: number; newState: number }>[] = [];

  constructor(
    readonly id: string,
    readonly name: string,
    readonly serverOptions: { command: string; args: string[]; transport?: unknown },
    readonly clientOptions: {
      documentSelector: unknown[];
      initializationOptions: unknown;
      outputChannel?: unknown;
    },
    private readonly world: FakeWorld,
  ) {
    world.clients.push(this);
  }

  onDidChangeState(listener: Listener<{ oldState: number; newState: number }>): { dispose(): void } {
    this.stateListeners.push(listener);
    return { dispose: () => undefined };
  }

  private setState(newState: number): void {
    const oldState = this.state;
    this.state = newState;
    this.stateListeners.forEach((listener) => listener({ oldState, newState }));
  }

  async start(): Promise<void> {
    this.started = true;
    this.setState(State.Starting);
    if (this.world.startError !== undefined) {
      this.setState(State.Stopped);
      throw this.world.startError;
    }
    this.setState(State.Running);
  }

  isRunning(): boolean {
    return this.state === State.Running;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.setState(State.Stopped);
  }

  getFeature(method: string): FakeExecuteCommandFeature {
    if (method !== "workspace/executeCommand") {
      throw new Error(`unexpected getFeature(${method})`);
    }
    return this.executeCommandFeature;
  }

  async sendRequest(type: { method: string }, params: ExecuteCommandParams): Promise<unknown> {
    if (type.method !== "workspace/executeCommand") {
      throw new Error(`unexpected request ${type.method}`);
    }
    this.requests.push(params);
    return this.world.respond(params);
  }
}

/** A webview panel: the HTML it was given and a way to send it the webview's messages. */
export class FakeWebviewPanel {
  revealed = 0;
  readonly messageListeners: Listener<unknown>[] = [];
  readonly disposeListeners: (() => void)[] = [];
  readonly webview = {
    html: "",
    cspSource: "vscode-webview:",
    onDidReceiveMessage: (listener: Listener<unknown>) => {
      this.messageListeners.push(listener);
      return { dispose: () => undefined };
    },
  };
  constructor(readonly viewType: string, readonly title: string, readonly options: unknown) {}
  reveal(): void {
    this.revealed++;
  }
  onDidDispose(listener: () => void): { dispose(): void } {
    this.disposeListeners.push(listener);
    return { dispose: () => undefined };
  }
  /** What the webview's script would post. */
  async post(message: unknown): Promise<void> {
    await Promise.all(this.messageListeners.map((listener) => listener(message)));
  }
  dispose(): void {
    this.disposeListeners.forEach((listener) => listener());
  }
}

/** Everything the fakes record, and the scripted answers they give. */
export class FakeWorld {
  /** `tir.*` settings by key without the prefix, e.g. "server.path". */
  settings: Record<string, unknown> = {};
  readonly commands = new Map<string, Handler>();
  readonly executedCommands: { command: string; args: unknown[] }[] = [];
  readonly errorMessages: { message: string; items: string[] }[] = [];
  /** The button showErrorMessage "clicks". */
  errorChoice: string | undefined;
  readonly quickPicks: { label: string }[][] = [];
  /** Which quick pick label to choose (undefined: dismiss). */
  quickPickChoice: string | undefined;
  readonly openedDocuments: { language?: string; content?: string }[] = [];
  readonly shownDocuments: unknown[] = [];
  readonly shownOptions: unknown[] = [];
  readonly webviewPanels: FakeWebviewPanel[] = [];
  readonly statusItems: FakeStatusBarItem[] = [];
  readonly clients: FakeLanguageClient[] = [];
  readonly configurationListeners: Listener<{ affectsConfiguration(section: string): boolean }>[] = [];
  activeEditor: { document: { languageId: string; uri: FakeUri } } | undefined;
  /** Workspace folders on disk, and whether the workspace is trusted. */
  workspaceFolders: string[] = [];
  trusted = true;
  startError: unknown;
  respond: (params: ExecuteCommandParams) => unknown = () => null;

  get lastClient(): FakeLanguageClient {
    const client = this.clients[this.clients.length - 1];
    if (client === undefined) {
      throw new Error("no LanguageClient was created");
    }
    return client;
  }

  changeConfiguration(...sections: string[]): void {
    const event = { affectsConfiguration: (section: string) => sections.some((s) => s === section || s.startsWith(`${section}.`)) };
    this.configurationListeners.forEach((listener) => listener(event));
  }

  vscodeModule(): Record<string, unknown> {
    const world = this;
    const disposable = { dispose: () => undefined };
    return {
      Uri: FakeUri,
      ViewColumn: { One: 1, Beside: -2 },
      Position: class {
        constructor(readonly line: number, readonly character: number) {}
      },
      Range: class {
        constructor(readonly start: unknown, readonly end: unknown) {}
      },
      StatusBarAlignment: { Left: 1, Right: 2 },
      ThemeColor: class {
        constructor(readonly id: string) {}
      },
      commands: {
        registerCommand(id: string, handler: Handler) {
          if (world.commands.has(id)) {
            throw new Error(`command '${id}' already exists`);
          }
          world.commands.set(id, handler);
          return { dispose: () => world.commands.delete(id) };
        },
        async executeCommand(command: string, ...args: unknown[]) {
          world.executedCommands.push({ command, args });
          return undefined;
        },
      },
      window: {
        get activeTextEditor() {
          return world.activeEditor;
        },
        createOutputChannel: () => ({ append() {}, appendLine() {}, show() {}, dispose() {} }),
        createStatusBarItem() {
          const item = new FakeStatusBarItem();
          world.statusItems.push(item);
          return item;
        },
        async showErrorMessage(message: string, ...items: string[]) {
          world.errorMessages.push({ message, items });
          return world.errorChoice;
        },
        async showQuickPick(items: { label: string }[]) {
          world.quickPicks.push(items);
          return items.find((item) => item.label === world.quickPickChoice);
        },
        async showTextDocument(document: unknown, options?: unknown) {
          world.shownDocuments.push(document);
          world.shownOptions.push(options);
          return {};
        },
        setStatusBarMessage: () => disposable,
        createWebviewPanel(viewType: string, title: string, _column: unknown, options: unknown) {
          const panel = new FakeWebviewPanel(viewType, title, options);
          world.webviewPanels.push(panel);
          return panel;
        },
      },
      workspace: {
        get workspaceFolders() {
          return world.workspaceFolders.map((folder) => ({ uri: { scheme: "file", fsPath: folder } }));
        },
        get isTrusted() {
          return world.trusted;
        },
        getConfiguration(section: string) {
          if (section !== "tir") {
            throw new Error(`unexpected configuration section ${section}`);
          }
          return { get: (key: string) => world.settings[key] };
        },
        onDidChangeConfiguration(listener: Listener<{ affectsConfiguration(section: string): boolean }>) {
          world.configurationListeners.push(listener);
          return disposable;
        },
        async openTextDocument(spec: { language?: string; content?: string } | FakeUri) {
          if (spec instanceof FakeUri) {
            return { uri: spec, isUntitled: false };
          }
          world.openedDocuments.push(spec);
          return { ...spec, isUntitled: true };
        },
      },
    };
  }

  languageClientModule(): Record<string, unknown> {
    const world = this;
    return {
      State,
      TransportKind: { stdio: 0, ipc: 1, pipe: 2, socket: 3 },
      ExecuteCommandRequest: { method: "workspace/executeCommand", type: { method: "workspace/executeCommand" } },
      LanguageClient: class extends FakeLanguageClient {
        constructor(id: string, name: string, serverOptions: never, clientOptions: never) {
          super(id, name, serverOptions, clientOptions, world);
        }
      },
    };
  }
}

const moduleInternals = Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown };

/**
 * Loads a fresh copy of src/extension.ts wired to `world`'s fakes. The returned function undoes
 * the Module._load patch.
 */
export function loadExtensionWith(world: FakeWorld): {
  extension: { activate(context: unknown): Promise<void>; deactivate(): Promise<void> };
  restore: () => void;
} {
  const originalLoad = moduleInternals._load;
  const vscode = world.vscodeModule();
  const languageClient = world.languageClientModule();
  moduleInternals._load = function (request: string, parent: unknown, isMain: boolean): unknown {
    if (request === "vscode") {
      return vscode;
    }
    if (request === "vscode-languageclient/node") {
      return languageClient;
    }
    return originalLoad.call(this, request, parent, isMain);
  };
  const extensionPath = require.resolve("../../src/extension");
  delete require.cache[extensionPath];
  // Modules extension.ts imports that import `vscode` themselves are loaded afresh too.
  delete require.cache[require.resolve("../../src/pipelinePanel")];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const extension = require(extensionPath) as ReturnType<typeof loadExtensionWith>["extension"];
  return { extension, restore: () => void (moduleInternals._load = originalLoad) };
}

/** Lets pending promise callbacks (fire-and-forget restarts, message buttons) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
}
