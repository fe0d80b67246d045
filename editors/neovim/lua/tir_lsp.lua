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
-- :TirPipeline lists the passes of the pipeline and :TirPassDiff PASS shows the TIR before
-- and after a pass side by side in diff mode (see "Pass pipeline viewer" below).
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

-- Pass pipeline viewer: `:TirPipeline` lists the passes of the current TIR buffer's module
-- (unchanged ones marked), `:TirPassDiff PASS` opens the TIR after PASS next to the TIR
-- before it in a diff tab. <CR> on a pass in the list opens its diff; <CR> on a line of a
-- stage jumps to the definition of the function it belongs to in the source buffer. The
-- server runs the pipeline once per request (tir.passPipeline); nothing is computed here.
local function pipeline_source(bufnr)
  return vim.b[bufnr].tir_pipeline_source or bufnr
end

local function request_pipeline(bufnr, callback)
  local params = { command = "tir.passPipeline", arguments = { vim.uri_from_bufnr(bufnr) } }
  vim.lsp.buf_request(bufnr, "workspace/executeCommand", params, function(err, result)
    if err then
      vim.notify("TIR pipeline: " .. (err.message or tostring(err)), vim.log.levels.ERROR)
    elseif result then
      callback(result)
    end
  end)
end

local function stage_text(pipeline, index)
  if index < 0 then
    return pipeline.input.text, pipeline.input.functions
  end
  local p = pipeline.passes[index + 1]
  return p.text, p.functions
end

local scratch_count = 0

local function scratch(name, text, functions, source)
  scratch_count = scratch_count + 1
  local buf = vim.api.nvim_create_buf(false, true)
  local lines = vim.split(text or "", "\n", true)
  if lines[#lines] == "" then
    table.remove(lines)
  end
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.api.nvim_buf_set_name(buf, name .. " #" .. scratch_count)
  vim.bo[buf].modifiable = false
  vim.bo[buf].syntax = "tir"
  vim.b[buf].tir_pipeline_source = source
  vim.b[buf].tir_stage_functions = functions or {}
  vim.keymap.set("n", "<CR>", function() M.jump_to_source() end, { buffer = buf })
  return buf
end

-- The source definition of the function holding the cursor line of a stage buffer.
function M.jump_to_source()
  local line = vim.api.nvim_win_get_cursor(0)[1] - 1
  local source = vim.b.tir_pipeline_source
  for _, f in ipairs(vim.b.tir_stage_functions or {}) do
    if f.startLine <= line and line < f.endLine and f.sourceLine ~= vim.NIL and f.sourceLine then
      local win = vim.fn.bufwinid(source)
      if win == -1 then
        vim.cmd("tabnew")
        vim.api.nvim_win_set_buf(0, source)
      else
        vim.api.nvim_set_current_win(win)
      end
      vim.api.nvim_win_set_cursor(0, { f.sourceLine + 1, 0 })
      return f.name
    end
  end
  vim.notify("TIR pipeline: no function at this line", vim.log.levels.WARN)
end

-- Open the stage after `pass_name` and the stage before it side by side with :diffthis.
function M.pass_diff(bufnr, pass_name, done)
  local source = pipeline_source(bufnr)
  request_pipeline(source, function(pipeline)
    for i, p in ipairs(pipeline.passes) do
      if p.name == pass_name then
        local before, before_fns = stage_text(pipeline, p.before)
        local after, after_fns = stage_text(pipeline, p.after)
        if p.omitted or before == vim.NIL or after == vim.NIL then
          vim.notify("TIR pipeline: " .. pipeline.omittedNote, vim.log.levels.WARN)
          return
        end
        local tag = vim.api.nvim_buf_get_name(source) .. " [" .. i .. " " .. pass_name .. "]"
        vim.cmd("tabnew")
        local empty = vim.api.nvim_get_current_buf()
        vim.api.nvim_win_set_buf(0, scratch(tag .. " after", after, after_fns, source))
        vim.api.nvim_buf_delete(empty, { force = true })
        vim.cmd("diffthis")
        vim.cmd("leftabove vsplit")
        vim.api.nvim_win_set_buf(0, scratch(tag .. " before", before, before_fns, source))
        vim.cmd("diffthis")
        vim.cmd("wincmd l")
        vim.t.tir_pass_diff = { pass = pass_name, changed = p.changed }
        if not p.changed then
          vim.notify("TIR pipeline: " .. pass_name .. " did not change the module")
        end
        if done then
          done(pass_name)
        end
        return
      end
    end
    local names = vim.tbl_map(function(p) return p.name end, pipeline.passes)
    vim.notify("TIR pipeline: no pass " .. pass_name .. " in this pipeline (" .. table.concat(names, ", ") .. ")",
      vim.log.levels.ERROR)
  end)
end

-- A scratch buffer listing the passes in order; unchanged ones are marked and <CR> diffs one.
function M.pipeline(bufnr, done)
  local source = pipeline_source(bufnr)
  request_pipeline(source, function(pipeline)
    local lines = {}
    for i, p in ipairs(pipeline.passes) do
      local mark = p.changed and "changed" or "unchanged"
      if p.omitted then
        mark = "changed (text left out)"
      end
      table.insert(lines, string.format("%2d  %-20s %s", i, p.name, mark))
    end
    vim.cmd("botright new")
    local buf = vim.api.nvim_get_current_buf()
    vim.bo[buf].buftype = "nofile"
    vim.bo[buf].bufhidden = "wipe"
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
    vim.bo[buf].modifiable = false
    vim.b[buf].tir_pipeline_source = source
    vim.b[buf].tir_pipeline_passes = vim.tbl_map(function(p) return p.name end, pipeline.passes)
    vim.cmd("syntax match Comment /^.* unchanged$/")
    vim.keymap.set("n", "<CR>", function()
      local name = vim.b.tir_pipeline_passes[vim.api.nvim_win_get_cursor(0)[1]]
      M.pass_diff(source, name)
    end, { buffer = buf })
    if done then
      done(lines)
    end
  end)
end

function M.create_pipeline_commands()
  vim.api.nvim_create_user_command("TirPipeline", function()
    M.pipeline(vim.api.nvim_get_current_buf())
  end, { desc = "TIR: list the passes of the pipeline" })
  vim.api.nvim_create_user_command("TirPassDiff", function(args)
    M.pass_diff(vim.api.nvim_get_current_buf(), args.args)
  end, {
    nargs = 1,
    desc = "TIR: diff the TIR before and after a pass",
    complete = function(lead)
      local names = vim.b.tir_pipeline_passes
      if not names then
        local res = vim.lsp.buf_request_sync(pipeline_source(0), "workspace/executeCommand",
          { command = "tir.listPasses", arguments = {} }, 2000) or {}
        for _, r in pairs(res) do
          names = names or r.result
        end
      end
      return vim.tbl_filter(function(n) return vim.startswith(n, lead) end, names or {})
    end,
  })
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
  M.create_pipeline_commands()
end

return M
