-- What every headless Neovim test script shares (loaded with dofile): the plugin from this
-- checkout, its server run by the test's Python, the answers written as JSON to $TIR_OUT on
-- exit, and $TIR_FILE opened with syntax on until the server attaches.
local M = { result = {} }
package.path = os.getenv("TIR_REPO") .. "/editors/neovim/lua/?.lua;" .. package.path

local attached = false
require("tir_lsp").setup({
  cmd = { os.getenv("TIR_PYTHON"), "-m", "tir_lsp", "serve" },
  on_attach = function() attached = true end,
})

function M.finish(ok)
  M.result.ok = ok
  local f = io.open(os.getenv("TIR_OUT"), "w")
  f:write(vim.fn.json_encode(M.result))
  f:close()
  vim.cmd(ok and "qall!" or "cquit! 1")
end

-- The buffer of $TIR_FILE once the server has attached to it, or nil (the run then ends).
function M.open_and_attach()
  -- Neovim turns syntax on after the init file; the test script is the init file and edits now.
  vim.cmd("syntax on")
  vim.cmd("edit " .. os.getenv("TIR_FILE"))
  local bufnr = vim.api.nvim_get_current_buf()
  if not vim.wait(20000, function() return attached end, 50) then
    M.result.error = "server did not attach"
    M.finish(false)
    return nil
  end
  return bufnr
end

return M
