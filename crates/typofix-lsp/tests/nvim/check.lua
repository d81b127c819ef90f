-- Neovim's own LSP client against `typofix lsp`: open a file with typos,
-- wait for the diagnostics, apply the first code action, write the file.
-- Run by scripts/check-lsp-nvim.sh:
--   nvim --headless --clean -u check.lua FILE
-- with $TYPOFIX the binary. Exits 0 on success, 1 with a message if not.

local function fail(message)
  io.stderr:write("nvim check: " .. message .. "\n")
  vim.cmd("cquit 1")
end

-- After start-up, when the file's buffer is loaded.
local function check()
  local buf = vim.api.nvim_get_current_buf()
  local client_id = vim.lsp.start_client({
    name = "typofix",
    cmd = { os.getenv("TYPOFIX"), "lsp" },
    root_dir = vim.fn.getcwd(),
  })
  if not client_id then
    fail("the server did not start")
  end
  vim.lsp.buf_attach_client(buf, client_id)

  if not vim.wait(60000, function() return #vim.diagnostic.get(buf) > 0 end, 50) then
    fail("no diagnostics within 60 s")
  end
  local diagnostics = vim.diagnostic.get(buf)
  table.sort(diagnostics, function(a, b) return a.lnum < b.lnum or (a.lnum == b.lnum and a.col < b.col) end)
  local first = diagnostics[1]
  io.stdout:write(string.format("diagnostics: %d, first: %s at %d:%d\n", #diagnostics, first.message, first.lnum, first.col))

  -- Where a user would be: on the first typo; the code-action menu answered
  -- with its first entry.
  vim.api.nvim_win_set_cursor(0, { first.lnum + 1, first.col })
  vim.ui.select = function(items, _, on_choice) on_choice(items[1], 1) end
  local before = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  vim.lsp.buf.code_action()
  local changed = vim.wait(30000, function()
    return not vim.deep_equal(vim.api.nvim_buf_get_lines(buf, 0, -1, false), before)
  end, 50)
  if not changed then
    fail("the code action did not change the buffer")
  end
  vim.cmd("silent write")
  vim.lsp.stop_client(client_id)
  vim.wait(5000, function() return vim.lsp.get_client_by_id(client_id) == nil end, 50)
  vim.cmd("qall!")
end

vim.api.nvim_create_autocmd("VimEnter", { callback = check })
