-- Headless run of the pass pipeline viewer (editors/neovim/lua/tir_lsp.lua): :TirPipeline lists
-- the passes, :TirPassDiff opens a diff tab, <CR> in a stage jumps to the source function.
-- Writes what it saw as JSON for tests/editors/test_neovim_pipeline.py.
local h = dofile(os.getenv("TIR_REPO") .. "/tests/editors/harness.lua")
local result, finish = h.result, h.finish
local source = h.open_and_attach()
if source == nil then return end

-- :TirPipeline opens the list of passes in a new window.
vim.cmd("TirPipeline")
if not vim.wait(20000, function() return vim.b.tir_pipeline_passes ~= nil end, 50) then
  result.error = ":TirPipeline showed no list"
  return finish(false)
end
result.list = vim.api.nvim_buf_get_lines(0, 0, -1, false)
result.list_source_is_the_file = vim.b.tir_pipeline_source == source

-- <CR> on the list's FlattenBuffer line opens its diff tab.
for i, line in ipairs(result.list) do
  if line:find(" FlattenBuffer ", 1, true) then
    vim.api.nvim_win_set_cursor(0, { i, 0 })
  end
end
vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes("<CR>", true, false, true), "x", false)
if not vim.wait(20000, function() return vim.t.tir_pass_diff ~= nil end, 50) then
  result.error = "<CR> in the list opened no diff"
  return finish(false)
end
result.diff = vim.t.tir_pass_diff
local wins = vim.api.nvim_tabpage_list_wins(0)
result.windows = #wins
result.diff_on = vim.tbl_map(function(w) return vim.wo[w].diff end, wins)
result.after = vim.api.nvim_buf_get_lines(0, 0, -1, false)
result.stage_syntax = vim.b.current_syntax
result.before = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(wins[1]), 0, -1, false)

-- <CR> on a line inside `add` in the after-stage jumps to `def add` in the source.
for i, line in ipairs(result.after) do
  if line:find("Y[n] = X[n] + T.float32(1.0)", 1, true) then
    vim.api.nvim_win_set_cursor(0, { i, 0 })
  end
end
vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes("<CR>", true, false, true), "x", false)
result.jump = { buffer_is_source = vim.api.nvim_get_current_buf() == source,
                line = vim.api.nvim_win_get_cursor(0)[1] }

-- :TirPassDiff on an unchanged pass: both sides are the same text.
vim.cmd("TirPassDiff VectorizeLoop")
if not vim.wait(20000, function() return vim.t.tir_pass_diff ~= nil end, 50) then
  result.error = ":TirPassDiff opened no diff"
  return finish(false)
end
result.unchanged = vim.t.tir_pass_diff
local w2 = vim.api.nvim_tabpage_list_wins(0)
result.unchanged_same = vim.deep_equal(vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(w2[1]), 0, -1, false),
                                       vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(w2[2]), 0, -1, false))
finish(true)
