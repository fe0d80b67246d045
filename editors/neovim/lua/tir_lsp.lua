-- tir-lsp for Neovim 0.7+ without plugins.
--
--   vim.opt.runtimepath:append("/path/to/tir-lsp/editors/neovim")
--   require("tir_lsp").setup({ cmd = { "/path/to/tir-lsp/.venv/bin/tir-lsp" } })
--
-- Registers the `tir` filetype for *.tir and Model Library Format `src/tir-*.txt` files (with
-- the syntax file of this folder: Neovim 0.7 has no semantic tokens) and starts one tir-lsp
-- client per project root, attached to every tir buffer under it. Options:
--   cmd        the server command (default { "tir-lsp" })
--   root_dir   a function(bufnr) -> folder (default: the nearest parent holding tir-lsp.toml,
--              .git or pyproject.toml; else the current directory when the file is under it
--              and it is neither the home folder nor /; else the file's folder)
--   mappings   false to skip the buffer-local mappings below (default true)
--   on_attach  the usual function(client, bufnr), called after the mappings are set
-- Mappings in tir buffers: K hover, gd definition, gr references, <leader>rn rename,
-- <leader>ca code actions ("Lower to C"), [d / ]d previous / next diagnostic,
-- <leader>e the diagnostic under the cursor. :TirLowerToC [function] lowers the buffer;
-- :TirPipeline [pass] shows the TIR before and after a pass side by side in diff mode.
-- With nvim-lspconfig instead, see the README of this folder.
local M = {}

M.root_markers = { "tir-lsp.toml", ".git", "pyproject.toml" }

-- This file is <plugin>/lua/tir_lsp.lua: the plugin folder holds syntax/ and ftdetect/.
local plugin_dir = vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h:h")

local function find_root(bufnr)
  local path = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(bufnr), ":p")
  local dir = vim.fn.fnamemodify(path, ":h")
  local here = dir
  while true do
    for _, marker in ipairs(M.root_markers) do
      -- fs_stat, not finddir: in a git worktree or submodule .git is a file.
      if vim.loop.fs_stat(here .. "/" .. marker) then
        return here
      end
    end
    local parent = vim.fn.fnamemodify(here, ":h")
    if parent == here then
      break
    end
    here = parent
  end
  -- The current directory, unless it is the home folder or / (the server would index all of it).
  local cwd = vim.fn.getcwd()
  if cwd ~= vim.loop.os_homedir() and cwd ~= "/" and path:sub(1, #cwd + 1) == cwd .. "/" then
    return cwd
  end
  return dir
end

function M.filetype_of(path)
  if path:match("%.tir$") or path:match("/src/tir%-[^/]*%.txt$") then
    return "tir"
  end
  return nil
end

-- Shows a command's result ({ title, language, content, path? }) in a new window and, when
-- the server named a free file next to the TIR file (`path`), saves it there. `:write` to
-- a name refuses an existing file, so nothing is ever replaced.
function M.open_result(result)
  vim.cmd("new")
  local buf = vim.api.nvim_get_current_buf()
  local content = result.content:gsub("\n$", "")
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(content, "\n", { plain = true }))
  vim.bo[buf].filetype = result.language or ""
  if result.path then
    local ok, err = pcall(vim.cmd, "write " .. vim.fn.fnameescape(result.path))
    if not ok then
      vim.notify("TIR: " .. result.title .. " not saved: " .. tostring(err), vim.log.levels.WARN)
    end
  else
    vim.bo[buf].buftype = "nofile"
    pcall(vim.api.nvim_buf_set_name, buf, result.title)
  end
  return buf
end

-- tir.lowerToC run by this client rather than by the server's file creation: Neovim 0.7 does
-- not advertise workspaceEdit.documentChanges, so the server returns the C and we open it.
local function lower_to_c(command, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if not client then
    return
  end
  client.request("workspace/executeCommand", { command = command.command, arguments = command.arguments },
    function(err, result)
      if err then
        vim.notify("TIR: " .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
      elseif type(result) == "table" and result.content then
        M.open_result(result)
      end
    end, ctx.bufnr)
end

-- Opens one stage of the pipeline in a new tab: the TIR before the pass on the left, after it
-- on the right, in diff mode (scratch buffers, nothing written).
function M.open_stage(title, stage)
  local function scratch(text, name, split)
    vim.cmd(split)
    local buf = vim.api.nvim_get_current_buf()
    vim.bo[buf].buftype = "nofile"
    vim.bo[buf].bufhidden = "wipe"
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(text:gsub("\n$", ""), "\n", { plain = true }))
    vim.bo[buf].modifiable = false
    vim.bo[buf].filetype = "tir"
    pcall(vim.api.nvim_buf_set_name, buf, name)
    vim.cmd("diffthis")
  end
  scratch(stage.before, title .. ": before " .. stage.pass, "tabnew")
  scratch(stage.after, title .. ": after " .. stage.pass, "rightbelow vnew")
end

-- :TirPipeline [pass]: the TIR before and after a pass of the pipeline (picked from a list
-- that marks the passes that changed something, when no pass is named).
local function pipeline(client, bufnr, pass)
  client.request("workspace/executeCommand", { command = "tir.pipelineStages", arguments = { vim.uri_from_bufnr(bufnr) } },
    function(err, result)
      if err then
        vim.notify("TIR: " .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
        return
      end
      local stages = type(result) == "table" and result.stages or {}
      if pass ~= "" then
        for _, stage in ipairs(stages) do
          if stage.pass == pass then
            return M.open_stage(result.title, stage)
          end
        end
        local names = vim.tbl_map(function(s) return s.pass end, stages)
        vim.notify("TIR: no pass " .. pass .. " in this pipeline (" .. table.concat(names, ", ") .. ")", vim.log.levels.ERROR)
        return
      end
      vim.ui.select(stages, {
        prompt = "TIR before and after which pass?",
        format_item = function(s) return s.pass .. (s.changed and "" or " (no change)") end,
      }, function(stage)
        if stage then
          M.open_stage(result.title, stage)
        end
      end)
    end, bufnr)
end

-- Client-side commands, for `vim.lsp.start_client` or an nvim-lspconfig `commands` table.
M.commands = { ["tir.lowerToC"] = lower_to_c }

local function set_mappings(bufnr)
  local function map(lhs, rhs, desc)
    vim.keymap.set("n", lhs, rhs, { buffer = bufnr, silent = true, desc = desc })
  end
  map("K", vim.lsp.buf.hover, "TIR: hover")
  map("gd", vim.lsp.buf.definition, "TIR: go to definition")
  map("gr", vim.lsp.buf.references, "TIR: references")
  map("<leader>rn", vim.lsp.buf.rename, "TIR: rename")
  map("<leader>ca", vim.lsp.buf.code_action, "TIR: code actions")
  map("[d", vim.diagnostic.goto_prev, "TIR: previous diagnostic")
  map("]d", vim.diagnostic.goto_next, "TIR: next diagnostic")
  map("<leader>e", vim.diagnostic.open_float, "TIR: show diagnostic")
end

function M.setup(opts)
  opts = opts or {}
  local cmd = opts.cmd or { "tir-lsp" }
  local root_of = opts.root_dir or find_root
  local clients = {}
  if vim.fn.filereadable(plugin_dir .. "/syntax/tir.vim") == 1
      and not vim.tbl_contains(vim.api.nvim_list_runtime_paths(), plugin_dir) then
    vim.opt.runtimepath:append(plugin_dir)
  end

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
          commands = M.commands,
          on_attach = function(client, bufnr)
            if opts.mappings ~= false then
              set_mappings(bufnr)
            end
            vim.api.nvim_buf_create_user_command(bufnr, "TirLowerToC", function(c)
              local arguments = { vim.uri_from_bufnr(bufnr) }
              if c.args ~= "" then
                table.insert(arguments, c.args)
              end
              lower_to_c({ command = "tir.lowerToC", arguments = arguments }, { client_id = client.id, bufnr = bufnr })
            end, { nargs = "?", desc = "Lower this TIR file (or one function) to C" })
            vim.api.nvim_buf_create_user_command(bufnr, "TirPipeline", function(c)
              pipeline(client, bufnr, c.args)
            end, { nargs = "?", desc = "The TIR before and after a pass of the pipeline, as a diff" })
            if opts.on_attach then
              opts.on_attach(client, bufnr)
            end
          end,
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
