--[[
  view-7.lua for many tickets of one line at once: what the event streams of one instance
  read once per period, instead of one call per stream. Each ticket is judged exactly as
  view-7.lua judges it (lapsed and idle tickets removed, WAITING ones marked seen with touch).

  Input:
    KEYS[1..7]  the line's keys (see includes/keys.lua)

    ARGV[1]  now (ms since epoch, the caller's clock)
    ARGV[2]  touch (0/1)
    ARGV[3]  idleTimeoutMs
    ARGV[4]  sampleWindowMs
    ARGV[5]  default maxActive
    ARGV[6]  default admitPerSecond
    ARGV[7]  default paused (0/1)
    ARGV[8], ARGV[9], …  pairs of ticket and owner ('' not to check the owner)

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

local views = {}
for i = 8, #ARGV - 1, 2 do
  local ticket = ARGV[i]
  local owner = ARGV[i + 1]
  local view = {0}
  if owner == '' or redis.call('HGET', k.owners, ticket) == owner then
    local state, activeUntil = currentState(k, ticket, now, idleTimeoutMs)
    if state == 'ACTIVE' then
      view = activeView(activeUntil)
    elseif state == 'WAITING' then
      if touch then
        redis.call('ZADD', k.seen, now, ticket)
      end
      view = waitingView(k, ticket, now, sampleWindowMs, ARGV[5], ARGV[6], ARGV[7])
    end
  end
  views[#views + 1] = view
end
return views
