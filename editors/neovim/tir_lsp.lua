-- tir-lsp for Neovim 0.7+ without plugins.
--
--   require("tir_lsp").setup({ cmd = { "tir-lsp" } })
--
-- Registers the `tir` filetype for *.tir and Model Library Format `src/tir-*.txt` files and
-- starts one tir-lsp client per root folder, attached to every tir buffer under it. Options:
--   cmd        the server command (default { "tir-lsp" })
--   root_dir   a function(bufnr) -> folder (default: nearest parent with .git or
--              pyproject.toml, else the file's folder)
--   on_attach  the usual function(client, bufnr)
-- With nvim-lspconfig instead, see the README of this folder.
local M = {}

local function find_root(bufnr)
  local path = vim.api.nvim_buf_get_name(bufnr)
  local dir = vim.fn.fnamemodify(path, ":p:h")
  local marker = vim.fn.finddir(".git", dir .. ";")
  if marker == "" then
    marker = vim.fn.findfile("pyproject.toml", dir .. ";")
  end
  if marker ~= "" then
    return vim.fn.fnamemodify(marker, ":p:h:h")
  end
  return dir
end

function M.filetype_of(path)
  if path:match("%.tir$") or path:match("/src/tir%-[^/]*%.txt$") then
    return "tir"
  end
  return nil
end

function M.setup(opts)
  opts = opts or {}
  local cmd = opts.cmd or { "tir-lsp" }
  local root_of = opts.root_dir or find_root
  local clients = {}

  -- Filetype detection that works on 0.7 (vim.filetype.add needs do_filetype_lua there) and
  -- on later versions alike: an autocmd on the file name.
  vim.api.nvim_create_autocmd({ "BufRead", "BufNewFile" }, {
    pattern = { "*.tir", "*/src/tir-*.txt" },
    callback = function(args)
      vim.bo[args.buf].filetype = "tir"
    end,
  })

  vim.api.nvim_create_autocmd("FileType", {
    pattern = "tir",
    callback = function(args)
      vim.bo[args.buf].commentstring = "# %s"
      local root = root_of(args.buf)
      local id = clients[root]
      if not id or vim.lsp.client_is_stopped(id) then
        id = vim.lsp.start_client({
          name = "tir-lsp",
          cmd = cmd,
          root_dir = root,
          workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
          on_attach = opts.on_attach,
        })
        clients[root] = id
      end
      if id then
        vim.lsp.buf_attach_client(args.buf, id)
      end
    end,
  })
end

return M
