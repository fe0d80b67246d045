-- Headless end-to-end run of the documented plugin-free setup (editors/neovim/lua/tir_lsp.lua):
-- open a TIR file, wait for the server's diagnostics, ask hover and definition, read the
-- syntax groups and mappings, open a second file of the same project and run "Lower to C"
-- through the code action menu; write the answers as JSON for tests/editors/test_neovim.py.
local h = dofile(os.getenv("TIR_REPO") .. "/tests/editors/harness.lua")
local result, finish = h.result, h.finish
result.nvim = tostring(vim.version().major) .. "." .. tostring(vim.version().minor)
local bufnr = h.open_and_attach()
if bufnr == nil then return end
result.filetype = vim.bo[bufnr].filetype
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

-- The syntax file (0.7 has no semantic tokens): the decorator and a T.* type on lines 6 and 7.
result.syntax = vim.b.current_syntax
result.syn_decorator = vim.fn.synIDattr(vim.fn.synID(6, 5, 1), "name")
result.syn_type = vim.fn.synIDattr(vim.fn.synID(7, 20, 1), "name")
result.mappings = {}
for _, m in ipairs(vim.api.nvim_buf_get_keymap(bufnr, "n")) do
  result.mappings[m.lhs] = m.desc or true
end
result.user_command = vim.fn.exists(":TirLowerToC") == 2

-- A second file in a subfolder of the same project: the same server serves it.
local first_clients = vim.tbl_keys(vim.lsp.buf_get_clients(bufnr))
vim.cmd("edit " .. os.getenv("TIR_CLEAN"))
local clean = vim.api.nvim_get_current_buf()
vim.wait(20000, function() return next(vim.lsp.buf_get_clients(clean)) ~= nil end, 50)
result.same_client = vim.deep_equal(vim.tbl_keys(vim.lsp.buf_get_clients(clean)), first_clients)
result.clients = #vim.lsp.get_active_clients()

-- "Lower to C" as a user picks it from the code action menu.
vim.ui.select = function(items, _, on_choice)
  for i, item in ipairs(items) do
    if item[2].title == "Lower to C" then
      return on_choice(item, i)
    end
  end
  result.actions = vim.tbl_map(function(item) return item[2].title end, items)
  on_choice(nil, nil)
end
vim.api.nvim_win_set_cursor(0, { 1, 0 })
vim.lsp.buf.code_action()
local c_file = os.getenv("TIR_C_OUT")
result.lowered = vim.wait(30000, function() return vim.loop.fs_stat(c_file) ~= nil end, 100)
result.c_buffer = vim.api.nvim_buf_get_name(0)

finish(true)
