--[[
  view-10.lua for many tickets of one line at once: what the event streams of one instance
  read once per period, instead of one call per stream. Each ticket is judged exactly as
  view-10.lua judges it (lapsed and idle tickets removed, WAITING ones marked seen with touch).

  Input:
    KEYS[1..10]  the line's keys (see includes/keys.lua)

    ARGV[1]  now (ms since epoch, the caller's clock)
    ARGV[2]  touch (0/1)
    ARGV[3]  idleTimeoutMs
    ARGV[4]  sampleWindowMs
    ARGV[5]  default maxActive
    ARGV[6]  default admitPerSecond
    ARGV[7]  default paused (0/1)
    ARGV[8], ARGV[9], …  pairs of ticket and owner (member; '' not to check the owner)

  Output:
    {view, view, …}  one per pair, in order (encoding: see includes/view.lua)
]]
--- @include "keys"
--- @include "current-state"
--- @include "view"

local k = lineKeys(1)
local now = tonumber(ARGV[1])
local touch = ARGV[2] == '1'
local idleTimeoutMs = tonumber(ARGV[3])
local sampleWindowMs = tonumber(ARGV[4])

local meta = readMeta(k)
local views = {}
for i = 8, #ARGV - 1, 2 do
  local ticket = ticketString(ARGV[i])
  local state, found = currentState(k, meta, ticket, ARGV[i + 1], now, idleTimeoutMs)
  local view
  if state == 'ACTIVE' then
    view = activeView(found)
  elseif state == 'WAITING' then
    if touch then
      setSeen(k, meta, ticket, now)
    end
    view = waitingView(k, found, now, sampleWindowMs, ARGV[5], ARGV[6], ARGV[7])
  else
    view = expiredView(found)
  end
  views[#views + 1] = view
end
return views
