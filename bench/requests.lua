-- wrk script for bench/run.py (docs/performance.md, "How it is measured").
--
-- REQUESTS_FILE: read lines, "<path>\t<token>" (GET). Each thread starts at its own share of
-- the file (thread n of N at line n/N of it) and walks on, so no line repeats until the run has
-- sent more requests than the file has lines; bench/run.py shuffles the file beforehand.
-- WRITES_FILE (optional): share lines, "POST\t<path>\t<token>" (emailshare gen --writes-out),
-- sent instead of a read with probability WRITE_SHARE (default 0.05). Each thread takes every
-- N-th line and walks its own lines in order, sending the share, or the unshare
-- ("share_emails" -> "unshare_emails") once the record is shared. A line is never sent again
-- before its answer came back (response() reads the record id and the outcome from the body;
-- a line still waiting is skipped), so every write meets the state it needs.
-- WRK_THREADS: wrk's -t (a thread may start before the next one is set up, so setup cannot
-- count them).
local nthreads = 0
local threads = {}

setup = function(thread)
  thread:set("id", nthreads)
  nthreads = nthreads + 1
  threads[nthreads] = thread
end

local reads = {}
local writes = {}
local counter = 0
local wcounter = 0
local share = 0
writes_sent = 0  -- global: done() reads it from every thread

local function auth(token)
  return { ["Authorization"] = "Zoho-oauthtoken " .. token }
end

init = function(args)
  local id = tonumber(wrk.thread:get("id")) or 0
  local n = tonumber(os.getenv("WRK_THREADS")) or 1
  local f = assert(io.open(os.getenv("REQUESTS_FILE"), "r"))
  for line in f:lines() do
    local path, token = line:match("^(%S+)\t(%S+)$")
    if path then reads[#reads + 1] = wrk.format("GET", path, auth(token)) end
  end
  f:close()
  counter = math.floor(#reads * id / n)
  local wf = os.getenv("WRITES_FILE")
  if wf and wf ~= "" then
    local k = 0
    local g = assert(io.open(wf, "r"))
    for line in g:lines() do
      local method, path, token = line:match("^(%u+)\t(%S+)\t(%S+)$")
      if method then
        if k % n == id then
          local undo = path:gsub("/actions/share_emails$", "/actions/unshare_emails")
          writes[#writes + 1] = {
            path:match("/(%d+)/actions/"),
            wrk.format(method, path, auth(token)),
            wrk.format(method, undo, auth(token)),
          }
        end
        k = k + 1
      end
    end
    g:close()
    share = tonumber(os.getenv("WRITE_SHARE") or "0.05")
  end
  math.randomseed(os.time() + id * 7919)
end

-- wrk calls request() once in thread 0 before the run, to check the script, and sends nothing:
-- each thread's first request is a read, so no write is lost to that call.
local first = true

local pending = {}  -- record id -> true while its write is unanswered
local shared = {}  -- record id -> true once shared

local function next_write()
  for _ = 1, #writes do
    wcounter = wcounter + 1
    if wcounter > #writes then wcounter = 1 end
    local w = writes[wcounter]
    if not pending[w[1]] then
      pending[w[1]] = true
      writes_sent = writes_sent + 1
      return shared[w[1]] and w[3] or w[2]
    end
  end
  return nil
end

request = function()
  if #writes > 0 and not first and math.random() < share then
    local req = next_write()
    if req then return req end
  end
  first = false
  counter = counter + 1
  if counter > #reads then counter = 1 end
  return reads[counter]
end

local show = os.getenv("SHOW_ERRORS") == "1"
if (os.getenv("WRITES_FILE") or "") ~= "" or show then
  -- SHOW_ERRORS=1: print each non-2xx answer's status and body (for diagnosis).
  response = function(status, headers, body)
    if show and (status < 200 or status > 299) then
      io.stderr:write(status .. " " .. body .. "\n")
    end
    local rid = body:match('^{"data":%[{"code":"SUCCESS","details":{"id":"(%d+)"}')
      or body:match('^{"code":"[A-Z_]+","details":{"id":"(%d+)"}')
    if rid and pending[rid] then
      pending[rid] = nil
      shared[rid] = body:find("Successfully shared", 1, true) ~= nil
        or body:find("ALREADY_SHARED", 1, true) ~= nil
    end
  end
end

-- The writes sent, summed over the threads: bench/run.py reads this line.
done = function(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + (tonumber(t:get("writes_sent")) or 0) end
  io.write("Writes sent: " .. total .. "\n")
end
