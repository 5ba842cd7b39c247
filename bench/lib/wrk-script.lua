--[[
  wrk driver for bench/: replays prepared requests and counts responses by status and code.

  Input (after `--`):
    args[1]  file of requests, one per line: METHOD \t PATH \t HEADERS \t BODY
             HEADERS is `name: value` pairs joined by `|`; BODY may be empty
    args[2]  1: stop a thread once its share of the file is answered; 0: start over
    args[3]  number of threads (line i goes to thread (i - 1) % threads)

  Output (stdout, one line): BENCHJSON {requests, bytes (read, headers included), durationUs, windowUs, errors, maxUs,
  quantilesUs (0.1 % .. 100 % in 0.1 % steps), counts ("201", "409 SEAT_UNAVAILABLE", ...)}
  windowUs: first thread start to last thread finish when every thread stopped early, else null.
]]
local threads = {}

function setup(thread)
  thread:set('id', #threads)
  table.insert(threads, thread)
end

local requests = {}
local total = 0
local next_index = 0
local answered = 0
local stop_when_done = false
local filler = nil
counts = {}
count_text = ''
-- Wall-clock bounds of a thread's work (ns, as text), read through `date` since Lua has no
-- wall clock; only threads that stop early set `finished_ns`.
started_ns = ''
finished_ns = ''

local function now_ns()
  local pipe = io.popen('date +%s%N')
  local text = pipe:read('*l')
  pipe:close()
  return text
end

local function split(line)
  local fields = {}
  for field in (line .. '\t'):gmatch('([^\t]*)\t') do
    table.insert(fields, field)
  end
  return fields
end

function init(args)
  stop_when_done = args[2] == '1'
  local thread_count = tonumber(args[3])
  local index = 0
  for line in io.lines(args[1]) do
    if index % thread_count == id then
      local f = split(line)
      local headers = {}
      for pair in (f[3] or ''):gmatch('[^|]+') do
        local name, value = pair:match('^([^:]+):%s*(.*)$')
        headers[name] = value
      end
      local body = f[4]
      if body == '' then body = nil end
      table.insert(requests, wrk.format(f[1], f[2], headers, body))
    end
    index = index + 1
  end
  total = #requests
  -- Once a stopping thread has sent its share, open connections get a request that 404s and is
  -- not counted, until the thread stops.
  filler = wrk.format('GET', '/bench-filler')
  started_ns = now_ns()
end

function request()
  next_index = next_index + 1
  if next_index > total then
    if stop_when_done then return filler end
    next_index = 1
  end
  return requests[next_index]
end

function response(status, headers, body)
  if stop_when_done and answered >= total then return end
  local key = tostring(status)
  if status >= 400 and body then
    local code = body:match('"code":"([%w_]+)"')
    if code then key = key .. ' ' .. code end
  end
  counts[key] = (counts[key] or 0) + 1
  answered = answered + 1
  if stop_when_done and answered >= total then
    local parts = {}
    for k, v in pairs(counts) do table.insert(parts, k .. '=' .. v) end
    count_text = table.concat(parts, ';')
    finished_ns = now_ns()
    wrk.thread:stop()
  end
end

local function encode_counts()
  local merged = {}
  for _, thread in ipairs(threads) do
    local text = thread:get('count_text')
    if text == nil or text == '' then
      -- a thread that ran to the deadline: its table was never flattened
      local t = thread:get('counts')
      if type(t) == 'table' then
        for k, v in pairs(t) do merged[k] = (merged[k] or 0) + v end
      end
    else
      for k, v in text:gmatch('([^=;]+)=(%d+)') do merged[k] = (merged[k] or 0) + tonumber(v) end
    end
  end
  local parts = {}
  for k, v in pairs(merged) do table.insert(parts, string.format('"%s":%d', k, v)) end
  return '{' .. table.concat(parts, ',') .. '}'
end

local function window()
  local first, last = nil, nil
  for _, thread in ipairs(threads) do
    local s, f = tonumber(thread:get('started_ns')), tonumber(thread:get('finished_ns'))
    if s == nil or f == nil then return 'null' end
    if first == nil or s < first then first = s end
    if last == nil or f > last then last = f end
  end
  return string.format('%d', math.floor((last - first) / 1000))
end

function done(summary, latency, _)
  local quantiles = {}
  for i = 1, 1000 do
    table.insert(quantiles, tostring(latency:percentile(i / 10)))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"bytes":%d,"durationUs":%d,"windowUs":%s,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"maxUs":%d,"quantilesUs":[%s],"counts":%s}\n',
    summary.requests, summary.bytes, summary.duration, window(), e.connect, e.read, e.write, e.status, e.timeout,
    latency.max, table.concat(quantiles, ','), encode_counts()))
end
