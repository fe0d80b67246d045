-- Headless end-to-end run of the documented plugin-free setup (editors/neovim/tir_lsp.lua):
-- open a TIR file, wait for the server's diagnostics, ask hover and definition, write the
-- answers as JSON for tests/editors/test_neovim.py to check.
local repo = os.getenv("TIR_REPO")
local out = os.getenv("TIR_OUT")
local python = os.getenv("TIR_PYTHON")
package.path = repo .. "/editors/neovim/?.lua;" .. package.path

local attached = false
require("tir_lsp").setup({
  cmd = { python, "-m", "tir_lsp", "serve" },
  on_attach = function() attached = true end,
})

local result = { nvim = tostring(vim.version().major) .. "." .. tostring(vim.version().minor) }
local function finish(ok)
  result.ok = ok
  local f = io.open(out, "w")
  f:write(vim.fn.json_encode(result))
  f:close()
  vim.cmd(ok and "qall!" or "cquit! 1")
end

vim.cmd("edit " .. os.getenv("TIR_FILE"))
local bufnr = vim.api.nvim_get_current_buf()
result.filetype = vim.bo[bufnr].filetype
if not vim.wait(20000, function() return attached end, 50) then
  result.error = "server did not attach"
  return finish(false)
end
vim.wait(10000, function() return #vim.diagnostic.get(bufnr) > 0 end, 50)
result.diagnostics = {}
for _, d in ipairs(vim.diagnostic.get(bufnr)) do
  local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
  table.insert(result.diagnostics, { lnum = d.lnum, col = d.col, code = code, message = d.message })
end

-- Hover and definition on the `A` of `A[i]` (line 9, 1-based; column 20, 0-based).
vim.api.nvim_win_set_cursor(0, { 9, 20 })
local params = vim.lsp.util.make_position_params()
local hover = vim.lsp.buf_request_sync(bufnr, "textDocument/hover", params, 10000) or {}
for _, r in pairs(hover) do
  if r.result and r.result.contents then
    result.hover = r.result.contents.value or r.result.contents
  end
end
local def = vim.lsp.buf_request_sync(bufnr, "textDocument/definition", params, 10000) or {}
for _, r in pairs(def) do
  local loc = r.result
  if loc and loc[1] then loc = loc[1] end
  if loc then
    local range = loc.range or loc.targetSelectionRange
    result.definition = { line = range.start.line, character = range.start.character }
  end
end
finish(true)
